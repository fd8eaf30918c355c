package ssoclient_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// stopAtCallback runs a sign-in in a's browser up to the provider's
// redirect to the callback, and returns that URL unvisited.
func stopAtCallback(a *app) *url.URL {
	a.t.Helper()
	return stopAtCallbackFrom(a, "/auth/sso/login")
}

// stopAtCallbackFrom is stopAtCallback starting at another login URL.
func stopAtCallbackFrom(a *app, login string) *url.URL {
	a.t.Helper()
	noFollow := *a.browser
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(a.srv.URL + login)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = noFollow.Get(resp.Header.Get("Location"))
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	u, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || u.Query().Get("code") == "" {
		a.t.Fatalf("no callback with a code: %q", resp.Header.Get("Location"))
	}
	return u
}

// Authorization-code injection (RFC 9700 §4.5): an attacker's code, put
// into the victim's callback with the victim's own state, is redeemed with
// the victim's PKCE verifier, which does not match the attacker's
// challenge. The provider refuses it; no session starts.
func TestCodeInjection(t *testing.T) {
	victim := newApp(t, nil, nil)
	// The attacker signs in as themselves at the same provider and keeps
	// the code instead of using it.
	attacker := &app{t: t, idp: victim.idp, sso: victim.sso, srv: victim.srv, browser: newBrowser(t, victim.idp), logs: victim.logs, logMu: victim.logMu}
	victim.idp.SetLoginUser("bob")
	stolen := stopAtCallback(attacker)

	// The victim starts a sign-in of their own (as alice).
	victim.idp.SetLoginUser("alice")
	own := stopAtCallback(victim)
	q := own.Query()
	q.Set("code", stolen.Query().Get("code"))
	own.RawQuery = q.Encode()
	victim.wantRefused(victim.get(victim.browser, own.RequestURI()), ssoclient.CodeInvalidGrant, 400)
}

// PKCE downgrade (RFC 9700 §2.1.1, RFC 7636 §7.2): whatever the provider
// advertises, the challenge is S256, never plain.
func TestPKCEIsAlwaysS256(t *testing.T) {
	for name, methods := range map[string]any{
		"plain only": []string{"plain"},
		"not listed": nil,
	} {
		t.Run(name, func(t *testing.T) {
			a := newApp(t, []ssotest.Option{ssotest.WithFaults(ssotest.Faults{ModifyDiscovery: func(d map[string]any) {
				if methods == nil {
					delete(d, "code_challenge_methods_supported")
				} else {
					d["code_challenge_methods_supported"] = methods
				}
			}})}, nil)
			a.signIn("")
			authz := a.idp.LastAuthorizeRequest()
			if authz.Get("code_challenge_method") != "S256" || len(authz.Get("code_challenge")) != 43 {
				t.Fatalf("authorization request: method %q challenge %q", authz.Get("code_challenge_method"), authz.Get("code_challenge"))
			}
			if v := a.idp.LastTokenRequest().Form.Get("code_verifier"); len(v) < 43 {
				t.Fatalf("verifier of %d characters; RFC 7636 wants 43 to 128", len(v))
			}
		})
	}
}

// The redirect URI is the configured one, byte for byte, in the
// authorization request and in the token request (RFC 9700 §4.1.3).
func TestExactRedirectURI(t *testing.T) {
	a := newApp(t, nil, nil)
	a.signIn("")
	want := a.srv.URL + "/auth/sso/callback"
	if got := a.idp.LastAuthorizeRequest().Get("redirect_uri"); got != want {
		t.Errorf("authorization request redirect_uri %q; want %q", got, want)
	}
	if got := a.idp.LastTokenRequest().Form.Get("redirect_uri"); got != want {
		t.Errorf("token request redirect_uri %q; want %q", got, want)
	}
}

// State and nonce are fresh 256-bit values per attempt (RFC 9700 §4.7,
// OIDC Core §15.5.2): no two attempts share either.
func TestStateAndNonceAreFresh(t *testing.T) {
	a := newApp(t, nil, nil)
	noFollow := *a.browser
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	seen := map[string]bool{}
	for range 50 {
		resp, err := noFollow.Get(a.srv.URL + "/auth/sso/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		for _, k := range []string{"state", "nonce", "code_challenge"} {
			v := loc.Query().Get(k)
			if len(v) < 43 || strings.ContainsAny(v, "+/=") {
				t.Fatalf("%s %q is not 256 bits of base64url", k, v)
			}
			if seen[v] {
				t.Fatalf("%s repeated", k)
			}
			seen[v] = true
		}
	}
}
