package discovery

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/safehttp"
)

func TestCacheTTL(t *testing.T) {
	p := newProvider(t, nil)
	clk := newClock()
	c := New(Config{TTL: time.Minute, Now: clk.Now})
	ctx := context.Background()

	first, err := c.Discover(ctx, p.URL())
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(59 * time.Second)
	second, err := c.Discover(ctx, p.URL()+wellKnownPath) // the same issuer
	if err != nil {
		t.Fatal(err)
	}
	if second != first || p.hits.Load() != 1 {
		t.Errorf("within the TTL: %d fetches, same metadata %v; want 1, true", p.hits.Load(), second == first)
	}
	clk.Advance(time.Second)
	third, err := c.Discover(ctx, p.URL())
	if err != nil {
		t.Fatal(err)
	}
	if third == first || p.hits.Load() != 2 {
		t.Errorf("at the TTL: %d fetches, same metadata %v; want 2, false", p.hits.Load(), third == first)
	}
}

func TestCacheDefaultTTLIsTenMinutes(t *testing.T) {
	p := newProvider(t, nil)
	clk := newClock()
	c := New(Config{Now: clk.Now})
	for _, step := range []time.Duration{0, 9*time.Minute + 59*time.Second, time.Second} {
		clk.Advance(step)
		if _, err := c.Discover(context.Background(), p.URL()); err != nil {
			t.Fatal(err)
		}
	}
	if n := p.hits.Load(); n != 2 {
		t.Errorf("%d fetches over 10 minutes, want 2", n)
	}
}

func TestCacheDoesNotKeepFailures(t *testing.T) {
	p := newProvider(t, nil)
	p.set(func(p *provider) { p.discovery = http.NotFound })
	c := New(Config{})
	if _, err := c.Discover(context.Background(), p.URL()); !errors.Is(err, ErrFetch) {
		t.Fatalf("Discover = %v, want ErrFetch", err)
	}
	p.set(func(p *provider) { p.discovery = nil })
	if _, err := c.Discover(context.Background(), p.URL()); err != nil {
		t.Errorf("Discover after the provider recovered = %v", err)
	}
}

func TestInvalidate(t *testing.T) {
	p := newProvider(t, nil)
	c := New(Config{})
	ctx := context.Background()
	if _, err := c.Discover(ctx, p.URL()); err != nil {
		t.Fatal(err)
	}
	// The issuer changed at the provider; the profile is updated.
	p.set(func(p *provider) {
		p.modify = func(doc map[string]any) { doc["token_endpoint"] = "https://token.example.com/v2" }
	})
	if m, _ := c.Discover(ctx, p.URL()); m.TokenEndpoint == "https://token.example.com/v2" {
		t.Fatalf("the cache was not used")
	}
	c.Invalidate(p.URL() + wellKnownPath) // any form NormalizeIssuer accepts
	m, err := c.Discover(ctx, p.URL())
	if err != nil || m.TokenEndpoint != "https://token.example.com/v2" {
		t.Errorf("after Invalidate: %v, %v; want the new document", m, err)
	}
	if n := p.hits.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
	c.Invalidate("not a url at all ::") // ignored
	c.Invalidate("https://other.example.com")
	if _, err := c.Discover(ctx, p.URL()); err != nil || p.hits.Load() != 2 {
		t.Errorf("invalidating another issuer dropped this one")
	}
}

func TestInvalidateDuringAFetch(t *testing.T) {
	p := newProvider(t, nil)
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	p.set(func(p *provider) {
		p.discovery = func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(started) })
			<-release
			p.set(func(p *provider) { p.discovery = nil })
			w.Write(p.document(func(doc map[string]any) { doc["authorization_endpoint"] = "https://a.example.com" }))
		}
	})
	c := New(Config{})
	done := make(chan error)
	go func() {
		_, err := c.Discover(context.Background(), p.URL())
		done <- err
	}()
	<-started
	c.Invalidate(p.URL())
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the waiting call = %v", err)
	}
	// What was fetched before the Invalidate is not cached.
	m, err := c.Discover(context.Background(), p.URL())
	if err != nil || m.AuthorizationEndpoint != p.URL()+"/authorize" {
		t.Errorf("Discover = %v, %v; want a new fetch", m, err)
	}
	if n := p.hits.Load(); n != 2 {
		t.Errorf("%d fetches, want 2", n)
	}
}

func TestStaleIfError(t *testing.T) {
	type step struct {
		advance time.Duration
		failing bool
		wantErr bool
		wantHit bool // a fetch happens
	}
	tests := []struct {
		name         string
		staleIfError time.Duration
		steps        []step
	}{
		{"off: an expired document is never served", 0, []step{
			{advance: 0, wantHit: true},
			{advance: 11 * time.Minute, failing: true, wantErr: true, wantHit: true},
			{advance: time.Second, failing: true, wantErr: true, wantHit: true},
		}},
		{"on: served stale within the window, not after", time.Hour, []step{
			{advance: 0, wantHit: true},
			{advance: 10 * time.Minute, failing: true, wantHit: true},
			// A failed refresh backs off for a minute: no fetch.
			{advance: 30 * time.Second, failing: true},
			{advance: 31 * time.Second, failing: true, wantHit: true},
			// 10 minutes of TTL plus an hour, then no more.
			{advance: 58*time.Minute + 58*time.Second, failing: true, wantHit: true},
			{advance: 2 * time.Second, failing: true, wantErr: true, wantHit: true},
		}},
		{"on: a refresh that works replaces the stale document", time.Hour, []step{
			{advance: 0, wantHit: true},
			{advance: 10 * time.Minute, failing: true, wantHit: true},
			{advance: time.Minute, wantHit: true},
			{advance: 9 * time.Minute},
			{advance: time.Minute, failing: true, wantHit: true},
		}},
		{"on: nothing to serve without a document", time.Hour, []step{
			{advance: 0, failing: true, wantErr: true, wantHit: true},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, nil)
			clk := newClock()
			c := New(Config{StaleIfError: tt.staleIfError, Now: clk.Now})
			var last *Metadata // what the last successful fetch gave
			for i, s := range tt.steps {
				clk.Advance(s.advance)
				p.set(func(p *provider) {
					p.discovery = nil
					if s.failing {
						p.discovery = func(w http.ResponseWriter, r *http.Request) {
							http.Error(w, "down", http.StatusBadGateway)
						}
					}
				})
				before := p.hits.Load()
				m, err := c.Discover(context.Background(), p.URL())
				if s.wantErr {
					if !errors.Is(err, ErrFetch) || !errors.Is(err, safehttp.ErrStatus) {
						t.Errorf("step %d: Discover = %v, %v; want the fetch error", i, m, err)
					}
				} else if err != nil || m == nil {
					t.Errorf("step %d: Discover = %v, %v", i, m, err)
				} else if s.failing && m != last {
					t.Errorf("step %d: the stale metadata is not the last fetched", i)
				} else if !s.failing {
					last = m
				}
				if hit := p.hits.Load() > before; hit != s.wantHit {
					t.Errorf("step %d: fetched %v, want %v", i, hit, s.wantHit)
				}
			}
		})
	}
}

func TestCacheIsBounded(t *testing.T) {
	// One server plays three issuers, by path.
	p := newProvider(t, nil)
	p.set(func(p *provider) {
		p.discovery = func(w http.ResponseWriter, r *http.Request) {
			iss := p.URL() + strings.TrimSuffix(r.URL.Path, wellKnownPath)
			w.Write(p.document(func(doc map[string]any) { doc["issuer"] = iss }))
		}
	})
	c := New(Config{MaxEntries: 2})
	ctx := context.Background()
	get := func(name string) {
		t.Helper()
		if _, err := c.Discover(ctx, p.URL()+"/"+name); err != nil {
			t.Fatalf("Discover(%s) = %v", name, err)
		}
	}
	get("a")
	get("b")
	get("a") // a is now the most recently used
	get("c") // evicts b
	if n := p.hits.Load(); n != 3 {
		t.Fatalf("%d fetches, want 3", n)
	}
	get("a")
	get("c")
	if n := p.hits.Load(); n != 3 {
		t.Errorf("a or c was evicted: %d fetches, want 3", n)
	}
	get("b")
	if n := p.hits.Load(); n != 4 {
		t.Errorf("b was not evicted: %d fetches, want 4", n)
	}
}

// The single-flight test with 1000 callers is TestSingleFlightThousandCallers,
// against ssotest.

func TestCallerCancelDoesNotStopTheSharedFetch(t *testing.T) {
	p := newProvider(t, nil)
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	p.set(func(p *provider) {
		p.discovery = func(w http.ResponseWriter, r *http.Request) {
			once.Do(func() { close(started) })
			select {
			case <-release:
			case <-r.Context().Done():
				t.Errorf("the shared fetch was cancelled: %v", r.Context().Err())
				return
			}
			w.Write(p.document(nil))
		}
	})
	c := New(Config{})

	// The first caller starts the fetch, then gives up.
	ctx, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error)
	go func() {
		_, err := c.Discover(ctx, p.URL())
		firstErr <- err
	}()
	<-started
	// A second caller joins the same fetch.
	second := make(chan error)
	go func() {
		_, err := c.Discover(context.Background(), p.URL())
		second <- err
	}()
	cancel()
	select {
	case err := <-firstErr:
		if !errors.Is(err, context.Canceled) || sentinels(err) != 1 || !errors.Is(err, ErrFetch) {
			t.Errorf("cancelled caller got %v, want ErrFetch and context.Canceled", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the cancelled caller did not return promptly")
	}

	// A caller with a deadline gets a timeout it can recognise.
	dctx, dcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer dcancel()
	if _, err := c.Discover(dctx, p.URL()); !safehttp.IsTimeout(err) {
		t.Errorf("caller past its deadline got %v, want a timeout", err)
	}

	close(release)
	if err := <-second; err != nil {
		t.Errorf("the other caller got %v, want the document", err)
	}
	if n := p.hits.Load(); n != 1 {
		t.Errorf("%d fetches, want 1", n)
	}
	// And the result was cached.
	if _, err := c.Discover(context.Background(), p.URL()); err != nil || p.hits.Load() != 1 {
		t.Errorf("Discover after the shared fetch = %v, %d fetches", err, p.hits.Load())
	}
}

func TestDiscoverWithADoneContextFetchesNothing(t *testing.T) {
	p := newProvider(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := New(Config{}).Discover(ctx, p.URL()); !errors.Is(err, context.Canceled) || !errors.Is(err, ErrFetch) {
		t.Errorf("Discover = %v, want ErrFetch and context.Canceled", err)
	}
	if n := p.hits.Load(); n != 0 {
		t.Errorf("%d fetches, want 0", n)
	}
}
