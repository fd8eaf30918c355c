package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"text/template"

	"github.com/chromedp/chromedp"
)

// Dex (github.com/dexidp/dex), a real OpenID provider, built by
// tools/dex/build.sh, with its password database and the clients of
// testdata/dex.yaml.tmpl.

const (
	dexSecret   = "ssokit-e2e-dex-secret" // test only
	dexLogin    = "kim@example.com"
	dexPassword = "password" // the bcrypt hash in testdata/dex.yaml.tmpl
)

// dexBinary finds Dex: $E2E_DEX, tools/dex/bin/dex, or dex on PATH.
func dexBinary(t *testing.T) string {
	t.Helper()
	if os.Getenv("E2E_DEX") == "" {
		if p, err := filepath.Abs(filepath.Join("tools", "dex", "bin", "dex")); err == nil {
			if _, err := os.Stat(p); err == nil {
				return p
			}
		}
	}
	p := lookTool(t, "E2E_DEX", "dex")
	if p == "" {
		unavailable(t, "Dex is not built: run e2e/tools/dex/build.sh (three to four minutes cold on two cores), or set E2E_DEX to a dex binary")
	}
	return p
}

var dexListening = regexp.MustCompile(`msg="listening on" server=http address=(\S+)`)

// startDex runs Dex on a free loopback port behind a recorder, with
// redirect URIs for the apps at appPorts, and returns the recorder, whose
// URL + "/dex" is the issuer.
func startDex(t *testing.T, bin string, appPorts ...int) *recorder {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(freePort(t))
	rec := newRecorder(t)
	rec.forward(t, "http://"+addr)

	var redirects []string
	for _, p := range appPorts {
		redirects = append(redirects, "http://localhost:"+strconv.Itoa(p)+"/auth/sso/callback")
	}
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "dex.yaml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg bytes.Buffer
	if err := tmpl.Execute(&cfg, map[string]any{
		"Issuer": rec.URL + "/dex", "Addr": addr, "Secret": dexSecret, "RedirectURIs": redirects,
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dex.yaml")
	if err := os.WriteFile(path, cfg.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProc(t, "dex", exec.Command(bin, "serve", path))
	if got := p.waitFor(t, dexListening)[1]; got != addr {
		t.Fatalf("Dex listens on %s, want %s", got, addr)
	}
	return rec
}

// TestDex signs in through Dex's login form and approval page in
// Chromium with each way examples/basic can authenticate to it: a
// confidential client's secret in the Authorization header or in the
// body, and a public client with PKCE alone. A wrong secret is refused.
// Dex has no end-session endpoint, so signing out is the app's alone.
func TestDex(t *testing.T) {
	chromiumPath(t)
	bin := dexBinary(t)
	methods := []struct {
		name     string
		env      []string
		check    func(t *testing.T, tr tokenRequest)
		wantCode string // the error page's code, or "" to sign in
	}{{
		name: "client_secret_basic",
		env:  []string{"SSO_CLIENT_ID=ssokit-confidential", "SSO_CLIENT_SECRET=" + dexSecret, "SSO_AUTH_METHOD=client_secret_basic"},
		check: func(t *testing.T, tr tokenRequest) {
			if !tr.BasicAuth || tr.Form.Has("client_secret") {
				t.Errorf("token request: Basic auth %v, client_secret in the body %v; want the secret in the header only", tr.BasicAuth, tr.Form.Has("client_secret"))
			}
		},
	}, {
		name: "client_secret_post",
		env:  []string{"SSO_CLIENT_ID=ssokit-confidential", "SSO_CLIENT_SECRET=" + dexSecret, "SSO_AUTH_METHOD=client_secret_post"},
		check: func(t *testing.T, tr tokenRequest) {
			if tr.BasicAuth || tr.Form.Get("client_secret") != dexSecret || tr.Form.Get("client_id") != "ssokit-confidential" {
				t.Errorf("token request: Basic auth %v, client_id %q, client_secret %q; want both in the body", tr.BasicAuth, tr.Form.Get("client_id"), tr.Form.Get("client_secret"))
			}
		},
	}, {
		name: "none",
		env:  []string{"SSO_CLIENT_ID=ssokit-public", "SSO_AUTH_METHOD=none"},
		check: func(t *testing.T, tr tokenRequest) {
			if tr.BasicAuth || tr.Form.Has("client_secret") || tr.Form.Get("client_id") != "ssokit-public" {
				t.Errorf("token request: Basic auth %v, client_secret %v, client_id %q; want client_id alone", tr.BasicAuth, tr.Form.Has("client_secret"), tr.Form.Get("client_id"))
			}
		},
	}, {
		name:     "wrong_secret",
		env:      []string{"SSO_CLIENT_ID=ssokit-confidential", "SSO_CLIENT_SECRET=not-the-secret", "SSO_AUTH_METHOD=client_secret_basic"},
		wantCode: "invalid_client",
	}}
	ports := make([]int, len(methods))
	for i := range methods {
		ports[i] = freePort(t)
	}
	dex := startDex(t, bin, ports...)
	issuer := dex.URL + "/dex"

	for i, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			b := newBrowser(t)
			a := startBasic(t, ports[i], append([]string{"SSO_ISSUER=" + issuer}, m.env...)...)
			tb := b.tab()
			openHome(t, tb, a)
			q := clickSignIn(t, tb, a, `input[name="login"]`)
			state := q.Get("state")
			checkAttemptCookie(t, tb, a, state)
			before := len(dex.tokenRequests())

			tb.do(t, "sign in with Dex's password form",
				typeInto(`input[name="login"]`, dexLogin),
				typeInto(`input[name="password"]`, dexPassword),
				click(`#submit-login`),
				chromedp.WaitVisible(chromedp.CSS(`input[name="approval"][value="approve"] ~ button[type="submit"]`)))
			tb.do(t, "grant access on Dex's approval page",
				click(`input[name="approval"][value="approve"] ~ button[type="submit"]`))

			if m.wantCode != "" {
				tb.do(t, "wait for the error page", chromedp.WaitVisible(chromedp.CSS(`code`)))
				if text := tb.text(t); !strings.Contains(text, "Sign-in failed") || !strings.Contains(text, "Error code: "+m.wantCode) {
					t.Errorf("the callback page does not show error %s:\n%s", m.wantCode, text)
				}
				cb := tb.lastRequest(t, a.URL+"/auth/sso/callback")
				if cb.Status < 400 || cb.Status >= 600 {
					t.Errorf("the refused callback answered %d, want an error status", cb.Status)
				}
				expectNoSession(t, tb, a)
				return
			}

			id := expectSignedIn(t, tb, a, "Kim Dex", dexLogin)
			if id["issuer"] != issuer || id["subject"] == "" {
				t.Errorf("GET /me: subject %v at %v, want a subject at %s", id["subject"], id["issuer"], issuer)
			}
			callbackFor(t, tb, a, state)
			expectNoAttempts(t, tb, a)
			trs := dex.tokenRequests()[before:]
			if len(trs) != 1 {
				t.Fatalf("the app made %d token requests, want 1", len(trs))
			}
			if tr := trs[0]; tr.Form.Get("grant_type") != "authorization_code" || len(tr.Form.Get("code_verifier")) != 43 {
				t.Errorf("token request: grant_type %q, code_verifier %q; want authorization_code with a PKCE verifier", tr.Form.Get("grant_type"), tr.Form.Get("code_verifier"))
			}
			m.check(t, trs[0])

			signOut(t, tb, a)
		})
	}
}
