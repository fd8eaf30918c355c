package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness runs the app behind httptest with a SQLite file of its own.
type harness struct {
	t    *testing.T
	app  *app
	srv  *httptest.Server
	base string
	db   string
	out  *syncBuffer // what the app prints for the person who started it
	logs *syncBuffer
}

func newHarness(t *testing.T, dbPath string) *harness {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	h := &harness{t: t, srv: srv, db: dbPath, base: "http://" + srv.Listener.Addr().String(), out: &syncBuffer{}, logs: &syncBuffer{}}
	a, err := newApp(context.Background(), options{
		DBPath:  dbPath,
		BaseURL: h.base,
		Out:     h.out,
		Logger:  slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		srv.Listener.Close()
		t.Fatalf("newApp: %v", err)
	}
	h.app = a
	srv.Config.Handler = a
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return h
}

func newTestApp(t *testing.T) *harness {
	return newHarness(t, filepath.Join(t.TempDir(), "multitenant.db"))
}

func (h *harness) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

type result struct {
	status int
	url    *url.URL
	header http.Header
	body   string
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("%d %s: not a JSON object: %v", r.status, r.body, err)
	}
	return m
}

// do sends a request as the browser b would from the app's own pages
// (Origin set on state-changing requests unless origin is false).
func (h *harness) do(b *http.Client, method, path string, body io.Reader, contentType string, origin bool) result {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if strings.HasPrefix(path, "/admin/api/") {
		req.Header.Set("Accept", "application/json")
	}
	if origin && method != http.MethodGet {
		req.Header.Set("Origin", h.base)
	}
	resp, err := b.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: string(rb)}
}

func (h *harness) get(b *http.Client, path string) result {
	h.t.Helper()
	return h.do(b, http.MethodGet, path, nil, "", true)
}

func (h *harness) api(b *http.Client, method, path string, v any) result {
	h.t.Helper()
	var body io.Reader
	ct := ""
	if v != nil {
		j, err := json.Marshal(v)
		if err != nil {
			h.t.Fatal(err)
		}
		body, ct = bytes.NewReader(j), "application/json"
	}
	return h.do(b, method, path, body, ct, true)
}

// signIn signs a new browser in with the login query; it must land home.
func (h *harness) signIn(query string) *http.Client {
	h.t.Helper()
	b := h.browser()
	if r := h.get(b, "/auth/sso/login?"+query); r.status != 200 || r.url.Path != "/" || !strings.Contains(r.body, "Signed in as") {
		h.t.Fatalf("sign-in %s: %d at %s: %s", query, r.status, r.url, clip(r.body))
	}
	return b
}

// refused checks a response is the failure code with its status.
func (h *harness) refused(r result, status int, code ssoclient.Code) {
	h.t.Helper()
	if r.status != status || !strings.Contains(r.body, string(code)) {
		h.t.Fatalf("got %d at %s: %s; want %d %s", r.status, r.url, clip(r.body), status, code)
	}
}

// session returns the browser's session.
func (h *harness) session(b *http.Client) *ssoclient.Session {
	u, _ := url.Parse(h.base)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range b.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	return h.app.sso.Session(req)
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

func TestSeededProfilesAndSecretKey(t *testing.T) {
	h := newTestApp(t)
	admin := h.signIn("profile=acme-okta&login_hint=alice")
	r := h.get(admin, "/admin/api/profiles")
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var ps []ssoclient.Profile
	if err := json.Unmarshal([]byte(r.body), &ps); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range ps {
		got[p.ID] = p.Organization + " " + string(p.AuthMethod) + " " + p.Policy.Mode.String()
		if !p.Enabled || p.Vendor != "oidc" {
			t.Errorf("%s: enabled %v vendor %q", p.ID, p.Enabled, p.Vendor)
		}
	}
	want := map[string]string{
		"acme-okta":        "acme client_secret_post jit",
		"acme-contractors": "acme private_key_jwt match",
		"globex-entra":     "globex none jit",
	}
	if len(got) != len(want) {
		t.Fatalf("profiles %v; want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q; want %q", id, got[id], w)
		}
	}
	if strings.Contains(r.body, acmeOktaSecret) || strings.Contains(r.body, "PRIVATE KEY") {
		t.Fatalf("a secret in the list: %s", r.body)
	}

	// The generated key is next to the database, readable by its owner only.
	fi, err := os.Stat(h.db + ".secret-key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file: %v %v", fi, err)
	}
	if !strings.Contains(h.out.String(), "secret key: generated and written to "+h.db+".secret-key") {
		t.Fatalf("stdout does not say where the key is: %s", h.out)
	}
}

func TestSignInThroughEachAuthMethod(t *testing.T) {
	h := newTestApp(t)

	// Match-only: alice was not invited and has no account yet.
	h.refused(h.get(h.browser(), "/auth/sso/login?profile=acme-contractors&login_hint=alice"), 403, ssoclient.CodeProvisioningDisabled)

	// client_secret_post, JIT: alice's user is created.
	alice := h.signIn("profile=acme-okta&login_hint=alice")
	s := h.session(alice)
	if s == nil || s.Profile != "acme-okta" || s.Identity.Email != "alice@example.com" || s.UserID == "" {
		t.Fatalf("alice's session: %+v", s)
	}
	tr := h.app.idps[acmeOkta].LastTokenRequest()
	if tr.AuthMethod != "client_secret_post" || tr.Form.Get("client_secret") != acmeOktaSecret || tr.Form.Get("code_verifier") == "" {
		t.Fatalf("acme-okta token request: %s, verifier %q", tr.AuthMethod, tr.Form.Get("code_verifier"))
	}

	// private_key_jwt, match-only: bob was invited, so he signs in as the
	// invited user.
	bob := h.signIn("profile=acme-contractors&login_hint=bob")
	inv, err := h.app.store.Directory().UserByEmail(context.Background(), invited.Email)
	if err != nil {
		t.Fatal(err)
	}
	if s := h.session(bob); s == nil || s.UserID != inv.ID || s.Profile != "acme-contractors" {
		t.Fatalf("bob's session %+v; want the invited user %s", s, inv.ID)
	}
	tr = h.app.idps[acmeContractors].LastTokenRequest()
	if tr.AuthMethod != "private_key_jwt" || tr.AssertionClaims["iss"] != "acme-contractors-app" || tr.AssertionHeader["kid"] == nil {
		t.Fatalf("acme-contractors token request: %s %v %v", tr.AuthMethod, tr.AssertionHeader, tr.AssertionClaims)
	}
	if tr.Form.Get("client_secret") != "" {
		t.Fatal("a client secret was sent with private_key_jwt")
	}

	// none: a public client, PKCE only.
	carol := h.signIn("profile=globex-entra&login_hint=carol@contoso.onmicrosoft.com")
	if s := h.session(carol); s == nil || s.Profile != "globex-entra" || s.Identity.Name != "Carol Contoso" {
		t.Fatalf("carol's session %+v", s)
	}
	ar := h.app.idps[globexEntra].LastAuthorizeRequest()
	tr = h.app.idps[globexEntra].LastTokenRequest()
	if ar.Get("code_challenge_method") != "S256" || ar.Get("code_challenge") == "" || tr.AuthMethod != "none" || tr.Form.Get("code_verifier") == "" || tr.Header.Get("Authorization") != "" {
		t.Fatalf("globex-entra: authorize %v, token %s %v", ar, tr.AuthMethod, tr.Form)
	}

	// The policies refuse, each with its code and no session.
	for _, c := range []struct {
		query  string
		status int
		code   ssoclient.Code
	}{
		// Allowed domains example.com: carol's UPN is not there.
		{"profile=acme-okta&login_hint=carol@contoso.onmicrosoft.com", 403, ssoclient.CodeDomainNotAllowed},
		// email_verified false.
		{"profile=globex-entra&login_hint=dave", 403, ssoclient.CodeEmailNotVerified},
	} {
		b := h.browser()
		h.refused(h.get(b, "/auth/sso/login?"+c.query), c.status, c.code)
		if h.session(b) != nil {
			t.Fatalf("%s: refused but a session started", c.query)
		}
	}
	if r := h.get(carol, "/"); !strings.Contains(r.body, "Carol Contoso") {
		t.Fatalf("home page: %s", clip(r.body))
	}
}

func TestHomeRealmDiscovery(t *testing.T) {
	h := newTestApp(t)
	// One profile for the domain: straight to it (and the email is the
	// login_hint, so the fake provider approves carol at once).
	carol := h.signIn("email=carol@contoso.onmicrosoft.com")
	if s := h.session(carol); s == nil || s.Profile != "globex-entra" {
		t.Fatalf("carol's session %+v", s)
	}
	// Two profiles for example.com: the picker, with both and only them.
	r := h.get(h.browser(), "/auth/sso/login?email=alice@example.com")
	if r.status != 200 || !strings.Contains(r.body, "profile=acme-okta") || !strings.Contains(r.body, "profile=acme-contractors") ||
		strings.Contains(r.body, "globex") || !strings.Contains(r.body, "Contractors (invited only)") {
		t.Fatalf("picker for example.com: %d %s", r.status, clip(r.body))
	}
	// One organisation's picker.
	r = h.get(h.browser(), "/auth/sso/login?org=globex")
	if r.status != 200 || !strings.Contains(r.body, "profile=globex-entra") || strings.Contains(r.body, "acme-okta") {
		t.Fatalf("picker for globex: %d %s", r.status, clip(r.body))
	}
	// No profile for the domain.
	h.refused(h.get(h.browser(), "/auth/sso/login?email=someone@nowhere.test"), 404, ssoclient.CodeProfileNotFound)
	// The unverified dave is sent to Globex and refused there.
	h.refused(h.get(h.browser(), "/auth/sso/login?email=dave@example.org"), 403, ssoclient.CodeEmailNotVerified)
}

// newIdP starts a provider the test owns, with a client for the app.
func (h *harness) newIdP(c ssotest.Client) *ssotest.Provider {
	h.t.Helper()
	c.RedirectURIs = []string{h.base + "/auth/sso/callback"}
	return ssotest.New(h.t, ssotest.WithClient(c))
}

func TestAdminAPI(t *testing.T) {
	h := newTestApp(t)
	anon := h.browser()
	if r := h.get(anon, "/admin/api/profiles"); r.status != 401 {
		t.Fatalf("admin API without a session: %d", r.status)
	}
	if r := h.api(anon, "POST", "/admin/api/profiles", map[string]any{"id": "x"}); r.status != 401 {
		t.Fatalf("admin POST without a session: %d", r.status)
	}
	admin := h.signIn("profile=acme-okta&login_hint=alice")

	const secret = "initech-client-secret-value-9f2c"
	idp := h.newIdP(ssotest.Client{ID: "initech-app", Secret: secret, AuthMethod: ssotest.AuthClientSecretBasic})
	create := map[string]any{
		"id": "initech", "organization": "initech", "display_name": "Initech",
		"issuer": idp.Issuer() + "/.well-known/openid-configuration", "client_id": "initech-app",
		"client_secret": secret, "auth_method": "client_secret_basic", "enabled": true,
		"domains": []string{"Initech.test"}, "policy": map[string]any{"mode": "jit", "allowed_domains": []string{"example.com"}},
	}

	// A cross-origin POST is refused before anything happens.
	j, _ := json.Marshal(create)
	if r := h.do(admin, "POST", "/admin/api/profiles", bytes.NewReader(j), "application/json", false); r.status != 403 || !strings.Contains(r.body, "origin_invalid") {
		t.Fatalf("POST without Origin: %d %s", r.status, r.body)
	}
	req, _ := http.NewRequest("POST", h.base+"/admin/api/profiles", bytes.NewReader(j))
	req.Header.Set("Origin", "https://evil.example")
	if resp, err := admin.Do(req); err != nil || resp.StatusCode != 403 {
		t.Fatalf("POST from another origin: %v %v", resp, err)
	}

	r := h.api(admin, "POST", "/admin/api/profiles", create)
	if r.status != 201 || r.header.Get("Location") != "/admin/api/profiles/initech" {
		t.Fatalf("create: %d %s %s", r.status, r.header.Get("Location"), r.body)
	}
	if strings.Contains(r.body, secret) || strings.Contains(r.body, "client_secret\"") {
		t.Fatalf("the secret in the response: %s", r.body)
	}
	p := r.json(t)
	if p["has_secret"] != true || p["issuer"] != idp.Issuer() || p["enabled"] != true || p["vendor"] != "oidc" {
		t.Fatalf("created profile: %v", p)
	}
	if d, _ := p["domains"].([]any); len(d) != 1 || d[0] != "initech.test" {
		t.Fatalf("domains not normalised: %v", p["domains"])
	}
	if r := h.get(admin, "/admin/api/profiles/initech"); r.status != 200 || strings.Contains(r.body, secret) {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	// It signs in, with the sealed secret, by client_secret_basic.
	h.signIn("profile=initech&login_hint=bob")
	if tr := idp.LastTokenRequest(); tr.AuthMethod != "client_secret_basic" || tr.ClientID != "initech-app" {
		t.Fatalf("token request: %+v", tr)
	}

	// Invalid profiles: 4xx with the reason, and nothing stored.
	liar := ssotest.New(t, ssotest.WithFaults(ssotest.Faults{DiscoveryIssuer: "https://elsewhere.example"}))
	for _, c := range []struct {
		name   string
		change map[string]any
		status int
		code   string
		reason string
	}{
		{"unreachable issuer", map[string]any{"issuer": "http://127.0.0.1:1"}, 422, "discovery_failed", "127.0.0.1:1"},
		{"cloud metadata address", map[string]any{"issuer": "http://169.254.169.254/"}, 400, "config_invalid", "private"},
		{"no discovery document", map[string]any{"issuer": idp.Issuer() + "/other"}, 422, "discovery_failed", "404"},
		{"issuer mismatch", map[string]any{"issuer": liar.Issuer()}, 422, "issuer_mismatch", ""},
		{"not an issuer", map[string]any{"issuer": "ftp://x y"}, 400, "profile_invalid", "Issuer"},
		{"bad domain", map[string]any{"domains": []string{"*.initech.test"}}, 400, "profile_invalid", "Domains"},
		{"bad policy", map[string]any{"policy": map[string]any{"allowed_domains": []string{"https://acme.com"}}}, 400, "profile_invalid", "Policy"},
		{"no client ID", map[string]any{"client_id": ""}, 400, "profile_invalid", "ClientID"},
		{"bad ID", map[string]any{"id": "no spaces"}, 400, "profile_invalid", "ID"},
		{"unknown field", map[string]any{"clientSecret": "x"}, 400, "invalid_request", "clientSecret"},
		{"existing ID", map[string]any{"id": "acme-okta"}, 400, "profile_invalid", "exists"},
	} {
		body := map[string]any{}
		for k, v := range create {
			body[k] = v
		}
		body["id"] = "bad"
		for k, v := range c.change {
			body[k] = v
		}
		r := h.api(admin, "POST", "/admin/api/profiles", body)
		t.Logf("%s: %d %s", c.name, r.status, r.body)
		if r.status != c.status || (r.status < 400 || r.status > 499) {
			t.Errorf("%s: %d %s; want %d", c.name, r.status, r.body, c.status)
			continue
		}
		m := r.json(t)
		if c.code != "" && m["error"] != c.code {
			t.Errorf("%s: error %v; want %s", c.name, m["error"], c.code)
		}
		if desc, _ := m["error_description"].(string); desc == "" {
			t.Errorf("%s: no description: %s", c.name, r.body)
		}
		if c.reason != "" && !strings.Contains(r.body, c.reason) {
			t.Errorf("%s: the reason does not mention %q: %s", c.name, c.reason, r.body)
		}
		if strings.Contains(r.body, secret) {
			t.Errorf("%s: the secret in the error: %s", c.name, r.body)
		}
		if c.change["id"] == nil {
			if r := h.get(admin, "/admin/api/profiles/bad"); r.status != 404 {
				t.Errorf("%s: a profile was stored: %d %s", c.name, r.status, r.body)
			}
		}
	}
	var ps []ssoclient.Profile
	_ = json.Unmarshal([]byte(h.get(admin, "/admin/api/profiles").body), &ps)
	if len(ps) != 4 {
		t.Fatalf("%d profiles after the failed creates; want 4", len(ps))
	}

	// Test connection: the report.
	r = h.get(admin, "/admin/api/profiles/initech/test")
	rep := r.json(t)
	if r.status != 200 || rep["ok"] != true || rep["issuer"] != idp.Issuer() || rep["jwks_keys"].(float64) < 1 ||
		rep["token_endpoint"] != idp.Issuer()+"/token" || len(rep["signing_algorithms"].([]any)) == 0 {
		t.Fatalf("test connection: %d %s", r.status, r.body)
	}
	idp.SetFaults(ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointJWKS: 500}})
	r = h.get(admin, "/admin/api/profiles/initech/test")
	if rep := r.json(t); r.status != 200 || rep["ok"] != false || len(rep["problems"].([]any)) == 0 {
		t.Fatalf("test connection of a failing JWKS: %d %s", r.status, r.body)
	}
	idp.SetFaults(ssotest.Faults{})
	if r := h.get(admin, "/admin/api/profiles/nope/test"); r.status != 404 {
		t.Fatalf("test of an unknown profile: %d", r.status)
	}

	// Update: a blank secret keeps the stored one.
	upd := map[string]any{
		"display_name": "Initech (renamed)", "issuer": idp.Issuer(), "client_id": "initech-app",
		"auth_method": "client_secret_basic", "enabled": true, "organization": "initech",
	}
	r = h.api(admin, "PUT", "/admin/api/profiles/initech", upd)
	if r.status != 200 || r.json(t)["display_name"] != "Initech (renamed)" || r.json(t)["has_secret"] != true {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	h.signIn("profile=initech&login_hint=alice")
	upd["id"] = "other"
	if r := h.api(admin, "PUT", "/admin/api/profiles/initech", upd); r.status != 400 {
		t.Fatalf("update changing the id: %d %s", r.status, r.body)
	}
	if r := h.api(admin, "PUT", "/admin/api/profiles/nope", map[string]any{"issuer": idp.Issuer(), "client_id": "x"}); r.status != 404 {
		t.Fatalf("update of an unknown profile: %d %s", r.status, r.body)
	}

	// Redirect URIs.
	r = h.get(admin, "/admin/api/redirect-uris")
	if r.status != 200 || !strings.Contains(r.body, `"`+h.base+`/auth/sso/callback"`) ||
		!strings.Contains(r.body, `"acme-okta":"`+h.base+`/auth/sso/backchannel-logout?profile=acme-okta"`) {
		t.Fatalf("redirect URIs: %d %s", r.status, r.body)
	}

	// The admin page lists the profiles with their controls.
	r = h.get(admin, "/admin")
	for _, s := range []string{"Initech (renamed)", "Acme Okta", "Globex Entra ID", "Test connection", "Delete", "Redirect URIs", `type="checkbox"`} {
		if !strings.Contains(r.body, s) {
			t.Fatalf("admin page lacks %q: %s", s, clip(r.body))
		}
	}

	// No secret in anything the app printed or logged.
	for _, s := range []string{secret, acmeOktaSecret, "PRIVATE KEY"} {
		if strings.Contains(h.logs.String(), s) || strings.Contains(h.out.String(), s) {
			t.Fatalf("%q in the logs", s)
		}
	}
}

func TestDisableAndEnable(t *testing.T) {
	h := newTestApp(t)
	admin := h.signIn("profile=globex-entra&login_hint=carol@contoso.onmicrosoft.com")
	alice := h.signIn("profile=acme-okta&login_hint=alice")

	if r := h.api(admin, "POST", "/admin/api/profiles/acme-okta/disable", nil); r.status != 200 || r.json(t)["enabled"] != false {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	h.refused(h.get(h.browser(), "/auth/sso/login?profile=acme-okta&login_hint=alice"), 403, ssoclient.CodeProfileDisabled)
	// Hidden from the picker, for the domain and for everyone.
	noFollow := h.browser()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if r := h.get(noFollow, "/auth/sso/login?email=alice@example.com"); r.status != 302 || r.header.Get("Location") != "/auth/sso/login?login_hint=alice%40example.com&profile=acme-contractors" {
		t.Fatalf("example.com with acme-okta disabled: %d %v", r.status, r.header)
	}
	if r := h.get(h.browser(), "/auth/sso/login"); strings.Contains(r.body, "profile=acme-okta") || !strings.Contains(r.body, "profile=globex-entra") {
		t.Fatalf("picker: %s", clip(r.body))
	}
	// Sessions made through it are kept.
	if s := h.session(alice); s == nil {
		t.Fatal("disabling signed alice out")
	}

	if r := h.api(admin, "POST", "/admin/api/profiles/acme-okta/enable", nil); r.status != 200 || r.json(t)["enabled"] != true {
		t.Fatalf("enable: %d %s", r.status, r.body)
	}
	b := h.signIn("profile=acme-okta&login_hint=bob")

	// A sign-in in flight when the profile is disabled is refused at the
	// callback.
	stop := *b
	stop.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/auth/sso/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	r := h.get(&stop, "/auth/sso/login?profile=acme-okta&login_hint=bob")
	cb, err := url.Parse(r.header.Get("Location"))
	if r.status != 302 || err != nil || cb.Path != "/auth/sso/callback" {
		t.Fatalf("to the callback: %d %v", r.status, r.header)
	}
	if r := h.api(admin, "POST", "/admin/api/profiles/acme-okta/disable", nil); r.status != 200 {
		t.Fatalf("disable: %d", r.status)
	}
	h.refused(h.get(b, cb.RequestURI()), 403, ssoclient.CodeProfileDisabled)

	if r := h.api(admin, "POST", "/admin/api/profiles/nope/enable", nil); r.status != 404 {
		t.Fatalf("enable an unknown profile: %d", r.status)
	}
}

func TestLinkAndUnlink(t *testing.T) {
	h := newTestApp(t)
	ctx := context.Background()
	anon := h.browser()
	h.refused(h.link(anon, "profile=globex-entra"), 401, ssoclient.CodeLoginRequired)

	alice := h.signIn("profile=acme-okta&login_hint=alice")
	user := h.session(alice).UserID
	home := h.get(alice, "/")
	if !strings.Contains(home.body, "/auth/sso/link?profile=globex-entra") || strings.Contains(home.body, "/auth/sso/link?profile=acme-okta") {
		t.Fatalf("connect links: %s", clip(home.body))
	}

	// Alice connects her Globex identity (carol there).
	if r := h.link(alice, "profile=globex-entra&login_hint=carol@contoso.onmicrosoft.com"); r.status != 200 || r.url.Path != "/" {
		t.Fatalf("link: %d at %s %s", r.status, r.url, clip(r.body))
	}
	if s := h.session(alice); s == nil || s.UserID != user || s.Profile != "acme-okta" {
		t.Fatalf("linking changed the session: %+v", s)
	}
	links, err := h.app.sso.ConnectedAccounts(ctx, user)
	if err != nil || len(links) != 2 || links[1].Profile != "globex-entra" {
		t.Fatalf("connected accounts: %+v %v", links, err)
	}
	home = h.get(alice, "/")
	globexIss := h.app.idps[globexEntra].Issuer()
	if !strings.Contains(home.body, "Globex Entra ID") || !strings.Contains(home.body, globexIss) || strings.Contains(home.body, "/auth/sso/link?profile=globex-entra") {
		t.Fatalf("home after linking: %s", clip(home.body))
	}
	// Signing in at Globex as carol is now alice's user.
	if s := h.session(h.signIn("profile=globex-entra&login_hint=carol@contoso.onmicrosoft.com")); s == nil || s.UserID != user {
		t.Fatalf("globex sign-in is %+v; want user %s", s, user)
	}

	// Bob cannot take the identity.
	bob := h.signIn("profile=acme-okta&login_hint=bob")
	h.refused(h.link(bob, "profile=globex-entra&login_hint=carol@contoso.onmicrosoft.com"), 409, ssoclient.CodeAlreadyLinked)

	// Unlink: POST from the app's own page only.
	form := url.Values{"issuer": {globexIss}, "subject": {"Zp3bK9xQ-carol-pairwise"}}.Encode()
	if r := h.do(alice, "POST", "/account/unlink", strings.NewReader(form), "application/x-www-form-urlencoded", false); r.status != 403 {
		t.Fatalf("unlink without Origin: %d", r.status)
	}
	if r := h.do(anon, "POST", "/account/unlink", strings.NewReader(form), "application/x-www-form-urlencoded", true); r.status == 200 && !strings.Contains(r.body, "Sign in") {
		t.Fatalf("unlink signed out: %d %s", r.status, clip(r.body))
	}
	if links, _ := h.app.sso.ConnectedAccounts(ctx, user); len(links) != 2 {
		t.Fatalf("a refused unlink removed a link: %+v", links)
	}
	if r := h.do(alice, "POST", "/account/unlink", strings.NewReader(form), "application/x-www-form-urlencoded", true); r.status != 200 || r.url.Path != "/" {
		t.Fatalf("unlink: %d at %s %s", r.status, r.url, clip(r.body))
	}
	links, _ = h.app.sso.ConnectedAccounts(ctx, user)
	if len(links) != 1 || links[0].Profile != "acme-okta" {
		t.Fatalf("after unlinking: %+v", links)
	}
	// The last one is the only way in: refused.
	last := url.Values{"issuer": {links[0].Issuer}, "subject": {links[0].Subject}}.Encode()
	r := h.do(alice, "POST", "/account/unlink", strings.NewReader(last), "application/x-www-form-urlencoded", true)
	h.refused(r, 409, ssoclient.CodeLastSignInMethod)
	if links, _ := h.app.sso.ConnectedAccounts(ctx, user); len(links) != 1 {
		t.Fatalf("the last link was removed: %+v", links)
	}
}

func TestDeleteRevokesSessions(t *testing.T) {
	h := newTestApp(t)
	admin := h.signIn("profile=acme-okta&login_hint=alice")
	c1 := h.signIn("profile=globex-entra&login_hint=carol@contoso.onmicrosoft.com")
	c2 := h.signIn("email=carol@contoso.onmicrosoft.com")

	r := h.get(admin, "/admin/api/profiles/globex-entra/sessions")
	if r.status != 200 || r.json(t)["sessions"] != float64(2) {
		t.Fatalf("sessions: %d %s", r.status, r.body)
	}
	if r := h.api(admin, "DELETE", "/admin/api/profiles/globex-entra", nil); r.status != 200 || r.json(t)["sessions_revoked"] != float64(2) {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	for _, b := range []*http.Client{c1, c2} {
		if h.session(b) != nil {
			t.Fatal("a session through the deleted profile survived")
		}
		if r := h.get(b, "/"); !strings.Contains(r.body, "You are not signed in") {
			t.Fatalf("home after delete: %s", clip(r.body))
		}
	}
	if h.session(admin) == nil {
		t.Fatal("the admin, signed in through another profile, was signed out")
	}
	if r := h.get(admin, "/admin/api/profiles/globex-entra"); r.status != 404 {
		t.Fatalf("get after delete: %d", r.status)
	}
	if r := h.get(admin, "/admin/api/profiles/globex-entra/sessions"); r.status != 404 {
		t.Fatalf("sessions after delete: %d", r.status)
	}
	if r := h.api(admin, "DELETE", "/admin/api/profiles/globex-entra", nil); r.status != 404 {
		t.Fatalf("second delete: %d", r.status)
	}
	h.refused(h.get(h.browser(), "/auth/sso/login?profile=globex-entra"), 404, ssoclient.CodeProfileNotFound)
	h.refused(h.get(h.browser(), "/auth/sso/login?email=carol@contoso.onmicrosoft.com"), 404, ssoclient.CodeProfileNotFound)
	// The user accounts stay.
	if u, err := h.app.store.Directory().UserByUsername(context.Background(), "carol@contoso.onmicrosoft.com"); err != nil || u == nil {
		t.Fatalf("carol's user after delete: %v %v", u, err)
	}
}

func TestRestartKeepsProfilesAndSecrets(t *testing.T) {
	db := filepath.Join(t.TempDir(), "multitenant.db")
	h := newHarness(t, db)
	const secret = "kept-across-restarts-secret-7d1e"
	idp := h.newIdP(ssotest.Client{ID: "kept-app", Secret: secret})
	admin := h.signIn("profile=acme-okta&login_hint=alice")
	if r := h.api(admin, "POST", "/admin/api/profiles", map[string]any{"id": "kept", "issuer": idp.Issuer(), "client_id": "kept-app", "client_secret": secret, "enabled": true}); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	before := h.get(admin, "/admin/api/profiles/kept").json(t)
	h.srv.Close()
	h.app.Close()

	// The same database and key file: the profiles are kept, not seeded
	// again, and the sealed secret still opens. The new app's redirect URI
	// differs, so the provider (which the test owns) is told about it.
	h2 := newHarness(t, db)
	if err := idp.AddClient(ssotest.Client{ID: "kept-app", Secret: secret, RedirectURIs: []string{h2.base + "/auth/sso/callback"}}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"secret key: read from " + db + ".secret-key", "the database has 4 SSO profiles: kept as they are"} {
		if !strings.Contains(h2.out.String(), s) {
			t.Fatalf("stdout lacks %q:\n%s", s, h2.out)
		}
	}
	b := h2.signIn("profile=kept&login_hint=bob")
	if s := h2.session(b); s == nil || s.Profile != "kept" {
		t.Fatalf("sign-in after restart: %+v", s)
	}
	after := h2.get(b, "/admin/api/profiles/kept").json(t)
	if after["created_at"] != before["created_at"] || after["has_secret"] != true {
		t.Fatalf("profile after restart: %v; before %v", after, before)
	}
	// Users and links are kept too: the invited bob was matched by his
	// verified email, and alice's link from before the restart is there.
	inv, err := h2.app.store.Directory().UserByEmail(context.Background(), invited.Email)
	if err != nil || h2.session(b).UserID != inv.ID {
		t.Fatalf("bob after restart: %v, invited %v %v", h2.session(b), inv, err)
	}
	alice, err := h2.app.store.Directory().LinkedUser(context.Background(), h.app.idps[acmeOkta].Issuer(), "alice")
	if err != nil || alice.Email != "alice@example.com" {
		t.Fatalf("alice's link after restart: %v %v", alice, err)
	}
}

func TestSecretKeyFromEnvironment(t *testing.T) {
	out := &syncBuffer{}
	db := filepath.Join(t.TempDir(), "k.db")
	if _, err := secretKey(options{DBPath: db, SecretKey: "short", Out: out}); err == nil {
		t.Fatal("a short SSO_SECRET_KEY was accepted")
	}
	k, err := secretKey(options{DBPath: db, SecretKey: strings.Repeat("k", 32), Out: out})
	if err != nil || k != strings.Repeat("k", 32) || !strings.Contains(out.String(), "from SSO_SECRET_KEY") {
		t.Fatalf("key %q %v; out %s", k, err, out)
	}
	if _, err := os.Stat(db + ".secret-key"); err == nil {
		t.Fatal("a key file was written although SSO_SECRET_KEY is set")
	}
}

// link posts {mount}/link from the app's own origin, as its confirmation
// page's button does.
func (h *harness) link(b *http.Client, form string) result {
	h.t.Helper()
	return h.do(b, http.MethodPost, "/auth/sso/link", strings.NewReader(form), "application/x-www-form-urlencoded", true)
}

// The demo providers know each profile's back-channel logout URI: a
// sign-out at Acme's provider ends alice's Acme session here, and not
// bob's session through another profile.
func TestBackChannelLogoutFromTheDemoProvider(t *testing.T) {
	h := newTestApp(t)
	alice := h.signIn("profile=acme-okta&login_hint=alice")
	bob := h.signIn("profile=globex-entra&login_hint=bob")
	if h.session(alice) == nil || h.session(bob) == nil {
		t.Fatal("sign-ins did not take")
	}
	n, err := h.app.idps[acmeOkta].BackChannelLogout(context.Background(), "alice")
	if err != nil || n != 1 {
		t.Fatalf("BackChannelLogout: %d sent, %v", n, err)
	}
	if h.session(alice) != nil {
		t.Error("alice's session outlived the provider's logout")
	}
	if h.session(bob) == nil {
		t.Error("bob's session at another profile ended")
	}
}
