package conformance_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// backChannelCase is one of the OIDF back-channel logout tests for relying
// parties (oidcc-client-test-rp-backchannel-rpinitlogout*): the browser
// signs in, the provider posts a logout token to the back-channel logout
// URI, and the relying party must answer 200 and end the session for a
// valid token, 400 and keep the session for a bad one.
type backChannelCase struct {
	id string
	// token makes the logout token from the valid claims.
	token func(r *rp, claims map[string]any) string
	valid bool
}

func backChannelCases() []backChannelCase {
	signed := func(change func(map[string]any)) func(*rp, map[string]any) string {
		return func(r *rp, c map[string]any) string {
			if change != nil {
				change(c)
			}
			return r.idp.SignLogoutToken(c)
		}
	}
	return []backChannelCase{
		{id: "oidcc-client-test-rp-backchannel-rpinitlogout", token: signed(nil), valid: true},
		{id: "oidcc-client-test-rp-backchannel-rpinitlogout-alg-none", token: func(_ *rp, c map[string]any) string {
			return b64(mustJSON(map[string]any{"alg": "none", "typ": "logout+jwt"})) + "." + b64(mustJSON(c)) + "."
		}},
		// The conformance suite signs with an algorithm the client did not
		// register; the one such algorithm it can use without the
		// provider's private key is HS256 keyed with the client secret.
		{id: "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg", token: func(_ *rp, c map[string]any) string {
			in := b64(mustJSON(map[string]any{"alg": "HS256", "typ": "logout+jwt"})) + "." + b64(mustJSON(c))
			m := hmac.New(sha256.New, []byte(ssotest.DefaultClientSecret))
			m.Write([]byte(in))
			return in + "." + b64(m.Sum(nil))
		}},
		{id: "oidcc-client-test-rp-backchannel-rpinitlogout-no-event", token: signed(func(c map[string]any) { delete(c, "events") })},
		{id: "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event", token: signed(func(c map[string]any) {
			c["events"] = map[string]any{"http://schemas.openid.net/event/not-backchannel-logout": map[string]any{}}
		})},
		{id: "oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce", token: signed(func(c map[string]any) { c["nonce"] = "a-nonce" })},
		{id: "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud", token: signed(func(c map[string]any) { c["aud"] = "some-other-client" })},
		{id: "oidcc-client-test-rp-backchannel-rpinitlogout-wrong-issuer", token: signed(func(c map[string]any) { c["iss"] = "https://op.evil.example" })},
		{id: "ssokit-backchannel-no-sub-no-sid", token: signed(func(c map[string]any) { delete(c, "sub"); delete(c, "sid") })},
		{id: "ssokit-backchannel-jti-missing", token: signed(func(c map[string]any) { delete(c, "jti") })},
		{id: "ssokit-backchannel-iat-missing", token: signed(func(c map[string]any) { delete(c, "iat") })},
		{id: "ssokit-backchannel-expired", token: signed(func(c map[string]any) { c["exp"] = c["iat"].(int64) - 3600 })},
		{id: "ssokit-backchannel-id-token", token: func(r *rp, _ map[string]any) string { return r.idToken() }},
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestBackChannelLogoutConformance runs the back-channel logout cases. A
// valid token is also replayed: the second delivery of one jti is refused.
func TestBackChannelLogoutConformance(t *testing.T) {
	for _, tc := range backChannelCases() {
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			r := start(t, nil, nil)
			if r.newErr != nil {
				t.Fatal(r.newErr)
			}
			uri := r.sso.BackChannelLogoutURL("")
			if err := r.idp.AddClient(ssotest.Client{ID: ssotest.DefaultClientID, Secret: ssotest.DefaultClientSecret, BackChannelLogoutURI: uri}); err != nil {
				t.Fatal(err)
			}
			if res := r.signIn(); res.status != http.StatusOK || r.who() == nil {
				t.Fatalf("sign-in: %d %s", res.status, clip(res.body))
			}
			sids := r.idp.SIDs("alice")
			if len(sids) != 1 {
				t.Fatalf("sids %v", sids)
			}
			tok := tc.token(r, r.idp.LogoutTokenClaims(ssotest.DefaultClientID, "alice", sids[0]))
			post := func() *http.Response {
				resp, err := http.Post(uri, "application/x-www-form-urlencoded", strings.NewReader(url.Values{"logout_token": {tok}}.Encode()))
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return resp
			}
			resp := post()
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Errorf("Cache-Control %q; want no-store (§2.8)", cc)
			}
			if !tc.valid {
				if resp.StatusCode != http.StatusBadRequest {
					t.Fatalf("status %d; want 400", resp.StatusCode)
				}
				if r.who() == nil || r.sessions.Len() != 1 {
					t.Fatal("a refused logout token ended the session")
				}
				return
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d; want 200", resp.StatusCode)
			}
			if r.who() != nil || r.sessions.Len() != 0 {
				t.Fatal("the session outlived a valid logout token")
			}
			if again := post(); again.StatusCode != http.StatusBadRequest {
				t.Errorf("replayed logout token: %d; want 400", again.StatusCode)
			}
		})
	}
}
