package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The bundled fake provider, which examples/basic starts with no
// SSO_ISSUER: its page lists test users to pick.

var fakeIssuerLine = regexp.MustCompile(`bundled fake identity provider at (http://\S+)`)

// startBasicWithFake runs examples/basic against its fake provider and
// returns the app and the provider's issuer.
func startBasicWithFake(t *testing.T) (*app, string) {
	t.Helper()
	a := startBasic(t, freePort(t))
	return a, a.waitFor(t, fakeIssuerLine)[1]
}

// pickUser is the fake provider's button for a test user.
func pickUser(subject string) string {
	return `button[name="pick"][value="` + subject + `"]`
}

// TestFakeProviderSignInAndOut signs Bob in and out in Chromium: the home
// page, the provider's picker, the callback carrying the RFC 9207 iss,
// the cookies as the browser holds them, and RP-initiated logout at the
// provider and back.
func TestFakeProviderSignInAndOut(t *testing.T) {
	b := newBrowser(t)
	a, issuer := startBasicWithFake(t)
	tb := b.tab()

	openHome(t, tb, a)
	q := clickSignIn(t, tb, a, pickUser("bob"))
	if got := q.Get("client_id"); got != "basic-example" {
		t.Errorf("authorization request: client_id=%q, want basic-example", got)
	}
	if loc := tb.location(t); !strings.HasPrefix(loc, issuer+"/authorize?") {
		t.Errorf("the picker is at %s, want the provider's authorization endpoint %s/authorize", loc, issuer)
	}
	state := q.Get("state")
	checkAttemptCookie(t, tb, a, state)

	tb.do(t, "pick Bob", click(pickUser("bob")))
	id := expectSignedIn(t, tb, a, "Bob Example", "bob@example.com")
	if id["subject"] != "bob" || id["issuer"] != issuer {
		t.Errorf("GET /me: subject %v at %v, want bob at %s", id["subject"], id["issuer"], issuer)
	}
	cb := callbackFor(t, tb, a, state)
	if got := cb.Query().Get("iss"); got != issuer {
		t.Errorf("the callback carried iss=%q, want %q (RFC 9207)", got, issuer)
	}
	expectNoAttempts(t, tb, a)

	signOut(t, tb, a)
	end := tb.lastRequest(t, issuer+"/end_session")
	u, _ := url.Parse(end.URL)
	eq := u.Query()
	if eq.Get("id_token_hint") == "" || eq.Get("client_id") != "basic-example" || eq.Get("post_logout_redirect_uri") != a.URL+"/" || eq.Get("state") == "" {
		t.Errorf("end-session request %s: want id_token_hint, client_id=basic-example, post_logout_redirect_uri=%s/ and a state", end.URL, a.URL)
	}
	if end.Method != http.MethodGet || end.Status != http.StatusFound {
		t.Errorf("end-session request: %s answered %d, want GET answered with 302 back to the app", end.Method, end.Status)
	}
}

// TestFakeProviderTwoTabs starts two sign-ins at once in two tabs of one
// browser: two pending attempts, each in its own cookie. The one started
// first finishes last, and both land signed in.
func TestFakeProviderTwoTabs(t *testing.T) {
	b := newBrowser(t)
	a, _ := startBasicWithFake(t)
	tab1, tab2 := b.tab(), b.newTab(t)
	openHome(t, tab1, a)
	openHome(t, tab2, a)

	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, tb := range []*tab{tab1, tab2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = tb.try(
				click(signInLink),
				chromedp.WaitVisible(chromedp.CSS(pickUser("alice"))))
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("tab%d: start the sign-in: %v", i+1, err)
		}
	}
	state1, state2 := authRequest(t, tab1, a).Get("state"), authRequest(t, tab2, a).Get("state")
	if state1 == state2 {
		t.Fatalf("both tabs got state %s", state1)
	}
	c1, c2 := checkAttemptCookie(t, tab1, a, state1), checkAttemptCookie(t, tab2, a, state2)
	if c1.Name == c2.Name {
		t.Fatalf("both attempts share the cookie %s", c1.Name)
	}

	tab2.do(t, "pick Alice", click(pickUser("alice")))
	expectSignedIn(t, tab2, a, "Alice Example", "alice@example.com")
	callbackFor(t, tab2, a, state2)
	if findCookie(tab1.cookies(t, a.URL), c1.Name) == nil {
		t.Fatalf("the first tab's attempt cookie %s went with the second tab's sign-in", c1.Name)
	}

	tab1.do(t, "pick Bob", click(pickUser("bob")))
	expectSignedIn(t, tab1, a, "Bob Example", "bob@example.com")
	callbackFor(t, tab1, a, state1)
	expectNoAttempts(t, tab1, a)
}

// TestFakeProviderCallbackReplay opens a completed sign-in's callback URL
// again in the same browser. Its attempt cookie is gone, so it is
// state_invalid; and with the cookie put back, as an attacker who copied
// it would, the replay cache still refuses it as attempt_replayed. Neither
// signs anyone in or out.
func TestFakeProviderCallbackReplay(t *testing.T) {
	b := newBrowser(t)
	a, _ := startBasicWithFake(t)
	tb := b.tab()

	openHome(t, tb, a)
	state := clickSignIn(t, tb, a, pickUser("bob")).Get("state")
	attempt := checkAttemptCookie(t, tb, a, state)
	tb.do(t, "pick Bob", click(pickUser("bob")))
	expectSignedIn(t, tb, a, "Bob Example", "bob@example.com")
	callback := callbackFor(t, tb, a, state).String()

	replay := func(want string) {
		t.Helper()
		before := len(tb.requests(a.URL + "/auth/sso/callback"))
		status := tb.navigate(t, callback)
		if n := len(tb.requests(a.URL+"/auth/sso/callback")) - before; n != 1 {
			t.Fatalf("replaying the callback made %d requests to it, want 1:\n%s", n, tb.navigations())
		}
		if status != http.StatusBadRequest {
			t.Errorf("replayed callback (%s): HTTP %d, want 400", want, status)
		}
		if text := tb.text(t); !strings.Contains(text, "Sign-in failed") || !strings.Contains(text, "Error code: "+want) {
			t.Errorf("replayed callback: the page does not show error %s:\n%s", want, text)
		}
		if f := tb.fetch(t, "/me"); f.Status != http.StatusOK || !strings.Contains(f.Body, `"subject":"bob"`) {
			t.Errorf("after the refused replay, GET /me = %d %s, want Bob still signed in", f.Status, f.Body)
		}
	}

	replay("state_invalid")

	tb.do(t, "put the used attempt cookie back", chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		httpOnly := true
		_, err := cdp.Call(ctx, target, network.SetCookie, network.SetCookieParams{
			Name: attempt.Name, Value: attempt.Value, URL: a.URL + "/", Path: "/",
			HTTPOnly: &httpOnly, SameSite: network.CookieSameSiteLax,
		})
		return err
	}))
	if findCookie(tb.cookies(t, a.URL), attempt.Name) == nil {
		t.Fatal("the browser did not take the attempt cookie back")
	}
	replay("attempt_replayed")
	expectNoAttempts(t, tb, a)
}
