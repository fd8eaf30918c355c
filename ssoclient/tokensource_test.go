package ssoclient_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// tokenApp is an app that keeps tokens, asks for offline_access, and runs
// on a clock the test moves (the provider's too).
func tokenApp(t *testing.T, configure func(*ssoclient.Config)) (*app, *fakeClock) {
	t.Helper()
	clock := newFakeClock()
	a := newApp(t, []ssotest.Option{ssotest.WithClock(clock.Now)}, func(c *ssoclient.Config) {
		c.Now = clock.Now
		c.KeepTokens = true
		c.Scopes = []string{"openid", "profile", "email", "offline_access"}
		if configure != nil {
			configure(c)
		}
	})
	return a, clock
}

// request is a request carrying the browser's cookies for the app.
func (a *app) request(b *http.Client) *http.Request {
	r := httptest.NewRequest(http.MethodGet, a.srv.URL+"/", nil)
	for _, c := range b.Jar.Cookies(r.URL) {
		r.AddCookie(c)
	}
	return r
}

func wantErrCode(t *testing.T, err error, code ssoclient.Code) {
	t.Helper()
	var e *ssoclient.Error
	if !errors.As(err, &e) || e.Code != code {
		t.Fatalf("error %v; want code %s", err, code)
	}
}

// The access token of the sign-in is handed out while fresh; once it is
// about to expire it is refreshed (one token request), the new one works
// at the provider, and the rotated refresh token is kept.
func TestTokenSourceRefreshes(t *testing.T) {
	a, clock := tokenApp(t, nil)
	a.signIn("")
	ctx := context.Background()
	ts, err := a.sso.TokenSource(ctx, a.request(a.browser))
	if err != nil {
		t.Fatal(err)
	}
	before := a.idp.Requests(ssotest.EndpointToken)
	first, err := ts.Token()
	if err != nil || first.AccessToken == "" || !first.Valid() {
		t.Fatalf("first token %v, %v", first, err)
	}
	if n := a.idp.Requests(ssotest.EndpointToken); n != before {
		t.Fatalf("a fresh token made %d token requests", n-before)
	}
	clock.Add(ssotest.AccessTokenLifetime - 30*time.Second) // within a minute of expiry
	second, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken == first.AccessToken || a.idp.Requests(ssotest.EndpointToken) != before+1 {
		t.Fatalf("no refresh: same token %v, %d requests", second.AccessToken == first.AccessToken, a.idp.Requests(ssotest.EndpointToken)-before)
	}
	if tr := a.idp.LastTokenRequest(); tr.Form.Get("grant_type") != "refresh_token" {
		t.Errorf("last token request %v", tr.Form)
	}
	// The new token is the provider's: userinfo takes it.
	req, _ := http.NewRequest(http.MethodGet, a.idp.Issuer()+"/userinfo", nil)
	second.SetAuthHeader(req)
	resp, err := a.idp.HTTPClient().Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo with the refreshed token: %v %v", resp, err)
	}
	resp.Body.Close()
	// Twice more past expiry: each refresh uses the rotated refresh
	// token (ssotest accepts each refresh token once).
	for range 2 {
		clock.Add(ssotest.AccessTokenLifetime)
		if _, err := ts.Token(); err != nil {
			t.Fatalf("refresh with the rotated token: %v", err)
		}
	}
	if a.signedIn() != "alice" {
		t.Fatal("refreshing ended the session")
	}
}

// Many requests of one session needing a refresh at once share one token
// request: a second would spend the rotated refresh token and fail.
func TestTokenSourceConcurrentRefresh(t *testing.T) {
	a, clock := tokenApp(t, nil)
	a.signIn("")
	clock.Add(2 * ssotest.AccessTokenLifetime)
	before := a.idp.Requests(ssotest.EndpointToken)
	tokens := concurrentTokens(t, a, a.sso, a.sso, 20)
	if n := a.idp.Requests(ssotest.EndpointToken) - before; n != 1 {
		t.Errorf("%d refreshes for one session; want 1", n)
	}
	for _, tok := range tokens {
		if tok == "" || tok != tokens[0] {
			t.Fatalf("requests got different tokens")
		}
	}
}

// concurrentTokens asks for the browser's access token n times at once,
// alternating between two replicas (which may be the same Client), and
// returns what each call got ("" for a failure, reported).
func concurrentTokens(t *testing.T, a *app, even, odd *ssoclient.Client, n int) []string {
	t.Helper()
	var wg sync.WaitGroup
	tokens := make([]string, n)
	for i := range tokens {
		replica := even
		if i%2 == 1 {
			replica = odd
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ts, err := replica.TokenSource(context.Background(), a.request(a.browser))
			if err != nil {
				t.Error(err)
				return
			}
			tok, err := ts.Token()
			if err != nil {
				t.Error(err)
				return
			}
			tokens[i] = tok.AccessToken
		}()
	}
	wg.Wait()
	return tokens
}

// The provider refuses the refresh (revoked): the session ends and the
// error says so. A failing provider (503) leaves the session.
func TestTokenSourceRefusedRefreshEndsSession(t *testing.T) {
	a, clock := tokenApp(t, nil)
	a.signIn("")
	ts, err := a.sso.TokenSource(context.Background(), a.request(a.browser))
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * ssotest.AccessTokenLifetime)
	a.idp.SetFaults(ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointToken: http.StatusServiceUnavailable}})
	_, err = ts.Token()
	wantErrCode(t, err, ssoclient.CodeProviderUnavailable)
	if a.signedIn() != "alice" {
		t.Fatal("a failing provider ended the session")
	}
	a.idp.SetFaults(ssotest.Faults{})
	if n := a.idp.RevokeRefreshTokens("alice"); n != 1 {
		t.Fatalf("revoked %d refresh tokens", n)
	}
	_, err = ts.Token()
	wantErrCode(t, err, ssoclient.CodeRefreshFailed)
	if a.signedIn() != "" {
		t.Fatal("the session outlived the provider's refusal")
	}
	_, err = ts.Token()
	wantErrCode(t, err, ssoclient.CodeLoginRequired)
}

// A refreshed ID token is verified, and must name the same subject.
func TestTokenSourceRefreshedIDToken(t *testing.T) {
	for name, f := range map[string]ssotest.Faults{
		"another subject": {ModifyIDToken: func(_, c map[string]any) { c["sub"] = "mallory" }},
		"another issuer":  {IDTokenIssuer: "https://evil.example"},
		"bad signature":   {BadSignature: true},
		"another auth_time": {ModifyIDToken: func(_, c map[string]any) {
			c["auth_time"] = c["auth_time"].(int64) + 60
		}},
	} {
		t.Run(name, func(t *testing.T) {
			a, clock := tokenApp(t, nil)
			a.signIn("")
			ts, err := a.sso.TokenSource(context.Background(), a.request(a.browser))
			if err != nil {
				t.Fatal(err)
			}
			clock.Add(2 * ssotest.AccessTokenLifetime)
			a.idp.SetFaults(f)
			_, err = ts.Token()
			wantErrCode(t, err, ssoclient.CodeRefreshFailed)
			if a.signedIn() != "" {
				t.Fatal("the session outlived a bad refreshed ID token")
			}
		})
	}
}

// Without KeepTokens, without a session, or without a refresh token once
// the access token expired: typed errors, and the session stays.
func TestTokenSourceUnavailable(t *testing.T) {
	a := newApp(t, nil, nil)
	_, err := a.sso.TokenSource(context.Background(), a.request(a.browser))
	wantErrCode(t, err, ssoclient.CodeLoginRequired)
	a.signIn("")
	_, err = a.sso.TokenSource(context.Background(), a.request(a.browser))
	wantErrCode(t, err, ssoclient.CodeNoToken)

	b, clock := tokenApp(t, func(c *ssoclient.Config) { c.Scopes = nil })
	b.signIn("")
	ts, err := b.sso.TokenSource(context.Background(), b.request(b.browser))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Token(); err != nil {
		t.Fatalf("fresh token without refresh token: %v", err)
	}
	clock.Add(2 * ssotest.AccessTokenLifetime)
	_, err = ts.Token()
	wantErrCode(t, err, ssoclient.CodeNoToken)
	if b.signedIn() != "alice" {
		t.Fatal("an expired access token ended the session")
	}
}

// Two replicas sharing the session store and replay cache refresh one
// session at the same moment: one token request, all get its token.
func TestTokenSourceRefreshAcrossReplicas(t *testing.T) {
	var clock *fakeClock
	now := func() time.Time { return clock.Now() }
	sessions := ssoclient.NewMemorySessionStore(0, now)
	replay := ssoclient.NewMemoryReplayCache(0, now)
	key := ssoclient.Secret(strings.Repeat("k", 32))
	a, clock := tokenApp(t, func(c *ssoclient.Config) {
		c.Sessions, c.Replay, c.CookieKeys = sessions, replay, []ssoclient.Secret{key}
	})
	a.signIn("")
	// A second replica: the same provider and stores, its own Client.
	b, err := ssoclient.New(context.Background(), ssoclient.Config{
		Issuer: a.idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL: a.srv.URL + "/auth/sso/callback", HTTPClient: a.idp.HTTPClient(), Now: clock.Now,
		KeepTokens: true, Sessions: sessions, Replay: replay, CookieKeys: []ssoclient.Secret{key},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * ssotest.AccessTokenLifetime)
	before := a.idp.Requests(ssotest.EndpointToken)
	tokens := concurrentTokens(t, a, a.sso, b, 10)
	if n := a.idp.Requests(ssotest.EndpointToken) - before; n != 1 {
		t.Errorf("%d refreshes across two replicas; want 1", n)
	}
	for _, tok := range tokens {
		if tok == "" || tok != tokens[0] {
			t.Fatalf("replicas got different tokens")
		}
	}
	if a.signedIn() != "alice" {
		t.Fatal("the concurrent refresh ended the session")
	}
}

// A provider that does not rotate refresh tokens and hands out access
// tokens shorter-lived than the early-refresh margin: every Token
// refreshes, at once, with the same refresh token (the lease of the
// previous refresh must not make it wait).
func TestTokenSourceShortLivedNotRotated(t *testing.T) {
	a, clock := tokenApp(t, func(c *ssoclient.Config) { c.Timeout = 2 * time.Second })
	a.signIn("")
	a.idp.SetFaults(ssotest.Faults{KeepRefreshToken: true, AccessTokenLifetime: 30 * time.Second})
	ts, err := a.sso.TokenSource(context.Background(), a.request(a.browser))
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * ssotest.AccessTokenLifetime)
	seen := map[string]bool{}
	for i := range 3 {
		// Finding the previous refresh's lease, it would wait for a
		// change that never comes, then fail with provider_timeout.
		tok, err := ts.Token()
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if seen[tok.AccessToken] {
			t.Fatalf("refresh %d handed out an old access token", i)
		}
		seen[tok.AccessToken] = true
		if tr := a.idp.LastTokenRequest(); tr.Form.Get("grant_type") != "refresh_token" {
			t.Fatalf("refresh %d: last token request %v", i, tr.Form.Get("grant_type"))
		}
	}
	if a.signedIn() != "alice" {
		t.Fatal("refreshing ended the session")
	}
}
