package ssoclient_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// app is an application using ssokit, signed into by a browser, against
// a fake provider.
type app struct {
	t       *testing.T
	idp     *ssotest.Provider
	sso     *ssoclient.Client
	srv     *httptest.Server
	browser *http.Client
	logs    *bytes.Buffer
	logMu   *sync.Mutex
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// newApp starts a provider (signing in as alice unless opts say otherwise)
// and an application configured against it; configure changes the Config.
func newApp(t *testing.T, opts []ssotest.Option, configure func(*ssoclient.Config)) *app {
	t.Helper()
	a := &app{t: t, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	a.idp = ssotest.New(t, append([]ssotest.Option{ssotest.WithLoginUser("alice")}, opts...)...)
	var handler http.Handler = http.NotFoundHandler()
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(a.srv.Close)
	cfg := ssoclient.Config{
		Issuer:       a.idp.Issuer(),
		ClientID:     ssotest.DefaultClientID,
		ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL:  a.srv.URL + "/auth/sso/callback",
		HTTPClient:   a.idp.HTTPClient(),
		Logger:       slog.New(slog.NewTextHandler(lockedWriter{a.logMu, a.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if configure != nil {
		configure(&cfg)
	}
	sso, err := ssoclient.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
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
	mux.Handle("/private/", sso.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "private for "+sso.Identity(r).Subject)
	})))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page "+r.URL.RequestURI()) })
	handler = mux
	a.browser = newBrowser(t, a.idp)
	return a
}

func newBrowser(t *testing.T, idp *ssotest.Provider) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := *idp.HTTPClient()
	c.Jar = jar
	return &c
}

// result is where a browser ended up.
type result struct {
	status int
	url    *url.URL
	body   string
}

func (a *app) get(c *http.Client, path string) result {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Request.URL, string(b)}
}

// signIn runs a whole sign-in in the app's browser.
func (a *app) signIn(returnTo string) result {
	a.t.Helper()
	path := "/auth/sso/login"
	if returnTo != "" {
		path += "?return_to=" + url.QueryEscape(returnTo)
	}
	return a.get(a.browser, path)
}

// signedIn reports who /me says is signed in ("" for nobody).
func (a *app) signedIn() string {
	a.t.Helper()
	resp, err := a.browser.Get(a.srv.URL + "/me")
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	var id ssoclient.Identity
	if err := json.NewDecoder(resp.Body).Decode(&id); err != nil {
		a.t.Fatal(err)
	}
	return id.Subject
}

// wantRefused checks a refused sign-in: the status, the code in the body,
// and that no session exists.
func (a *app) wantRefused(r result, code ssoclient.Code, status int) {
	a.t.Helper()
	if r.status != status || !strings.Contains(r.body, string(code)) {
		a.t.Fatalf("got %d at %s with body %q; want %d naming %s", r.status, r.url.Path, clipBody(r.body), status, code)
	}
	if who := a.signedIn(); who != "" {
		a.t.Fatalf("refused sign-in left a session for %q", who)
	}
}

func clipBody(s string) string {
	if len(s) > 300 {
		return s[:300]
	}
	return s
}

func TestSignIn(t *testing.T) {
	a := newApp(t, nil, nil)
	r := a.signIn("/private/report?x=1")
	if r.status != http.StatusOK || r.body != "private for alice" {
		t.Fatalf("sign-in ended at %s: %d %q", r.url, r.status, r.body)
	}
	if got := r.url.RequestURI(); got != "/private/report?x=1" {
		t.Errorf("returned to %q", got)
	}
	if who := a.signedIn(); who != "alice" {
		t.Errorf("signed in as %q", who)
	}
	authz := a.idp.LastAuthorizeRequest()
	for k, want := range map[string]string{
		"response_type": "code", "client_id": ssotest.DefaultClientID,
		"redirect_uri": a.srv.URL + "/auth/sso/callback", "scope": "openid profile email",
		"code_challenge_method": "S256",
	} {
		if got := authz.Get(k); got != want {
			t.Errorf("authorize %s = %q, want %q", k, got, want)
		}
	}
	for _, k := range []string{"state", "nonce", "code_challenge"} {
		if len(authz.Get(k)) < 43 {
			t.Errorf("authorize %s = %q: not 256 bits", k, authz.Get(k))
		}
	}
	if authz.Get("state") == authz.Get("nonce") {
		t.Errorf("state and nonce are equal")
	}
	// Default auth method: the provider lists client_secret_post.
	if got := a.idp.LastTokenRequest().AuthMethod; got != ssotest.AuthClientSecretPost {
		t.Errorf("auth method %q", got)
	}
}

func TestCookieFlags(t *testing.T) {
	a := newApp(t, nil, nil)
	c := *a.browser
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Get(a.srv.URL + "/auth/sso/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) != 1 {
		t.Fatalf("login set %d cookies", len(cookies))
	}
	ck := cookies[0]
	if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.MaxAge != 600 || ck.Path != "/" {
		t.Errorf("attempt cookie %+v", ck)
	}
	if ck.Secure {
		t.Errorf("attempt cookie is Secure on http")
	}
	if strings.Contains(ck.Value, resp.Header.Get("Location")) || strings.Contains(ck.Value, "nonce") {
		t.Errorf("attempt cookie is not sealed")
	}
}

func TestAuthMethods(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "app"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	tests := []struct {
		name      string
		client    ssotest.Client
		configure func(*ssoclient.Config)
		check     func(t *testing.T, tr *ssotest.TokenRequest, idp *ssotest.Provider)
	}{
		{
			name:   "client_secret_basic",
			client: ssotest.Client{ID: "c", Secret: "s3:cr/t", AuthMethod: ssotest.AuthClientSecretBasic},
			configure: func(c *ssoclient.Config) {
				c.ClientSecret, c.AuthMethod = "s3:cr/t", ssoclient.AuthClientSecretBasic
			},
		},
		{
			name:      "client_secret_post",
			client:    ssotest.Client{ID: "c", Secret: "s", AuthMethod: ssotest.AuthClientSecretPost},
			configure: func(c *ssoclient.Config) { c.ClientSecret, c.AuthMethod = "s", ssoclient.AuthClientSecretPost },
		},
		{
			name:   "private_key_jwt to the token endpoint",
			client: ssotest.Client{ID: "c", AuthMethod: ssotest.AuthPrivateKeyJWT, PublicKey: key.Public(), KeyID: "k1"},
			configure: func(c *ssoclient.Config) {
				c.ClientSecret, c.PrivateKey, c.KeyID = "", key, "k1"
			},
			check: func(t *testing.T, tr *ssotest.TokenRequest, idp *ssotest.Provider) {
				cl := tr.AssertionClaims
				if cl["aud"] != idp.Issuer()+"/token" || cl["iss"] != "c" || cl["sub"] != "c" {
					t.Errorf("assertion claims %v", cl)
				}
				exp, iat := cl["exp"].(float64), cl["iat"].(float64)
				if exp-iat <= 0 || exp-iat > 300 {
					t.Errorf("assertion lives %v seconds", exp-iat)
				}
				if tr.AssertionHeader["alg"] != "RS256" || tr.AssertionHeader["kid"] != "k1" {
					t.Errorf("assertion header %v", tr.AssertionHeader)
				}
				if tr.Form.Has("client_secret") {
					t.Errorf("a secret was sent with private_key_jwt")
				}
			},
		},
		{
			name:   "private_key_jwt to the issuer, with a certificate",
			client: ssotest.Client{ID: "c", AuthMethod: ssotest.AuthPrivateKeyJWT, PublicKey: key.Public()},
			configure: func(c *ssoclient.Config) {
				c.ClientSecret, c.PrivateKey, c.Certificate = "", key, cert
				c.AssertionAudience = ssoclient.AudienceIssuer
			},
			check: func(t *testing.T, tr *ssotest.TokenRequest, idp *ssotest.Provider) {
				if tr.AssertionClaims["aud"] != idp.Issuer() {
					t.Errorf("aud = %v", tr.AssertionClaims["aud"])
				}
				if tr.AssertionHeader["x5t"] == nil || tr.AssertionHeader["x5t#S256"] == nil {
					t.Errorf("no thumbprints in %v", tr.AssertionHeader)
				}
			},
		},
		{
			name:      "none, a public client with PKCE",
			client:    ssotest.Client{ID: "c", AuthMethod: ssotest.AuthNone},
			configure: func(c *ssoclient.Config) { c.ClientSecret = "" },
			check: func(t *testing.T, tr *ssotest.TokenRequest, _ *ssotest.Provider) {
				if tr.Form.Get("code_verifier") == "" || tr.Header.Get("Authorization") != "" {
					t.Errorf("public client request %v", tr.Form)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, []ssotest.Option{ssotest.WithClient(tt.client)}, func(c *ssoclient.Config) {
				c.ClientID = tt.client.ID
				tt.configure(c)
			})
			if r := a.signIn(""); r.status != 200 || a.signedIn() != "alice" {
				t.Fatalf("sign-in: %d %q", r.status, clipBody(r.body))
			}
			tr := a.idp.LastTokenRequest()
			if tr.AuthMethod != tt.client.AuthMethod {
				t.Errorf("provider saw %q", tr.AuthMethod)
			}
			if tt.check != nil {
				tt.check(t, tr, a.idp)
			}
		})
	}
}

func TestAutoAuthMethod(t *testing.T) {
	only := func(methods ...string) ssotest.Option {
		return ssotest.WithFaults(ssotest.Faults{ModifyDiscovery: func(d map[string]any) {
			d["token_endpoint_auth_methods_supported"] = methods
		}})
	}
	a := newApp(t, []ssotest.Option{only("client_secret_basic")}, nil)
	if a.sso.AuthMethod() != ssoclient.AuthClientSecretBasic {
		t.Errorf("basic-only provider: %s", a.sso.AuthMethod())
	}
	if r := a.signIn(""); r.status != 200 {
		t.Fatalf("%d %s", r.status, clipBody(r.body))
	}
	// A method the provider does not list still works when pinned.
	a = newApp(t, []ssotest.Option{only("client_secret_basic")}, func(c *ssoclient.Config) { c.AuthMethod = ssoclient.AuthClientSecretPost })
	if r := a.signIn(""); r.status != 200 || a.idp.LastTokenRequest().AuthMethod != ssotest.AuthClientSecretPost {
		t.Fatalf("pinned post: %d %s", r.status, clipBody(r.body))
	}
}

// TestRefusals runs one misbehaviour of the provider at a time, and checks
// the sign-in is refused with the right code and leaves no session.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name   string
		faults ssotest.Faults
		code   ssoclient.Code
		status int
	}{
		{"wrong issuer in the ID token", ssotest.Faults{IDTokenIssuer: "https://evil.example"}, ssoclient.CodeIssuerMismatch, 400},
		{"bad signature", ssotest.Faults{BadSignature: true}, ssoclient.CodeIDTokenInvalid, 400},
		{"alg none", ssotest.Faults{AlgNone: true}, ssoclient.CodeIDTokenInvalid, 400},
		{"expired", ssotest.Faults{TimeShift: -2 * time.Hour}, ssoclient.CodeIDTokenInvalid, 400},
		{"issued in the future", ssotest.Faults{TimeShift: time.Hour}, ssoclient.CodeIDTokenInvalid, 400},
		{"wrong nonce", ssotest.Faults{Nonce: "not-the-nonce"}, ssoclient.CodeNonceMismatch, 400},
		{"no nonce", ssotest.Faults{OmitClaims: []string{"nonce"}}, ssoclient.CodeNonceMismatch, 400},
		{"wrong audience", ssotest.Faults{IDTokenAudience: []string{"another-client"}}, ssoclient.CodeIDTokenInvalid, 400},
		{"untrusted extra audience", ssotest.Faults{IDTokenAudience: []string{ssotest.DefaultClientID, "another-client"}}, ssoclient.CodeIDTokenInvalid, 400},
		{"wrong azp", ssotest.Faults{ModifyIDToken: func(_, c map[string]any) { c["azp"] = "another-client" }}, ssoclient.CodeIDTokenInvalid, 400},
		{"no exp", ssotest.Faults{OmitClaims: []string{"exp"}}, ssoclient.CodeIDTokenInvalid, 400},
		{"no iat", ssotest.Faults{OmitClaims: []string{"iat"}}, ssoclient.CodeIDTokenInvalid, 400},
		{"no sub", ssotest.Faults{OmitClaims: []string{"sub"}}, ssoclient.CodeIDTokenInvalid, 400},
		{"wrong at_hash", ssotest.Faults{ModifyIDToken: func(_, c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }}, ssoclient.CodeIDTokenInvalid, 400},
		{"typ of an access token", ssotest.Faults{ModifyIDToken: func(h, _ map[string]any) { h["typ"] = "at+jwt" }}, ssoclient.CodeIDTokenInvalid, 400},
		{"unknown crit header", ssotest.Faults{ModifyIDToken: func(h, _ map[string]any) { h["crit"] = []string{"urn:x"}; h["urn:x"] = 1 }}, ssoclient.CodeIDTokenInvalid, 400},
		{"HS256 header", ssotest.Faults{ModifyIDToken: func(h, _ map[string]any) { h["alg"] = "HS256" }}, ssoclient.CodeIDTokenInvalid, 400},
		{"unknown kid", ssotest.Faults{ModifyIDToken: func(h, _ map[string]any) { h["kid"] = "no-such-key" }}, ssoclient.CodeIDTokenInvalid, 400},
		{"no ID token", ssotest.Faults{OmitIDToken: true}, ssoclient.CodeIDTokenInvalid, 400},
		{"userinfo about someone else", ssotest.Faults{ThinIDToken: true, UserinfoSubject: "mallory"}, ssoclient.CodeUserinfoInvalid, 400},
		{"email not verified", ssotest.Faults{UnverifiedEmail: true}, ssoclient.CodeEmailNotVerified, 403},
		{"invalid_grant", ssotest.Faults{TokenError: "invalid_grant"}, ssoclient.CodeInvalidGrant, 400},
		{"invalid_client", ssotest.Faults{TokenError: "invalid_client"}, ssoclient.CodeInvalidClient, 400},
		{"access_denied", ssotest.Faults{AuthorizeError: "access_denied"}, ssoclient.CodeAccessDenied, 403},
		{"other authorization error", ssotest.Faults{AuthorizeError: "temporarily_unavailable"}, ssoclient.CodeProviderError, 400},
		{"RFC 9207 iss of another issuer", ssotest.Faults{IssParameter: "https://evil.example"}, ssoclient.CodeIssuerMismatch, 400},
		{"RFC 9207 iss missing", ssotest.Faults{OmitIssParameter: true}, ssoclient.CodeIssuerMismatch, 400},
		{"token endpoint 500", ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointToken: 500}}, ssoclient.CodeProviderUnavailable, 502},
		{"token endpoint garbage", ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointToken: `{"access_token":`}}, ssoclient.CodeProviderUnavailable, 502},
		{"token_type not Bearer", ssotest.Faults{TokenType: "DPoP"}, ssoclient.CodeProviderUnavailable, 502},
		{"JWKS unavailable", ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointJWKS: 503}}, ssoclient.CodeProviderUnavailable, 502},
		{"userinfo unavailable", ssotest.Faults{ThinIDToken: true, Status: map[ssotest.Endpoint]int{ssotest.EndpointUserinfo: 500}}, ssoclient.CodeProviderUnavailable, 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, nil, nil)
			a.idp.SetFaults(tt.faults)
			a.wantRefused(a.signIn(""), tt.code, tt.status)
		})
	}
}

func TestSlowProviderIsBounded(t *testing.T) {
	for _, e := range []ssotest.Endpoint{ssotest.EndpointToken, ssotest.EndpointJWKS} {
		t.Run(string(e), func(t *testing.T) {
			a := newApp(t, nil, func(c *ssoclient.Config) { c.Timeout = 200 * time.Millisecond })
			a.idp.SetFaults(ssotest.Faults{Delay: map[ssotest.Endpoint]time.Duration{e: time.Minute}})
			start := time.Now()
			a.wantRefused(a.signIn(""), ssoclient.CodeProviderTimeout, 504)
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestAttemptRefusals(t *testing.T) {
	shared := newApp(t, nil, nil)
	// fresh gives each case its own browser (cookie jar) and its own t, so
	// one case's sign-in or failure does not leak into the next.
	fresh := func(t *testing.T) *app {
		b := *shared
		b.t = t
		b.browser = newBrowser(t, shared.idp)
		return &b
	}
	// callbackURL starts a sign-in in a's browser and returns the
	// provider's redirect to the callback, without following it.
	callbackURL := func(a *app) string {
		a.t.Helper()
		noFollow := *a.browser
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := noFollow.Get(a.srv.URL + "/auth/sso/login")
		if err != nil {
			a.t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = noFollow.Get(resp.Header.Get("Location"))
		if err != nil {
			a.t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header.Get("Location")
	}

	t.Run("replayed callback", func(t *testing.T) {
		a := fresh(t)
		cb := callbackURL(a)
		// Keep the attempt cookie to replay it with the callback.
		u, _ := url.Parse(a.srv.URL)
		saved := a.browser.Jar.Cookies(u)
		if r := a.get(a.browser, strings.TrimPrefix(cb, a.srv.URL)); r.status != 200 {
			t.Fatalf("first callback: %d %s", r.status, clipBody(r.body))
		}
		other := fresh(t)
		other.browser.Jar.SetCookies(u, saved)
		other.wantRefused(other.get(other.browser, strings.TrimPrefix(cb, a.srv.URL)), ssoclient.CodeAttemptReplayed, 400)
	})
	t.Run("callback in another browser", func(t *testing.T) {
		cb := callbackURL(fresh(t))
		b := fresh(t)
		b.wantRefused(b.get(b.browser, strings.TrimPrefix(cb, b.srv.URL)), ssoclient.CodeStateInvalid, 400)
	})
	t.Run("state changed", func(t *testing.T) {
		a := fresh(t)
		cb, _ := url.Parse(callbackURL(a))
		q := cb.Query()
		q.Set("state", q.Get("state")[:16]+strings.Repeat("A", 27))
		cb.RawQuery = q.Encode()
		a.wantRefused(a.get(a.browser, cb.RequestURI()), ssoclient.CodeStateInvalid, 400)
	})
	t.Run("no state", func(t *testing.T) {
		a := fresh(t)
		a.wantRefused(a.get(a.browser, "/auth/sso/callback?code=x"), ssoclient.CodeStateInvalid, 400)
	})
	t.Run("tampered cookie", func(t *testing.T) {
		a := fresh(t)
		cb := callbackURL(a)
		u, _ := url.Parse(a.srv.URL)
		for _, ck := range a.browser.Jar.Cookies(u) {
			if strings.HasPrefix(ck.Name, "ssokit-a-") {
				tampered := ck.Value[:len(ck.Value)-2] + "AA"
				if tampered == ck.Value {
					tampered = ck.Value[:len(ck.Value)-2] + "QQ"
				}
				ck.Value = tampered
				a.browser.Jar.SetCookies(u, []*http.Cookie{ck})
			}
		}
		a.wantRefused(a.get(a.browser, strings.TrimPrefix(cb, a.srv.URL)), ssoclient.CodeStateInvalid, 400)
	})
	t.Run("code missing", func(t *testing.T) {
		a := fresh(t)
		cb, _ := url.Parse(callbackURL(a))
		q := cb.Query()
		q.Del("code")
		cb.RawQuery = q.Encode()
		a.wantRefused(a.get(a.browser, cb.RequestURI()), ssoclient.CodeInvalidRequest, 400)
	})
}

func TestAttemptExpires(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	a := newApp(t, nil, func(c *ssoclient.Config) { c.Now = clock })
	noFollow := *a.browser
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(a.srv.URL + "/auth/sso/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = noFollow.Get(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	now = now.Add(ssoclient.AttemptLifetime + time.Second)
	mu.Unlock()
	a.wantRefused(a.get(a.browser, strings.TrimPrefix(resp.Header.Get("Location"), a.srv.URL)), ssoclient.CodeAttemptExpired, 400)
}

func TestTwoTabs(t *testing.T) {
	a := newApp(t, nil, nil)
	noFollow := *a.browser
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var callbacks []string
	for _, ret := range []string{"/one", "/two"} {
		resp, err := noFollow.Get(a.srv.URL + "/auth/sso/login?return_to=" + ret)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		resp, err = noFollow.Get(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		callbacks = append(callbacks, resp.Header.Get("Location"))
	}
	// Both tabs finish, in the other order.
	for i, want := range []string{"/two", "/one"} {
		r := a.get(a.browser, strings.TrimPrefix(callbacks[1-i], a.srv.URL))
		if r.status != 200 || r.url.Path != want {
			t.Fatalf("tab %s: %d at %s: %s", want, r.status, r.url, clipBody(r.body))
		}
	}
}

func TestReturnToStaysLocal(t *testing.T) {
	a := newApp(t, nil, nil)
	for _, bad := range []string{
		"https://evil.example/", "//evil.example/", "/\\evil.example/", "/%2F/evil.example", "/%5Cevil.example",
		"javascript:alert(1)", "evil.example", "/\t/evil.example", "http:/evil.example", "",
	} {
		r := a.signIn(bad)
		if r.status != 200 || r.url.Host != strings.TrimPrefix(a.srv.URL, "http://") || r.url.Path != "/" {
			t.Errorf("return_to %q ended at %s", bad, r.url)
		}
	}
	if r := a.signIn("/ok/path?q=1#frag"); r.url.RequestURI() != "/ok/path?q=1" {
		t.Errorf("a local return_to ended at %s", r.url)
	}
}

func TestSessionFixation(t *testing.T) {
	a := newApp(t, nil, nil)
	u, _ := url.Parse(a.srv.URL)
	a.browser.Jar.SetCookies(u, []*http.Cookie{{Name: "ssokit-session", Value: "attacker-chosen-id", Path: "/"}})
	a.signIn("")
	for _, ck := range a.browser.Jar.Cookies(u) {
		if ck.Name == "ssokit-session" && ck.Value == "attacker-chosen-id" {
			t.Fatalf("the session kept the id the browser brought")
		}
	}
	if a.signedIn() != "alice" {
		t.Fatalf("not signed in")
	}
}

func TestRequireLogin(t *testing.T) {
	a := newApp(t, nil, nil)
	noFollow := *a.browser
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/private/x?y=1", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/auth/sso/login?return_to=%2Fprivate%2Fx%3Fy%3D1" {
		t.Errorf("browser: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ = http.NewRequest(http.MethodGet, a.srv.URL+"/private/x", nil)
	req.Header.Set("Accept", "application/json")
	resp, err = noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || body["error"] != "login_required" {
		t.Errorf("API: %d %v", resp.StatusCode, body)
	}
	// And through the whole loop, the browser ends where it was going.
	r := a.get(a.browser, "/private/x?y=1")
	if r.status != 200 || r.url.RequestURI() != "/private/x?y=1" {
		t.Errorf("after sign-in: %d at %s", r.status, r.url)
	}
}

func TestLogout(t *testing.T) {
	a := newApp(t, []ssotest.Option{ssotest.WithClient(ssotest.Client{
		ID: "c", Secret: "s", PostLogoutRedirectURIs: nil,
	})}, func(c *ssoclient.Config) { c.ClientID, c.ClientSecret = "c", "s" })
	a.signIn("")
	post := func(origin string) result {
		req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/auth/sso/logout", nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := a.browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return result{resp.StatusCode, resp.Request.URL, string(b)}
	}
	for _, origin := range []string{"", "https://evil.example", "null"} {
		if r := post(origin); r.status != http.StatusForbidden || !strings.Contains(r.body, "origin_invalid") {
			t.Errorf("origin %q: %d", origin, r.status)
		}
		if a.signedIn() != "alice" {
			t.Fatalf("a cross-origin logout signed alice out")
		}
	}
	r := post(a.srv.URL)
	if r.status != 200 || a.signedIn() != "" {
		t.Fatalf("logout: %d at %s; signed in: %q", r.status, r.url, a.signedIn())
	}
	es := a.idp.LastEndSessionRequest()
	if es.Get("client_id") != "c" || es.Get("post_logout_redirect_uri") != a.srv.URL+"/" || es.Get("id_token_hint") == "" || es.Get("state") == "" {
		t.Errorf("end_session request %v", es)
	}
	if r.url.String() != a.srv.URL+"/?state="+es.Get("state") {
		t.Errorf("ended at %s", r.url)
	}
}

func TestLogoutWithoutEndSession(t *testing.T) {
	a := newApp(t, []ssotest.Option{ssotest.WithFaults(ssotest.Faults{ModifyDiscovery: func(d map[string]any) {
		delete(d, "end_session_endpoint")
	}})}, func(c *ssoclient.Config) { c.PostLogoutRedirectURL = "/bye" })
	a.signIn("")
	req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/auth/sso/logout", nil)
	req.Header.Set("Referer", a.srv.URL+"/some/page")
	resp, err := a.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Request.URL.Path != "/bye" || a.signedIn() != "" {
		t.Errorf("ended at %s", resp.Request.URL)
	}
	if a.idp.Requests(ssotest.EndpointEndSession) != 0 {
		t.Errorf("end_session was called")
	}
}

func TestRealProviderQuirks(t *testing.T) {
	tests := []struct {
		name string
		opts []ssotest.Option
	}{
		{"issuer with a path", []ssotest.Option{ssotest.WithIssuerPath("/tenant-1/v2.0")}},
		{"issuer with a trailing slash", []ssotest.Option{ssotest.WithIssuerPath("/")}},
		{"ID token with only protocol claims", []ssotest.Option{ssotest.WithFaults(ssotest.Faults{ThinIDToken: true})}},
		{"token_type in lower case", []ssotest.Option{ssotest.WithFaults(ssotest.Faults{TokenType: "bearer"})}},
		{"aud as an array", []ssotest.Option{ssotest.WithFaults(ssotest.Faults{IDTokenAudience: []string{ssotest.DefaultClientID, ssotest.DefaultClientID}})}},
		{"no iss parameter, not advertised", []ssotest.Option{ssotest.WithFaults(ssotest.Faults{OmitIssParameter: true, ModifyDiscovery: func(d map[string]any) {
			delete(d, "authorization_response_iss_parameter_supported")
		}})}},
		{"no userinfo endpoint", []ssotest.Option{ssotest.WithFaults(ssotest.Faults{ModifyDiscovery: func(d map[string]any) { delete(d, "userinfo_endpoint") }})}},
		{"ES256 keys", []ssotest.Option{ssotest.WithSigningAlg("ES256")}},
		{"PS256 keys", []ssotest.Option{ssotest.WithSigningAlg("PS256")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, tt.opts, nil)
			if r := a.signIn(""); r.status != 200 {
				t.Fatalf("%d %s", r.status, clipBody(r.body))
			}
			resp, err := a.browser.Get(a.srv.URL + "/me")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var id ssoclient.Identity
			_ = json.NewDecoder(resp.Body).Decode(&id)
			if id.Subject != "alice" || id.Email != "alice@example.com" || id.Issuer != a.idp.Issuer() {
				t.Errorf("identity %+v", id)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	a := newApp(t, nil, nil)
	if a.signIn(""); a.signedIn() != "alice" {
		t.Fatal("first sign-in failed")
	}
	a.idp.RotateKeys(0)
	a.browser = newBrowser(t, a.idp)
	if r := a.signIn(""); r.status != 200 || a.signedIn() != "alice" {
		t.Fatalf("after rotation: %d %s", r.status, clipBody(r.body))
	}
	if n := a.idp.Requests(ssotest.EndpointJWKS); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (cold, then the new kid)", n)
	}
}

func TestOnLogin(t *testing.T) {
	t.Run("refuses", func(t *testing.T) {
		a := newApp(t, nil, func(c *ssoclient.Config) {
			c.OnLogin = func(w http.ResponseWriter, r *http.Request, l *ssoclient.Login) error {
				return errors.New("not today")
			}
		})
		a.wantRefused(a.signIn(""), ssoclient.CodeLoginRefused, 403)
	})
	t.Run("takes over", func(t *testing.T) {
		var got *ssoclient.Login
		a := newApp(t, nil, func(c *ssoclient.Config) {
			c.OnLogin = func(w http.ResponseWriter, r *http.Request, l *ssoclient.Login) error {
				got = l
				http.SetCookie(w, &http.Cookie{Name: "app-session", Value: "mine", Path: "/"})
				http.Redirect(w, r, "/app-home", http.StatusFound)
				return nil
			}
		})
		r := a.signIn("/wanted")
		if r.url.Path != "/app-home" || got == nil || got.ReturnTo != "/wanted" || got.Identity.Subject != "alice" || got.IDToken == "" {
			t.Fatalf("ended at %s with login %+v", r.url, got)
		}
		if a.signedIn() != "" {
			t.Errorf("ssokit started a session although OnLogin took over")
		}
	})
	t.Run("changes return_to", func(t *testing.T) {
		a := newApp(t, nil, func(c *ssoclient.Config) {
			c.OnLogin = func(w http.ResponseWriter, r *http.Request, l *ssoclient.Login) error {
				l.ReturnTo = "/welcome"
				return nil
			}
		})
		if r := a.signIn("/x"); r.url.Path != "/welcome" || a.signedIn() != "alice" {
			t.Fatalf("ended at %s", r.url)
		}
	})
}

func TestJSONErrors(t *testing.T) {
	a := newApp(t, nil, nil)
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/auth/sso/callback?state=nope&code=x", nil)
	req.Header.Set("Accept", "application/json")
	resp, err := a.browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]string
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || body["error"] != "state_invalid" || body["error_description"] == "" {
		t.Errorf("%d %v", resp.StatusCode, body)
	}
}

func TestErrorHandler(t *testing.T) {
	var got *ssoclient.Error
	a := newApp(t, nil, func(c *ssoclient.Config) {
		c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err *ssoclient.Error) {
			got = err
			http.Error(w, "custom "+string(err.Code), err.Status)
		}
	})
	a.idp.SetFaults(ssotest.Faults{Nonce: "x"})
	r := a.signIn("")
	if r.body != "custom nonce_mismatch\n" || got == nil || !errors.Is(got, &ssoclient.Error{Code: ssoclient.CodeNonceMismatch}) {
		t.Errorf("%d %q", r.status, r.body)
	}
}

func TestNewFailsFast(t *testing.T) {
	idp := ssotest.New(t)
	base := ssoclient.Config{
		Issuer: idp.Issuer(), ClientID: "c", ClientSecret: "s",
		RedirectURL: "http://127.0.0.1:1/auth/sso/callback", HTTPClient: idp.HTTPClient(), Timeout: time.Second,
	}
	key1024, _ := rsa.GenerateKey(rand.Reader, 1024)
	tests := []struct {
		name   string
		change func(*ssoclient.Config)
		faults ssotest.Faults
		code   ssoclient.Code
	}{
		{"no issuer", func(c *ssoclient.Config) { c.Issuer = "" }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"no client id", func(c *ssoclient.Config) { c.ClientID = "" }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"relative redirect", func(c *ssoclient.Config) { c.RedirectURL = "/auth/sso/callback" }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"http redirect off loopback", func(c *ssoclient.Config) { c.RedirectURL = "http://app.example.com/cb" }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"basic without secret", func(c *ssoclient.Config) { c.ClientSecret, c.AuthMethod = "", ssoclient.AuthClientSecretBasic }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"private_key_jwt without key", func(c *ssoclient.Config) { c.AuthMethod = ssoclient.AuthPrivateKeyJWT }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"weak private key", func(c *ssoclient.Config) { c.PrivateKey = key1024 }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"none with a secret", func(c *ssoclient.Config) { c.AuthMethod = ssoclient.AuthNone }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"unknown auth method", func(c *ssoclient.Config) { c.AuthMethod = "magic" }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"HS256 allowed", func(c *ssoclient.Config) { c.Algorithms = []string{"HS256"} }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"short cookie key", func(c *ssoclient.Config) { c.CookieKeys = []ssoclient.Secret{"short"} }, ssotest.Faults{}, ssoclient.CodeConfigInvalid},
		{"discovery names another issuer", nil, ssotest.Faults{DiscoveryIssuer: "https://evil.example"}, ssoclient.CodeIssuerMismatch},
		{"discovery fails", nil, ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointDiscovery: 500}}, ssoclient.CodeDiscoveryFailed},
		{"discovery is garbage", nil, ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointDiscovery: "<html>"}}, ssoclient.CodeDiscoveryFailed},
		{"discovery is slow", nil, ssotest.Faults{Delay: map[ssotest.Endpoint]time.Duration{ssotest.EndpointDiscovery: time.Minute}}, ssoclient.CodeProviderTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			idp.SetFaults(tt.faults)
			defer idp.SetFaults(ssotest.Faults{})
			cfg := base
			if tt.change != nil {
				tt.change(&cfg)
			}
			_, err := ssoclient.New(context.Background(), cfg)
			var e *ssoclient.Error
			if !errors.As(err, &e) || e.Code != tt.code {
				t.Fatalf("err = %v, want code %s", err, tt.code)
			}
		})
	}
}

func TestExplicitEndpointsWithoutDiscovery(t *testing.T) {
	idp := ssotest.New(t, ssotest.WithLoginUser("alice"))
	doc := idp.Discovery()
	idp.SetFaults(ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointDiscovery: 404}})
	a := newApp(t, nil, func(c *ssoclient.Config) {
		// Point this app at the first provider, whose discovery is gone.
		c.Issuer, c.HTTPClient = idp.Issuer(), idp.HTTPClient()
		c.Endpoints = ssoclient.Endpoints{
			Authorization: doc["authorization_endpoint"].(string),
			Token:         doc["token_endpoint"].(string),
			JWKS:          doc["jwks_uri"].(string),
			Userinfo:      doc["userinfo_endpoint"].(string),
		}
	})
	a.idp = idp
	if r := a.signIn(""); r.status != 200 || a.signedIn() != "alice" {
		t.Fatalf("%d %s", r.status, clipBody(r.body))
	}
}

func TestSecretsStayOut(t *testing.T) {
	const secret = "very-secret-value-1234"
	cfg := ssoclient.Config{ClientSecret: secret, CookieKeys: []ssoclient.Secret{secret + secret}}
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
		if s := sprintf(format, cfg); strings.Contains(s, secret) || strings.Contains(s, "76657279") {
			t.Errorf("%s prints the secret: %s", format, s)
		}
	}
	b, _ := json.Marshal(cfg)
	if strings.Contains(string(b), secret) {
		t.Errorf("JSON carries the secret")
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("cfg", "secret", cfg.ClientSecret, "cfg", cfg)
	if strings.Contains(logged.String(), secret) {
		t.Errorf("slog carries the secret: %s", logged.String())
	}

	// A whole sign-in, success and failure, logs no secret, code or token.
	a := newApp(t, nil, nil)
	a.signIn("")
	a.idp.SetFaults(ssotest.Faults{Nonce: "x"})
	a.browser = newBrowser(t, a.idp)
	a.signIn("")
	authz := a.idp.LastAuthorizeRequest()
	tr := a.idp.LastTokenRequest()
	a.logMu.Lock()
	logs := a.logs.String()
	a.logMu.Unlock()
	for name, v := range map[string]string{
		"client secret": ssotest.DefaultClientSecret, "state": authz.Get("state"), "nonce": authz.Get("nonce"),
		"code": tr.Form.Get("code"), "verifier": tr.Form.Get("code_verifier"),
	} {
		if v != "" && strings.Contains(logs, v) {
			t.Errorf("the logs carry the %s", name)
		}
	}
	if s := sprintf("%v %#v %+v", a.sso, a.sso, *a.sso); strings.Contains(s, ssotest.DefaultClientSecret) {
		t.Errorf("the Client prints its secret: %s", s)
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
