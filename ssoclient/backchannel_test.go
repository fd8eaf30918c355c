package ssoclient_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// withBackChannel registers the app's back-channel logout URI at its
// provider for the default client.
func (a *app) withBackChannel() string {
	a.t.Helper()
	uri := a.sso.BackChannelLogoutURL("")
	if err := a.idp.AddClient(ssotest.Client{ID: ssotest.DefaultClientID, Secret: ssotest.DefaultClientSecret, BackChannelLogoutURI: uri}); err != nil {
		a.t.Fatal(err)
	}
	return uri
}

// browserAs signs a new browser in as subject.
func (a *app) browserAs(subject string) *http.Client {
	a.t.Helper()
	b := newBrowser(a.t, a.idp)
	a.idp.SetLoginUser(subject)
	if r := a.get(b, "/auth/sso/login"); r.status != http.StatusOK {
		a.t.Fatalf("sign-in as %s: %d %s", subject, r.status, clipBody(r.body))
	}
	return b
}

// who reports who /me says is signed in in browser b ("" for nobody).
func (a *app) who(b *http.Client) string {
	saved := a.browser
	defer func() { a.browser = saved }()
	a.browser = b
	return a.signedIn()
}

// The provider ends a user's sessions: every session of that user here
// ends, by sid, and nobody else's.
func TestBackChannelLogout(t *testing.T) {
	a := newApp(t, nil, nil)
	a.withBackChannel()
	if got := a.sso.BackChannelLogoutURL(""); got != a.srv.URL+"/auth/sso/backchannel-logout" {
		t.Errorf("BackChannelLogoutURL = %q", got)
	}
	alice1, alice2, bob := a.browserAs("alice"), a.browserAs("alice"), a.browserAs("bob")
	if a.who(alice1) != "alice" || a.who(alice2) != "alice" || a.who(bob) != "bob" {
		t.Fatal("sign-ins did not take")
	}
	n, err := a.idp.BackChannelLogout(context.Background(), "alice")
	if err != nil || n != 2 {
		t.Fatalf("BackChannelLogout: %d sent, %v", n, err)
	}
	if a.who(alice1) != "" || a.who(alice2) != "" {
		t.Error("alice is still signed in after the provider's logout")
	}
	if a.who(bob) != "bob" {
		t.Error("bob was signed out by alice's logout")
	}
	a.logMu.Lock()
	logs := a.logs.String()
	a.logMu.Unlock()
	if !strings.Contains(logs, "sso: back-channel logout") || !strings.Contains(logs, "sessions_ended=1") {
		t.Errorf("no log line of the back-channel logout: %s", logs)
	}
}

// A logout token with only a sid ends that one session; with only a sub,
// every session of the subject.
func TestBackChannelLogoutBySIDOrSubject(t *testing.T) {
	a := newApp(t, nil, nil)
	uri := a.withBackChannel()
	alice1, alice2 := a.browserAs("alice"), a.browserAs("alice")
	sids := a.idp.SIDs("alice")
	if len(sids) != 2 {
		t.Fatalf("sids %v", sids)
	}
	send := func(sub, sid string) int {
		t.Helper()
		st, err := a.idp.SendLogoutToken(context.Background(), uri, a.idp.SignLogoutToken(a.idp.LogoutTokenClaims(ssotest.DefaultClientID, sub, sid)))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := send("", sids[0]); st != http.StatusOK {
		t.Fatalf("sid-only logout: %d", st)
	}
	if a.who(alice1) != "" || a.who(alice2) != "alice" {
		t.Fatalf("after sid %s: first %q, second %q; want only the first ended", sids[0], a.who(alice1), a.who(alice2))
	}
	// A sid of nobody's session: 200, nothing ends.
	if st := send("", "no-such-sid"); st != http.StatusOK || a.who(alice2) != "alice" {
		t.Fatalf("unknown sid: %d, alice2 %q", st, a.who(alice2))
	}
	if st := send("alice", ""); st != http.StatusOK || a.who(alice2) != "" {
		t.Fatalf("sub-only logout: %d, alice2 still %q", st, a.who(alice2))
	}
}

// Every logout token §2.6 says to reject is refused with 400
// logout_token_invalid, and the session stays.
func TestBackChannelLogoutRefusals(t *testing.T) {
	a := newApp(t, nil, nil)
	uri := a.withBackChannel()
	alice := a.browserAs("alice")
	sid := a.idp.SIDs("alice")[0]
	valid := func() map[string]any { return a.idp.LogoutTokenClaims(ssotest.DefaultClientID, "alice", sid) }
	foreign, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	sign := a.idp.SignLogoutToken
	with := func(change func(map[string]any)) string {
		c := valid()
		change(c)
		return sign(c)
	}
	now := time.Now()
	for name, tok := range map[string]string{
		"wrong iss": with(func(c map[string]any) { c["iss"] = "https://evil.example" }),
		"wrong aud": with(func(c map[string]any) { c["aud"] = "other-client" }),
		"untrusted second audience": with(func(c map[string]any) {
			c["aud"] = []string{ssotest.DefaultClientID, "other"}
			c["azp"] = ssotest.DefaultClientID
		}),
		"no events":                 with(func(c map[string]any) { delete(c, "events") }),
		"events without the member": with(func(c map[string]any) { c["events"] = map[string]any{"http://example.com/other": map[string]any{}} }),
		"event not an object":       with(func(c map[string]any) { c["events"] = map[string]any{ssotest.BackChannelLogoutEvent: "yes"} }),
		"events not an object":      with(func(c map[string]any) { c["events"] = []string{ssotest.BackChannelLogoutEvent} }),
		"a nonce":                   with(func(c map[string]any) { c["nonce"] = "n" }),
		"a nonce that is a number":  with(func(c map[string]any) { c["nonce"] = 5 }),
		"neither sub nor sid":       with(func(c map[string]any) { delete(c, "sub"); delete(c, "sid") }),
		"no jti":                    with(func(c map[string]any) { delete(c, "jti") }),
		"jti a number":              with(func(c map[string]any) { c["jti"] = 7 }),
		"sid a number":              with(func(c map[string]any) { c["sid"] = 7 }),
		"no iat":                    with(func(c map[string]any) { delete(c, "iat") }),
		"iat in the future":         with(func(c map[string]any) { c["iat"] = now.Add(time.Hour).Unix() }),
		"expired":                   with(func(c map[string]any) { c["exp"] = now.Add(-time.Hour).Unix() }),
		"old, without exp":          with(func(c map[string]any) { delete(c, "exp"); c["iat"] = now.Add(-time.Hour).Unix() }),
		"SID in capitals only":      with(func(c map[string]any) { delete(c, "sub"); delete(c, "sid"); c["SID"] = sid }),
		"an ID token": a.idp.SignJWT(map[string]any{"iss": a.idp.Issuer(), "sub": "alice", "aud": ssotest.DefaultClientID,
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nonce": "n", "sid": sid}),
		"typ at+jwt":          signWithTyp(t, a.idp, "at+jwt", valid()),
		"signed by another":   signForeign(t, foreign, valid()),
		"not a JWS":           "not.a.jws",
		"unsigned (alg none)": unsigned(valid()),
	} {
		st, err := a.idp.SendLogoutToken(context.Background(), uri, tok)
		if err != nil {
			t.Fatal(err)
		}
		if st != http.StatusBadRequest {
			t.Errorf("%s: %d; want 400", name, st)
		}
		if a.who(alice) != "alice" {
			t.Fatalf("%s: the session ended", name)
		}
	}
	// The request itself: POST, form-encoded, one logout_token.
	post := func(ctype, body string) int {
		resp, err := http.Post(uri, ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := url.Values{"logout_token": {sign(valid())}}.Encode()
	if st := post("application/json", `{"logout_token":"x"}`); st != http.StatusBadRequest {
		t.Errorf("JSON body: %d", st)
	}
	if st := post("application/x-www-form-urlencoded", ""); st != http.StatusBadRequest {
		t.Errorf("no logout_token: %d", st)
	}
	if st := post("application/x-www-form-urlencoded", good+"&"+good); st != http.StatusBadRequest {
		t.Errorf("two logout_tokens: %d", st)
	}
	if resp, err := http.Get(uri); err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: %v %v", resp, err)
	}
	if a.who(alice) != "alice" {
		t.Fatal("a refused request ended the session")
	}
	// A valid token once; the same token again is a replay.
	tok := sign(valid())
	if st, _ := a.idp.SendLogoutToken(context.Background(), uri, tok); st != http.StatusOK || a.who(alice) != "" {
		t.Fatalf("the valid token: %d, alice %q", st, a.who(alice))
	}
	if st, _ := a.idp.SendLogoutToken(context.Background(), uri, tok); st != http.StatusBadRequest {
		t.Errorf("replayed logout token: %d; want 400", st)
	}
}

// When sessions are keyed by another claim than sub (here email), a
// sub-only logout token cannot name them and is refused; a sid works.
func TestBackChannelLogoutOtherSubjectClaim(t *testing.T) {
	a := newApp(t, nil, func(c *ssoclient.Config) { c.Claims = claims.Mapping{Subject: "email"} })
	uri := a.withBackChannel()
	b := a.browserAs("alice")
	send := func(sub, sid string) int {
		st, err := a.idp.SendLogoutToken(context.Background(), uri, a.idp.SignLogoutToken(a.idp.LogoutTokenClaims(ssotest.DefaultClientID, sub, sid)))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := send("alice", ""); st != http.StatusBadRequest || a.who(b) == "" {
		t.Fatalf("sub-only token: %d, session %q", st, a.who(b))
	}
	if st := send("alice", a.idp.SIDs("alice")[0]); st != http.StatusOK || a.who(b) != "" {
		t.Fatalf("token with sid: %d, session %q", st, a.who(b))
	}
}

func signWithTyp(t *testing.T, idp *ssotest.Provider, typ string, claims map[string]any) string {
	t.Helper()
	return idp.SignTyped(typ, claims)
}

func signForeign(t *testing.T, key *rsa.PrivateKey, claims map[string]any) string {
	t.Helper()
	tok, err := jose.SignJSON(key, "RS256", map[string]any{"typ": "logout+jwt"}, claims)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func unsigned(claims map[string]any) string {
	h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "logout+jwt"})
	c, _ := json.Marshal(claims)
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

// With profiles, each profile has its own back-channel logout URL: a
// logout token ends that profile's sessions, and a token from one
// profile's provider posted to another profile's URL is refused.
func TestBackChannelLogoutProfiles(t *testing.T) {
	pa := newProfileApp(t, nil)
	acme := pa.addProvider("acme", "alice", ssoclient.Profile{DisplayName: "Acme"})
	globex := pa.addProvider("globex", "alice", ssoclient.Profile{DisplayName: "Globex"})
	acmeURI, globexURI := pa.sso.BackChannelLogoutURL("acme"), pa.sso.BackChannelLogoutURL("globex")
	if acmeURI != pa.srv.URL+"/auth/sso/backchannel-logout?profile=acme" {
		t.Errorf("BackChannelLogoutURL(acme) = %q", acmeURI)
	}
	inAcme, inGlobex := newBrowser(t, pa.idp), newBrowser(t, pa.idp)
	for b, q := range map[*http.Client]string{inAcme: "profile=acme", inGlobex: "profile=globex"} {
		if r := pa.get(b, "/auth/sso/login?"+q); r.status != http.StatusOK || pa.who(b) != "alice" {
			t.Fatalf("%s: %d %s", q, r.status, clipBody(r.body))
		}
	}
	send := func(idp *ssotest.Provider, uri string) int {
		t.Helper()
		st, err := idp.SendLogoutToken(context.Background(), uri, idp.SignLogoutToken(idp.LogoutTokenClaims(ssotest.DefaultClientID, "alice", "")))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	if st := send(acme, globexURI); st != http.StatusBadRequest || pa.who(inGlobex) != "alice" {
		t.Fatalf("acme's token at globex's URL: %d, globex session %q", st, pa.who(inGlobex))
	}
	if st := send(globex, acmeURI); st != http.StatusBadRequest || pa.who(inAcme) != "alice" {
		t.Fatalf("globex's token at acme's URL: %d, acme session %q", st, pa.who(inAcme))
	}
	if st := send(acme, acmeURI); st != http.StatusOK || pa.who(inAcme) != "" || pa.who(inGlobex) != "alice" {
		t.Fatalf("acme's token: %d; acme %q, globex %q (want only acme's ended)", st, pa.who(inAcme), pa.who(inGlobex))
	}
	if st := send(globex, pa.sso.BackChannelLogoutURL("")); st != http.StatusBadRequest {
		t.Fatalf("a token at the URL without profile: %d", st)
	}
}
