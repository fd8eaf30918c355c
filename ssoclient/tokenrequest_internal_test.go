package ssoclient

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// tokenTestClient is a Client whose provider's token endpoint is h.
func tokenTestClient(t *testing.T, h http.HandlerFunc) *Client {
	t.Helper()
	idp := ssotest.New(t)
	c, err := New(context.Background(), Config{
		Issuer: idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL: "http://127.0.0.1/auth/sso/callback", HTTPClient: idp.HTTPClient(),
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c.prov.endpoints.Token = srv.URL + "/token"
	return c
}

// Each client authentication method puts the credentials where RFC 6749
// §2.3.1 and RFC 7523 say, and only there; the grant is form-encoded.
func TestTokenRequestOnTheWire(t *testing.T) {
	const id, secret = "client:1 é", "s3cr%t+&="
	for _, m := range []AuthMethod{AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT, AuthNone} {
		t.Run(string(m), func(t *testing.T) {
			var got *http.Request
			var form url.Values
			c := tokenTestClient(t, func(w http.ResponseWriter, r *http.Request) {
				got = r
				_ = r.ParseForm()
				form = r.PostForm
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"access_token":"at","token_type":"Bearer","expires_in":60}`)
			})
			p := c.prov
			cc := *p.conn
			cc.clientID, cc.secret = id, secret
			if m == AuthPrivateKeyJWT {
				cc.privateKey = testRSAKey(t)
			}
			p.conn, p.authMethod = &cc, m
			tok, err := c.exchange(context.Background(), p, "the-code", "the-verifier")
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "at" || tok.ExpiresIn != 60 {
				t.Errorf("token %+v", tok)
			}
			if got.Method != http.MethodPost || got.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
				t.Errorf("%s with %q", got.Method, got.Header.Get("Content-Type"))
			}
			if form.Get("grant_type") != "authorization_code" || form.Get("code") != "the-code" ||
				form.Get("code_verifier") != "the-verifier" || form.Get("redirect_uri") != "http://127.0.0.1/auth/sso/callback" {
				t.Errorf("grant %v", form)
			}
			u, pw, basic := got.BasicAuth()
			switch m {
			case AuthClientSecretBasic:
				// Each part form-encoded, then joined (RFC 6749 §2.3.1).
				if !basic || u != url.QueryEscape(id) || pw != url.QueryEscape(secret) {
					t.Errorf("basic %q %q %v", u, pw, basic)
				}
				if form.Has("client_secret") || form.Has("client_id") {
					t.Errorf("credentials in the body too: %v", form)
				}
			case AuthClientSecretPost:
				if basic || form.Get("client_id") != id || form.Get("client_secret") != secret {
					t.Errorf("post: basic=%v form %v", basic, form)
				}
			case AuthPrivateKeyJWT:
				if basic || form.Has("client_secret") || form.Get("client_assertion_type") != assertionType || form.Get("client_assertion") == "" {
					t.Errorf("private_key_jwt: basic=%v form %v", basic, form)
				}
			case AuthNone:
				if basic || form.Has("client_secret") || form.Get("client_id") != id {
					t.Errorf("none: basic=%v form %v", basic, form)
				}
			}
		})
	}
}

// A token endpoint that redirects is refused, and the redirect's target
// never sees the grant or the credentials (a 307 would resend them).
func TestTokenRequestFollowsNoRedirect(t *testing.T) {
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		_, _ = io.WriteString(w, `{"access_token":"at"}`)
	}))
	defer elsewhere.Close()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		c := tokenTestClient(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/token", status)
		})
		_, err := c.exchange(context.Background(), c.prov, "code", "verifier")
		if e := asError(err); err == nil || e.Code != CodeProviderUnavailable || e.Status != http.StatusBadGateway {
			t.Errorf("%d: %v; want provider_unavailable 502", status, err)
		}
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the redirect's target got %d token requests", n)
	}
}

func testRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// formBody writes what url.Values.Encode writes, in the order given.
func TestFormBody(t *testing.T) {
	pairs := [][2]string{
		{"grant_type", "authorization_code"},
		{"code", "a b+c/d?e=f&g%h~i_j.k-l"},
		{"redirect_uri", "https://app.example.com/auth/sso/callback?x=1"},
		{"client_secret", "sécret\x00\xff"},
		{"", ""},
	}
	var f formBody
	for _, p := range pairs {
		f.add(p[0], p[1])
	}
	got, err := url.ParseQuery(string(f))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pairs[:4] {
		if got.Get(p[0]) != p[1] {
			t.Errorf("%s = %q, want %q", p[0], got.Get(p[0]), p[1])
		}
	}
	if want := "grant_type=authorization_code&code=" + url.QueryEscape(pairs[1][1]); !strings.HasPrefix(string(f), want+"&") {
		t.Errorf("body %q does not start with %q", f, want)
	}
}

func FuzzAppendQueryEscape(f *testing.F) {
	f.Add("a b+c/é\x00")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(appendQueryEscape(nil, s)), url.QueryEscape(s); got != want {
			t.Fatalf("appendQueryEscape(%q) = %q, want %q", s, got, want)
		}
	})
}
