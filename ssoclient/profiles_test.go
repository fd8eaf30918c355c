package ssoclient_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/provisioning"
	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

const testSecretKey = "profile-secret-key-of-32-bytes-or-more!"

// profileApp is an application whose Client serves profiles.
type profileApp struct {
	*app
	store *ssoclient.MemoryProfileStore
	// sessions counts per profile through the default store.
}

func newProfileApp(t *testing.T, configure func(*ssoclient.Config)) *profileApp {
	t.Helper()
	a := &app{t: t, logs: &bytes.Buffer{}, logMu: &sync.Mutex{}}
	// The browser and the Client reach every ssotest provider through a
	// plain loopback transport.
	a.idp = ssotest.New(t) // only for its HTTP client; profiles use their own providers
	var handler http.Handler = http.NotFoundHandler()
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(a.srv.Close)
	store := ssoclient.NewMemoryProfileStore()
	cfg := ssoclient.Config{
		Profiles:    store,
		SecretKeys:  []ssoclient.Secret{testSecretKey},
		RedirectURL: a.srv.URL + "/auth/sso/callback",
		HTTPClient:  a.idp.HTTPClient(),
		Logger:      slog.New(slog.NewTextHandler(lockedWriter{a.logMu, a.logs}, &slog.HandlerOptions{Level: slog.LevelDebug})),
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
		s := sso.Session(r)
		if s == nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_ = json.NewEncoder(w).Encode(s.Identity)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page "+r.URL.RequestURI()) })
	handler = mux
	a.browser = newBrowser(t, a.idp)
	return &profileApp{app: a, store: store}
}

// addProvider starts a provider approving as user and creates a profile
// for it.
func (pa *profileApp) addProvider(id, user string, p ssoclient.Profile) *ssotest.Provider {
	pa.t.Helper()
	idp := ssotest.New(pa.t, ssotest.WithLoginUser(user))
	p.ID = id
	p.Issuer = idp.Issuer()
	if p.ClientID == "" {
		p.ClientID, p.ClientSecret = ssotest.DefaultClientID, ssotest.DefaultClientSecret
	}
	p.Enabled = true
	if _, err := pa.sso.Profiles().Create(context.Background(), p); err != nil {
		pa.t.Fatalf("Create %s: %v", id, err)
	}
	return idp
}

func (pa *profileApp) signInWith(query string) result {
	pa.t.Helper()
	return pa.get(pa.browser, "/auth/sso/login?"+query)
}

func TestProfilesSignIn(t *testing.T) {
	pa := newProfileApp(t, nil)
	pa.addProvider("acme", "alice", ssoclient.Profile{DisplayName: "Acme Okta", Domains: []string{"Example.com"}})
	pa.addProvider("globex", "bob", ssoclient.Profile{DisplayName: "Globex", Domains: []string{"globex.test"}})

	r := pa.signInWith("profile=globex&return_to=/after")
	if r.status != 200 || r.url.Path != "/after" || pa.signedIn() != "bob" {
		t.Fatalf("profile globex: %d at %s, signed in %q", r.status, r.url, pa.signedIn())
	}
	u, _ := url.Parse(pa.srv.URL)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, ck := range pa.browser.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	if s := pa.sso.Session(req); s == nil || s.Profile != "globex" {
		t.Fatalf("session %+v; want profile globex", s)
	}
	for _, q := range []string{"profile=nope", "profile=" + strings.Repeat("x", 300)} {
		pa.browser = newBrowser(t, pa.idp)
		pa.wantRefused(pa.signInWith(q), ssoclient.CodeProfileNotFound, 404)
	}
}

func TestProfilesHomeRealmDiscovery(t *testing.T) {
	pa := newProfileApp(t, nil)
	pa.addProvider("acme", "alice", ssoclient.Profile{DisplayName: "Acme Entra", Domains: []string{"example.com"}})
	pa.addProvider("acme-contractors", "bob", ssoclient.Profile{DisplayName: "Acme Contractors", ButtonText: "Contractors sign in here", Domains: []string{"example.com", "contractors.example.com"}})
	pa.addProvider("globex", "bob", ssoclient.Profile{DisplayName: "Globex", Domains: []string{"globex.test"}})

	noFollow := *pa.browser
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	get := func(q string) (*http.Response, string) {
		t.Helper()
		resp, err := noFollow.Get(pa.srv.URL + "/auth/sso/login?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	// One match: straight to its provider, with the email as login_hint.
	resp, _ := get("email=Bob@GLOBEX.test&return_to=/x")
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != 302 || loc.Query().Get("profile") != "globex" || loc.Query().Get("login_hint") != "Bob@GLOBEX.test" || loc.Query().Get("return_to") != "/x" {
		t.Fatalf("one match: %d %s", resp.StatusCode, loc)
	}
	// Several: the picker, with those only.
	resp, body := get("email=carol@example.com")
	if resp.StatusCode != 200 || !strings.Contains(body, "Sign in with Acme Entra") || !strings.Contains(body, "Contractors sign in here") || strings.Contains(body, "Globex") {
		t.Fatalf("two matches: %d %s", resp.StatusCode, body)
	}
	// A subdomain is its own domain; a look-alike is nobody's.
	resp, _ = get("email=dan@contractors.example.com")
	if loc, _ := url.Parse(resp.Header.Get("Location")); resp.StatusCode != 302 || loc.Query().Get("profile") != "acme-contractors" {
		t.Fatalf("subdomain: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	for _, e := range []string{"eve@evilexample.com", "eve@example.com.evil.io", "eve@sub.globex.test", "not-an-email"} {
		resp, body := get("email=" + url.QueryEscape(e))
		if resp.StatusCode/100 != 4 || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d %s %s", e, resp.StatusCode, resp.Header.Get("Location"), clipBody(body))
		}
	}
	// No email: every enabled profile, disabled ones hidden.
	if _, err := pa.sso.Profiles().SetEnabled(context.Background(), "globex", false); err != nil {
		t.Fatal(err)
	}
	resp, body = get("")
	if resp.StatusCode != 200 || !strings.Contains(body, "Acme Entra") || strings.Contains(body, "Globex") || !strings.Contains(body, `name="email"`) {
		t.Fatalf("picker: %d %s", resp.StatusCode, body)
	}
}

func TestProfileSecretsSealedAndNeverReturned(t *testing.T) {
	var logs bytes.Buffer
	pa := newProfileApp(t, func(c *ssoclient.Config) {
		c.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	const secret = "very-secret-client-secret-value"
	idp := ssotest.New(t, ssotest.WithLoginUser("alice"), ssotest.WithClient(ssotest.Client{ID: "app", Secret: secret, AuthMethod: ssotest.AuthClientSecretPost}))
	ctx := context.Background()
	created, err := pa.sso.Profiles().Create(ctx, ssoclient.Profile{ID: "acme", Issuer: idp.Issuer(), ClientID: "app", ClientSecret: secret, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := pa.store.Get(ctx, "acme")
	listed, _ := pa.sso.Profiles().List(ctx)
	j, _ := json.Marshal(listed)
	for name, s := range map[string]string{
		"create result": fmt.Sprintf("%v %+v %#v", created, created, *created),
		"list JSON":     string(j),
		"store":         fmt.Sprintf("%v %+v %s", stored, stored, stored.SealedSecret),
		"logs":          logs.String(),
	} {
		if strings.Contains(s, secret) {
			t.Errorf("%s carries the secret", name)
		}
	}
	if !created.HasSecret || !strings.Contains(string(j), `"has_secret":true`) || stored.SealedSecret == nil {
		t.Fatalf("the secret was not stored: %s", j)
	}
	// It opens where it is needed: the sign-in works.
	if r := pa.signInWith("profile=acme"); r.status != 200 || pa.signedIn() != "alice" {
		t.Fatalf("sign-in: %d %s", r.status, clipBody(r.body))
	}
	// A blank secret on edit keeps it.
	upd := *created
	upd.DisplayName = "Acme, renamed"
	if _, err := pa.sso.Profiles().Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	pa.browser = newBrowser(t, pa.idp)
	if r := pa.signInWith("profile=acme"); r.status != 200 || pa.signedIn() != "alice" {
		t.Fatalf("after a blank-secret edit: %d %s", r.status, clipBody(r.body))
	}
	// A new secret replaces it: the old one is gone.
	upd.ClientSecret = "a-rotated-secret-the-provider-does-not-know"
	if _, err := pa.sso.Profiles().Update(ctx, upd); err != nil {
		t.Fatal(err)
	}
	pa.browser = newBrowser(t, pa.idp)
	pa.wantRefused(pa.signInWith("profile=acme"), ssoclient.CodeInvalidClient, 400)

	// Another key ring cannot open what was sealed.
	other, err := ssoclient.New(ctx, ssoclient.Config{
		Profiles: pa.store, SecretKeys: []ssoclient.Secret{"another-key-entirely-32-bytes-long!!"},
		RedirectURL: pa.srv.URL + "/auth/sso/callback", HTTPClient: pa.idp.HTTPClient(),
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	other.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/sso/login?profile=acme", nil))
	if rec.Code < 400 || rec.Header().Get("Location") != "" {
		t.Fatalf("a foreign key ring opened the secret: %d", rec.Code)
	}
}

func TestProfileCreateValidates(t *testing.T) {
	pa := newProfileApp(t, nil)
	idp := ssotest.New(t)
	ctx := context.Background()
	good := ssoclient.Profile{ID: "acme", Issuer: idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret, Enabled: true}
	broken := ssotest.New(t, ssotest.WithFaults(ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointDiscovery: 404}}))
	wrongIss := ssotest.New(t, ssotest.WithFaults(ssotest.Faults{DiscoveryIssuer: "https://evil.example"}))
	for name, tc := range map[string]struct {
		edit func(*ssoclient.Profile)
		code ssoclient.Code
	}{
		"bad id":              {func(p *ssoclient.Profile) { p.ID = "a b" }, ssoclient.CodeProfileInvalid},
		"no client id":        {func(p *ssoclient.Profile) { p.ClientID = "" }, ssoclient.CodeProfileInvalid},
		"not an issuer":       {func(p *ssoclient.Profile) { p.Issuer = "ftp://x" }, ssoclient.CodeProfileInvalid},
		"discovery 404":       {func(p *ssoclient.Profile) { p.Issuer = broken.Issuer() }, ssoclient.CodeDiscoveryFailed},
		"issuer mismatch":     {func(p *ssoclient.Profile) { p.Issuer = wrongIss.Issuer() }, ssoclient.CodeIssuerMismatch},
		"basic, no secret":    {func(p *ssoclient.Profile) { p.ClientSecret, p.AuthMethod = "", ssoclient.AuthClientSecretBasic }, ssoclient.CodeProfileInvalid},
		"bad key":             {func(p *ssoclient.Profile) { p.PrivateKeyPEM = "not a key" }, ssoclient.CodeProfileInvalid},
		"bad domain":          {func(p *ssoclient.Profile) { p.Domains = []string{"*.example.com"} }, ssoclient.CodeProfileInvalid},
		"bad policy domain":   {func(p *ssoclient.Profile) { p.Policy.AllowedDomains = []string{"https://example.com"} }, ssoclient.CodeProfileInvalid},
		"javascript logo URL": {func(p *ssoclient.Profile) { p.LogoURL = "javascript:alert(1)" }, ssoclient.CodeProfileInvalid},
	} {
		p := good
		tc.edit(&p)
		_, err := pa.sso.Profiles().Create(ctx, p)
		if !errors.Is(err, &ssoclient.Error{Code: tc.code}) {
			t.Errorf("%s: %v; want %s", name, err, tc.code)
		}
		if all, _ := pa.store.List(ctx); len(all) != 0 {
			t.Fatalf("%s: a refused profile was stored", name)
		}
	}
	created, err := pa.sso.Profiles().Create(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	if created.Vendor.Name() != "OIDC" {
		t.Errorf("vendor %q", created.Vendor.Name())
	}
	if _, err := pa.sso.Profiles().Create(ctx, good); !errors.Is(err, &ssoclient.Error{Code: ssoclient.CodeProfileInvalid}) {
		t.Errorf("a second profile with one ID: %v", err)
	}
}

// Changing the issuer moves sign-ins to the new provider at once.
func TestProfileIssuerChange(t *testing.T) {
	pa := newProfileApp(t, nil)
	pa.addProvider("acme", "alice", ssoclient.Profile{})
	if r := pa.signInWith("profile=acme"); pa.signedIn() != "alice" {
		t.Fatalf("first provider: %d %s", r.status, clipBody(r.body))
	}
	next := ssotest.New(t, ssotest.WithLoginUser("bob"))
	p, _ := pa.sso.Profiles().Get(context.Background(), "acme")
	p.Issuer = next.Issuer()
	if _, err := pa.sso.Profiles().Update(context.Background(), *p); err != nil {
		t.Fatal(err)
	}
	pa.browser = newBrowser(t, pa.idp)
	if r := pa.signInWith("profile=acme"); pa.signedIn() != "bob" {
		t.Fatalf("after the issuer changed: %d %s", r.status, clipBody(r.body))
	}
}

func TestProfileDisableAndDelete(t *testing.T) {
	pa := newProfileApp(t, nil)
	pa.addProvider("acme", "alice", ssoclient.Profile{})
	pa.addProvider("globex", "bob", ssoclient.Profile{})
	ctx := context.Background()
	pm := pa.sso.Profiles()

	// Two people signed in through acme, one through globex.
	acme1, acme2, globex := newBrowser(t, pa.idp), newBrowser(t, pa.idp), newBrowser(t, pa.idp)
	for b, q := range map[*http.Client]string{acme1: "profile=acme", acme2: "profile=acme", globex: "profile=globex"} {
		if r := pa.get(b, "/auth/sso/login?"+q); r.status != 200 {
			t.Fatalf("%s: %d", q, r.status)
		}
	}
	whoIs := func(b *http.Client) string {
		pa.browser = b
		return pa.signedIn()
	}

	// Disabled: existing sessions kept, an in-flight callback refused.
	pa.browser = newBrowser(t, pa.idp)
	cb := stopAtCallbackFrom(pa.app, "/auth/sso/login?profile=acme")
	if _, err := pm.SetEnabled(ctx, "acme", false); err != nil {
		t.Fatal(err)
	}
	pa.wantRefused(pa.get(pa.browser, cb.RequestURI()), ssoclient.CodeProfileDisabled, 403)
	if whoIs(acme1) != "alice" {
		t.Fatal("disabling signed people out")
	}
	pa.browser = newBrowser(t, pa.idp)
	pa.wantRefused(pa.signInWith("profile=acme"), ssoclient.CodeProfileDisabled, 403)
	if _, err := pm.SetEnabled(ctx, "acme", true); err != nil {
		t.Fatal(err)
	}

	// Deleted: its sessions counted, then revoked; the others kept.
	if n, err := pm.Sessions(ctx, "acme"); err != nil || n != 2 {
		t.Fatalf("Sessions = %d, %v; want 2", n, err)
	}
	if n, err := pm.Delete(ctx, "acme"); err != nil || n != 2 {
		t.Fatalf("Delete = %d, %v; want 2 revoked", n, err)
	}
	if whoIs(acme1) != "" || whoIs(acme2) != "" {
		t.Fatal("a session of the deleted profile survived")
	}
	if whoIs(globex) != "bob" {
		t.Fatal("deleting one profile signed out another's users")
	}
	if _, err := pm.Get(ctx, "acme"); !errors.Is(err, &ssoclient.Error{Code: ssoclient.CodeProfileNotFound}) {
		t.Fatalf("Get after delete: %v", err)
	}
}

func TestProfileAuthMethods(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: must(x509.MarshalPKCS8PrivateKey(key))}))
	pa := newProfileApp(t, nil)
	ctx := context.Background()
	for _, tc := range []struct {
		client  ssotest.Client
		profile ssoclient.Profile
	}{
		{ssotest.Client{ID: "post", Secret: "s3cret-post", AuthMethod: ssotest.AuthClientSecretPost},
			ssoclient.Profile{ClientID: "post", ClientSecret: "s3cret-post", AuthMethod: ssoclient.AuthClientSecretPost}},
		{ssotest.Client{ID: "jwt", AuthMethod: ssotest.AuthPrivateKeyJWT, PublicKey: key.Public(), KeyID: "k1"},
			ssoclient.Profile{ClientID: "jwt", PrivateKeyPEM: ssoclient.Secret(keyPEM), KeyID: "k1", AuthMethod: ssoclient.AuthPrivateKeyJWT}},
		{ssotest.Client{ID: "public", AuthMethod: ssotest.AuthNone},
			ssoclient.Profile{ClientID: "public", AuthMethod: ssoclient.AuthNone}},
	} {
		idp := ssotest.New(t, ssotest.WithLoginUser("alice"), ssotest.WithClient(tc.client))
		p := tc.profile
		p.ID, p.Issuer, p.Enabled = tc.client.ID, idp.Issuer(), true
		if _, err := pa.sso.Profiles().Create(ctx, p); err != nil {
			t.Fatalf("%s: %v", p.ID, err)
		}
		pa.browser = newBrowser(t, pa.idp)
		if r := pa.signInWith("profile=" + p.ID); r.status != 200 || pa.signedIn() == "" {
			t.Fatalf("%s: %d %s", p.ID, r.status, clipBody(r.body))
		}
		if got := idp.LastTokenRequest().AuthMethod; got != string(p.AuthMethod) {
			t.Errorf("%s: authenticated with %s", p.ID, got)
		}
	}
}

func TestProfilePolicyAndProvisioning(t *testing.T) {
	dir := provisioning.NewMemoryDirectory()
	pa := newProfileApp(t, func(c *ssoclient.Config) { c.Directory = dir })
	pa.addProvider("open", "alice", ssoclient.Profile{})
	pa.addProvider("strict", "alice", ssoclient.Profile{Policy: provisioning.Policy{AllowedDomains: []string{"other.example"}}})
	pa.addProvider("invite-only", "bob", ssoclient.Profile{Policy: provisioning.Policy{Mode: provisioning.ModeMatchOnly}})

	pa.wantRefused(pa.signInWith("profile=strict"), ssoclient.CodeDomainNotAllowed, 403)
	pa.wantRefused(pa.signInWith("profile=invite-only"), ssoclient.CodeProvisioningDisabled, 403)
	if r := pa.signInWith("profile=open"); r.status != 200 || pa.signedIn() != "alice" {
		t.Fatalf("JIT: %d %s", r.status, clipBody(r.body))
	}
	u, err := dir.UserByEmail(context.Background(), "alice@example.com")
	if err != nil {
		t.Fatalf("JIT created no user: %v", err)
	}
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	su, _ := url.Parse(pa.srv.URL)
	for _, ck := range pa.browser.Jar.Cookies(su) {
		req.AddCookie(ck)
	}
	if s := pa.sso.Session(req); s == nil || s.UserID != u.ID {
		t.Fatalf("session %+v; want user %s", s, u.ID)
	}
}

func TestRedirectURIs(t *testing.T) {
	pa := newProfileApp(t, nil)
	got := pa.sso.RedirectURIs("app.example.com", "sso.customer.test:8443", "localhost:8000")
	want := []string{"https://app.example.com/auth/sso/callback", "https://sso.customer.test:8443/auth/sso/callback", "http://localhost:8000/auth/sso/callback"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("RedirectURIs = %v; want %v", got, want)
	}
	if got := pa.sso.RedirectURIs(); len(got) != 1 || got[0] != pa.srv.URL+"/auth/sso/callback" {
		t.Fatalf("RedirectURIs() = %v", got)
	}
}

func TestProfileCheck(t *testing.T) {
	pa := newProfileApp(t, nil)
	pa.addProvider("acme", "alice", ssoclient.Profile{})
	rep, err := pa.sso.Profiles().Check(context.Background(), "acme")
	if err != nil || !rep.OK() {
		t.Fatalf("Check = %+v, %v", rep, err)
	}
	if _, err := pa.sso.Profiles().Check(context.Background(), "nope"); !errors.Is(err, &ssoclient.Error{Code: ssoclient.CodeProfileNotFound}) {
		t.Fatalf("Check of an unknown profile: %v", err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// sessionOf returns the session the browser holds.
func (pa *profileApp) sessionOf(b *http.Client) *ssoclient.Session {
	u, _ := url.Parse(pa.srv.URL)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, ck := range b.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	return pa.sso.Session(req)
}

func TestAccountLinking(t *testing.T) {
	dir := provisioning.NewMemoryDirectory()
	pa := newProfileApp(t, func(c *ssoclient.Config) { c.Directory = dir })
	acme := pa.addProvider("acme", "alice", ssoclient.Profile{})
	globex := pa.addProvider("globex", "bob", ssoclient.Profile{})
	ctx := context.Background()

	// Not signed in: no linking.
	pa.wantRefused(pa.postLink(pa.browser, "profile=globex", true), ssoclient.CodeLoginRequired, 401)

	// Alice signs in through acme (her user is created), then links her
	// globex identity (bob there).
	if r := pa.signInWith("profile=acme"); r.status != 200 {
		t.Fatalf("sign-in: %d %s", r.status, clipBody(r.body))
	}
	user := pa.sessionOf(pa.browser).UserID
	// A GET is a page with a button, never a linking; a POST from another
	// site is refused.
	if r := pa.get(pa.browser, "/auth/sso/link?profile=globex&return_to=/settings"); r.status != 200 || r.url.Path != "/auth/sso/link" ||
		!strings.Contains(r.body, `method="post"`) || !strings.Contains(r.body, `value="globex"`) || globex.Requests(ssotest.EndpointAuthorize) != 0 {
		t.Fatalf("GET link: %d at %s %s", r.status, r.url, clipBody(r.body))
	}
	if r := pa.postLink(pa.browser, "profile=globex", false); r.status != 403 || !strings.Contains(r.body, string(ssoclient.CodeOriginInvalid)) {
		t.Fatalf("cross-site link: %d %s", r.status, clipBody(r.body))
	}
	if r := pa.postLink(pa.browser, "profile=globex&return_to=/settings", true); r.status != 200 || r.url.Path != "/settings" {
		t.Fatalf("link: %d at %s %s", r.status, r.url, clipBody(r.body))
	}
	if s := pa.sessionOf(pa.browser); s == nil || s.UserID != user || s.Profile != "acme" {
		t.Fatalf("linking changed the session: %+v", s)
	}
	links, err := pa.sso.ConnectedAccounts(ctx, user)
	if err != nil || len(links) != 2 || links[1].Issuer != globex.Issuer() || links[1].Profile != "globex" || links[1].LinkedAt.IsZero() {
		t.Fatalf("connected accounts = %+v, %v", links, err)
	}
	// Signing in through globex now is the same user.
	other := newBrowser(t, pa.idp)
	if r := pa.get(other, "/auth/sso/login?profile=globex"); r.status != 200 {
		t.Fatalf("globex sign-in: %d", r.status)
	}
	if s := pa.sessionOf(other); s == nil || s.UserID != user {
		t.Fatalf("globex sign-in is user %+v; want %s", s, user)
	}

	// Another user cannot take an identity that is linked already.
	// (dave's email is unverified: this profile leaves email to the app.)
	pa.addProvider("initech", "dave", ssoclient.Profile{Policy: provisioning.Policy{EmailTrust: claims.TrustNever}})
	pa.browser = newBrowser(t, pa.idp)
	if r := pa.signInWith("profile=initech"); r.status != 200 {
		t.Fatalf("initech sign-in: %d %s", r.status, clipBody(r.body))
	}
	pa.wantRefusedKeepingSession(pa.postLink(pa.browser, "profile=acme", true), ssoclient.CodeAlreadyLinked, 409)

	// Unlink: not the last way in; then the last one needs a password.
	if err := pa.sso.Unlink(ctx, user, globex.Issuer(), "bob", false); err != nil {
		t.Fatalf("unlink one of two: %v", err)
	}
	if err := pa.sso.Unlink(ctx, user, acme.Issuer(), "alice", false); !errors.Is(err, &ssoclient.Error{Code: ssoclient.CodeLastSignInMethod}) {
		t.Fatalf("unlink the last without a password: %v", err)
	}
	if err := pa.sso.Unlink(ctx, user, acme.Issuer(), "alice", true); err != nil {
		t.Fatalf("unlink the last with a password: %v", err)
	}
	if err := pa.sso.Unlink(ctx, user, acme.Issuer(), "alice", true); !errors.Is(err, &ssoclient.Error{Code: ssoclient.CodeInvalidRequest}) {
		t.Fatalf("unlink what is not linked: %v", err)
	}
}

// wantRefusedKeepingSession checks a refusal that must leave the browser's
// session as it was (a refused account link).
func (pa *profileApp) wantRefusedKeepingSession(r result, code ssoclient.Code, status int) {
	pa.t.Helper()
	before := pa.sessionOf(pa.browser)
	if r.status != status || !strings.Contains(r.body, string(code)) {
		pa.t.Fatalf("got %d with %q; want %d naming %s", r.status, clipBody(r.body), status, code)
	}
	if after := pa.sessionOf(pa.browser); before == nil || after == nil || after.ID != before.ID {
		pa.t.Fatalf("the session changed: %+v → %+v", before, after)
	}
}

// postLink posts {mount}/link with form, from the app's origin or not.
func (pa *profileApp) postLink(b *http.Client, form string, sameOrigin bool) result {
	pa.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, pa.srv.URL+"/auth/sso/link", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	if sameOrigin {
		req.Header.Set("Origin", pa.srv.URL)
	}
	resp, err := b.Do(req)
	if err != nil {
		pa.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return result{resp.StatusCode, resp.Request.URL, string(body)}
}
