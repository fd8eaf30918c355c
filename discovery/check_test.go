package discovery

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ssokit/ssokit/internal/safehttp"
)

// goodReport is Check's report on a provider at u serving validDoc and
// testJWKS.
func goodReport(u string) *Report {
	return &Report{
		Input:                    u,
		Issuer:                   u,
		DiscoveryURL:             u + wellKnownPath,
		Vendor:                   VendorOIDC,
		VendorName:               "OIDC",
		DocumentIssuer:           u,
		AuthorizationEndpoint:    u + "/authorize",
		TokenEndpoint:            u + "/token",
		UserinfoEndpoint:         u + "/userinfo",
		EndSessionEndpoint:       u + "/logout",
		JWKSURI:                  u + "/jwks",
		SigningAlgorithms:        []string{"RS256", "ES256"},
		TokenEndpointAuthMethods: []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		Scopes:                   []string{"openid", "email", "profile"},
		IssParameterSupported:    true,
		PKCES256Supported:        true,
		JWKSKeys:                 3,
		JWKSSigningKeys:          2,
		Problems:                 []Problem{warning(codeIssuerNotHTTPS)},
	}
}

func warning(code string) Problem { return Problem{Severity: SeverityWarning, Code: code} }
func failure(code string) Problem { return Problem{Severity: SeverityError, Code: code} }

// onlyFetched is the part of a report filled before the document.
func onlyFetched(r *Report) *Report {
	return &Report{Input: r.Input, Issuer: r.Issuer, DiscoveryURL: r.DiscoveryURL, Vendor: r.Vendor, VendorName: r.VendorName}
}

// checkTest sets up a provider, runs Check, and compares the report with
// want, messages aside.
type checkTest struct {
	name  string
	setup func(p *provider)
	cfg   Config
	input func(u string) string
	// want changes goodReport into the expected report.
	want   func(r *Report) *Report
	wantOK bool
}

func (tt checkTest) run(t *testing.T) {
	p := newProvider(t, nil)
	if tt.setup != nil {
		tt.setup(p)
	}
	u := p.URL()
	in := u
	if tt.input != nil {
		in = tt.input(u)
	}
	start := time.Now()
	got := New(tt.cfg).Check(context.Background(), in)
	if elapsed := time.Since(start); elapsed > hangBound {
		t.Errorf("Check took %v", elapsed)
	}
	want := goodReport(u)
	want.Input = in
	if tt.want != nil {
		want = tt.want(want)
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Problem{}, "Message"), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Check mismatch (-want +got):\n%s", diff)
	}
	if got.OK() != tt.wantOK {
		t.Errorf("OK() = %v, want %v", got.OK(), tt.wantOK)
	}
	for _, pr := range got.Problems {
		if len(pr.Message) < 20 || strings.HasPrefix(pr.Message, "discovery: ") {
			t.Errorf("problem %s has message %q, want a sentence for a person", pr.Code, pr.Message)
		}
	}
	if got.Problems == nil {
		t.Errorf("Problems is nil, want a list")
	}
}

func TestCheck(t *testing.T) {
	modify := func(f func(doc map[string]any)) func(*provider) {
		return func(p *provider) { p.modify = f }
	}
	problems := func(ps ...Problem) func(*Report) *Report {
		return func(r *Report) *Report { r.Problems = ps; return r }
	}
	tests := []checkTest{
		{name: "good provider", wantOK: true},
		{name: "pasted well-known URL", input: func(u string) string { return u + wellKnownPath }, wantOK: true},
		{
			name:  "invalid input",
			input: func(string) string { return "ftp://idp.example.com" },
			want: func(r *Report) *Report {
				return &Report{Input: r.Input, Vendor: VendorOIDC, VendorName: "OIDC", Problems: []Problem{failure(codeIssuerInvalid)}}
			},
		},
		{
			name:  "unreachable",
			setup: func(p *provider) { p.srv.Close() },
			want: func(r *Report) *Report {
				r = onlyFetched(r)
				r.Problems = []Problem{failure(codeDiscoveryUnreachable), warning(codeIssuerNotHTTPS)}
				return r
			},
		},
		{
			name:  "not found",
			setup: func(p *provider) { p.discovery = http.NotFound },
			want: func(r *Report) *Report {
				r = onlyFetched(r)
				r.Problems = []Problem{failure(codeDiscoveryUnreachable), warning(codeIssuerNotHTTPS)}
				return r
			},
		},
		{
			name:  "slow",
			setup: func(p *provider) { p.discovery = slowHandler },
			cfg:   Config{Timeout: 50 * time.Millisecond},
			want: func(r *Report) *Report {
				r = onlyFetched(r)
				r.Problems = []Problem{failure(codeDiscoveryTimeout), warning(codeIssuerNotHTTPS)}
				return r
			},
		},
		{
			name: "too large",
			setup: func(p *provider) {
				p.discovery = func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2048)) }
			},
			cfg: Config{MaxBytes: 1024},
			want: func(r *Report) *Report {
				r = onlyFetched(r)
				r.Problems = []Problem{failure(codeDiscoveryUnreachable), warning(codeIssuerNotHTTPS)}
				return r
			},
		},
		{
			name: "not JSON",
			setup: func(p *provider) {
				p.discovery = func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>maintenance</html>")) }
			},
			want: func(r *Report) *Report {
				r = onlyFetched(r)
				r.Problems = []Problem{failure(codeDocumentInvalid), warning(codeIssuerNotHTTPS)}
				return r
			},
		},
		{
			name:  "issuer mismatch",
			setup: modify(func(doc map[string]any) { doc["issuer"] = "https://evil.example.com" }),
			want: func(r *Report) *Report {
				r.DocumentIssuer = "https://evil.example.com"
				r.Problems = []Problem{failure(codeIssuerMismatch), warning(codeIssuerNotHTTPS)}
				return r
			},
		},
		{
			name:  "issuer differs by a trailing slash",
			setup: modify(func(doc map[string]any) { doc["issuer"] = doc["issuer"].(string) + "/" }),
			want: func(r *Report) *Report {
				r.DocumentIssuer += "/"
				r.Problems = []Problem{failure(codeIssuerMismatch), warning(codeIssuerNotHTTPS)}
				return r
			},
		},
		{
			name: "several document problems",
			setup: modify(func(doc map[string]any) {
				delete(doc, "jwks_uri")
				doc["token_endpoint"] = "http://idp.example.com/token"
				doc["response_types_supported"] = []string{"token"}
				doc["id_token_signing_alg_values_supported"] = []string{"HS256"}
			}),
			want: func(r *Report) *Report {
				r.TokenEndpoint = "http://idp.example.com/token"
				r.JWKSURI = ""
				r.JWKSKeys, r.JWKSSigningKeys = 0, 0
				r.SigningAlgorithms = []string{"HS256"}
				r.Problems = []Problem{
					failure(codeDocumentInvalid), failure(codeDocumentInvalid),
					failure(codeDocumentInvalid), failure(codeDocumentInvalid),
					warning(codeIssuerNotHTTPS),
				}
				return r
			},
		},
		{
			name: "optional parts missing",
			setup: modify(func(doc map[string]any) {
				for _, k := range []string{"userinfo_endpoint", "end_session_endpoint", "id_token_signing_alg_values_supported", "code_challenge_methods_supported", "authorization_response_iss_parameter_supported"} {
					delete(doc, k)
				}
			}),
			want: func(r *Report) *Report {
				r.UserinfoEndpoint, r.EndSessionEndpoint, r.SigningAlgorithms = "", "", nil
				r.PKCES256Supported, r.IssParameterSupported = false, false
				r.Problems = append(r.Problems, warning(codeRS256NotListed), warning(codePKCENotListed),
					warning(codeNoUserinfo), warning(codeNoEndSession))
				return r
			},
			wantOK: true,
		},
		{
			name:  "jwks empty",
			setup: func(p *provider) { p.jwks = `{"keys":[]}` },
			want: func(r *Report) *Report {
				r.JWKSKeys, r.JWKSSigningKeys = 0, 0
				return problems(failure(codeJWKSEmpty), warning(codeIssuerNotHTTPS))(r)
			},
		},
		{
			name:  "jwks without signing keys",
			setup: func(p *provider) { p.jwks = `{"keys":[{"kty":"RSA","use":"enc"},{"kty":"RSA","use":7}]}` },
			want: func(r *Report) *Report {
				r.JWKSKeys, r.JWKSSigningKeys = 2, 0
				return problems(failure(codeJWKSNoSigningKeys), warning(codeIssuerNotHTTPS))(r)
			},
		},
		{
			name:  "jwks unreachable",
			setup: func(p *provider) { p.jwksStatus = http.StatusInternalServerError },
			want: func(r *Report) *Report {
				r.JWKSKeys, r.JWKSSigningKeys = 0, 0
				return problems(failure(codeJWKSUnreachable), warning(codeIssuerNotHTTPS))(r)
			},
		},
		{
			name:  "jwks not a key set",
			setup: func(p *provider) { p.jwks = `{"kty":"RSA","n":"AQAB"}` },
			want: func(r *Report) *Report {
				r.JWKSKeys, r.JWKSSigningKeys = 0, 0
				return problems(failure(codeJWKSInvalid), warning(codeIssuerNotHTTPS))(r)
			},
		},
		{
			name:  "jwks with a null key",
			setup: func(p *provider) { p.jwks = `{"keys":[null]}` },
			want: func(r *Report) *Report {
				r.JWKSKeys, r.JWKSSigningKeys = 0, 0
				return problems(failure(codeJWKSInvalid), warning(codeIssuerNotHTTPS))(r)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

func TestCheckJWKSTimeout(t *testing.T) {
	p := newProvider(t, nil)
	// The key set lives elsewhere, on a server that never answers.
	slow := httptest.NewServer(http.HandlerFunc(slowHandler))
	defer slow.Close()
	p.set(func(p *provider) { p.modify = func(doc map[string]any) { doc["jwks_uri"] = slow.URL + "/keys" } })
	r := New(Config{Timeout: 50 * time.Millisecond}).Check(context.Background(), p.URL())
	codes := problemCodes(r)
	if !slices.Contains(codes, codeJWKSTimeout) || r.OK() {
		t.Errorf("Check problems = %v, want %s", codes, codeJWKSTimeout)
	}
}

func problemCodes(r *Report) []string {
	var codes []string
	for _, p := range r.Problems {
		codes = append(codes, p.Code)
	}
	return codes
}

func TestCheckEntraMultiTenant(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host != entraHost {
			t.Errorf("request for host %q", r.Host)
		}
		base := "https://" + entraHost + "/common"
		switch r.URL.Path {
		case "/common/v2.0" + wellKnownPath:
			json.NewEncoder(w).Encode(validDoc(entraTemplate, base))
		case "/common/jwks":
			w.Write([]byte(testJWKS))
		default:
			t.Errorf("request for %s", r.URL.Path)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	r := New(Config{HTTPClient: routedClient(srv)}).Check(context.Background(), "login.microsoftonline.com/common/v2.0")
	if r.Vendor != VendorEntraID || r.VendorName != "Microsoft Entra ID" {
		t.Errorf("vendor = %q %q", r.Vendor, r.VendorName)
	}
	if r.DocumentIssuer != entraTemplate || r.JWKSKeys != 3 {
		t.Errorf("document issuer %q, %d keys", r.DocumentIssuer, r.JWKSKeys)
	}
	if diff := cmp.Diff([]string{codeMultiTenant}, problemCodes(r)); diff != "" || !r.OK() {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
}

func TestCheckBypassesTheCache(t *testing.T) {
	p := newProvider(t, nil)
	c := New(Config{})
	ctx := context.Background()

	// Check on a cold cache does not fill it.
	if r := c.Check(ctx, p.URL()); !r.OK() {
		t.Fatalf("Check: %+v", r.Problems)
	}
	if _, err := c.Discover(ctx, p.URL()); err != nil {
		t.Fatal(err)
	}
	if n := p.hits.Load(); n != 2 {
		t.Errorf("%d fetches, want 2: Check's result was cached", n)
	}

	// Check sees the provider as it is now, and a bad answer does not
	// reach the cache.
	p.set(func(p *provider) { p.modify = func(doc map[string]any) { doc["issuer"] = "https://evil.example.com" } })
	if r := c.Check(ctx, p.URL()); r.OK() {
		t.Errorf("Check used the cache: %+v", r)
	}
	m, err := c.Discover(ctx, p.URL())
	if err != nil || m.Issuer != p.URL() {
		t.Errorf("Discover after Check = %v, %v; want the cached document", m, err)
	}
	if n := p.hits.Load(); n != 3 {
		t.Errorf("%d fetches, want 3", n)
	}
}

func TestReportJSON(t *testing.T) {
	p := newProvider(t, nil)
	b, err := json.Marshal(New(Config{}).Check(context.Background(), p.URL()))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{
		"authorization_endpoint", "discovery_url", "document_issuer", "end_session_endpoint",
		"input", "iss_parameter_supported", "issuer", "jwks_keys", "jwks_signing_keys", "jwks_uri",
		"pkce_s256_supported", "problems", "scopes", "signing_algorithms", "token_endpoint",
		"token_endpoint_auth_methods", "userinfo_endpoint", "vendor", "vendor_name",
	}
	if diff := cmp.Diff(want, keys); diff != "" {
		t.Errorf("report JSON keys (-want +got):\n%s", diff)
	}
	problem := got["problems"].([]any)[0].(map[string]any)
	if problem["severity"] != "warning" || problem["code"] != codeIssuerNotHTTPS || problem["message"] == "" {
		t.Errorf("problem JSON = %v", problem)
	}

	// An empty list of problems is [], not null, for the UI.
	b, _ = json.Marshal(&Report{Problems: []Problem{}})
	if !strings.Contains(string(b), `"problems":[]`) {
		t.Errorf("empty report JSON = %s", b)
	}
}

func TestCheckExplainsRefusedFetches(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		client  func(*testing.T) *http.Client
		want    string // in the message
	}{
		{"private address", nil, func(t *testing.T) *http.Client {
			c, err := (&safehttp.Guard{}).Client(nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}, "private or internal network address"},
		{"redirect loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.Path, http.StatusFound) }, nil, "redirects too many times"},
		{"redirect to http", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://idp.example.com"+wellKnownPath, http.StatusFound)
		}, nil, "not https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, nil)
			if tt.handler != nil {
				p.set(func(p *provider) { p.discovery = tt.handler })
			}
			cfg := Config{}
			if tt.client != nil {
				cfg.HTTPClient = tt.client(t)
			}
			r := New(cfg).Check(context.Background(), p.URL())
			if r.OK() || r.Problems[0].Code != codeDiscoveryUnreachable || !strings.Contains(r.Problems[0].Message, tt.want) {
				t.Errorf("Check problems = %+v; want first %s saying %q", r.Problems, codeDiscoveryUnreachable, tt.want)
			}
		})
	}
}
