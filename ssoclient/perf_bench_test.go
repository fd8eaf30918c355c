package ssoclient

// Benchmarks of issue 7: every piece of a sign-in that runs on the
// application's CPU, each beside a floor written with the standard library
// alone where the issue asks for one. Figures and ratios are in
// BENCHMARKS.md; there are no timing assertions here.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
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

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/internal/randtoken"
)

const (
	benchClientID = "bench-client-6cb04018"
	benchSecret   = "bench-secret-0123456789abcdef"
	benchRedirect = "https://app.example.test/auth/sso/callback"
)

// benchKeys are generated once for every benchmark of the package.
var benchKeys = sync.OnceValue(func() (k struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
}) {
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	return k
})

// benchIDP is an in-process provider: discovery, a static JWKS and a token
// endpoint that hands out one pre-signed token response, so the
// provider's side costs next to nothing and the relying party's shows. It
// counts the TCP connections it accepts.
type benchIDP struct {
	srv   *httptest.Server
	conns atomic.Int64
	resp  atomic.Pointer[[]byte] // the token response body
}

func newBenchIDP(b *testing.B) *benchIDP {
	k := benchKeys()
	idp := &benchIDP{}
	mux := http.NewServeMux()
	idp.srv = httptest.NewUnstartedServer(mux)
	idp.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			idp.conns.Add(1)
		}
	}
	idp.srv.Start()
	b.Cleanup(idp.srv.Close)
	iss := idp.srv.URL
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"jwks_uri": iss + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256", "PS256", "ES256"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		})
	})
	jwks := benchJWKS(&k.rsa.PublicKey, &k.ec.PublicKey)
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(*idp.resp.Load())
	})
	return idp
}

// setToken makes the token endpoint answer with idToken.
func (idp *benchIDP) setToken(idToken string) {
	body, _ := json.Marshal(map[string]any{
		"access_token": "at-" + strings.Repeat("x", 40), "token_type": "Bearer", "expires_in": 3600, "id_token": idToken,
	})
	idp.resp.Store(&body)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func benchJWKS(rk *rsa.PublicKey, ek *ecdsa.PublicKey) []byte {
	pad := func(b []byte, n int) []byte { return append(make([]byte, n-len(b)), b...) }
	doc, _ := json.Marshal(map[string]any{"keys": []map[string]any{
		{"kty": "RSA", "kid": "rsa-2048", "use": "sig", "n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes())},
		{"kty": "EC", "kid": "ec-p256", "use": "sig", "crv": "P-256", "x": b64(pad(ek.X.Bytes(), 32)), "y": b64(pad(ek.Y.Bytes(), 32))},
	}})
	return doc
}

// benchNonce is the nonce of every pre-signed token, as long as a real one.
var benchNonce = randtoken.New(32)

// benchToken signs a realistic ID token: 16 claims, groups of 10, a kid.
func benchToken(alg, iss string, now time.Time) string {
	k := benchKeys()
	kid := "rsa-2048"
	if alg == "ES256" {
		kid = "ec-p256"
	}
	groups := make([]string, 10)
	for i := range groups {
		groups[i] = fmt.Sprintf("%08x-5d6a-4f6e-9a63-8d0c33e2d9d4", i*0x1f3a7)
	}
	cl := map[string]any{
		"iss": iss, "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ", "aud": benchClientID,
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "auth_time": now.Unix(), "nonce": benchNonce,
		"email": "abe.lincoln@example.com", "email_verified": true, "name": "Abe Lincoln",
		"given_name": "Abe", "family_name": "Lincoln", "preferred_username": "abe.lincoln@example.com",
		"locale": "en-US", "sid": "fqiBqXLPj0eQa82S-IYFAA", "groups": groups,
	}
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
	p, _ := json.Marshal(cl)
	input := b64(h) + "." + b64(p)
	d := sha256.Sum256([]byte(input))
	var sig []byte
	var err error
	switch alg {
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, d[:])
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, k.rsa, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256":
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k.ec, d[:])
		if err == nil {
			sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
		}
	}
	if err != nil {
		panic(err)
	}
	return input + "." + b64(sig)
}

// benchHTTPClient is the HTTP client both ssokit and the floors use: the
// default transport with enough idle connections per host for every
// parallel goroutine, so that no login needs a new connection.
func benchHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}

// newBenchClient starts a provider and a Client of it with a warm key set.
func newBenchClient(b *testing.B, hc *http.Client) (*Client, *benchIDP) {
	b.Helper()
	idp := newBenchIDP(b)
	c, err := New(context.Background(), Config{
		Issuer: idp.srv.URL, ClientID: benchClientID, ClientSecret: Secret(benchSecret),
		RedirectURL: benchRedirect, HTTPClient: hc,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	tok := benchToken("RS256", idp.srv.URL, time.Now())
	if _, err := c.VerifyIDToken(context.Background(), tok, benchNonce); err != nil {
		b.Fatal(err)
	}
	idp.setToken(tok)
	return c, idp
}

// floorClaims are the claims the floor verifier checks: the same protocol
// claims VerifyIDToken decodes.
type floorClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Azp      string `json:"azp"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Nbf      int64  `json:"nbf"`
	AuthTime int64  `json:"auth_time"`
	Nonce    string `json:"nonce"`
	AtHash   string `json:"at_hash"`
	Tid      string `json:"tid"`
}

// floorIdentityClaims adds what a callback turns into an identity.
type floorIdentityClaims struct {
	floorClaims
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Groups            []string `json:"groups"`
}

// floorVerifier is the standard-library floor: base64url-decode,
// json.Unmarshal of header and claims into structs, crypto/rsa or
// crypto/ecdsa, and the iss/aud/exp/nonce comparisons.
type floorVerifier struct {
	iss, aud string
	keys     map[string]crypto.PublicKey
}

func newFloorVerifier(iss string) *floorVerifier {
	k := benchKeys()
	return &floorVerifier{iss: iss, aud: benchClientID, keys: map[string]crypto.PublicKey{
		"rsa-2048": &k.rsa.PublicKey, "ec-p256": &k.ec.PublicKey,
	}}
}

func (f *floorVerifier) verify(tok, nonce string, cl *floorClaims, into any) error {
	i := strings.IndexByte(tok, '.')
	j := strings.LastIndexByte(tok, '.')
	if i < 0 || i == j {
		return errors.New("malformed")
	}
	enc := base64.RawURLEncoding
	hb, err := enc.DecodeString(tok[:i])
	if err != nil {
		return err
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(hb, &h); err != nil {
		return err
	}
	payload, err := enc.DecodeString(tok[i+1 : j])
	if err != nil {
		return err
	}
	sig, err := enc.DecodeString(tok[j+1:])
	if err != nil {
		return err
	}
	pub := f.keys[h.Kid]
	d := sha256.Sum256([]byte(tok[:j]))
	switch h.Alg {
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub.(*rsa.PublicKey), crypto.SHA256, d[:], sig)
	case "PS256":
		err = rsa.VerifyPSS(pub.(*rsa.PublicKey), crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256":
		if len(sig) != 64 || !ecdsa.Verify(pub.(*ecdsa.PublicKey), d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			err = errors.New("bad signature")
		}
	default:
		err = errors.New("alg")
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(payload, into); err != nil {
		return err
	}
	switch {
	case cl.Iss != f.iss:
		return errors.New("iss")
	case cl.Aud != f.aud:
		return errors.New("aud")
	case time.Now().Unix() >= cl.Exp:
		return errors.New("exp")
	case cl.Nonce != nonce:
		return errors.New("nonce")
	}
	return nil
}

var benchAlgs = []string{"RS256", "PS256", "ES256"}

// BenchmarkVerifyIDToken is Client.VerifyIDToken, the public path the
// callback uses, with a warm key set; .../floor is the standard-library
// floor for the same token. The ratio is in BENCHMARKS.md.
func BenchmarkVerifyIDToken(b *testing.B) {
	c, idp := newBenchClient(b, benchHTTPClient())
	floor := newFloorVerifier(idp.srv.URL)
	ctx := context.Background()
	for _, alg := range benchAlgs {
		tok := benchToken(alg, idp.srv.URL, time.Now())
		b.Run(alg+"/ssokit", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.VerifyIDToken(ctx, tok, benchNonce); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(alg+"/floor", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var cl floorClaims
				if err := floor.verify(tok, benchNonce, &cl, &cl); err != nil {
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
	c, _ := newBenchClient(b, benchHTTPClient())
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
	c, _ := newBenchClient(b, benchHTTPClient())
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

// benchAttemptCookie seals an attempt with benchNonce and a fresh state,
// as the login redirect would have, and returns its state and cookie.
func benchAttemptCookie(c *Client) (state string, ck *http.Cookie) {
	a := newAttempt("/app/page", "", c.cfg.Now())
	a.Nonce = benchNonce
	w := httptest.NewRecorder()
	c.attempts.set(w, httptest.NewRequest(http.MethodGet, "/", nil), a)
	return a.State, w.Result().Cookies()[0]
}

// BenchmarkLoginCookieOpen is the callback's first step: finding the
// attempt cookie for the state, opening it and checking it (attempts.take).
func BenchmarkLoginCookieOpen(b *testing.B) {
	c, _ := newBenchClient(b, benchHTTPClient())
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
func callbackSession(b *testing.B, c *Client, idp *benchIDP) func() *Session {
	raw := benchToken("RS256", idp.srv.URL, time.Now())
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
	c, idp := newBenchClient(b, benchHTTPClient())
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
	c, idp := newBenchClient(b, benchHTTPClient())
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
	c, _ := newBenchClient(b, benchHTTPClient())
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
		r := httptest.NewRequest(http.MethodGet, benchRedirect+"?code=code-"+strings.Repeat("c", 32)+"&state="+url.QueryEscape(state), nil)
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
		c, idp := newBenchClient(b, benchHTTPClient())
		h := c.Handler()
		rs := callbackRequests(c, b.N)
		conns := idp.conns.Load()
		var next atomic.Int64
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		one := func() {
			r := rs[next.Add(1)-1]
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusFound {
				panic(fmt.Sprintf("callback: %d %s", w.Code, w.Body))
			}
		}
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					one()
				}
			})
		} else {
			for i := 0; i < b.N; i++ {
				one()
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "logins/s")
		b.ReportMetric(float64(idp.conns.Load()-conns), "new-conns")
	}
	floor := func(b *testing.B, parallel bool) {
		idp := newBenchIDP(b)
		idp.setToken(benchToken("RS256", idp.srv.URL, time.Now()))
		hc := benchHTTPClient()
		fv := newFloorVerifier(idp.srv.URL)
		tokenURL := idp.srv.URL + "/token"
		form := url.Values{
			"grant_type": {"authorization_code"}, "code": {"code-" + strings.Repeat("c", 32)},
			"redirect_uri": {benchRedirect}, "code_verifier": {randtoken.New(32)},
			"client_id": {benchClientID}, "client_secret": {benchSecret},
		}.Encode()
		one := func() {
			resp, err := hc.Post(tokenURL, "application/x-www-form-urlencoded", strings.NewReader(form))
			if err != nil {
				panic(err)
			}
			var tr struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
				IDToken     string `json:"id_token"`
			}
			err = json.NewDecoder(resp.Body).Decode(&tr)
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				panic(fmt.Sprint("token: ", resp.StatusCode, err))
			}
			var cl floorIdentityClaims
			if err := fv.verify(tr.IDToken, benchNonce, &cl.floorClaims, &cl); err != nil {
				panic(err)
			}
		}
		one() // the connection, as the Client's discovery made one
		conns := idp.conns.Load()
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		if parallel {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					one()
				}
			})
		} else {
			for i := 0; i < b.N; i++ {
				one()
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "logins/s")
		b.ReportMetric(float64(idp.conns.Load()-conns), "new-conns")
	}
	b.Run("ssokit", func(b *testing.B) { run(b, false) })
	b.Run("floor", func(b *testing.B) { floor(b, false) })
	b.Run("ssokit/parallel", func(b *testing.B) { run(b, true) })
	b.Run("floor/parallel", func(b *testing.B) { floor(b, true) })
}
