package ssoclient

// Benchmarks of issue 7: every piece of a sign-in that runs on the
// application's CPU, each beside a floor written with the standard library
// alone where the issue asks for one. Figures and ratios are in
// BENCHMARKS.md; there are no timing assertions here.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/internal/benchkit"
	"github.com/ssokit/ssokit/internal/randtoken"
)

// The fixtures (keys, the realistic token, the in-process provider, the
// floors) are internal/benchkit's, shared with benchcompare's rows for
// other Go OIDC libraries so that every ratio has the same floor.

// newBenchClient starts a provider and a Client of it with a warm key set;
// the provider's token endpoint hands out an RS256 token for it.
func newBenchClient(b *testing.B, hc *http.Client) (*Client, *benchkit.Provider) {
	b.Helper()
	idp := benchkit.NewProvider(b)
	c, err := New(context.Background(), Config{
		Issuer: idp.Issuer(), ClientID: benchkit.ClientID, ClientSecret: Secret(benchkit.ClientSecret),
		RedirectURL: benchkit.RedirectURL, HTTPClient: hc,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	tok := benchkit.Token("RS256", idp.Issuer(), time.Now())
	if _, err := c.VerifyIDToken(context.Background(), tok, benchkit.Nonce); err != nil {
		b.Fatal(err)
	}
	idp.SetToken(tok)
	return c, idp
}

// BenchmarkVerifyIDToken is Client.VerifyIDToken, the public path the
// callback uses, with a warm key set; .../floor is the standard-library
// floor for the same token. The ratio is in BENCHMARKS.md.
func BenchmarkVerifyIDToken(b *testing.B) {
	c, idp := newBenchClient(b, benchkit.HTTPClient())
	floor := benchkit.NewFloor(idp.Issuer())
	ctx := context.Background()
	for _, alg := range benchkit.Algs {
		tok := benchkit.Token(alg, idp.Issuer(), time.Now())
		b.Run(alg+"/ssokit", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.VerifyIDToken(ctx, tok, benchkit.Nonce); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/floor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var cl benchkit.Claims
				if err := floor.Verify(tok, benchkit.Nonce, &cl, &cl); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// signedInRequest is a request carrying a live session's cookie, beside
// the usual cookies of a browser.
func signedInRequest(b *testing.B, c *Client) *http.Request {
	now := time.Now()
	s := &Session{
		ID: randtoken.New(32), Profile: "", CreatedAt: now, ExpiresAt: now.Add(8 * time.Hour),
		Identity: &Identity{Issuer: "https://idp.example", Subject: "sub-123", Email: "abe@example.com", EmailVerified: true, Name: "Abe"},
	}
	s.SetIDToken(strings.Repeat("t", 900))
	if err := c.sessions.Save(context.Background(), s); err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "https://app.example.test/app/page", nil)
	r.Header.Set("Cookie", "_ga=GA1.2.1234567890.1700000000; theme=dark; "+c.session.name+"="+s.ID+"; lang=en")
	return r
}

// BenchmarkSessionCheck is what a signed-in request pays: Identity(r)
// reading the session cookie and the store, and RequireLogin around a
// handler that does nothing; sequential and in parallel.
func BenchmarkSessionCheck(b *testing.B) {
	c, _ := newBenchClient(b, benchkit.HTTPClient())
	r := signedInRequest(b, c)
	b.Run("Identity", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if c.Identity(r) == nil {
				b.Fatal("no identity")
			}
		}
	})
	b.Run("Identity/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if c.Identity(r) == nil {
					panic("no identity")
				}
			}
		})
	})
	// Identity/parallel has every goroutine read one session (one user's
	// parallel requests); .../distinct gives each goroutine a session of
	// its own in a shard of its own (many users'). A gap between the two
	// is contention on the session store.
	distinct := distinctShardRequests(b, c)
	var nextDistinct atomic.Int64
	b.Run("Identity/parallel/distinct", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := distinct[int(nextDistinct.Add(1))%len(distinct)]
			for pb.Next() {
				if c.Identity(r) == nil {
					panic("no identity")
				}
			}
		})
	})
	var ok atomic.Int64
	h := c.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.Identity(r) != nil {
			ok.Add(1)
		}
	}))
	w := discardWriter{}
	b.Run("RequireLogin", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h.ServeHTTP(w, r)
		}
	})
	b.Run("RequireLogin/parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h.ServeHTTP(w, r)
			}
		})
	})
	b.Run("RequireLogin/parallel/distinct", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			r := distinct[int(nextDistinct.Add(1))%len(distinct)]
			for pb.Next() {
				h.ServeHTTP(w, r)
			}
		})
	})
	if ok.Load() == 0 {
		b.Fatal("RequireLogin let nothing through")
	}
}

// distinctShardRequests returns one signed-in request per shard of the
// Client's MemorySessionStore, each with its own session.
func distinctShardRequests(b *testing.B, c *Client) []*http.Request {
	st := c.sessions.(*MemorySessionStore)
	var rs []*http.Request
	seen := map[*sessionShard]bool{}
	for len(rs) < sessionShards {
		r := signedInRequest(b, c)
		id, _ := cookieValue(r, c.session.name)
		if sh := st.shard(id); !seen[sh] {
			seen[sh] = true
			rs = append(rs, r)
		}
	}
	return rs
}

// discardWriter is a ResponseWriter that costs nothing, so the session
// check is all that is measured.
type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (discardWriter) WriteHeader(int)             {}

// BenchmarkLoginRedirect is GET {mount}/login through the Handler: an
// attempt created, sealed into its cookie, and the redirect written.
func BenchmarkLoginRedirect(b *testing.B) {
	c, _ := newBenchClient(b, benchkit.HTTPClient())
	h := c.Handler()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "https://app.example.test/auth/sso/login?return_to=/app/page", nil)
		h.ServeHTTP(w, r)
		if w.Code != http.StatusFound {
			b.Fatal(w.Code)
		}
	}
}

// benchAttemptCookie seals an attempt with benchkit.Nonce and a fresh state,
// as the login redirect would have, and returns its state and cookie.
func benchAttemptCookie(c *Client) (state string, ck *http.Cookie) {
	a := newAttempt("/app/page", "", c.cfg.Now())
	a.Nonce = benchkit.Nonce
	w := httptest.NewRecorder()
	c.attempts.set(w, httptest.NewRequest(http.MethodGet, "/", nil), a)
	return a.State, w.Result().Cookies()[0]
}

// BenchmarkLoginCookieOpen is the callback's first step: finding the
// attempt cookie for the state, opening it and checking it (attempts.take).
func BenchmarkLoginCookieOpen(b *testing.B) {
	c, _ := newBenchClient(b, benchkit.HTTPClient())
	state, ck := benchAttemptCookie(c)
	r := httptest.NewRequest(http.MethodGet, "https://app.example.test/auth/sso/callback?code=x&state="+url.QueryEscape(state), nil)
	r.AddCookie(ck)
	w := discardWriter{}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.attempts.take(w, r, state, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// callbackSession is a session as the callback makes it, from a token
// verified for it alone: claims.Map's identity over the token's claims,
// the sid, and the ID token kept for id_token_hint (Client.newSession).
func callbackSession(b *testing.B, c *Client, idp *benchkit.Provider) func() *Session {
	raw := benchkit.Token("RS256", idp.Issuer(), time.Now())
	return func() *Session {
		idt, err := c.VerifyIDToken(context.Background(), raw, "")
		if err != nil {
			panic(err)
		}
		id, err := claims.Map(idt.Issuer, idt.ClaimSet().Without(spentClaims...), claims.Mapping{}, claims.TrustEmailClaim)
		if err != nil {
			panic(err)
		}
		return c.newSession("", id, "", idt, &tokenResponse{IDToken: raw}, time.Now())
	}
}

// sessionHeap is the heap n sessions from mk hold in a MemorySessionStore
// of their own, per session.
func sessionHeap(mk func() *Session, n int) float64 {
	st := NewMemorySessionStore(0, nil)
	before := heapInUse()
	for range n {
		_ = st.Save(context.Background(), mk())
	}
	total := heapInUse() - before
	runtime.KeepAlive(st)
	return float64(total) / float64(n)
}

// BenchmarkMemorySession is the heap one session holds in
// MemorySessionStore, over 10,000 sessions as callbacks make them (the
// identity with its claims, the raw ID token); the timed operation is Save.
func BenchmarkMemorySession(b *testing.B) {
	c, idp := newBenchClient(b, benchkit.HTTPClient())
	mk := callbackSession(b, c, idp)
	const n = 10_000
	sessions := make([]*Session, n)
	for i := range sessions {
		sessions[i] = mk()
	}
	ctx := context.Background()
	st := NewMemorySessionStore(0, nil)
	before := heapInUse()
	st2 := NewMemorySessionStore(0, nil)
	for _, s := range sessions {
		_ = st2.Save(ctx, s)
	}
	storeOnly := heapInUse() - before // the store's maps, the sessions held elsewhere
	runtime.KeepAlive(st2)
	sessions2 := sessions
	sessions = nil
	runtime.KeepAlive(sessions2)
	// Everything a session holds: measure it with fresh sessions owned by
	// a store alone.
	perSession := sessionHeap(mk, n)
	s := mk()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = st.Save(ctx, s)
	}
	b.StopTimer()
	// After the loop: ResetTimer drops reported metrics.
	b.ReportMetric(perSession, "B/session")
	b.ReportMetric(float64(storeOnly)/n, "store-B/session")
}

// BenchmarkMemorySessionParts says what a session's memory is made of:
// B/session of sessions as the callback makes them with the ID token
// kept whole (as it was before Session.SetIDToken kept it in parts) and
// with no ID token.
func BenchmarkMemorySessionParts(b *testing.B) {
	c, idp := newBenchClient(b, benchkit.HTTPClient())
	mk := callbackSession(b, c, idp)
	for _, part := range []struct {
		name string
		edit func(*Session) *Session
	}{
		{"id-token-whole", func(s *Session) *Session { s.idt = idTokenText{text: strings.Clone(s.IDToken())}; return s }},
		{"without-id-token", func(s *Session) *Session { s.SetIDToken(""); return s }},
	} {
		b.Run(part.name, func(b *testing.B) {
			perSession := sessionHeap(func() *Session { return part.edit(mk()) }, 10_000)
			for b.Loop() {
			}
			b.ReportMetric(perSession, "B/session")
		})
	}
}

// BenchmarkMemoryPendingLogin is the server memory a sign-in in flight
// holds with the cookie-only default: the heap retained after 10,000
// login redirects, per login (0: the attempt lives in the browser).
func BenchmarkMemoryPendingLogin(b *testing.B) {
	c, _ := newBenchClient(b, benchkit.HTTPClient())
	h := c.Handler()
	login := func() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "https://app.example.test/auth/sso/login", nil))
		if w.Code != http.StatusFound {
			b.Fatal(w.Code)
		}
	}
	login()
	const n = 10_000
	before := heapInUse()
	for range n {
		login()
	}
	after := heapInUse()
	per := 0.0
	if after > before {
		per = float64(after-before) / n
	}
	runtime.KeepAlive(c)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		login()
	}
	b.StopTimer()
	b.ReportMetric(per, "server-B/pending")
}

// callbackRequests makes n callback requests, each with its own attempt
// cookie (a state used once, as the replay cache requires) and the
// pre-signed token's nonce.
func callbackRequests(c *Client, n int) []*http.Request {
	rs := make([]*http.Request, n)
	for i := range rs {
		state, ck := benchAttemptCookie(c)
		r := httptest.NewRequest(http.MethodGet, benchkit.RedirectURL+"?code="+benchkit.Code+"&state="+url.QueryEscape(state), nil)
		r.AddCookie(ck)
		rs[i] = r
	}
	return rs
}

// BenchmarkCallback is GET {mount}/callback end to end: the attempt
// cookie, the replay cache, the code exchange over HTTP with a pre-signed
// token response, ID-token verification, claims mapping and the session;
// .../floor is one token POST with net/http, one JSON decode and the floor
// verifier. Reported: logins/s and the TCP connections the provider
// accepted during the run (none new per login).
func BenchmarkCallback(b *testing.B) {
	run := func(b *testing.B, parallel bool) {
		c, idp := newBenchClient(b, benchkit.HTTPClient())
		h := c.Handler()
		rs := callbackRequests(c, b.N)
		var next atomic.Int64
		benchkit.MeasureLogins(b, idp, parallel, func() {
			r := rs[next.Add(1)-1]
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusFound {
				panic(fmt.Sprintf("callback: %d %s", w.Code, w.Body))
			}
		})
	}
	floor := func(b *testing.B, parallel bool) {
		idp := benchkit.NewProvider(b)
		idp.SetToken(benchkit.Token("RS256", idp.Issuer(), time.Now()))
		fc := benchkit.NewFloorCallback(idp, benchkit.HTTPClient())
		login := func() {
			var cl benchkit.IdentityClaims
			if err := fc.Login(&cl); err != nil {
				panic(err)
			}
		}
		login() // the connection, as the Client's discovery made one
		benchkit.MeasureLogins(b, idp, parallel, login)
	}
	b.Run("ssokit", func(b *testing.B) { run(b, false) })
	b.Run("floor", func(b *testing.B) { floor(b, false) })
	b.Run("ssokit/parallel", func(b *testing.B) { run(b, true) })
	b.Run("floor/parallel", func(b *testing.B) { floor(b, true) })
}
