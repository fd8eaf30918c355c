package ssoclient

import (
	"net/url"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// The authorization request is the one x/oauth2 builds, parameter for
// parameter, for every shape of endpoint and input.
func TestAuthorizationURLMatchesOAuth2(t *testing.T) {
	for _, endpoint := range []string{"https://idp.example/authorize", "https://idp.example/b2c/authorize?p=B2C_1_signin"} {
		for _, in := range []struct{ hint, prompt string }{{"", ""}, {"Bob+Smith@example.com", "login"}, {"a&b=c d", ""}, {"", "select_account"}} {
			cfg := &oauth2.Config{
				ClientID: "app id/+", RedirectURL: "https://app.example/auth/sso/callback?x=1",
				Scopes: []string{"openid", "profile", "email"}, Endpoint: oauth2.Endpoint{AuthURL: endpoint},
			}
			p := &provider{authPrefix: authorizationPrefix(endpoint, cfg.ClientID, cfg.RedirectURL, cfg.Scopes)}
			a := newAttempt("/", "", time.Unix(0, 0))
			opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.Verifier), oauth2.SetAuthURLParam("nonce", a.Nonce)}
			if in.hint != "" {
				opts = append(opts, oauth2.SetAuthURLParam("login_hint", in.hint))
			}
			if in.prompt != "" {
				opts = append(opts, oauth2.SetAuthURLParam("prompt", in.prompt))
			}
			want, _ := url.Parse(cfg.AuthCodeURL(a.State, opts...))
			got, err := url.Parse(p.authorizationURL(a, in.hint, in.prompt))
			if err != nil {
				t.Fatal(err)
			}
			if got.Scheme+got.Host+got.Path != want.Scheme+want.Host+want.Path || got.Query().Encode() != want.Query().Encode() {
				t.Errorf("%s %+v:\n got %s\nwant %s", endpoint, in, got, want)
			}
		}
	}
}
