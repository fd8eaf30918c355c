package ssoclient_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// recorder keeps everything a test may look for secrets in: what the app
// sent the browser, and the values the protocol exchanged.
type recorder struct {
	mu sync.Mutex
	// out is every byte the app served: status lines, headers (the
	// Location header apart) and bodies, plus error strings.
	out bytes.Buffer
	// locations are the app's redirects, each judged on its own.
	locations []string
	// secrets are the values that must not leak, by what they are.
	secrets map[string]string
}

func (rec *recorder) addSecret(name, v string) {
	if len(v) < 8 { // too short to search for without false alarms
		return
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.secrets[name+" "+fmt.Sprint(len(rec.secrets))] = v
}

// appTransport records the app's answers to the browser.
type appTransport struct {
	rec  *recorder
	app  string // host of the app
	next http.RoundTripper
}

func (t *appTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || req.URL.Host != t.app {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	t.rec.mu.Lock()
	defer t.rec.mu.Unlock()
	fmt.Fprintf(&t.rec.out, "%s %s -> %d\n", req.Method, req.URL.Path, resp.StatusCode)
	for k, vs := range resp.Header {
		if k == "Location" {
			t.rec.locations = append(t.rec.locations, vs...)
			continue
		}
		fmt.Fprintf(&t.rec.out, "%s: %s\n", k, strings.Join(vs, ", "))
	}
	t.rec.out.Write(body)
	return resp, nil
}

// providerTransport records the secrets the provider hands the app:
// tokens from the token endpoint.
type providerTransport struct {
	rec  *recorder
	next http.RoundTripper
}

func (t *providerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || !strings.HasSuffix(req.URL.Path, "/token") {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	var tok map[string]any
	if json.Unmarshal(body, &tok) == nil {
		for _, k := range []string{"access_token", "refresh_token", "id_token"} {
			if s, ok := tok[k].(string); ok {
				t.rec.addSecret(k, s)
				if parts := strings.Split(s, "."); len(parts) == 3 {
					// A token's signature alone identifies it too.
					t.rec.addSecret(k+" signature", parts[2])
				}
			}
		}
	}
	return resp, nil
}

// Every flow, success and failure, at debug level: no client secret,
// private key, code, token, state, nonce, PKCE verifier or session id
// appears in a log line, an error string, a response body or header, or a
// redirect other than the one the protocol puts it in.
func TestNoSecretLeaks(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	const secret = "client-secret-that-must-stay-home"

	type flow struct {
		name   string
		faults ssotest.Faults
		auth   ssoclient.AuthMethod
		json   bool // the browser asks for JSON errors
	}
	flows := []flow{
		{name: "post", auth: ssoclient.AuthClientSecretPost},
		{name: "basic", auth: ssoclient.AuthClientSecretBasic},
		{name: "private_key_jwt", auth: ssoclient.AuthPrivateKeyJWT},
		{name: "thin token, userinfo", auth: ssoclient.AuthClientSecretPost, faults: ssotest.Faults{ThinIDToken: true}},
		{name: "nonce mismatch", faults: ssotest.Faults{Nonce: "another-nonce-value"}},
		{name: "bad signature", faults: ssotest.Faults{BadSignature: true}, json: true},
		{name: "at_hash mismatch", faults: ssotest.Faults{ModifyIDToken: func(_, c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }}},
		{name: "invalid_grant", faults: ssotest.Faults{TokenError: "invalid_grant"}, json: true},
		{name: "invalid_client", faults: ssotest.Faults{TokenError: "invalid_client"}},
		{name: "token 500", faults: ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointToken: 500}}},
		{name: "token garbage", faults: ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointToken: `{"access_token":"leaky-access-token-value","id_token":`}}},
		{name: "userinfo of another", faults: ssotest.Faults{ThinIDToken: true, UserinfoSubject: "mallory"}},
		{name: "email unverified", faults: ssotest.Faults{UnverifiedEmail: true}},
		{name: "access_denied", faults: ssotest.Faults{AuthorizeError: "access_denied"}},
		{name: "iss parameter of another", faults: ssotest.Faults{IssParameter: "https://evil.example"}},
	}
	for _, f := range flows {
		t.Run(f.name, func(t *testing.T) {
			rec := &recorder{secrets: map[string]string{}}
			rec.addSecret("client secret", secret)
			rec.addSecret("private key PEM", keyPEM[40:120])
			rec.addSecret("private exponent", base64.RawURLEncoding.EncodeToString(key.D.Bytes()))
			rec.addSecret("private exponent (decimal)", key.D.String()[:40])

			client := ssotest.Client{ID: "app", Secret: secret, AuthMethod: string(f.auth)}
			if f.auth == "" {
				client.AuthMethod = ssotest.AuthClientSecretPost
			}
			if f.auth == ssoclient.AuthPrivateKeyJWT {
				client.Secret, client.PublicKey = "", key.Public()
			}
			a := newApp(t, []ssotest.Option{ssotest.WithClient(client)}, func(c *ssoclient.Config) {
				c.ClientID, c.ClientSecret, c.AuthMethod = "app", ssoclient.Secret(secret), f.auth
				if f.auth == ssoclient.AuthPrivateKeyJWT {
					c.ClientSecret, c.PrivateKey = "", key
				}
				base := c.HTTPClient
				c.HTTPClient = &http.Client{Transport: &providerTransport{rec: rec, next: base.Transport}}
				// Errors, in every form an app might print them.
				c.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err *ssoclient.Error) {
					b, _ := json.Marshal(err)
					rec.mu.Lock()
					fmt.Fprintf(&rec.out, "%v\n%+v\n%#v\n%s\n%s\n", err, err, err, err.Error(), b)
					if u := err.Unwrap(); u != nil {
						fmt.Fprintf(&rec.out, "cause: %v\n", u)
					}
					rec.mu.Unlock()
					ssoclient.WriteError(w, r, err)
				}
			})
			u, _ := url.Parse(a.srv.URL)
			a.browser.Transport = &appTransport{rec: rec, app: u.Host, next: a.browser.Transport}
			a.idp.SetFaults(f.faults)

			req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/auth/sso/login", nil)
			if f.json {
				req.Header.Set("Accept", "application/json")
			}
			resp, err := a.browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			signedIn := a.signedIn() != ""
			if want := f.faults.AuthorizeError == "" && f.faults.Nonce == "" && !f.faults.BadSignature && f.faults.TokenError == "" &&
				f.faults.Status == nil && f.faults.Body == nil && f.faults.UserinfoSubject == "" && !f.faults.UnverifiedEmail &&
				f.faults.IssParameter == "" && f.faults.ModifyIDToken == nil; signedIn != want {
				t.Fatalf("signed in = %v; want %v", signedIn, want)
			}
			// Log out too, from the app's own origin.
			lreq, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/auth/sso/logout", nil)
			lreq.Header.Set("Origin", a.srv.URL)
			if resp, err := a.browser.Do(lreq); err == nil {
				resp.Body.Close()
			}

			// The values of this sign-in, as the provider saw them.
			if authz := a.idp.LastAuthorizeRequest(); authz != nil {
				rec.addSecret("state", authz.Get("state"))
				rec.addSecret("nonce", authz.Get("nonce"))
			}
			if tr := a.idp.LastTokenRequest(); tr != nil {
				rec.addSecret("code", tr.Form.Get("code"))
				rec.addSecret("PKCE verifier", tr.Form.Get("code_verifier"))
				rec.addSecret("client assertion", tr.Form.Get("client_assertion"))
			}
			for _, ck := range a.browser.Jar.Cookies(u) {
				if strings.Contains(ck.Name, "session") {
					rec.addSecret("session id", ck.Value)
				}
			}
			// The session id was cleared at logout; take it from the
			// Set-Cookie the app sent, which the recorder keeps.
			for _, line := range strings.Split(rec.out.String(), "\n") {
				if _, v, ok := strings.Cut(line, "ssokit-session="); ok && strings.HasPrefix(line, "Set-Cookie") {
					v, _, _ = strings.Cut(v, ";")
					rec.addSecret("session id", v)
				}
			}

			logs := a.logText()
			if !strings.Contains(logs, "level=DEBUG") && !strings.Contains(logs, "level=INFO") && !strings.Contains(logs, "level=WARN") {
				t.Fatalf("nothing was logged; the test would prove nothing: %q", logs)
			}
			out := rec.out.String()
			for name, v := range rec.secrets {
				isSession := strings.HasPrefix(name, "session id")
				if strings.Contains(logs, v) {
					t.Errorf("the logs carry the %s", name)
				}
				// The session id is in the session cookie, where it
				// belongs; nowhere else.
				if isSession {
					if n := strings.Count(out, v); n != strings.Count(out, "ssokit-session="+v) {
						t.Errorf("the %s appears outside its cookie", name)
					}
				} else if strings.Contains(out, v) {
					t.Errorf("a response, header or error string carries the %s", name)
				}
				for _, loc := range rec.locations {
					if !strings.Contains(loc, v) {
						continue
					}
					// Where the protocol puts them: state and nonce in the
					// authorization request; the ID token as
					// id_token_hint at the provider's end-session endpoint.
					allowed := (strings.HasPrefix(name, "state") || strings.HasPrefix(name, "nonce")) && strings.Contains(loc, "/authorize?") ||
						strings.HasPrefix(name, "id_token") && strings.Contains(loc, "/end_session?")
					if !allowed {
						t.Errorf("the redirect to %s carries the %s", strings.SplitN(loc, "?", 2)[0], name)
					}
				}
			}
			if len(rec.secrets) < 4 {
				t.Fatalf("only %d secrets recorded; the test would prove little", len(rec.secrets))
			}
		})
	}
}
