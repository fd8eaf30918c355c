package discovery

// Tests against ssotest, the fake OpenID provider the rest of ssokit tests
// with: each rule shown working against a well-behaved provider and
// refusing the provider's faults.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/safehttp"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// hangBound is how long a call may take before a test calls it hung. It is
// far above anything the tests' timeouts allow.
const hangBound = 5 * time.Second

func TestSSOTestProviderShapes(t *testing.T) {
	tests := []struct {
		name string
		opts []ssotest.Option
	}{
		{"loopback http", nil},
		{"issuer with a path", []ssotest.Option{ssotest.WithIssuerPath("/tenant-1/v2.0")}},
		{"issuer with a trailing slash", []ssotest.Option{ssotest.WithIssuerPath("/")}},
		{"issuer with a path and a trailing slash", []ssotest.Option{ssotest.WithIssuerPath("/oauth2/default/")}},
		{"https", []ssotest.Option{ssotest.WithTLS()}},
		{"https with a path", []ssotest.Option{ssotest.WithTLS(), ssotest.WithIssuerPath("/realms/acme")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := ssotest.New(t, tt.opts...)
			iss := idp.Issuer()
			c := New(Config{HTTPClient: idp.HTTPClient()})
			m, err := c.Discover(context.Background(), iss)
			if err != nil {
				t.Fatalf("Discover(%q) = %v", iss, err)
			}
			prefix := strings.TrimSuffix(iss, "/")
			if m.Issuer != iss || m.AuthorizationEndpoint != prefix+"/authorize" || m.TokenEndpoint != prefix+"/token" ||
				m.JWKSURI != prefix+"/jwks" || m.UserinfoEndpoint != prefix+"/userinfo" || m.EndSessionEndpoint != prefix+"/end_session" {
				t.Errorf("Discover(%q) = %+v", iss, m)
			}
			// The fields a relying party needs later are kept.
			if !slices.Contains(m.TokenEndpointAuthMethodsSupported, ssotest.AuthPrivateKeyJWT) ||
				!slices.Contains(m.ScopesSupported, "email") || !slices.Contains(m.ClaimsSupported, "email_verified") ||
				!m.AuthorizationResponseIssParameterSupported {
				t.Errorf("fields missing from %+v", m)
			}
			if !m.MatchesIssuer(iss, "") {
				t.Errorf("MatchesIssuer(%q) = false", iss)
			}
			// The well-known URL never doubles the slash.
			if WellKnownURL(iss) != prefix+wellKnownPath {
				t.Errorf("WellKnownURL(%q) = %q", iss, WellKnownURL(iss))
			}

			// The same issuer without its trailing slash, or with one
			// added, reaches the same document but is not its issuer.
			other := iss + "/"
			if strings.HasSuffix(iss, "/") {
				other = prefix
			}
			if _, err := c.Discover(context.Background(), other); !errors.Is(err, ErrIssuerMismatch) {
				t.Errorf("Discover(%q) = %v, want ErrIssuerMismatch", other, err)
			}
			if m.MatchesIssuer(other, "") {
				t.Errorf("MatchesIssuer(%q) = true", other)
			}
		})
	}
}

func TestSSOTestInputForms(t *testing.T) {
	idp := ssotest.New(t, ssotest.WithTLS(), ssotest.WithIssuerPath("/tenant-1"))
	iss := idp.Issuer()
	bare := strings.TrimPrefix(iss, "https://")
	c := New(Config{HTTPClient: idp.HTTPClient()})
	for _, in := range []string{iss, bare, iss + wellKnownPath, bare + wellKnownPath, "  " + iss + "\n", strings.Replace(iss, "https://", "HTTPS://", 1)} {
		m, err := c.Discover(context.Background(), in)
		if err != nil || m.Issuer != iss {
			t.Errorf("Discover(%q) = %v, %v; want issuer %q", in, m, err, iss)
		}
	}
	if n := idp.Requests(ssotest.EndpointDiscovery); n != 1 {
		t.Errorf("%d discovery requests for one issuer in several forms, want 1", n)
	}

	// A bare domain gets https, even on loopback: against a provider
	// serving plain http, the TLS handshake fails.
	plain := ssotest.New(t)
	_, err := New(Config{HTTPClient: plain.HTTPClient()}).Discover(context.Background(), strings.TrimPrefix(plain.Issuer(), "http://"))
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "https://") {
		t.Errorf("Discover(bare loopback domain of an http provider) = %v, want an https fetch error", err)
	}
	if n := plain.Requests(ssotest.EndpointDiscovery); n != 0 {
		t.Errorf("the http provider answered %d discovery requests", n)
	}
}

func TestSSOTestDocumentRules(t *testing.T) {
	del := func(keys ...string) func(map[string]any) {
		return func(d map[string]any) {
			for _, k := range keys {
				delete(d, k)
			}
		}
	}
	set := func(k string, v any) func(map[string]any) { return func(d map[string]any) { d[k] = v } }
	tests := []struct {
		name    string
		faults  func(iss string) ssotest.Faults
		cfg     Config
		wantErr []error // nil: accepted
	}{
		{"well-behaved", func(string) ssotest.Faults { return ssotest.Faults{} }, Config{}, nil},

		// Issuer: exact, or refused.
		{"issuer of another host", func(string) ssotest.Faults { return ssotest.Faults{DiscoveryIssuer: "https://evil.example.com"} }, Config{}, []error{ErrIssuerMismatch}},
		{"issuer with a trailing slash added", func(iss string) ssotest.Faults { return ssotest.Faults{DiscoveryIssuer: iss + "/"} }, Config{}, []error{ErrIssuerMismatch}},
		{"issuer upgraded to https", func(iss string) ssotest.Faults {
			return ssotest.Faults{DiscoveryIssuer: strings.Replace(iss, "http://", "https://", 1)}
		}, Config{}, []error{ErrIssuerMismatch}},
		{"issuer with another path", func(iss string) ssotest.Faults { return ssotest.Faults{DiscoveryIssuer: iss + "/tenant-2"} }, Config{}, []error{ErrIssuerMismatch}},
		{"issuer is the Entra template", func(string) ssotest.Faults { return ssotest.Faults{DiscoveryIssuer: entraTemplate} }, Config{}, []error{ErrIssuerMismatch}},
		{"issuer missing", func(string) ssotest.Faults { return ssotest.Faults{ModifyDiscovery: del("issuer")} }, Config{}, []error{ErrInvalidDocument}},

		// Required endpoints, https or loopback.
		{"no authorization_endpoint", func(string) ssotest.Faults { return ssotest.Faults{ModifyDiscovery: del("authorization_endpoint")} }, Config{}, []error{ErrInvalidDocument}},
		{"no token_endpoint", func(string) ssotest.Faults { return ssotest.Faults{ModifyDiscovery: del("token_endpoint")} }, Config{}, []error{ErrInvalidDocument}},
		{"no jwks_uri", func(string) ssotest.Faults { return ssotest.Faults{ModifyDiscovery: del("jwks_uri")} }, Config{}, []error{ErrInvalidDocument}},
		{"jwks_uri on remote http", func(string) ssotest.Faults {
			return ssotest.Faults{ModifyDiscovery: set("jwks_uri", "http://keys.example.com/jwks")}
		}, Config{}, []error{ErrInvalidDocument, safehttp.ErrInsecureURL}},
		{"token_endpoint on remote http", func(string) ssotest.Faults {
			return ssotest.Faults{ModifyDiscovery: set("token_endpoint", "http://idp.example.com/token")}
		}, Config{}, []error{ErrInvalidDocument, safehttp.ErrInsecureURL}},
		{"end_session_endpoint on remote http", func(string) ssotest.Faults {
			return ssotest.Faults{ModifyDiscovery: set("end_session_endpoint", "http://idp.example.com/logout")}
		}, Config{}, []error{ErrInvalidDocument, safehttp.ErrInsecureURL}},
		{"endpoints on remote https", func(string) ssotest.Faults {
			return ssotest.Faults{ModifyDiscovery: set("token_endpoint", "https://token.example.com/token")}
		}, Config{}, nil},
		{"no optional endpoints", func(string) ssotest.Faults {
			return ssotest.Faults{ModifyDiscovery: del("userinfo_endpoint", "end_session_endpoint")}
		}, Config{}, nil},

		// Code flow and RS256, when listed.
		{"no code response type", func(string) ssotest.Faults {
			return ssotest.Faults{ModifyDiscovery: set("response_types_supported", []string{"id_token", "id_token token"})}
		}, Config{}, []error{ErrInvalidDocument}},
		{"response types not listed", func(string) ssotest.Faults { return ssotest.Faults{ModifyDiscovery: del("response_types_supported")} }, Config{}, nil},
		{"no RS256", func(string) ssotest.Faults {
			return ssotest.Faults{ModifyDiscovery: set("id_token_signing_alg_values_supported", []string{"ES256", "HS256"})}
		}, Config{}, []error{ErrInvalidDocument}},
		{"only none", func(string) ssotest.Faults {
			return ssotest.Faults{ModifyDiscovery: set("id_token_signing_alg_values_supported", []string{"none"})}
		}, Config{}, []error{ErrInvalidDocument}},
		{"signing algorithms not listed", func(string) ssotest.Faults {
			return ssotest.Faults{ModifyDiscovery: del("id_token_signing_alg_values_supported")}
		}, Config{}, nil},

		// Fetch failures.
		{"status 500", func(string) ssotest.Faults {
			return ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointDiscovery: 500}}
		}, Config{}, []error{ErrFetch, safehttp.ErrStatus}},
		{"status 404", func(string) ssotest.Faults {
			return ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointDiscovery: 404}}
		}, Config{}, []error{ErrFetch, safehttp.ErrStatus}},
		{"HTML body", func(string) ssotest.Faults {
			return ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointDiscovery: "<html>Please sign in</html>"}}
		}, Config{}, []error{ErrInvalidDocument}},
		{"truncated JSON", func(string) ssotest.Faults {
			return ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointDiscovery: `{"issuer":"http://127.0.0.1`}}
		}, Config{}, []error{ErrInvalidDocument}},
		{"document over the default size limit", func(iss string) ssotest.Faults {
			return ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointDiscovery: `{"issuer":"` + iss + `","x":"` + strings.Repeat("a", defaultMaxBytes) + `"}`}}
		}, Config{}, []error{ErrFetch, safehttp.ErrTooLarge}},
		{"document over a configured size limit", func(string) ssotest.Faults { return ssotest.Faults{} }, Config{MaxBytes: 256}, []error{ErrFetch, safehttp.ErrTooLarge}},
		{"slow", func(string) ssotest.Faults {
			return ssotest.Faults{Delay: map[ssotest.Endpoint]time.Duration{ssotest.EndpointDiscovery: time.Minute}}
		}, Config{Timeout: 100 * time.Millisecond}, []error{ErrFetch, context.DeadlineExceeded}},
		{"slow, within the timeout", func(string) ssotest.Faults {
			return ssotest.Faults{Delay: map[ssotest.Endpoint]time.Duration{ssotest.EndpointDiscovery: 10 * time.Millisecond}}
		}, Config{}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp := ssotest.New(t)
			idp.SetFaults(tt.faults(idp.Issuer()))
			cfg := tt.cfg
			cfg.HTTPClient = idp.HTTPClient()
			start := time.Now()
			m, err := New(cfg).Discover(context.Background(), idp.Issuer())
			if elapsed := time.Since(start); elapsed > hangBound {
				t.Errorf("Discover took %v", elapsed)
			}
			if tt.wantErr == nil {
				if err != nil || m == nil || m.Issuer != idp.Issuer() {
					t.Fatalf("Discover = %v, %v; want the metadata", m, err)
				}
				return
			}
			if m != nil {
				t.Errorf("Discover returned metadata with error %v", err)
			}
			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Discover = %v; want an error wrapping %v", err, want)
				}
			}
			if n := sentinels(err); n != 1 {
				t.Errorf("error %v wraps %d of the package's errors, want 1", err, n)
			}
			if err != nil && !strings.Contains(err.Error(), WellKnownURL(idp.Issuer())) {
				t.Errorf("error %q does not name %s", err, WellKnownURL(idp.Issuer()))
			}
		})
	}
}

// gate is a transport that holds every request until it is opened, and
// counts them.
type gate struct {
	next  http.RoundTripper
	open  chan struct{}
	count atomic.Int64
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.count.Add(1)
	select {
	case <-g.open:
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return g.next.RoundTrip(r)
}

// waitingCtx reports, once, when Discover first asks for its Done channel,
// which it does only to wait for a fetch it has joined.
type waitingCtx struct {
	context.Context
	once    sync.Once
	waiting func()
}

func (c *waitingCtx) Done() <-chan struct{} {
	c.once.Do(c.waiting)
	return c.Context.Done()
}

// thousandCallers runs 1000 concurrent Discover calls for idp's issuer,
// holding the provider's answer until every call is waiting for it, and
// returns what they got.
func thousandCallers(t *testing.T, idp *ssotest.Provider) (metas map[*Metadata]int, errs []error) {
	t.Helper()
	const callers = 1000
	g := &gate{next: idp.HTTPClient().Transport, open: make(chan struct{})}
	c := New(Config{HTTPClient: &http.Client{Transport: g}})
	var (
		waiting sync.WaitGroup
		done    sync.WaitGroup
		mu      sync.Mutex // guards metas and errs
	)
	metas = make(map[*Metadata]int)
	waiting.Add(callers)
	done.Add(callers)
	for range callers {
		go func() {
			defer done.Done()
			ctx := &waitingCtx{Context: context.Background(), waiting: waiting.Done}
			m, err := c.Discover(ctx, idp.Issuer())
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			} else {
				metas[m]++
			}
		}()
	}
	allWaiting := make(chan struct{})
	go func() { waiting.Wait(); close(allWaiting) }()
	select {
	case <-allWaiting:
	case <-time.After(30 * time.Second):
		close(g.open)
		t.Fatal("the callers did not all wait for a fetch")
	}
	close(g.open)
	done.Wait()
	if n := g.count.Load(); n != 1 {
		t.Errorf("%d requests left the client for %d concurrent calls, want 1", n, callers)
	}
	return metas, errs
}

func TestSingleFlightThousandCallers(t *testing.T) {
	idp := ssotest.New(t)
	metas, errs := thousandCallers(t, idp)
	if n := idp.Requests(ssotest.EndpointDiscovery); n != 1 {
		t.Errorf("the provider got %d discovery requests from 1000 concurrent calls, want exactly 1", n)
	}
	if len(errs) != 0 || len(metas) != 1 {
		t.Fatalf("callers got %d errors and %d distinct Metadata; want 0 and 1 shared", len(errs), len(metas))
	}
	for m, n := range metas {
		if n != 1000 || m.Issuer != idp.Issuer() {
			t.Errorf("%d callers got %q", n, m.Issuer)
		}
	}
}

func TestSingleFlightSharesAFailureWithoutCachingIt(t *testing.T) {
	idp := ssotest.New(t, ssotest.WithFaults(ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointDiscovery: 503}}))
	metas, errs := thousandCallers(t, idp)
	if n := idp.Requests(ssotest.EndpointDiscovery); n != 1 {
		t.Errorf("the provider got %d discovery requests from 1000 concurrent calls, want exactly 1", n)
	}
	if len(metas) != 0 || len(errs) != 1000 {
		t.Fatalf("%d callers got metadata and %d an error; want every one the error", len(metas), len(errs))
	}
	for _, err := range errs {
		if !errors.Is(err, ErrFetch) || !errors.Is(err, safehttp.ErrStatus) {
			t.Fatalf("a caller got %v, want ErrFetch with the status", err)
		}
	}
	// The failure was not cached: once the provider recovers, the next
	// call fetches and succeeds.
	idp.SetFaults(ssotest.Faults{})
	c := New(Config{HTTPClient: idp.HTTPClient()})
	if _, err := c.Discover(context.Background(), idp.Issuer()); err != nil {
		t.Errorf("Discover after recovery = %v", err)
	}
}

func TestRedirectLimit(t *testing.T) {
	// /hops/N/… redirects to /hops/N-1/…; /hops/0/… serves the document
	// for the issuer the chain started at.
	p := newProvider(t, nil)
	var start atomic.Value // the issuer the current chain started at
	p.set(func(p *provider) {
		p.discovery = func(w http.ResponseWriter, r *http.Request) {
			rest, _ := strings.CutPrefix(strings.TrimSuffix(r.URL.Path, wellKnownPath), "/hops/")
			n, err := strconv.Atoi(rest)
			if err != nil {
				t.Errorf("request for %s", r.URL.Path)
				return
			}
			if n > 0 {
				http.Redirect(w, r, "/hops/"+strconv.Itoa(n-1)+wellKnownPath, http.StatusFound)
				return
			}
			iss := start.Load().(string)
			_, _ = w.Write(p.document(func(doc map[string]any) { doc["issuer"] = iss }))
		}
	})
	c := New(Config{})
	for hops := 0; hops <= 5; hops++ {
		iss := p.URL() + "/hops/" + strconv.Itoa(hops)
		start.Store(iss)
		before := p.hits.Load()
		_, err := c.Discover(context.Background(), iss)
		switch {
		case hops <= 3 && err != nil:
			t.Errorf("%d redirects: %v, want the document", hops, err)
		case hops > 3 && (!errors.Is(err, ErrFetch) || !errors.Is(err, safehttp.ErrTooManyRedirects)):
			t.Errorf("%d redirects: %v, want ErrFetch and too many redirects", hops, err)
		}
		if want := int64(min(hops, 3) + 1); p.hits.Load()-before != want {
			t.Errorf("%d redirects: %d requests, want %d", hops, p.hits.Load()-before, want)
		}
	}
}

func TestSSOTestCheck(t *testing.T) {
	idp := ssotest.New(t, ssotest.WithTLS(), ssotest.WithIssuerPath("/tenant-1/"))
	c := New(Config{HTTPClient: idp.HTTPClient(), Timeout: 200 * time.Millisecond})
	ctx := context.Background()
	iss := idp.Issuer()
	prefix := strings.TrimSuffix(iss, "/")

	r := c.Check(ctx, iss)
	if !r.OK() || len(r.Problems) != 0 {
		t.Fatalf("Check of a well-behaved provider: %+v", r.Problems)
	}
	if r.Issuer != iss || r.DocumentIssuer != iss || r.DiscoveryURL != prefix+wellKnownPath ||
		r.AuthorizationEndpoint != prefix+"/authorize" || r.TokenEndpoint != prefix+"/token" || r.JWKSURI != prefix+"/jwks" {
		t.Errorf("Check endpoints: %+v", r)
	}
	if r.JWKSKeys != 1 || r.JWKSSigningKeys != 1 || idp.Requests(ssotest.EndpointJWKS) != 1 {
		t.Errorf("Check counted %d keys (%d for signing) with %d JWKS requests; want 1, 1, 1",
			r.JWKSKeys, r.JWKSSigningKeys, idp.Requests(ssotest.EndpointJWKS))
	}
	if want := []string{"RS256", "PS256", "ES256"}; !slices.Equal(r.SigningAlgorithms, want) {
		t.Errorf("SigningAlgorithms = %v, want %v", r.SigningAlgorithms, want)
	}
	// The report is data an admin UI renders.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || back.JWKSKeys != 1 || back.TokenEndpoint != r.TokenEndpoint || back.Problems == nil {
		t.Errorf("report JSON %s does not round-trip: %+v, %v", b, back, err)
	}

	// A rotation with a grace period publishes both keys.
	idp.RotateKeys(time.Hour)
	if r := c.Check(ctx, iss); r.JWKSKeys != 2 || !r.OK() {
		t.Errorf("after a rotation: %d keys, problems %+v; want 2 keys", r.JWKSKeys, r.Problems)
	}

	tests := []struct {
		name   string
		faults ssotest.Faults
		want   string // the error Problem code
	}{
		{"issuer mismatch", ssotest.Faults{DiscoveryIssuer: prefix}, codeIssuerMismatch},
		{"discovery down", ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointDiscovery: 502}}, codeDiscoveryUnreachable},
		{"discovery slow", ssotest.Faults{Delay: map[ssotest.Endpoint]time.Duration{ssotest.EndpointDiscovery: time.Minute}}, codeDiscoveryTimeout},
		{"discovery garbage", ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointDiscovery: "not json"}}, codeDocumentInvalid},
		{"no jwks_uri", ssotest.Faults{ModifyDiscovery: func(d map[string]any) { delete(d, "jwks_uri") }}, codeDocumentInvalid},
		{"jwks down", ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointJWKS: 500}}, codeJWKSUnreachable},
		{"jwks slow", ssotest.Faults{Delay: map[ssotest.Endpoint]time.Duration{ssotest.EndpointJWKS: time.Minute}}, codeJWKSTimeout},
		{"jwks empty", ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointJWKS: `{"keys":[]}`}}, codeJWKSEmpty},
		{"jwks garbage", ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointJWKS: `<html>`}}, codeJWKSInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp.SetFaults(tt.faults)
			defer idp.SetFaults(ssotest.Faults{})
			start := time.Now()
			r := c.Check(ctx, iss)
			if elapsed := time.Since(start); elapsed > hangBound {
				t.Errorf("Check took %v", elapsed)
			}
			if r.OK() || len(r.Problems) == 0 || r.Problems[0].Code != tt.want || r.Problems[0].Severity != SeverityError {
				t.Errorf("Check problems = %+v, want first an error %s", r.Problems, tt.want)
			}
			for _, p := range r.Problems {
				if strings.Contains(p.Message, ssotest.DefaultClientSecret) {
					t.Errorf("problem %s shows a secret: %q", p.Code, p.Message)
				}
			}
		})
	}
}

func TestInvalidateAnyFormOfTheIssuer(t *testing.T) {
	idp := ssotest.New(t, ssotest.WithIssuerPath("/")) // issuer "http://127.0.0.1:port/"
	iss := idp.Issuer()
	c := New(Config{HTTPClient: idp.HTTPClient()})
	ctx := context.Background()
	if _, err := c.Discover(ctx, iss); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Discover(ctx, iss); err != nil || idp.Requests(ssotest.EndpointDiscovery) != 1 {
		t.Fatalf("the second Discover = %v with %d requests; want it cached", err, idp.Requests(ssotest.EndpointDiscovery))
	}
	// The pasted well-known URL normalises to the issuer without its
	// slash; invalidating it still drops the cached issuer with it.
	c.Invalidate(WellKnownURL(iss))
	idp.SetFaults(ssotest.Faults{ModifyDiscovery: func(d map[string]any) { d["end_session_endpoint"] = "https://logout.example.com/" }})
	m, err := c.Discover(ctx, iss)
	if err != nil || m.EndSessionEndpoint != "https://logout.example.com/" || idp.Requests(ssotest.EndpointDiscovery) != 2 {
		t.Errorf("after Invalidate: %v, %v, %d requests; want a new fetch", m, err, idp.Requests(ssotest.EndpointDiscovery))
	}
	// Another issuer's Invalidate leaves this one cached.
	c.Invalidate("https://other.example.com/")
	if _, err := c.Discover(ctx, iss); err != nil || idp.Requests(ssotest.EndpointDiscovery) != 2 {
		t.Errorf("invalidating another issuer dropped this one: %v, %d requests", err, idp.Requests(ssotest.EndpointDiscovery))
	}
}
