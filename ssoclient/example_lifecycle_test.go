package ssoclient_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// exampleApp is an app signed in as alice against a fake provider, for
// the examples below: the provider, the client, the app's server and the
// browser. The caller closes the provider and the server.
func exampleApp(configure func(*ssoclient.Config, *ssotest.Provider)) (*ssotest.Provider, *ssoclient.Client, *httptest.Server, *http.Client) {
	idp, err := ssotest.Start(ssotest.WithLoginUser("alice"))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	cfg := ssoclient.Config{
		Issuer: idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL: app.URL + "/auth/sso/callback", HTTPClient: idp.HTTPClient(),
	}
	if configure != nil {
		configure(&cfg, idp)
	}
	sso, err := ssoclient.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/auth/sso/", sso.Handler())
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		if id := sso.Identity(r); id != nil {
			fmt.Fprint(w, id.Subject)
			return
		}
		http.Error(w, "signed out", http.StatusUnauthorized)
	})
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Transport: idp.HTTPClient().Transport}
	resp, err := browser.Get(app.URL + "/auth/sso/login")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	return idp, sso, app, browser
}

func whoIsSignedIn(browser *http.Client, app *httptest.Server) string {
	resp, err := browser.Get(app.URL + "/me")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "nobody"
	}
	var b [64]byte
	n, _ := resp.Body.Read(b[:])
	return string(b[:n])
}

// With KeepTokens, a handler calls an API as the signed-in user: the
// TokenSource refreshes the access token when it expires (ask for
// offline_access), and oauth2.NewClient makes an *http.Client of it.
func ExampleClient_TokenSource() {
	idp, sso, app, browser := exampleApp(func(c *ssoclient.Config, _ *ssotest.Provider) {
		c.KeepTokens = true
		c.Scopes = []string{"openid", "email", "offline_access"}
	})
	defer idp.Close()
	defer app.Close()

	// What a handler does with its request r.
	r, _ := http.NewRequest(http.MethodGet, app.URL+"/reports", nil)
	for _, c := range browser.Jar.Cookies(r.URL) {
		r.AddCookie(c)
	}
	ts, err := sso.TokenSource(r.Context(), r)
	if err != nil {
		log.Fatal(err) // login_required, or no_token without KeepTokens
	}
	tok, err := ts.Token() // or: api := oauth2.NewClient(ctx, ts)
	if err != nil {
		log.Fatal(err) // refresh_failed: the provider ended the sign-in
	}
	fmt.Println(tok.TokenType, tok.Valid())
	// Output: Bearer true
}

// Register BackChannelLogoutURL at the provider: when the user's session
// there ends (they sign out of the provider, an administrator disables
// them), the provider posts a logout token and their sessions here end.
func ExampleClient_BackChannelLogoutURL() {
	idp, sso, app, browser := exampleApp(nil)
	defer idp.Close()
	defer app.Close()
	_ = idp.AddClient(ssotest.Client{
		ID: ssotest.DefaultClientID, Secret: ssotest.DefaultClientSecret,
		BackChannelLogoutURI: sso.BackChannelLogoutURL(""), // with profiles: the profile's ID
	})
	fmt.Println("before:", whoIsSignedIn(browser, app))
	if _, err := idp.BackChannelLogout(context.Background(), "alice"); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after:", whoIsSignedIn(browser, app))
	// Output:
	// before: alice
	// after: nobody
}

// EndSessions signs a person out everywhere: here, every session of
// alice at the provider.
func ExampleClient_EndSessions() {
	idp, sso, app, browser := exampleApp(nil)
	defer idp.Close()
	defer app.Close()
	n, err := sso.EndSessions(context.Background(), ssoclient.SessionFilter{Issuer: idp.Issuer(), Subject: "alice"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "ended;", whoIsSignedIn(browser, app), "signed in")
	// Output: 1 ended; nobody signed in
}

// loginCounter is an Observer counting sign-ins by profile and outcome,
// the shape of a Prometheus counter vector.
type loginCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (l *loginCounter) Login(_ context.Context, e ssoclient.LoginEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts[fmt.Sprintf("profile=%q outcome=%s code=%q", e.Profile, e.Outcome, e.Code)]++
}

func (l *loginCounter) ProviderCall(context.Context, ssoclient.ProviderCallEvent) {}

// An Observer counts sign-ins by profile and outcome (and times the
// provider's endpoints); examples/observability wires one to Prometheus
// and OpenTelemetry.
func ExampleObserver() {
	obs := &loginCounter{counts: map[string]int{}}
	idp, _, app, browser := exampleApp(func(c *ssoclient.Config, _ *ssotest.Provider) { c.Observer = obs })
	defer idp.Close()
	defer app.Close()
	resp, err := browser.Get(app.URL + "/auth/sso/callback?state=forged&code=x")
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	for _, k := range []string{`profile="" outcome=started code=""`, `profile="" outcome=success code=""`, `profile="" outcome=failure code="state_invalid"`} {
		fmt.Println(k, obs.counts[k])
	}
	// Output:
	// profile="" outcome=started code="" 1
	// profile="" outcome=success code="" 1
	// profile="" outcome=failure code="state_invalid" 1
}
