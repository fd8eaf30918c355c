package discovery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// validDoc returns a complete, valid discovery document for issuer whose
// endpoints are under base.
func validDoc(issuer, base string) map[string]any {
	return map[string]any{
		"issuer":                                           issuer,
		"authorization_endpoint":                           base + "/authorize",
		"token_endpoint":                                   base + "/token",
		"jwks_uri":                                         base + "/jwks",
		"userinfo_endpoint":                                base + "/userinfo",
		"end_session_endpoint":                             base + "/logout",
		"revocation_endpoint":                              base + "/revoke",
		"introspection_endpoint":                           base + "/introspect",
		"scopes_supported":                                 []string{"openid", "email", "profile"},
		"response_types_supported":                         []string{"code", "id_token"},
		"response_modes_supported":                         []string{"query", "form_post"},
		"grant_types_supported":                            []string{"authorization_code", "refresh_token"},
		"subject_types_supported":                          []string{"public"},
		"id_token_signing_alg_values_supported":            []string{"RS256", "ES256"},
		"token_endpoint_auth_methods_supported":            []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                                 []string{"sub", "email", "email_verified", "name"},
		"code_challenge_methods_supported":                 []string{"S256"},
		"authorization_response_iss_parameter_supported":   true,
		"x_vendor_extension":                               "hello",
	}
}

// testJWKS is a key set with two signing keys (one without use) and an
// encryption key; the key material is irrelevant to counting.
const testJWKS = `{"keys":[
	{"kty":"RSA","kid":"a","use":"sig","n":"AQAB","e":"AQAB"},
	{"kty":"EC","kid":"b","crv":"P-256","x":"AA","y":"AA"},
	{"kty":"RSA","kid":"c","use":"enc","n":"AQAB","e":"AQAB"}
]}`

// provider is a test OpenID provider: discovery at the well-known path of
// its URL (the issuer, unless the document is modified) and a key set. It
// checks each request it gets, and counts discovery requests.
type provider struct {
	t   testing.TB
	srv *httptest.Server
	// hits counts discovery requests.
	hits atomic.Int64

	mu sync.Mutex // guards the fields below, which tests change between requests
	// modify edits the valid document before it is served.
	modify func(doc map[string]any)
	// discovery, when set, replaces the discovery handler.
	discovery http.HandlerFunc
	// jwks is the key set's body; jwksStatus, when not 0, its status.
	jwks       string
	jwksStatus int
}

func newProvider(t testing.TB, modify func(doc map[string]any)) *provider {
	t.Helper()
	p := &provider{t: t, modify: modify, jwks: testJWKS}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *provider) URL() string { return p.srv.URL }

func (p *provider) set(f func(p *provider)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(p)
}

func (p *provider) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		p.t.Errorf("%s %s, want GET", r.Method, r.URL)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		p.t.Errorf("Accept = %q, want application/json", got)
	}
	if r.URL.RawQuery != "" {
		p.t.Errorf("request %s has a query", r.URL)
	}
	p.mu.Lock()
	modify, discovery, jwks, jwksStatus := p.modify, p.discovery, p.jwks, p.jwksStatus
	p.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, wellKnownPath):
		p.hits.Add(1)
		if discovery != nil {
			discovery(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(p.document(modify))
	case r.URL.Path == "/jwks":
		if jwksStatus != 0 {
			w.WriteHeader(jwksStatus)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write([]byte(jwks))
	default:
		p.t.Errorf("unexpected request for %s", r.URL.Path)
		http.NotFound(w, r)
	}
}

// document returns the valid document, changed by modify when not nil.
func (p *provider) document(modify func(doc map[string]any)) []byte {
	doc := validDoc(p.srv.URL, p.srv.URL)
	if modify != nil {
		modify(doc)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

// slowHandler answers only when the request is cancelled or after a long
// time, so the server can close.
func slowHandler(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// clock is a settable clock for Config.Now.
type clock struct {
	mu  sync.Mutex // guards now
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// routedClient returns a client that sends every request, whatever its
// host, to srv (an httptest TLS server), trusting srv's certificate. It
// lets tests play hosts such as login.microsoftonline.com.
func routedClient(srv *httptest.Server) *http.Client {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	addr := srv.Listener.Addr().String()
	var d net.Dialer
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		// httptest's certificate is for example.com.
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "example.com"},
	}}
}
