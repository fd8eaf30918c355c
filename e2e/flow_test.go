package e2e

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The steps every provider's sign-in shares, against examples/basic's
// pages: its home page, its /me, and ssoclient's cookies.

const (
	signInLink    = `a[href="/auth/sso/login"]`
	signOutButton = `form[action="/auth/sso/logout"] button[type="submit"]`

	attemptPrefix = "ssokit-a-"      // on http; __Host- is added on https
	sessionCookie = "ssokit-session" // likewise
)

// openHome opens the app's home page signed out and checks that it is,
// for the page, for /me and for the cookie jar.
func openHome(t *testing.T, tb *tab, a *app) {
	t.Helper()
	tb.navigate(t, a.URL+"/")
	tb.do(t, "wait for the sign-in link", chromedp.WaitVisible(chromedp.CSS(signInLink)))
	expectSignedOut(t, tb, a)
}

// expectSignedOut checks that the home page says no one is signed in, and
// that the app agrees.
func expectSignedOut(t *testing.T, tb *tab, a *app) {
	t.Helper()
	if text := tb.text(t); !strings.Contains(text, "You are not signed in.") {
		t.Errorf("%s: the home page does not say it is signed out:\n%s", tb.name, text)
	}
	expectNoSession(t, tb, a)
}

// expectNoSession checks that the app has no session for the browser: 401
// from /me and no session cookie.
func expectNoSession(t *testing.T, tb *tab, a *app) {
	t.Helper()
	if f := tb.fetch(t, "/me"); f.Status != http.StatusUnauthorized || !strings.Contains(f.Body, "login_required") {
		t.Errorf("%s: GET /me signed out = %d %s, want 401 login_required", tb.name, f.Status, f.Body)
	}
	if c := findCookie(tb.cookies(t, a.URL), sessionCookie); c != nil {
		t.Errorf("%s: signed out, the browser still holds %s=%s", tb.name, c.Name, c.Value)
	}
}

// clickSignIn clicks "Sign in with SSO" on the home page and waits for the
// provider's page to show ready, the element ready. It returns the
// authorization request the browser made.
func clickSignIn(t *testing.T, tb *tab, a *app, ready string) url.Values {
	t.Helper()
	tb.do(t, "click Sign in with SSO and wait for the provider's page",
		click(signInLink),
		chromedp.WaitVisible(chromedp.CSS(ready)))
	return authRequest(t, tb, a)
}

// authRequest finds the newest authorization request in the tab's
// navigations (a request carrying the app's redirect_uri) and checks what
// every OpenID provider is owed: the code flow, PKCE with S256, state and
// nonce.
func authRequest(t *testing.T, tb *tab, a *app) url.Values {
	t.Helper()
	callback := a.URL + "/auth/sso/callback"
	tb.mu.Lock()
	var q url.Values
	for _, h := range tb.hops {
		if u, err := url.Parse(h.URL); err == nil && u.Query().Get("redirect_uri") == callback {
			q = u.Query()
		}
	}
	tb.mu.Unlock()
	if q == nil {
		t.Fatalf("%s: no authorization request with redirect_uri=%s; the tab went to:\n%s", tb.name, callback, tb.navigations())
	}
	for name, want := range map[string]string{"response_type": "code", "code_challenge_method": "S256"} {
		if got := q.Get(name); got != want {
			t.Errorf("authorization request: %s=%q, want %q", name, got, want)
		}
	}
	if len(q.Get("code_challenge")) != 43 || len(q.Get("state")) < 32 || len(q.Get("nonce")) < 32 {
		t.Errorf("authorization request: code_challenge %q, state %q, nonce %q: want a 43-character challenge and 256-bit state and nonce",
			q.Get("code_challenge"), q.Get("state"), q.Get("nonce"))
	}
	if !strings.Contains(" "+q.Get("scope")+" ", " openid ") {
		t.Errorf("authorization request: scope %q lacks openid", q.Get("scope"))
	}
	return q
}

// checkAttemptCookie checks the pending sign-in's cookie for state as the
// browser holds it: named after the state, HttpOnly, SameSite=Lax, for the
// whole app (Path=/) on its host only, not Secure on http, ending in 10
// minutes.
func checkAttemptCookie(t *testing.T, tb *tab, a *app, state string) *network.Cookie {
	t.Helper()
	name := attemptPrefix + state[:16]
	c := findCookie(tb.cookies(t, a.URL), name)
	if c == nil {
		t.Fatalf("%s: no attempt cookie %s for state %s; the browser holds %s", tb.name, name, state, cookieNames(tb.cookies(t, a.URL)))
	}
	checkCookieAttributes(t, c)
	if left := time.Until(time.Unix(int64(c.Expires), 0)); c.Session || left < 9*time.Minute || left > 11*time.Minute {
		t.Errorf("%s: attempt cookie %s ends in %v (session cookie: %v), want 10 minutes", tb.name, name, left.Round(time.Second), c.Session)
	}
	return c
}

// checkCookieAttributes checks what ssokit promises of both its cookies
// on http.
func checkCookieAttributes(t *testing.T, c *network.Cookie) {
	t.Helper()
	if !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" || c.Secure || c.Domain != "localhost" {
		t.Errorf("cookie %s: HttpOnly=%v SameSite=%q Path=%q Secure=%v Domain=%q; want HttpOnly, SameSite=Lax, Path=/, not Secure on http, host-only (localhost)",
			c.Name, c.HTTPOnly, c.SameSite, c.Path, c.Secure, c.Domain)
	}
}

// expectSignedIn waits for the app's home page to show someone signed in
// (after the provider sent the browser back) and checks it everywhere:
// the page names the person, /me answers 200 with them, the browser holds
// a session cookie that the page's script cannot read, and no pending
// sign-in is left behind. It returns the identity /me gave.
func expectSignedIn(t *testing.T, tb *tab, a *app, name, email string) map[string]any {
	t.Helper()
	tb.do(t, "wait for the app to show a signed-in page", chromedp.WaitVisible(chromedp.CSS(signOutButton)))
	if loc := tb.location(t); loc != a.URL+"/" {
		t.Errorf("%s: signed in at %s, want the home page %s/", tb.name, loc, a.URL)
	}
	want := "Signed in as " + name
	if email != "" {
		want += " (" + email + ")"
	}
	if text := tb.text(t); !strings.Contains(text, want) {
		t.Errorf("%s: the home page does not say %q:\n%s", tb.name, want, text)
	}
	f := tb.fetch(t, "/me")
	if f.Status != http.StatusOK {
		t.Fatalf("%s: GET /me signed in = %d %s, want 200", tb.name, f.Status, f.Body)
	}
	var id map[string]any
	if err := json.Unmarshal([]byte(f.Body), &id); err != nil {
		t.Fatalf("GET /me: %v: %s", err, f.Body)
	}
	if id["name"] != name || (email != "" && id["email"] != email) {
		t.Errorf("GET /me = %s, want name %q and email %q", f.Body, name, email)
	}
	cs := tb.cookies(t, a.URL)
	s := findCookie(cs, sessionCookie)
	if s == nil {
		t.Fatalf("%s: signed in without a %s cookie; the browser holds %s", tb.name, sessionCookie, cookieNames(cs))
	}
	checkCookieAttributes(t, s)
	if s.Session || time.Unix(int64(s.Expires), 0).Before(time.Now()) {
		t.Errorf("session cookie: expires %v (session cookie: %v), want a time to come", time.Unix(int64(s.Expires), 0), s.Session)
	}
	jsCookies := get(t, tb, "read document.cookie", chromedp.Evaluate[string](`document.cookie`))
	if strings.Contains(jsCookies, "ssokit") {
		t.Errorf("the page's script reads ssokit's cookies: %q", jsCookies)
	}
	return id
}

// expectNoAttempts checks that no pending sign-in cookie is left.
func expectNoAttempts(t *testing.T, tb *tab, a *app) {
	t.Helper()
	for _, c := range tb.cookies(t, a.URL) {
		if strings.HasPrefix(c.Name, attemptPrefix) {
			t.Errorf("%s: attempt cookie %s is still there after its sign-in", tb.name, c.Name)
		}
	}
}

// callbackFor is the browser's request to the app's callback for state:
// the provider's redirect, which the app must have answered with a
// redirect of its own (to return_to), not an error page.
func callbackFor(t *testing.T, tb *tab, a *app, state string) *url.URL {
	t.Helper()
	for _, h := range tb.requests(a.URL + "/auth/sso/callback") {
		u, err := url.Parse(h.URL)
		if err != nil || u.Query().Get("state") != state {
			continue
		}
		if h.Status != http.StatusFound && h.Status != http.StatusSeeOther {
			t.Errorf("%s: the callback answered %d, want a redirect to the signed-in page", tb.name, h.Status)
		}
		if u.Query().Get("code") == "" {
			t.Errorf("%s: the callback %s has no code", tb.name, u)
		}
		return u
	}
	t.Fatalf("%s: the browser never came back to the callback with state %s; it went to:\n%s", tb.name, state, tb.navigations())
	return nil
}

// signOut clicks Sign out, runs atProvider (the provider's own sign-out
// page, if it has one), and waits for the signed-out home page, then
// checks the app agrees: /me 401, no session cookie.
func signOut(t *testing.T, tb *tab, a *app, atProvider ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	tb.do(t, "click Sign out", click(signOutButton))
	if len(atProvider) > 0 {
		tb.do(t, "sign out at the provider", atProvider...)
	}
	tb.do(t, "wait for the signed-out home page", chromedp.WaitVisible(chromedp.CSS(signInLink)))
	loc := tb.location(t)
	if u, err := url.Parse(loc); err != nil || u.Scheme+"://"+u.Host+u.Path != a.URL+"/" {
		t.Errorf("%s: signed out at %s, want the home page", tb.name, loc)
	}
	expectSignedOut(t, tb, a)
}

func findCookie(cs []*network.Cookie, name string) *network.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func cookieNames(cs []*network.Cookie) []string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}
