package conformance_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// rp is an application using ssokit, a browser signing in to it, and the
// fake provider they both talk to.
type rp struct {
	t        *testing.T
	idp      *ssotest.Provider
	sso      *ssoclient.Client
	newErr   error // what ssoclient.New returned, when it failed
	srv      *httptest.Server
	browser  *http.Client
	sessions *ssoclient.MemorySessionStore
	seen     *recorder // every request the relying party made
	other    *elsewhere
	landed   *url.URL // where the browser ended after logout

	mu          sync.Mutex
	lastIDToken string // the raw ID token of the last verified sign-in
}

// start runs a provider (signing in as alice) with opts, and an application
// configured against it, changed by configure. When New fails, r.sso is
// nil and r.newErr says why.
func start(t *testing.T, opts []ssotest.Option, configure func(*ssoclient.Config)) *rp {
	t.Helper()
	r := &rp{t: t}
	r.idp = ssotest.New(t, append([]ssotest.Option{ssotest.WithLoginUser("alice")}, opts...)...)
	r.seen = &recorder{next: r.idp.HTTPClient().Transport}
	r.sessions = ssoclient.NewMemorySessionStore(0, nil)
	var handler http.Handler = http.NotFoundHandler()
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { handler.ServeHTTP(w, req) }))
	t.Cleanup(r.srv.Close)
	cfg := ssoclient.Config{
		Issuer:       r.idp.Issuer(),
		ClientID:     ssotest.DefaultClientID,
		ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL:  r.srv.URL + "/auth/sso/callback",
		HTTPClient:   &http.Client{Transport: r.seen},
		Sessions:     r.sessions,
		Timeout:      5 * time.Second,
		Logger:       slog.New(slog.DiscardHandler),
		OnLogin: func(_ http.ResponseWriter, _ *http.Request, l *ssoclient.Login) error {
			r.mu.Lock()
			r.lastIDToken = l.IDToken
			r.mu.Unlock()
			return nil
		},
	}
	if configure != nil {
		configure(&cfg)
	}
	r.sso, r.newErr = ssoclient.New(context.Background(), cfg)
	if r.newErr != nil {
		return r
	}
	mux := http.NewServeMux()
	mux.Handle("/auth/sso/", r.sso.Handler())
	mux.HandleFunc("/me", func(w http.ResponseWriter, req *http.Request) {
		id := r.sso.Identity(req)
		if id == nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(id)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, req *http.Request) { io.WriteString(w, "page "+req.URL.Path) })
	handler = mux
	r.browser = newBrowser(r.idp)
	return r
}

// newBrowser is a browser with its own cookie jar. Its timeout only keeps
// a broken case from hanging the suite.
func newBrowser(idp *ssotest.Provider) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := *idp.HTTPClient()
	c.Jar = jar
	c.Timeout = 30 * time.Second
	return &c
}

// idToken returns the raw ID token of the last sign-in that verified.
func (r *rp) idToken() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lastIDToken
}

func (r *rp) srvURL() *url.URL {
	u, _ := url.Parse(r.srv.URL)
	return u
}

// result is where the browser ended up.
type result struct {
	status int
	url    *url.URL
	body   string
}

// do makes a browser request and follows redirects. It asks for JSON
// first, so a refusal comes back as {"error": code}.
func (r *rp) do(method, rawURL string, header http.Header) result {
	r.t.Helper()
	if strings.HasPrefix(rawURL, "/") {
		rawURL = r.srv.URL + rawURL
	}
	req, _ := http.NewRequest(method, rawURL, nil)
	req.Header.Set("Accept", "application/json, text/html;q=0.9")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := r.browser.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Request.URL, string(b)}
}

func (r *rp) get(rawURL string) result { r.t.Helper(); return r.do(http.MethodGet, rawURL, nil) }

// signIn runs a whole sign-in in the browser.
func (r *rp) signIn() result { r.t.Helper(); return r.get("/auth/sso/login") }

// callbackURL starts a sign-in and lets the provider approve it, but stops
// before the browser follows the redirect back: it returns the callback
// URL.
func (r *rp) callbackURL() string {
	r.t.Helper()
	noFollow := *r.browser
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	loc := r.srv.URL + "/auth/sso/login"
	for range 2 { // the application's redirect, then the provider's
		resp, err := noFollow.Get(loc)
		if err != nil {
			r.t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			r.t.Fatalf("GET %s: %d, want a redirect", loc, resp.StatusCode)
		}
		loc = resp.Header.Get("Location")
	}
	if !strings.HasPrefix(loc, r.srv.URL+"/auth/sso/callback?") {
		r.t.Fatalf("the provider redirected to %s", loc)
	}
	return loc
}

// logout posts the sign-out form from the application's own origin.
func (r *rp) logout() result {
	r.t.Helper()
	return r.do(http.MethodPost, "/auth/sso/logout", http.Header{"Origin": {r.srv.URL}})
}

// who returns the browser's signed-in identity, or nil.
func (r *rp) who() *ssoclient.Identity {
	r.t.Helper()
	resp, err := r.browser.Get(r.srv.URL + "/me")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	var id ssoclient.Identity
	if err := json.NewDecoder(resp.Body).Decode(&id); err != nil {
		r.t.Fatal(err)
	}
	return &id
}

// recorder is the relying party's transport: it notes every request, and
// the Content-Type of its answer.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []*http.Request
}

func (rec *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rec.next.RoundTrip(req)
	seen := req.Clone(context.Background())
	if resp != nil {
		// Response is not what a request carries; here it records what the
		// provider answered, for assertions.
		seen.Response = &http.Response{StatusCode: resp.StatusCode, Header: resp.Header.Clone()}
	}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, seen)
	rec.mu.Unlock()
	return resp, err
}

// to returns the requests made to URLs on host whose path ends with
// suffix, each with its answer's status and header in Response.
func (rec *recorder) to(host, suffix string) []*http.Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []*http.Request
	for _, req := range rec.reqs {
		if req.URL.Host == host && strings.HasSuffix(req.URL.Path, suffix) {
			out = append(out, req)
		}
	}
	return out
}

func hostOf(rawURL string) string {
	u, _ := url.Parse(rawURL)
	return u.Host
}

// elsewhere is a server that is not the provider: where a forged token
// points for its keys (jku, x5u), or a distributed claim's endpoint. It
// counts its requests, which the relying party must never make.
type elsewhere struct {
	srv   *httptest.Server
	hits  atomic.Int64
	jwks  []byte
	cert  []byte
	claim []byte
}

func (r *rp) elsewhere() *elsewhere {
	if r.other != nil {
		return r.other
	}
	e := &elsewhere{}
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		e.hits.Add(1)
		switch req.URL.Path {
		case "/jwks":
			w.Header().Set("Content-Type", "application/json")
			w.Write(e.jwks)
		case "/cert.pem":
			w.Write(e.cert)
		case "/claims":
			w.Header().Set("Content-Type", "application/jwt")
			w.Write(e.claim)
		default:
			http.NotFound(w, req)
		}
	}))
	r.t.Cleanup(e.srv.Close)
	r.other = e
	return e
}

// forger is an attacker's signing key, with what a token can carry to name
// it: its public JWK and a self-signed certificate.
type forger struct {
	key  *rsa.PrivateKey
	kid  string
	jwk  map[string]any
	cert []byte // DER
}

var forgerKey = sync.OnceValue(func() *forger {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	f := &forger{key: key, kid: "forged-key"}
	if f.jwk, err = jose.PublicJWK(key.Public(), f.kid, "RS256"); err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "forger"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
	}
	if f.cert, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key); err != nil {
		panic(err)
	}
	return f
})

// clientKey is the application's private_key_jwt key.
var clientKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// otherKeyJWK returns a public JWK of a fresh key for alg that the
// provider never signs with, without a kid when kid is empty.
func otherKeyJWK(t *testing.T, alg, kid string) map[string]any {
	t.Helper()
	var pub any
	switch alg {
	case "ES256":
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub = k.Public()
	default:
		pub = forgerKey().key.Public()
	}
	j, err := jose.PublicJWK(pub, kid, alg)
	if err != nil {
		t.Fatal(err)
	}
	if kid == "" {
		delete(j, "kid")
	}
	return j
}

// publishedKeyPEM returns the provider's signing key as a PEM public key:
// what an algorithm-confusion attacker uses as an HMAC secret.
func (r *rp) publishedKeyPEM() []byte {
	r.t.Helper()
	resp, err := r.idp.HTTPClient().Get(r.idp.Issuer() + "/jwks")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	set, err := jwk.Parse(b)
	if err != nil {
		r.t.Fatal(err)
	}
	k, _ := set.Key(0)
	var raw any
	if err := jwk.Export(k, &raw); err != nil {
		r.t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(raw)
	if err != nil {
		r.t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// jwtParts decodes a compact JWS's header and claims without verifying.
func jwtParts(t *testing.T, tok string) (header, claims map[string]any) {
	t.Helper()
	hb, pb, _, _, err := jose.Parts(tok)
	if err != nil {
		t.Fatalf("not a JWS: %v", err)
	}
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(pb, &claims) != nil {
		t.Fatalf("JWS does not decode")
	}
	return header, claims
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
