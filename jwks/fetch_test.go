package jwks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/safehttp"
)

// remote returns a KeySet of srv's document with a fake clock.
func remote(t testing.TB, srv *jwksServer, mod func(*Config)) (*KeySet, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	cfg := Config{URL: srv.URL + "/keys", HTTPClient: srv.Client(), Now: clock.Now}
	if mod != nil {
		mod(&cfg)
	}
	ks, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ks, clock
}

func setA(f *fixtures) []byte { return setJSON(jwkOf(&f.rsaA.PublicKey, "a", nil)) }
func setB(f *fixtures) []byte { return setJSON(jwkOf(&f.rsaB.PublicKey, "b", nil)) }

func verifyOK(t *testing.T, ks *KeySet, tok string) {
	t.Helper()
	if _, _, err := ks.Verify(context.Background(), tok); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func wantRequests(t *testing.T, srv *jwksServer, want int64) {
	t.Helper()
	if got := srv.requests.Load(); got != want {
		t.Fatalf("%d requests, want %d", got, want)
	}
}

func TestNewDoesNotFetch(t *testing.T) {
	srv := newJWKSServer(t, setA(keys(t)))
	remote(t, srv, nil)
	time.Sleep(20 * time.Millisecond)
	wantRequests(t, srv, 0)
}

// TestColdStartSingleFlight: 1000 concurrent Verify calls on a set that
// has not fetched yet cost one request.
func TestColdStartSingleFlight(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	release := srv.setHold()
	ks, _ := remote(t, srv, nil)
	tok := spec("RS256", "a", f.rsaA).String()

	const n = 1000
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, _, err := ks.Verify(context.Background(), tok)
			errs <- err
		})
	}
	time.Sleep(50 * time.Millisecond) // let the callers pile up on the fetch
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	wantRequests(t, srv, 1)
}

// TestUnknownKidRefreshes: a token signed by a key the provider rotated in
// is verified after one refresh.
func TestUnknownKidRefreshes(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	ks, _ := remote(t, srv, nil)
	verifyOK(t, ks, spec("RS256", "a", f.rsaA).String())
	srv.set(setB(f), http.StatusOK)
	verifyOK(t, ks, spec("RS256", "b", f.rsaB).String())
	wantRequests(t, srv, 2)
	// The rotated-out key is gone.
	_, _, err := ks.Verify(context.Background(), spec("RS256", "a", f.rsaA).String())
	if !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Verify error = %v, want ErrKeyNotFound", err)
	}
}

// TestUnknownKidRateLimit: tokens with made-up kids cost at most three
// refreshes at once, then one per MinRefreshInterval.
func TestUnknownKidRateLimit(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	ks, clock := remote(t, srv, func(c *Config) { c.TTL = 24 * time.Hour }) // no background refresh here
	verifyOK(t, ks, spec("RS256", "a", f.rsaA).String())                    // the free cold fetch
	wantRequests(t, srv, 1)

	unknown := func(i int) error {
		_, _, err := ks.Verify(context.Background(), spec("RS256", fmt.Sprint("random-", i), f.rsaB).String())
		return err
	}
	for i := range 10 {
		if err := unknown(i); !errors.Is(err, ErrKeyNotFound) {
			t.Fatalf("Verify error = %v, want ErrKeyNotFound", err)
		}
	}
	wantRequests(t, srv, 1+refreshBurst)

	// A concurrent flood costs nothing more.
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() { unknown(100 + i) })
	}
	wg.Wait()
	wantRequests(t, srv, 1+refreshBurst)
	// Known keys still verify, without a fetch.
	verifyOK(t, ks, spec("RS256", "a", f.rsaA).String())

	clock.Advance(defaultMinRefreshInterval)
	unknown(1000)
	unknown(1001)
	wantRequests(t, srv, 1+refreshBurst+1)

	// After a long quiet time, the bucket is full again, and no fuller.
	clock.Advance(time.Hour)
	for i := range 10 {
		unknown(2000 + i)
	}
	wantRequests(t, srv, 1+2*refreshBurst+1)
}

// TestConcurrentFloodOnFreshSet: a flood of made-up kids from the first
// moment costs the cold fetch and at most a bucket's worth.
func TestConcurrentFloodOnFreshSet(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	ks, _ := remote(t, srv, nil)
	var wg sync.WaitGroup
	for i := range 500 {
		wg.Go(func() {
			ks.Verify(context.Background(), spec("RS256", fmt.Sprint("random-", i), f.rsaB).String())
		})
	}
	wg.Wait()
	if got := srv.requests.Load(); got > 1+refreshBurst {
		t.Fatalf("%d requests, want at most %d", got, 1+refreshBurst)
	}
}

// TestFailedRefreshKeepsKeys: when the provider fails, the keys already
// known go on serving, and the failure shows only for unknown keys.
func TestFailedRefreshKeepsKeys(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	ks, clock := remote(t, srv, nil)
	good := spec("RS256", "a", f.rsaA).String()
	verifyOK(t, ks, good)

	for _, broken := range []struct {
		name   string
		body   []byte
		status int
		want   error
	}{
		{"500", []byte("oops"), http.StatusInternalServerError, safehttp.ErrStatus},
		{"not JSON", []byte("<html>"), http.StatusOK, errNotKeySet},
		{"no usable key", setJSON(jwkOf(&f.rsaWeak.PublicKey, "weak", nil)), http.StatusOK, ErrNoKeys},
		{"empty set", setJSON(), http.StatusOK, ErrNoKeys},
	} {
		t.Run(broken.name, func(t *testing.T) {
			srv.set(broken.body, broken.status)
			clock.Advance(time.Hour) // a full bucket, and stale keys
			err := ks.Refresh(context.Background())
			if !errors.Is(err, ErrFetch) || !errors.Is(err, broken.want) {
				t.Fatalf("Refresh error = %v, want ErrFetch and %v", err, broken.want)
			}
			verifyOK(t, ks, good)
			_, _, err = ks.Verify(context.Background(), spec("RS256", "b", f.rsaB).String())
			if !errors.Is(err, ErrKeyNotFound) || !errors.Is(err, ErrFetch) || !errors.Is(err, broken.want) {
				t.Fatalf("Verify error = %v, want ErrKeyNotFound, ErrFetch and %v", err, broken.want)
			}
		})
	}
}

// TestStaleWhileRevalidate: after the TTL, Verify goes on with the keys
// it has while one background fetch gets new ones.
func TestStaleWhileRevalidate(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	ks, clock := remote(t, srv, nil)
	good := spec("RS256", "a", f.rsaA).String()
	verifyOK(t, ks, good)

	both := setJSON(jwkOf(&f.rsaA.PublicKey, "a", nil), jwkOf(&f.rsaB.PublicKey, "b", nil))
	srv.set(both, http.StatusOK)
	started := make(chan struct{}, 10)
	srv.mu.Lock()
	srv.started = started
	srv.mu.Unlock()
	release := srv.setHold()
	defer release()
	clock.Advance(defaultTTL)

	for range 100 {
		done := make(chan struct{})
		go func() { defer close(done); verifyOK(t, ks, good) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Verify waited for the background refresh")
		}
	}
	<-started // the one background fetch is under way
	release()
	deadline := time.Now().Add(5 * time.Second)
	for ks.snap.Load().byKID["b"] == nil {
		if time.Now().After(deadline) {
			t.Fatal("the background refresh did not land")
		}
		time.Sleep(time.Millisecond)
	}
	wantRequests(t, srv, 2)
	verifyOK(t, ks, spec("RS256", "b", f.rsaB).String())
	wantRequests(t, srv, 2)
}

// TestStaleRefreshFailing: a background refresh that fails is retried at
// most once per MinRefreshInterval while the old keys serve.
func TestStaleRefreshFailing(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	ks, clock := remote(t, srv, nil)
	good := spec("RS256", "a", f.rsaA).String()
	verifyOK(t, ks, good)
	srv.set(nil, http.StatusServiceUnavailable)
	clock.Advance(defaultTTL)

	waitRequests := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for srv.requests.Load() < want && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
		wantRequests(t, srv, want)
	}
	for range 50 {
		verifyOK(t, ks, good)
	}
	waitRequests(2)
	for range 50 {
		verifyOK(t, ks, good)
	}
	waitRequests(2)
	clock.Advance(defaultMinRefreshInterval)
	for range 50 {
		verifyOK(t, ks, good)
	}
	waitRequests(3)
}

// TestColdStartFailure: a provider down at start costs the free fetch,
// then draws on the bucket, and keys arrive once it is back.
func TestColdStartFailure(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, nil)
	srv.set([]byte("down"), http.StatusBadGateway)
	ks, clock := remote(t, srv, nil)
	tok := spec("RS256", "a", f.rsaA).String()
	for range 10 {
		_, _, err := ks.Verify(context.Background(), tok)
		var se *safehttp.StatusError
		if !errors.Is(err, ErrFetch) || !errors.As(err, &se) || se.StatusCode != http.StatusBadGateway {
			t.Fatalf("Verify error = %v, want ErrFetch with status 502", err)
		}
	}
	wantRequests(t, srv, 1+refreshBurst)
	srv.set(setA(f), http.StatusOK)
	clock.Advance(defaultMinRefreshInterval)
	verifyOK(t, ks, tok)
	wantRequests(t, srv, 2+refreshBurst)
}

// TestCallerCancelled: a caller whose context ends stops waiting at once;
// the fetch goes on for the others.
func TestCallerCancelled(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	release := srv.setHold()
	defer release()
	ks, _ := remote(t, srv, nil)
	tok := spec("RS256", "a", f.rsaA).String()

	patient := make(chan error, 1)
	go func() {
		_, _, err := ks.Verify(context.Background(), tok)
		patient <- err
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := ks.Verify(ctx, tok)
	if !errors.Is(err, ErrFetch) || !errors.Is(err, context.DeadlineExceeded) || !safehttp.IsTimeout(err) {
		t.Fatalf("Verify error = %v, want ErrFetch and DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("cancelled caller returned after %v", d)
	}

	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, _, err := ks.Verify(ctx, tok); !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify error = %v, want Canceled", err)
	}

	release()
	if err := <-patient; err != nil {
		t.Fatalf("patient Verify: %v", err)
	}
	wantRequests(t, srv, 1)
}

func TestRefresh(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	ks, _ := remote(t, srv, nil)
	for range 5 {
		if err := ks.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	wantRequests(t, srv, 5) // Refresh is not rate-limited
	verifyOK(t, ks, spec("RS256", "a", f.rsaA).String())
	wantRequests(t, srv, 5)

	static, err := NewStatic(setA(f), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := static.Refresh(context.Background()); err != nil {
		t.Fatalf("static Refresh: %v", err)
	}
}

// TestFetchLimits: huge, slow and redirecting documents are refused in
// bounded time.
func TestFetchLimits(t *testing.T) {
	f := keys(t)
	tok := spec("RS256", "a", f.rsaA).String()
	cases := []struct {
		name    string
		handler func(srvURL string) http.HandlerFunc
		tls     bool
		cfg     func(*Config)
		want    error
	}{
		{
			name: "over MaxBytes",
			handler: func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Write([]byte(`{"keys":[`))
					entry := append(mustJSON(jwkOf(&f.rsaA.PublicKey, "pad", nil)), ',')
					for range 2000 {
						w.Write(entry)
					}
				}
			},
			want: safehttp.ErrTooLarge,
		},
		{
			name: "slower than Timeout",
			handler: func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					select {
					case <-r.Context().Done():
					case <-time.After(10 * time.Second):
					}
				}
			},
			cfg:  func(c *Config) { c.Timeout = 100 * time.Millisecond },
			want: context.DeadlineExceeded,
		},
		{
			name: "body trickling past Timeout",
			handler: func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Write([]byte(`{"keys":[`))
					w.(http.Flusher).Flush()
					for {
						select {
						case <-r.Context().Done():
							return
						case <-time.After(10 * time.Millisecond):
							w.Write([]byte(" "))
							w.(http.Flusher).Flush()
						}
					}
				}
			},
			cfg:  func(c *Config) { c.Timeout = 100 * time.Millisecond },
			want: context.DeadlineExceeded,
		},
		{
			name: "redirect from https to http",
			tls:  true,
			handler: func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "http://127.0.0.1:1/keys", http.StatusFound)
				}
			},
			want: safehttp.ErrInsecureURL,
		},
		{
			name: "endless body",
			handler: func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Write([]byte(`{"keys":[`))
					chunk := []byte(strings.Repeat(" ", 32<<10))
					for r.Context().Err() == nil {
						if _, err := w.Write(chunk); err != nil {
							return
						}
					}
				}
			},
			want: safehttp.ErrTooLarge,
		},
		{
			name: "redirect loop",
			handler: func(srvURL string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, "/keys?again", http.StatusFound)
				}
			},
			want: safehttp.ErrTooManyRedirects,
		},
		{
			name: "not found",
			handler: func(string) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }
			},
			want: safehttp.ErrStatus,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var srv *httptest.Server
			var url string
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.handler(url)(w, r) })
			if c.tls {
				srv = httptest.NewTLSServer(h)
			} else {
				srv = httptest.NewServer(h)
			}
			defer srv.Close()
			url = srv.URL
			cfg := Config{URL: srv.URL + "/keys", HTTPClient: srv.Client()}
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			ks, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			_, _, err = ks.Verify(context.Background(), tok)
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Verify took %v", d)
			}
			if !errors.Is(err, ErrFetch) || !errors.Is(err, c.want) {
				t.Fatalf("Verify error = %v, want ErrFetch and %v", err, c.want)
			}
		})
	}
}

func TestTooManyKeysRefused(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setJSON(jwkOf(&f.rsaA.PublicKey, "a", nil), jwkOf(&f.rsaB.PublicKey, "b", nil)))
	ks, _ := remote(t, srv, func(c *Config) { c.MaxKeys = 1 })
	_, _, err := ks.Verify(context.Background(), spec("RS256", "a", f.rsaA).String())
	if !errors.Is(err, ErrFetch) || !errors.Is(err, errTooManyKeys) {
		t.Fatalf("Verify error = %v, want ErrFetch and too many keys", err)
	}
}

// TestHeaderURLsNeverFetched: jku and x5u point nowhere we go.
func TestHeaderURLsNeverFetched(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	attacker := newJWKSServer(t, setJSON(jwkOf(&f.rsaB.PublicKey, "evil", nil)))
	ks, _ := remote(t, srv, nil)
	s := spec("RS256", "evil", f.rsaB)
	s.header["jku"] = attacker.URL + "/keys"
	s.header["x5u"] = attacker.URL + "/cert"
	_, _, err := ks.Verify(context.Background(), s.String())
	if !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Verify error = %v, want ErrKeyNotFound", err)
	}
	wantRequests(t, attacker, 0)
}

// TestRefreshForUnknownKidRace: many goroutines hitting rotated keys at
// once, under -race, each get the new keys, at the cost of one refresh.
func TestRefreshForUnknownKidRace(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	ks, _ := remote(t, srv, nil)
	verifyOK(t, ks, spec("RS256", "a", f.rsaA).String())
	srv.set(setB(f), http.StatusOK)
	release := srv.setHold()
	tok := spec("RS256", "b", f.rsaB).String()
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for range 100 {
		wg.Go(func() {
			_, _, err := ks.Verify(context.Background(), tok)
			errs <- err
		})
	}
	time.Sleep(50 * time.Millisecond)
	release()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("Verify: %v", err)
		}
	}
	wantRequests(t, srv, 2)
}

// TestUnknownKidWithKidlessKeyRefreshes: a provider that published one
// key without a kid and rotates to keys with kids is refreshed when a
// token names a new kid, although the old kid-less key fits its alg.
func TestUnknownKidWithKidlessKeyRefreshes(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setJSON(jwkOf(&f.rsaA.PublicKey, "", nil)))
	ks, _ := remote(t, srv, nil)
	verifyOK(t, ks, spec("RS256", "", f.rsaA).String())
	// A token with an unknown kid that the kid-less key signed: no refresh.
	verifyOK(t, ks, spec("RS256", "whatever", f.rsaA).String())
	wantRequests(t, srv, 1)

	srv.set(setB(f), http.StatusOK)
	verifyOK(t, ks, spec("RS256", "b", f.rsaB).String())
	wantRequests(t, srv, 2)

	// Refused when the refreshed set still lacks the kid.
	_, _, err := ks.Verify(context.Background(), spec("RS256", "c", f.rsaC).String())
	if !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Verify error = %v, want ErrKeyNotFound", err)
	}
	wantRequests(t, srv, 3)
}

// TestFetchFollowsFewRedirects: a jwks_uri that redirects (to a CDN, say)
// is followed up to the cap, and refused beyond it.
func TestFetchFollowsFewRedirects(t *testing.T) {
	f := keys(t)
	tok := spec("RS256", "a", f.rsaA).String()
	var hops atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hops.Add(1)
		var n int
		fmt.Sscan(r.URL.Query().Get("n"), &n)
		if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/keys?n=%d", n-1), http.StatusFound)
			return
		}
		w.Write(setA(f))
	}))
	defer srv.Close()
	for _, c := range []struct {
		redirects int
		want      error
	}{
		{0, nil},
		{1, nil},
		{safehttp.DefaultMaxRedirects, nil},
		{safehttp.DefaultMaxRedirects + 1, safehttp.ErrTooManyRedirects},
		{100, safehttp.ErrTooManyRedirects},
	} {
		hops.Store(0)
		ks, err := New(Config{URL: fmt.Sprintf("%s/keys?n=%d", srv.URL, c.redirects), HTTPClient: srv.Client()})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = ks.Verify(context.Background(), tok)
		if c.want == nil {
			if err != nil {
				t.Errorf("%d redirects: Verify: %v", c.redirects, err)
			}
			continue
		}
		if !errors.Is(err, ErrFetch) || !errors.Is(err, c.want) {
			t.Errorf("%d redirects: Verify error = %v, want ErrFetch and %v", c.redirects, err, c.want)
		}
		if h := hops.Load(); h > safehttp.DefaultMaxRedirects+1 {
			t.Errorf("%d redirects: %d requests made", c.redirects, h)
		}
	}
}

// countingTransport counts the requests of the client it is the
// transport of.
type countingTransport struct {
	n    atomic.Int64
	next http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// TestFetchUsesCallersClient: the caller's client does the fetching (here
// one that trusts the test server's certificate, which the default client
// does not).
func TestFetchUsesCallersClient(t *testing.T) {
	f := keys(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(setA(f)) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the default client's handshake fails, as it should
	srv.StartTLS()
	defer srv.Close()
	tok := spec("RS256", "a", f.rsaA).String()

	rt := &countingTransport{next: srv.Client().Transport}
	ks, err := New(Config{URL: srv.URL + "/keys", HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	verifyOK(t, ks, tok)
	if rt.n.Load() != 1 {
		t.Errorf("the caller's transport made %d requests, want 1", rt.n.Load())
	}

	ks, err = New(Config{URL: srv.URL + "/keys"}) // http.DefaultClient
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ks.Verify(context.Background(), tok); !errors.Is(err, ErrFetch) {
		t.Fatalf("Verify with the default client error = %v, want ErrFetch", err)
	}
}

// TestMaxTokenSize: tokens longer than Config.MaxTokenSize are refused
// before anything is decoded or fetched.
func TestMaxTokenSize(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	tok := spec("RS256", "a", f.rsaA).String()
	ks, _ := remote(t, srv, func(c *Config) { c.MaxTokenSize = len(tok) })
	verifyOK(t, ks, tok)
	ks, _ = remote(t, srv, func(c *Config) { c.MaxTokenSize = len(tok) - 1 })
	if _, _, err := ks.Verify(context.Background(), tok); !errors.Is(err, ErrTokenTooLarge) {
		t.Fatalf("Verify error = %v, want ErrTokenTooLarge", err)
	}
	wantRequests(t, srv, 1)
}

// TestRefreshForUnknownKidAfterAnotherRefresh: a caller whose snapshot a
// finished fetch has replaced looks at the new one instead of fetching
// again (the window between its look and its refresh).
func TestRefreshForUnknownKidAfterAnotherRefresh(t *testing.T) {
	f := keys(t)
	srv := newJWKSServer(t, setA(f))
	ks, _ := remote(t, srv, nil)
	verifyOK(t, ks, spec("RS256", "a", f.rsaA).String())
	seen := ks.snap.Load()
	if err := ks.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantRequests(t, srv, 2)
	if err := ks.refreshForUnknownKey(context.Background(), seen); err != nil {
		t.Fatal(err)
	}
	wantRequests(t, srv, 2)
	if err := ks.refreshForUnknownKey(context.Background(), ks.snap.Load()); err != nil {
		t.Fatal(err)
	}
	wantRequests(t, srv, 3)
}
