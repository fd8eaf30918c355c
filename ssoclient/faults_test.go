package ssoclient_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// faultTimeout is Config.Timeout in the fault tests; waitBound is how long
// any refused sign-in may take. The bound is generous on purpose: it
// separates "bounded by Timeout" from "hangs for the provider's minute",
// not one timing from another. The timeout leaves the calls that must
// succeed room on a machine short of CPU, under -race.
const (
	faultTimeout = 2 * time.Second
	waitBound    = 15 * time.Second
)

// A fault is one way the provider fails.
type fault int

const (
	// faultUnreachable: the provider's port is closed (connection refused).
	faultUnreachable fault = iota + 1
	// faultReset: the connection is accepted, the request read, then reset
	// with no answer.
	faultReset
	// faultCut: the answer's headers and half its body arrive, then the
	// connection closes.
	faultCut
	// fault500: the provider answers 500.
	fault500
	// faultSlow: the provider answers after a minute, far beyond Timeout.
	faultSlow
	// faultGarbage: the provider answers 200 with an HTML page.
	faultGarbage
	// faultTruncated: the provider answers 200 with JSON cut short.
	faultTruncated
)

var allFaults = []fault{faultUnreachable, faultReset, faultCut, fault500, faultSlow, faultGarbage, faultTruncated}

func (f fault) String() string {
	return map[fault]string{
		faultUnreachable: "unreachable", faultReset: "reset", faultCut: "cut mid-body", fault500: "500",
		faultSlow: "slow", faultGarbage: "garbage", faultTruncated: "truncated JSON",
	}[f]
}

// endpointOf names the provider endpoint a request is for.
func endpointOf(path string) ssotest.Endpoint {
	for suffix, e := range map[string]ssotest.Endpoint{
		"/.well-known/openid-configuration": ssotest.EndpointDiscovery,
		"/token":                            ssotest.EndpointToken,
		"/jwks":                             ssotest.EndpointJWKS,
		"/userinfo":                         ssotest.EndpointUserinfo,
		"/authorize":                        ssotest.EndpointAuthorize,
		"/end_session":                      ssotest.EndpointEndSession,
	} {
		if strings.HasSuffix(path, suffix) {
			return e
		}
	}
	return ""
}

// faultNet is the relying party's network to the provider: an
// http.RoundTripper that sends each request on, or fails it the way a real
// network does. Requests to an unreachable endpoint dial a closed port;
// requests to a reset or cut endpoint go to a small TCP proxy of its own,
// which reads the request and then resets the connection, or forwards it
// and passes on only half the answer.
type faultNet struct {
	direct  *http.Transport // to the provider
	refused *http.Transport // every dial goes to a closed port
	proxied *http.Transport // every dial goes to the proxy
	proxy   net.Listener
	wg      sync.WaitGroup

	mu     sync.Mutex
	faults map[ssotest.Endpoint]fault
	counts map[ssotest.Endpoint]int
	// after, when set, runs once a response from the provider for an
	// endpoint has arrived and before the relying party reads it.
	after func(ssotest.Endpoint)
}

func newFaultNet(t *testing.T) *faultNet {
	t.Helper()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	proxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var d net.Dialer
	n := &faultNet{
		direct: &http.Transport{MaxIdleConnsPerHost: 16},
		refused: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, closedAddr)
		}},
		proxied: &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, proxy.Addr().String())
		}},
		proxy:  proxy,
		faults: map[ssotest.Endpoint]fault{},
		counts: map[ssotest.Endpoint]int{},
	}
	n.wg.Add(1)
	go n.serveProxy()
	t.Cleanup(func() {
		proxy.Close()
		n.wg.Wait()
		n.direct.CloseIdleConnections()
	})
	return n
}

func (n *faultNet) client() *http.Client { return &http.Client{Transport: n} }

func (n *faultNet) set(e ssotest.Endpoint, f fault) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.faults[e] = f
}

func (n *faultNet) heal() {
	n.mu.Lock()
	defer n.mu.Unlock()
	clear(n.faults)
}

func (n *faultNet) setAfter(f func(ssotest.Endpoint)) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.after = f
}

// count is how many requests the relying party made to e, whether or not
// they reached the provider.
func (n *faultNet) count(e ssotest.Endpoint) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.counts[e]
}

func (n *faultNet) RoundTrip(req *http.Request) (*http.Response, error) {
	e := endpointOf(req.URL.Path)
	n.mu.Lock()
	n.counts[e]++
	f, after := n.faults[e], n.after
	n.mu.Unlock()
	switch f {
	case faultUnreachable:
		return n.refused.RoundTrip(req)
	case faultReset, faultCut:
		return n.proxied.RoundTrip(req)
	}
	resp, err := n.direct.RoundTrip(req)
	if err == nil && after != nil {
		after(e)
	}
	return resp, err
}

func (n *faultNet) serveProxy() {
	defer n.wg.Done()
	for {
		c, err := n.proxy.Accept()
		if err != nil {
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.serveConn(c.(*net.TCPConn))
		}()
	}
}

// serveConn reads one request and fails it as its endpoint's fault says.
func (n *faultNet) serveConn(c *net.TCPConn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	body, _ := io.ReadAll(req.Body)
	n.mu.Lock()
	f := n.faults[endpointOf(req.URL.Path)]
	n.mu.Unlock()
	if f != faultCut {
		_ = c.SetLinger(0) // close with RST
		return
	}
	out, err := http.NewRequest(req.Method, "http://"+req.Host+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return
	}
	out.Header = req.Header.Clone()
	resp, err := n.direct.RoundTrip(out)
	if err != nil {
		return
	}
	full, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Fprintf(c, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		resp.StatusCode, http.StatusText(resp.StatusCode), resp.Header.Get("Content-Type"), len(full))
	_, _ = c.Write(full[:len(full)/2])
	// A half close, so the half body is delivered before the end of the
	// stream; then wait (bounded) for the client to give up and close.
	_ = c.CloseWrite()
	_, _ = io.Copy(io.Discard, c)
}

// netCause is what the cause of a network fault says, so a test can check
// that the failure it sees is the one injected.
func netCause(f fault) string {
	return map[fault]string{
		faultUnreachable: "connection refused", faultReset: "connection reset by peer", faultCut: "unexpected EOF",
	}[f]
}

// inject makes endpoint e fail with f, on top of the provider faults base.
func inject(idp *ssotest.Provider, n *faultNet, e ssotest.Endpoint, f fault, base ssotest.Faults) {
	switch f {
	case fault500:
		base.Status = map[ssotest.Endpoint]int{e: http.StatusInternalServerError}
	case faultSlow:
		base.Delay = map[ssotest.Endpoint]time.Duration{e: time.Minute}
	case faultGarbage:
		base.Body = map[ssotest.Endpoint]string{e: "<html><body><h1>502 Bad Gateway</h1></body></html>"}
	case faultTruncated:
		base.Body = map[ssotest.Endpoint]string{e: map[ssotest.Endpoint]string{
			ssotest.EndpointDiscovery: `{"issuer":"` + idp.Issuer() + `","authorization_endpoint":"` + idp.Issuer(),
			ssotest.EndpointToken:     `{"access_token":"at","token_type":"Bearer","expires_in":3600,"id_token":"eyJhbGciOiJSUzI1NiJ9.`,
			ssotest.EndpointJWKS:      `{"keys":[{"kty":"RSA","use":"sig","kid":"k1","n":"0vx7agoebGcQSuuPiLJXZptN9`,
			ssotest.EndpointUserinfo:  `{"sub":"alice","email":"alice@exam`,
		}[e]}
	default:
		n.set(e, f)
	}
	idp.SetFaults(base)
}

// wantCode is the code and status a fault of the provider deserves: 504
// when it is too slow, else 502 (discovery_failed from New).
func wantCode(e ssotest.Endpoint, f fault) (ssoclient.Code, int) {
	switch {
	case f == faultSlow:
		return ssoclient.CodeProviderTimeout, http.StatusGatewayTimeout
	case e == ssotest.EndpointDiscovery:
		return ssoclient.CodeDiscoveryFailed, http.StatusBadGateway
	}
	return ssoclient.CodeProviderUnavailable, http.StatusBadGateway
}

// mountApp is newApp against an existing provider, returning New's error.
func mountApp(t *testing.T, idp *ssotest.Provider, configure func(*ssoclient.Config)) (*app, error) {
	t.Helper()
	a := &app{t: t, idp: idp, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	var handler atomic.Pointer[http.Handler]
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(a.srv.Close)
	nf := http.Handler(http.NotFoundHandler())
	handler.Store(&nf)
	cfg := ssoclient.Config{
		Issuer:       idp.Issuer(),
		ClientID:     ssotest.DefaultClientID,
		ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL:  a.srv.URL + "/auth/sso/callback",
		HTTPClient:   idp.HTTPClient(),
		Logger:       slog.New(slog.NewTextHandler(lockedWriter{a.logMu, a.logs}, nil)),
	}
	if configure != nil {
		configure(&cfg)
	}
	sso, err := ssoclient.New(context.Background(), cfg)
	if err != nil {
		return nil, err
	}
	a.sso = sso
	mux := http.NewServeMux()
	mux.Handle("/auth/sso/", sso.Handler())
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		id := sso.Identity(r)
		if id == nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(id)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page "+r.URL.RequestURI()) })
	h := http.Handler(mux)
	handler.Store(&h)
	a.browser = newBrowser(t, idp)
	return a, nil
}

// wantSignIn checks that a sign-in in a fresh browser succeeds.
func (a *app) wantSignIn(when string) {
	a.t.Helper()
	a.browser = newBrowser(a.t, a.idp)
	r := a.signIn("/after")
	if r.status != http.StatusOK || r.body != "page /after" {
		a.t.Fatalf("%s: sign-in ended at %s with %d %q", when, r.url, r.status, clipBody(r.body))
	}
	if who := a.signedIn(); who != "alice" {
		a.t.Fatalf("%s: signed in as %q", when, who)
	}
}

// wantBoundedRefusal signs in, expecting a refusal with code and status
// within waitBound, and no session.
func (a *app) wantBoundedRefusal(code ssoclient.Code, status int) time.Duration {
	a.t.Helper()
	start := time.Now()
	r := a.signIn("/after")
	took := time.Since(start)
	a.wantRefused(r, code, status)
	if took > waitBound {
		a.t.Errorf("the refusal took %v (Timeout %v)", took, faultTimeout)
	}
	return took
}

// TestProviderFaults fails each call the relying party makes to the
// provider in each way a provider fails, and checks the refusal (code,
// status, a bounded wait, no session) and the recovery once it heals.
func TestProviderFaults(t *testing.T) {
	phases := []struct {
		name     string
		endpoint ssotest.Endpoint
		base     ssotest.Faults
		// rotate: sign in once, so the keys are cached, then rotate them,
		// so the fault hits the refresh for the new kid.
		rotate bool
	}{
		{name: "exchange", endpoint: ssotest.EndpointToken},
		{name: "first key fetch", endpoint: ssotest.EndpointJWKS},
		{name: "key refresh", endpoint: ssotest.EndpointJWKS, rotate: true},
		{name: "userinfo", endpoint: ssotest.EndpointUserinfo, base: ssotest.Faults{ThinIDToken: true}},
	}
	// Once every case has ended and closed its servers, nothing a fault
	// started (a fetch abandoned at its timeout, a half-read answer) may
	// still be running.
	baseline := runtime.NumGoroutine()
	t.Cleanup(func() { wantGoroutines(t, baseline, nil) })
	for _, f := range allFaults {
		t.Run("discovery/"+f.String(), func(t *testing.T) {
			idp := ssotest.New(t, ssotest.WithLoginUser("alice"))
			n := newFaultNet(t)
			configure := func(c *ssoclient.Config) { c.HTTPClient, c.Timeout = n.client(), faultTimeout }
			inject(idp, n, ssotest.EndpointDiscovery, f, ssotest.Faults{})
			start := time.Now()
			_, err := mountApp(t, idp, configure)
			took := time.Since(start)
			code, status := wantCode(ssotest.EndpointDiscovery, f)
			var e *ssoclient.Error
			if !errors.As(err, &e) || e.Code != code || e.Status != status {
				t.Fatalf("New: %v; want %s (%d)", err, code, status)
			}
			if took > waitBound {
				t.Errorf("New took %v (Timeout %v)", took, faultTimeout)
			}
			if n.count(ssotest.EndpointDiscovery) == 0 || !strings.Contains(err.Error(), netCause(f)) {
				t.Fatalf("the fault was not hit: %v", err)
			}
			idp.SetFaults(ssotest.Faults{})
			n.heal()
			a, err := mountApp(t, idp, configure)
			if err != nil {
				t.Fatalf("New after healing: %v", err)
			}
			a.wantSignIn("after healing")
		})
	}
	for _, ph := range phases {
		for _, f := range allFaults {
			t.Run(ph.name+"/"+f.String(), func(t *testing.T) {
				n := newFaultNet(t)
				a := newApp(t, []ssotest.Option{ssotest.WithFaults(ph.base)}, func(c *ssoclient.Config) {
					c.HTTPClient, c.Timeout = n.client(), faultTimeout
				})
				if ph.rotate {
					a.wantSignIn("before rotating")
					a.idp.RotateKeys(0)
					a.browser = newBrowser(t, a.idp)
				}
				before := n.count(ph.endpoint)
				inject(a.idp, n, ph.endpoint, f, ph.base)
				code, status := wantCode(ph.endpoint, f)
				took := a.wantBoundedRefusal(code, status)
				a.logMu.Lock()
				logs := a.logs.String()
				a.logMu.Unlock()
				if n.count(ph.endpoint) == before || !strings.Contains(logs, netCause(f)) {
					t.Fatalf("the fault was not hit; logs:\n%s", logs)
				}
				if f == faultSlow && took < faultTimeout/2 {
					t.Errorf("a timeout after only %v (Timeout %v)", took, faultTimeout)
				}
				a.idp.SetFaults(ph.base)
				n.heal()
				a.wantSignIn("after healing")
				if got := a.idp.Requests(ssotest.EndpointDiscovery); got != 1 {
					t.Errorf("discovery fetched %d times, want 1", got)
				}
			})
		}
	}
}

// TestDiscoveryCached: once New has the metadata, discovery failing in any
// way changes nothing.
func TestDiscoveryCached(t *testing.T) {
	for _, f := range allFaults {
		t.Run(f.String(), func(t *testing.T) {
			n := newFaultNet(t)
			a := newApp(t, nil, func(c *ssoclient.Config) { c.HTTPClient, c.Timeout = n.client(), faultTimeout })
			inject(a.idp, n, ssotest.EndpointDiscovery, f, ssotest.Faults{})
			for i := range 3 {
				a.wantSignIn(fmt.Sprintf("sign-in %d", i))
			}
			if got := n.count(ssotest.EndpointDiscovery); got != 1 {
				t.Errorf("discovery asked %d times, want 1", got)
			}
		})
	}
}

// TestStaleKeysServeWhileRefreshFails: keys past their TTL are refreshed
// in the background; when that refresh fails, in any way, the cached keys
// go on verifying and sign-ins go on working.
func TestStaleKeysServeWhileRefreshFails(t *testing.T) {
	for _, f := range allFaults {
		t.Run(f.String(), func(t *testing.T) {
			n := newFaultNet(t)
			var skew atomic.Int64
			a := newApp(t, nil, func(c *ssoclient.Config) {
				c.HTTPClient, c.Timeout = n.client(), faultTimeout
				c.Now = func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
			})
			a.wantSignIn("first sign-in")
			if got := n.count(ssotest.EndpointJWKS); got != 1 {
				t.Fatalf("JWKS asked %d times, want 1", got)
			}
			// Past the keys' 10-minute TTL.
			skew.Store(int64(11 * time.Minute))
			inject(a.idp, n, ssotest.EndpointJWKS, f, ssotest.Faults{})
			start := time.Now()
			a.wantSignIn("with stale keys and the refresh failing")
			if took := time.Since(start); took > waitBound {
				t.Errorf("took %v", took)
			}
			waitFor(t, "the background refresh", func() bool { return n.count(ssotest.EndpointJWKS) == 2 })
			for i := range 3 {
				a.wantSignIn(fmt.Sprintf("sign-in %d after the failed refresh", i))
			}
			// One background refresh per MinRefreshInterval (10 s): the
			// failing provider is not asked once per sign-in.
			if got := n.count(ssotest.EndpointJWKS); got != 2 {
				t.Errorf("JWKS asked %d times, want 2", got)
			}
			a.idp.SetFaults(ssotest.Faults{})
			n.heal()
			a.wantSignIn("after healing")
		})
	}
}

// waitFor polls cond for up to 5 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKeyRotationBetweenLogins: a new signing key (the old one kept for a
// grace period, or dropped) costs one JWKS fetch and no failed sign-in.
func TestKeyRotationBetweenLogins(t *testing.T) {
	for _, grace := range []time.Duration{0, time.Hour} {
		t.Run(fmt.Sprintf("grace %v", grace), func(t *testing.T) {
			a := newApp(t, nil, nil)
			a.wantSignIn("before rotating")
			a.idp.RotateKeys(grace)
			for i := range 5 {
				a.wantSignIn(fmt.Sprintf("sign-in %d after rotating", i))
			}
			if got := a.idp.Requests(ssotest.EndpointJWKS); got != 2 {
				t.Errorf("JWKS fetched %d times, want 2 (cold, then the new kid once)", got)
			}
		})
	}
}

// TestKeyRotationDuringSignIn rotates the provider's keys, dropping the old
// one at once, while a sign-in is under way.
func TestKeyRotationDuringSignIn(t *testing.T) {
	// Between the authorization and the callback: the token endpoint signs
	// with the new key, which one refresh finds.
	t.Run("before the code is redeemed", func(t *testing.T) {
		a := newApp(t, nil, nil)
		a.wantSignIn("before rotating")
		a.browser = newBrowser(t, a.idp)
		a.browser.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if req.URL.Path == "/auth/sso/callback" {
				a.idp.RotateKeys(0)
			}
			return nil
		}
		if r := a.signIn("/after"); r.status != http.StatusOK || a.signedIn() != "alice" {
			t.Fatalf("%d %s", r.status, clipBody(r.body))
		}
		if got := a.idp.Requests(ssotest.EndpointJWKS); got != 2 {
			t.Errorf("JWKS fetched %d times, want 2", got)
		}
	})
	// After the token endpoint signed the ID token and before it is
	// verified, the provider drops the signing key. The token's kid is in
	// no key set the provider publishes, so a relying party that has not
	// cached that key cannot tell it from a forged one: the sign-in is
	// refused as an invalid ID token (400, start again), not blamed on the
	// provider's availability — the provider answered, and retrying the
	// same token would fail the same way. The next sign-in, signed with
	// the new key, works.
	t.Run("in flight, keys not cached", func(t *testing.T) {
		n := newFaultNet(t)
		a := newApp(t, nil, func(c *ssoclient.Config) { c.HTTPClient = n.client() })
		var once sync.Once
		n.setAfter(func(e ssotest.Endpoint) {
			if e == ssotest.EndpointToken {
				once.Do(func() { a.idp.RotateKeys(0) })
			}
		})
		a.wantRefused(a.signIn("/after"), ssoclient.CodeIDTokenInvalid, http.StatusBadRequest)
		// The cold fetch, then one refresh for the unknown kid.
		if got := a.idp.Requests(ssotest.EndpointJWKS); got != 2 {
			t.Errorf("JWKS fetched %d times, want 2", got)
		}
		a.wantSignIn("after the rotation")
		if got := a.idp.Requests(ssotest.EndpointJWKS); got != 2 {
			t.Errorf("JWKS fetched %d times after the next sign-in, want still 2", got)
		}
	})
	// The same, with the old key cached from an earlier sign-in: the token
	// verifies with the cached key, as it would have a moment earlier. The
	// token came straight from the token endpoint, signed by a key the
	// provider published; keys are cached for their TTL, so a key's removal
	// takes effect at the next refresh, not mid-sign-in.
	t.Run("in flight, keys cached", func(t *testing.T) {
		n := newFaultNet(t)
		a := newApp(t, nil, func(c *ssoclient.Config) { c.HTTPClient = n.client() })
		a.wantSignIn("before rotating")
		var once sync.Once
		n.setAfter(func(e ssotest.Endpoint) {
			if e == ssotest.EndpointToken {
				once.Do(func() { a.idp.RotateKeys(0) })
			}
		})
		a.wantSignIn("with the key dropped in flight")
		a.wantSignIn("after the rotation")
		if got := a.idp.Requests(ssotest.EndpointJWKS); got != 2 {
			t.Errorf("JWKS fetched %d times, want 2 (cold, then the new kid)", got)
		}
	})
}

// TestProviderDownAndBack stops the provider, checks that sign-ins fail
// fast with 502, then starts it again on the same address (with new keys,
// as a restarted provider may have) and checks that sign-ins work again.
func TestProviderDownAndBack(t *testing.T) {
	a := newApp(t, nil, func(c *ssoclient.Config) { c.Timeout = faultTimeout })
	a.wantSignIn("before the provider stops")
	addr := strings.TrimPrefix(a.idp.Issuer(), "http://")
	a.idp.Close()
	a.browser = newBrowser(t, a.idp)
	// The browser cannot reach the provider either; the application's
	// part ends with the redirect to it. Complete the callback as a
	// provider would have sent it: the relying party needs the provider
	// for the code, and must fail fast.
	c := *a.browser
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(a.srv.URL + "/auth/sso/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	q := url.Values{"code": {"abc"}, "iss": {a.idp.Issuer()}, "state": {loc.Query().Get("state")}}
	r := a.get(a.browser, "/auth/sso/callback?"+q.Encode())
	if took := time.Since(start); took > waitBound {
		t.Errorf("took %v", took)
	}
	a.wantRefused(r, ssoclient.CodeProviderUnavailable, http.StatusBadGateway)

	var idp *ssotest.Provider
	waitFor(t, "the provider's restart", func() bool {
		p, err := ssotest.Start(ssotest.WithAddr(addr), ssotest.WithLoginUser("alice"))
		if err != nil {
			return false
		}
		idp = p
		return true
	})
	t.Cleanup(idp.Close)
	a.idp = idp
	a.wantSignIn("after the restart")
}

// TestLoginLoad signs in a few thousand times, a few dozen at once, against
// one Client, and checks that discovery and the keys were fetched once,
// every sign-in succeeded, and no goroutine outlives the load.
func TestLoginLoad(t *testing.T) {
	logins, browsers := 2000, 32
	if testing.Short() {
		logins, browsers = 200, 8
	}
	// ES256 keeps the fake provider's signing cheap, so the time goes to
	// the sign-ins themselves rather than to RSA in the test's provider.
	var warnings bytes.Buffer
	var warnMu sync.Mutex
	a := newApp(t, []ssotest.Option{ssotest.WithSigningAlg("ES256")}, func(c *ssoclient.Config) {
		c.Logger = slog.New(slog.NewTextHandler(lockedWriter{&warnMu, &warnings}, &slog.HandlerOptions{Level: slog.LevelWarn}))
		// Timeouts are not under test here, and on a machine starved of
		// CPU a loopback call under -race can take seconds.
		c.Timeout = 30 * time.Second
	})
	transport := a.idp.HTTPClient().Transport.(*http.Transport) // shared by the app and the browsers
	quiesce := func() (goroutines int, heap uint64) {
		transport.CloseIdleConnections()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return runtime.NumGoroutine(), ms.HeapAlloc
	}
	baseGoroutines, baseHeap := quiesce()

	// Bounded in time: a stuck sign-in fails the test rather than hanging
	// it. The bound is for a heavily loaded machine; an idle one with two
	// cores takes about a tenth of it under -race.
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var next, ok atomic.Int64
	errs := make(chan error, browsers)
	var wg sync.WaitGroup
	start := time.Now()
	for range browsers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newBrowser(t, a.idp)
			for next.Add(1) <= int64(logins) {
				if err := loadSignIn(ctx, b, a.srv.URL); err != nil {
					errs <- err
					return
				}
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := ok.Load(); got != int64(logins) {
		warnMu.Lock()
		defer warnMu.Unlock()
		t.Fatalf("%d of %d sign-ins succeeded; the client logged:\n%s", got, logins, warnings.String())
	}
	for e, want := range map[ssotest.Endpoint]int{
		ssotest.EndpointDiscovery: 1, ssotest.EndpointJWKS: 1,
		ssotest.EndpointToken: logins, ssotest.EndpointAuthorize: logins,
	} {
		if got := a.idp.Requests(e); got != want {
			t.Errorf("%s asked %d times, want %d", e, got, want)
		}
	}

	// Goroutines: the connections' are gone once idle connections close;
	// nothing else may remain.
	goroutines := wantGoroutines(t, baseGoroutines, func() { quiesce() })
	_, heap := quiesce()
	t.Logf("%d sign-ins, %d browsers at once: %v (%.0f/s); discovery %d, JWKS %d; goroutines %d before, %d after; heap %d KiB before, %d KiB after",
		logins, browsers, wall.Round(time.Millisecond), float64(logins)/wall.Seconds(),
		a.idp.Requests(ssotest.EndpointDiscovery), a.idp.Requests(ssotest.EndpointJWKS),
		baseGoroutines, goroutines, baseHeap>>10, heap>>10)
	// Memory: what stays is the replay cache's entry per sign-in, a
	// session per browser, and the fake provider's record of each code and
	// token it issued (it lives in this process too): about 1.5 KiB a
	// sign-in in all. A leaked response body, buffer or goroutine stack
	// per sign-in would be several times that.
	if grown := int64(heap) - int64(baseHeap); grown > 1<<20+int64(logins)*3<<10 {
		t.Errorf("the heap grew by %d KiB over %d sign-ins", grown>>10, logins)
	}
}

// wantGoroutines waits up to 5 seconds, calling settle before each count,
// for the number of goroutines to come back within a small slack of
// baseline, and fails the test with their stacks if it does not. It
// returns the last count.
func wantGoroutines(t *testing.T, baseline int, settle func()) int {
	t.Helper()
	const slack = 3
	deadline := time.Now().Add(5 * time.Second)
	for {
		if settle != nil {
			settle()
		}
		n := runtime.NumGoroutine()
		if n <= baseline+slack {
			return n
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines, %d at the start:\n%s", n, baseline, buf[:runtime.Stack(buf, true)])
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// loadSignIn runs one sign-in in browser b, which the app then recognises.
func loadSignIn(ctx context.Context, b *http.Client, base string) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/auth/sso/login?return_to=%2Fprivate%2Fload", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := b.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "private for alice" {
		return fmt.Errorf("sign-in ended at %s with %d %q", resp.Request.URL.Path, resp.StatusCode, clipBody(string(body)))
	}
	return nil
}
