package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ssokit/ssokit/internal/safehttp"
)

func TestDiscover(t *testing.T) {
	p := newProvider(t, nil)
	c := New(Config{})
	m, err := c.Discover(context.Background(), p.URL())
	if err != nil {
		t.Fatal(err)
	}
	u := p.URL()
	want := &Metadata{
		Issuer:                                     u,
		AuthorizationEndpoint:                      u + "/authorize",
		TokenEndpoint:                              u + "/token",
		JWKSURI:                                    u + "/jwks",
		UserinfoEndpoint:                           u + "/userinfo",
		EndSessionEndpoint:                         u + "/logout",
		RevocationEndpoint:                         u + "/revoke",
		IntrospectionEndpoint:                      u + "/introspect",
		ScopesSupported:                            []string{"openid", "email", "profile"},
		ResponseTypesSupported:                     []string{"code", "id_token"},
		ResponseModesSupported:                     []string{"query", "form_post"},
		GrantTypesSupported:                        []string{"authorization_code", "refresh_token"},
		SubjectTypesSupported:                      []string{"public"},
		IDTokenSigningAlgValuesSupported:           []string{"RS256", "ES256"},
		TokenEndpointAuthMethodsSupported:          []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		TokenEndpointAuthSigningAlgValuesSupported: []string{"RS256"},
		ClaimsSupported:                            []string{"sub", "email", "email_verified", "name"},
		CodeChallengeMethodsSupported:              []string{"S256"},
		AuthorizationResponseIssParameterSupported: true,
	}
	if diff := cmp.Diff(want, m, cmpopts.IgnoreUnexported(Metadata{})); diff != "" {
		t.Errorf("Discover mismatch (-want +got):\n%s", diff)
	}

	var ext struct {
		Extension string `json:"x_vendor_extension"`
	}
	if err := m.Decode(&ext); err != nil || ext.Extension != "hello" {
		t.Errorf("Decode = %+v, %v; want the provider's own field", ext, err)
	}
	if !m.MatchesIssuer(u, "") || m.MatchesIssuer(u+"/", "") {
		t.Errorf("MatchesIssuer is not exact for a plain issuer")
	}
}

func TestDiscoverAcceptsEveryInputForm(t *testing.T) {
	p := newProvider(t, nil)
	host := strings.TrimPrefix(p.URL(), "http://")
	c := New(Config{})
	for _, in := range []string{
		p.URL(),
		" " + p.URL() + " ",
		p.URL() + wellKnownPath,
		"HTTP://" + strings.ToUpper(host),
	} {
		m, err := c.Discover(context.Background(), in)
		if err != nil || m.Issuer != p.URL() {
			t.Errorf("Discover(%q) = %v, %v; want issuer %q", in, m, err, p.URL())
		}
	}
	if n := p.hits.Load(); n != 1 {
		t.Errorf("%d fetches for one issuer in several forms, want 1", n)
	}
}

func TestMetadataMarshalsToADiscoveryDocument(t *testing.T) {
	p := newProvider(t, nil)
	m, err := New(Config{}).Discover(context.Background(), p.URL())
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	again, err := parseDocument(b, p.URL())
	if err != nil {
		t.Fatalf("parseDocument(marshalled metadata) = %v", err)
	}
	if diff := cmp.Diff(m, again, cmpopts.IgnoreUnexported(Metadata{})); diff != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", diff)
	}
	for _, key := range []string{`"issuer":`, `"jwks_uri":`, `"id_token_signing_alg_values_supported":`, `"authorization_response_iss_parameter_supported":true`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("marshalled metadata %s lacks %s", b, key)
		}
	}

	// A Metadata made by hand decodes its own fields.
	var v struct {
		Issuer string `json:"issuer"`
	}
	if err := (&Metadata{Issuer: "https://x"}).Decode(&v); err != nil || v.Issuer != "https://x" {
		t.Errorf("Decode of a hand-made Metadata = %+v, %v", v, err)
	}
}

// documentTest starts from a valid document, changes one thing, and says
// what Discover must answer.
type documentTest struct {
	name string
	// modify changes the valid document; u is the provider's URL.
	modify func(doc map[string]any, u string)
	// input, when set, is what Discover is given instead of the URL.
	input   func(u string) string
	wantErr error
	// wantIssuer, when set, is the Metadata.Issuer expected.
	wantIssuer func(u string) string
}

func (tt documentTest) run(t *testing.T) {
	t.Helper()
	var u string
	p := newProvider(t, func(doc map[string]any) {
		if tt.modify != nil {
			tt.modify(doc, u)
		}
	})
	u = p.URL()
	in := u
	if tt.input != nil {
		in = tt.input(u)
	}
	m, err := New(Config{}).Discover(context.Background(), in)
	if tt.wantErr != nil {
		if !errors.Is(err, tt.wantErr) {
			t.Fatalf("Discover = %v, %v; want an error wrapping %v", m, err, tt.wantErr)
		}
		if m != nil {
			t.Errorf("Discover returned metadata with error %v", err)
		}
		if n := sentinels(err); n != 1 {
			t.Errorf("error %v wraps %d of the package's errors, want 1", err, n)
		}
		if !strings.HasPrefix(err.Error(), "discovery: ") || !strings.Contains(err.Error(), WellKnownURL(u)) {
			t.Errorf("error %q does not start with discovery: and name %s", err, WellKnownURL(u))
		}
		return
	}
	if err != nil {
		t.Fatalf("Discover = %v", err)
	}
	want := u
	if tt.wantIssuer != nil {
		want = tt.wantIssuer(u)
	}
	if m.Issuer != want {
		t.Errorf("Issuer = %q, want %q", m.Issuer, want)
	}
}

func TestDiscoverValidatesTheDocument(t *testing.T) {
	set := func(key string, v any) func(map[string]any, string) {
		return func(doc map[string]any, _ string) { doc[key] = v }
	}
	del := func(key string) func(map[string]any, string) {
		return func(doc map[string]any, _ string) { delete(doc, key) }
	}
	tests := []documentTest{
		{name: "valid"},

		// Issuer.
		{name: "issuer names another host", modify: set("issuer", "https://evil.example.com"), wantErr: ErrIssuerMismatch},
		{name: "issuer with another path", modify: func(d map[string]any, u string) { d["issuer"] = u + "/other" }, wantErr: ErrIssuerMismatch},
		{name: "issuer with another case", modify: func(d map[string]any, u string) { d["issuer"] = strings.ToUpper(u) }, wantErr: ErrIssuerMismatch},
		{name: "issuer https instead of http", modify: func(d map[string]any, u string) { d["issuer"] = strings.Replace(u, "http:", "https:", 1) }, wantErr: ErrIssuerMismatch},
		{name: "issuer missing", modify: del("issuer"), wantErr: ErrInvalidDocument},
		{name: "issuer empty", modify: set("issuer", ""), wantErr: ErrInvalidDocument},
		{name: "issuer not a string", modify: set("issuer", 42), wantErr: ErrInvalidDocument},
		// An issuer with and without a trailing slash share a well-known
		// URL, but only the exact one is accepted.
		{name: "document adds a trailing slash", modify: func(d map[string]any, u string) { d["issuer"] = u + "/" }, wantErr: ErrIssuerMismatch},
		{name: "document drops a trailing slash", input: func(u string) string { return u + "/" }, wantErr: ErrIssuerMismatch},
		{name: "pasted well-known URL of a trailing-slash issuer", input: func(u string) string { return u + "/" + wellKnownPath },
			modify: func(d map[string]any, u string) { d["issuer"] = u + "/" }, wantIssuer: func(u string) string { return u + "/" }},
		{name: "issuer with a port the document lacks", input: func(u string) string { return u },
			modify: func(d map[string]any, u string) { d["issuer"] = u[:strings.LastIndex(u, ":")] }, wantErr: ErrIssuerMismatch},
		{name: "input and document both have the slash", input: func(u string) string { return u + "/" },
			modify: func(d map[string]any, u string) { d["issuer"] = u + "/" }, wantIssuer: func(u string) string { return u + "/" }},
		{name: "two trailing slashes differ", modify: func(d map[string]any, u string) { d["issuer"] = u + "//" }, wantErr: ErrIssuerMismatch},
		{name: "entra template from another host", modify: set("issuer", entraTemplate), wantErr: ErrIssuerMismatch},

		// Endpoints.
		{name: "authorization_endpoint missing", modify: del("authorization_endpoint"), wantErr: ErrInvalidDocument},
		{name: "token_endpoint missing", modify: del("token_endpoint"), wantErr: ErrInvalidDocument},
		{name: "jwks_uri missing", modify: del("jwks_uri"), wantErr: ErrInvalidDocument},
		{name: "jwks_uri empty", modify: set("jwks_uri", ""), wantErr: ErrInvalidDocument},
		{name: "authorization_endpoint http", modify: set("authorization_endpoint", "http://idp.example.com/authorize"), wantErr: safehttp.ErrInsecureURL},
		{name: "token_endpoint http", modify: set("token_endpoint", "http://idp.example.com/token"), wantErr: ErrInvalidDocument},
		{name: "jwks_uri http", modify: set("jwks_uri", "http://idp.example.com/jwks"), wantErr: ErrInvalidDocument},
		{name: "jwks_uri relative", modify: set("jwks_uri", "/jwks"), wantErr: ErrInvalidDocument},
		{name: "jwks_uri javascript", modify: set("jwks_uri", "javascript:alert(1)"), wantErr: ErrInvalidDocument},
		{name: "userinfo_endpoint http", modify: set("userinfo_endpoint", "http://idp.example.com/userinfo"), wantErr: ErrInvalidDocument},
		{name: "end_session_endpoint with user info", modify: set("end_session_endpoint", "https://u:p@idp.example.com/logout"), wantErr: ErrInvalidDocument},
		{name: "userinfo_endpoint absent", modify: del("userinfo_endpoint")},
		{name: "end_session_endpoint absent", modify: del("end_session_endpoint")},
		{name: "endpoints on https elsewhere", modify: set("token_endpoint", "https://token.example.com/oauth2/token")},
		{name: "endpoint with a query", modify: set("authorization_endpoint", "https://idp.example.com/authorize?p=B2C_1_signin")},

		// Response types and algorithms.
		{name: "response_types without code", modify: set("response_types_supported", []string{"id_token", "token id_token"}), wantErr: ErrInvalidDocument},
		{name: "response_types empty", modify: set("response_types_supported", []string{}), wantErr: ErrInvalidDocument},
		{name: "response_types absent", modify: del("response_types_supported")},
		{name: "response_types null", modify: set("response_types_supported", nil)},
		{name: "signing algs without RS256", modify: set("id_token_signing_alg_values_supported", []string{"ES256", "PS256"}), wantErr: ErrInvalidDocument},
		{name: "signing algs lowercase rs256", modify: set("id_token_signing_alg_values_supported", []string{"rs256"}), wantErr: ErrInvalidDocument},
		{name: "signing algs absent", modify: del("id_token_signing_alg_values_supported")},
		{name: "signing algs only RS256", modify: set("id_token_signing_alg_values_supported", []string{"RS256"})},

		// Types.
		{name: "list of numbers", modify: set("scopes_supported", []int{1, 2}), wantErr: ErrInvalidDocument},
		{name: "list as a string", modify: set("response_types_supported", "code"), wantErr: ErrInvalidDocument},
		{name: "iss parameter as a string", modify: set("authorization_response_iss_parameter_supported", "true"), wantErr: ErrInvalidDocument},
		{name: "endpoint as an object", modify: set("token_endpoint", map[string]string{"url": "https://x"}), wantErr: ErrInvalidDocument},
		{name: "huge issuer", modify: set("issuer", "https://x/"+strings.Repeat("a", 5000)), wantErr: ErrInvalidDocument},
		{name: "unknown fields kept out", modify: set("registration_endpoint", 12)},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestDiscoverRefusesWhatIsNotADocument(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"html", "<html><body>Sign in to continue. secret-session-token-" + strings.Repeat("x", 500) + "</body></html>"},
		{"empty", ""},
		{"array", `[{"issuer":"x"}]`},
		{"string", `"issuer"`},
		{"null", `null`},
		{"truncated", `{"issuer":`},
		{"trailing garbage", `{"issuer":"x"} {"issuer":"y"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, nil)
			p.set(func(p *provider) {
				p.discovery = func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(tt.body)) }
			})
			_, err := New(Config{}).Discover(context.Background(), p.URL())
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("Discover = %v, want ErrInvalidDocument", err)
			}
			if len(tt.body) > 100 && strings.Contains(err.Error(), tt.body[60:]) {
				t.Errorf("error %q echoes the body", err)
			}
		})
	}
}

func TestDiscoverFetchErrors(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		cfg     Config
		wantErr []error // all must be wrapped, with ErrFetch
	}{
		{"not found", http.NotFound, Config{}, []error{safehttp.ErrStatus}},
		{"server error", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }, Config{}, []error{safehttp.ErrStatus}},
		{"too large", func(w http.ResponseWriter, r *http.Request) {
			_, _ = fmt.Fprintf(w, `{"issuer":%q}`, strings.Repeat("a", 2048))
		}, Config{MaxBytes: 1024}, []error{safehttp.ErrTooLarge}},
		{"slow", slowHandler, Config{Timeout: 50 * time.Millisecond}, []error{context.DeadlineExceeded}},
		{"redirect to remote http", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://idp.example.com"+wellKnownPath, http.StatusFound)
		}, Config{}, []error{safehttp.ErrInsecureURL}},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, wellKnownPath, http.StatusFound)
		}, Config{}, []error{safehttp.ErrTooManyRedirects}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, nil)
			p.set(func(p *provider) { p.discovery = tt.handler })
			start := time.Now()
			_, err := New(tt.cfg).Discover(context.Background(), p.URL())
			if elapsed := time.Since(start); elapsed > hangBound {
				t.Errorf("Discover took %v", elapsed)
			}
			for _, want := range append([]error{ErrFetch}, tt.wantErr...) {
				if !errors.Is(err, want) {
					t.Errorf("Discover = %v; want an error wrapping %v", err, want)
				}
			}
			if err != nil && !strings.Contains(err.Error(), WellKnownURL(p.URL())) {
				t.Errorf("error %q does not name the URL", err)
			}
		})
	}
}

func TestDiscoverFollowsRedirectsWithinLimits(t *testing.T) {
	p := newProvider(t, nil)
	moved := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != wellKnownPath {
			t.Errorf("request for %s", r.URL.Path)
		}
		http.Redirect(w, r, p.URL()+wellKnownPath, http.StatusMovedPermanently)
	}))
	defer moved.Close()
	// The document names p's issuer, which the moved URL is not: the
	// redirect is followed, and the issuer check still applies.
	_, err := New(Config{}).Discover(context.Background(), moved.URL)
	if !errors.Is(err, ErrIssuerMismatch) {
		t.Errorf("Discover via a redirect = %v, want ErrIssuerMismatch", err)
	}
	if p.hits.Load() != 1 {
		t.Errorf("the redirect was not followed")
	}
}

func TestDiscoverUsesTheCallersClient(t *testing.T) {
	p := newProvider(t, nil)
	var mu sync.Mutex // guards used
	used := false
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		used = true
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})}
	if _, err := New(Config{HTTPClient: client}).Discover(context.Background(), p.URL()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !used {
		t.Errorf("Config.HTTPClient was not used")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDiscoverInvalidIssuerFetchesNothing(t *testing.T) {
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		t.Errorf("request for %s", r.URL)
		return nil, errors.New("no")
	})}
	c := New(Config{HTTPClient: client})
	for _, in := range []string{"", "ftp://x", "https://x/?a=b", "https://u:p@x"} {
		if _, err := c.Discover(context.Background(), in); !errors.Is(err, ErrInvalidIssuer) {
			t.Errorf("Discover(%q) = %v, want ErrInvalidIssuer", in, err)
		}
	}
}

func TestDiscoverEntraMultiTenant(t *testing.T) {
	const tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	var mu sync.Mutex // guards docIssuer
	docIssuer := entraTemplate
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != entraHost {
			t.Errorf("request for host %q", r.Host)
		}
		tenantPath, ok := strings.CutSuffix(r.URL.Path, wellKnownPath)
		if !ok {
			t.Errorf("request for %s", r.URL.Path)
		}
		mu.Lock()
		iss := docIssuer
		mu.Unlock()
		base := "https://" + entraHost + tenantPath
		doc := validDoc(iss, base)
		_ = json.NewEncoder(w).Encode(doc)
	}))
	defer srv.Close()
	c := New(Config{HTTPClient: routedClient(srv)})

	for _, in := range []string{
		"login.microsoftonline.com/common/v2.0",
		"https://login.microsoftonline.com/organizations/v2.0",
		"https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration",
		"HTTPS://LOGIN.microsoftonline.com/common/v2.0",
	} {
		m, err := c.Discover(context.Background(), in)
		if err != nil {
			t.Errorf("Discover(%q) = %v", in, err)
			continue
		}
		if m.Issuer != entraTemplate {
			t.Errorf("Discover(%q).Issuer = %q, want the template", in, m.Issuer)
		}
	}

	// A tenant's own endpoint, another multi-tenant name, the v1.0
	// endpoints (whose real documents name sts.windows.net) and inexact
	// forms must not answer with the template.
	for _, in := range []string{
		"https://login.microsoftonline.com/" + tenant + "/v2.0",
		"https://login.microsoftonline.com/consumers/v2.0",
		"https://login.microsoftonline.com/Common/v2.0",
		"https://login.microsoftonline.com/common/oauth2/v2.0",
		"https://login.microsoftonline.com/common",
		"https://login.microsoftonline.com/organizations",
		"https://login.microsoftonline.com/organizations/v2.0/",
	} {
		if _, err := c.Discover(context.Background(), in); !errors.Is(err, ErrIssuerMismatch) {
			t.Errorf("Discover(%q) = %v, want ErrIssuerMismatch", in, err)
		}
	}

	// A single tenant's document names the tenant: exact match, no template.
	mu.Lock()
	docIssuer = "https://login.microsoftonline.com/" + tenant + "/v2.0"
	mu.Unlock()
	m, err := c.Discover(context.Background(), "https://login.microsoftonline.com/"+tenant+"/v2.0")
	if err != nil || m.Issuer != docIssuer {
		t.Fatalf("Discover(tenant) = %v, %v", m, err)
	}
	if !m.MatchesIssuer(docIssuer, "") || m.MatchesIssuer("https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0", "00000000-0000-0000-0000-000000000000") {
		t.Errorf("a single-tenant issuer must match exactly")
	}
}

func TestMatchesIssuer(t *testing.T) {
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tokenIss := "https://login.microsoftonline.com/" + tid + "/v2.0"
	multi := &Metadata{Issuer: entraTemplate}
	plain := &Metadata{Issuer: "https://acme.okta.com"}
	tests := []struct {
		name     string
		m        *Metadata
		iss, tid string
		want     bool
	}{
		{"template, tid matches", multi, tokenIss, tid, true},
		{"template, uppercase GUID", multi, strings.Replace(tokenIss, tid, strings.ToUpper(tid), 1), strings.ToUpper(tid), true},
		{"template, other tenant's iss", multi, tokenIss, "00000000-0000-0000-0000-000000000001", false},
		{"template, no tid", multi, tokenIss, "", false},
		{"template, tid not a GUID", multi, "https://login.microsoftonline.com/contoso/v2.0", "contoso", false},
		{"template, tid with slashes", multi, "https://login.microsoftonline.com/a/b/v2.0", "a/b", false},
		{"template, tid path traversal", multi, "https://login.microsoftonline.com/../v2.0", "..", false},
		{"template, GUID plus suffix", multi, "https://login.microsoftonline.com/" + tid + "x/v2.0", tid + "x", false},
		{"template, GUID without dashes", multi, "https://login.microsoftonline.com/72f988bf86f141af91ab2d7cd011db47/v2.0", "72f988bf86f141af91ab2d7cd011db47", false},
		{"template, GUID with non-hex", multi, "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011dbzz/v2.0", "72f988bf-86f1-41af-91ab-2d7cd011dbzz", false},
		{"template, other host", multi, "https://login.evil.com/" + tid + "/v2.0", tid, false},
		{"template, v1 issuer", multi, "https://sts.windows.net/" + tid + "/", tid, false},
		{"template, template itself", multi, entraTemplate, tid, false},
		{"plain, exact", plain, "https://acme.okta.com", "", true},
		{"plain, tid ignored", plain, "https://acme.okta.com", tid, true},
		{"plain, trailing slash", plain, "https://acme.okta.com/", "", false},
		{"plain, other", plain, "https://evil.okta.com", "", false},
		{"empty issuer never matches", &Metadata{}, "", "", false},
		{"nil metadata", nil, "https://acme.okta.com", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.m.MatchesIssuer(tt.iss, tt.tid); got != tt.want {
				t.Errorf("MatchesIssuer(%q, %q) = %v, want %v", tt.iss, tt.tid, got, tt.want)
			}
		})
	}
}

// sentinels counts the package errors err wraps.
func sentinels(err error) int {
	n := 0
	for _, e := range []error{ErrInvalidIssuer, ErrFetch, ErrInvalidDocument, ErrIssuerMismatch} {
		if errors.Is(err, e) {
			n++
		}
	}
	return n
}

func TestIssuerMismatchSaysWhatToEnter(t *testing.T) {
	p := newProvider(t, func(doc map[string]any) { doc["issuer"] = doc["issuer"].(string) + "/" })
	_, err := New(Config{}).Discover(context.Background(), p.URL())
	if !errors.Is(err, ErrIssuerMismatch) {
		t.Fatalf("Discover = %v, want ErrIssuerMismatch", err)
	}
	if want := fmt.Sprintf("enter %q", p.URL()+"/"); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %s", err, want)
	}

	tests := []struct {
		issuer, docIssuer, want string
	}{
		{"https://oauth.id.jumpcloud.com", "https://oauth.id.jumpcloud.com/", `enter "https://oauth.id.jumpcloud.com/"`},
		{"https://idp.example.com/tenant/", "https://idp.example.com/tenant", `enter "https://idp.example.com/tenant"`},
		{"https://login.microsoftonline.com/common", "https://sts.windows.net/{tenantid}/", "add /v2.0"},
		{"https://login.microsoftonline.com/common/v2.0/", entraTemplate, "common/v2.0"},
		{"https://idp.example.com", "https://evil.example.com", "check the issuer you entered"},
	}
	for _, tt := range tests {
		if got := mismatchAdvice(tt.issuer, tt.docIssuer); !strings.Contains(got, tt.want) {
			t.Errorf("mismatchAdvice(%q, %q) = %q, want it to say %q", tt.issuer, tt.docIssuer, got, tt.want)
		}
	}
}

func TestNilContextIsBackground(t *testing.T) {
	p := newProvider(t, nil)
	c := New(Config{})
	//lint:ignore SA1012 a nil context must not panic
	if m, err := c.Discover(nil, p.URL()); err != nil || m.Issuer != p.URL() { //nolint:staticcheck
		t.Errorf("Discover(nil ctx) = %v, %v", m, err)
	}
	//lint:ignore SA1012 a nil context must not panic
	if r := c.Check(nil, p.URL()); !r.OK() { //nolint:staticcheck
		t.Errorf("Check(nil ctx) problems: %+v", r.Problems)
	}
}

func TestDiscoverRefusesDuplicateFields(t *testing.T) {
	tests := []struct {
		name    string
		prefix  func(u string) string // inserted before the document's fields
		wantErr bool
	}{
		{"valid", func(string) string { return "" }, false},
		{"jwks_uri twice", func(string) string { return `"jwks_uri":"https://evil.example.com/jwks",` }, true},
		{"issuer twice, same value", func(u string) string { return fmt.Sprintf(`"issuer":%q,`, u) }, true},
		{"escaped duplicate name", func(string) string {
			return `"token_endpoint\u0022":1,"token_\u0065ndpoint":"https://evil.example.com/t",`
		}, true},
		{"an extension twice", func(string) string { return `"x_ext":1,"x_ext":2,` }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, nil)
			p.set(func(p *provider) {
				p.discovery = func(w http.ResponseWriter, r *http.Request) {
					doc := p.document(nil)
					_, _ = w.Write(append([]byte("{"+tt.prefix(p.URL())), doc[1:]...))
				}
			})
			m, err := New(Config{}).Discover(context.Background(), p.URL())
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidDocument) || !strings.Contains(err.Error(), "more than once") {
					t.Errorf("Discover = %v, %v; want ErrInvalidDocument for a duplicate", m, err)
				}
				return
			}
			if err != nil {
				t.Errorf("Discover = %v", err)
			}
		})
	}
}
