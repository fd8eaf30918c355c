package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// node-oidc-provider (npm oidc-provider), a certified OpenID provider, run
// by oidc-provider/server.mjs with its development login and consent
// pages and one client that authenticates with private_key_jwt.

const (
	opClientID = "ssokit-e2e-pkjwt"
	opKeyID    = "ssokit-e2e-key-1"
)

// nodeServer finds Node.js and oidc-provider/server.mjs with its packages
// installed, or skips t (fails it under CI).
func nodeServer(t *testing.T) (node, dir string) {
	t.Helper()
	node = lookTool(t, "E2E_NODE", "node", "nodejs")
	if node == "" {
		unavailable(t, "Node.js is not installed: apt-get install nodejs npm, or set E2E_NODE to a node binary")
	}
	dir, err := filepath.Abs("oidc-provider")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "oidc-provider", "package.json")); err != nil {
		unavailable(t, "oidc-provider is not installed: run npm ci in e2e/oidc-provider")
	}
	return node, dir
}

// writeClientKey makes the client's RSA key: the private key (PKCS#8) for
// examples/basic, the public key (SPKI) for the provider. Both are made
// for this test and deleted after it.
func writeClientKey(t *testing.T) (private, public string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	private, public = filepath.Join(dir, "client.key"), filepath.Join(dir, "client.pub")
	if err := os.WriteFile(private, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(public, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}), 0o644); err != nil {
		t.Fatal(err)
	}
	return private, public
}

var opListening = regexp.MustCompile(`listening on (http://\S+) issuer (\S+)`)

// startOIDCProvider runs server.mjs behind a recorder, whose URL is the
// issuer, with the client registered for the app at appPort.
func startOIDCProvider(t *testing.T, node, dir string, appPort int, publicKey string) *recorder {
	t.Helper()
	rec := newRecorder(t)
	app := "http://localhost:" + strconv.Itoa(appPort)
	cmd := exec.Command(node, "server.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"OP_ISSUER="+rec.URL,
		"OP_CLIENT_ID="+opClientID,
		"OP_CLIENT_PUBLIC_KEY_FILE="+publicKey,
		"OP_CLIENT_KEY_ID="+opKeyID,
		"OP_REDIRECT_URI="+app+"/auth/sso/callback",
		"OP_POST_LOGOUT_REDIRECT_URI="+app+"/",
	)
	m := startProc(t, "oidc-provider", cmd).waitFor(t, opListening)
	if m[2] != rec.URL {
		t.Fatalf("oidc-provider's issuer is %s, want %s", m[2], rec.URL)
	}
	rec.forward(t, m[1])
	return rec
}

// TestOIDCProvider signs in through node-oidc-provider's login and
// consent pages in Chromium with private_key_jwt (the assertion's aud the
// token endpoint, then the issuer), checks that the authorization
// response carried the RFC 9207 iss, and signs out at the provider's
// logout page.
func TestOIDCProvider(t *testing.T) {
	chromiumPath(t)
	node, dir := nodeServer(t)
	for _, aud := range []string{"token_endpoint", "issuer"} {
		t.Run("aud_"+aud, func(t *testing.T) {
			privateKey, publicKey := writeClientKey(t)
			port := freePort(t)
			op := startOIDCProvider(t, node, dir, port, publicKey)
			issuer := op.URL
			b := newBrowser(t)
			a := startBasic(t, port,
				"SSO_ISSUER="+issuer,
				"SSO_CLIENT_ID="+opClientID,
				"SSO_AUTH_METHOD=private_key_jwt",
				"SSO_PRIVATE_KEY_FILE="+privateKey,
				"SSO_KEY_ID="+opKeyID,
				"SSO_ASSERTION_AUDIENCE="+aud,
			)
			tb := b.tab()

			openHome(t, tb, a)
			state := clickSignIn(t, tb, a, `input[name="login"]`).Get("state")
			checkAttemptCookie(t, tb, a, state)
			tb.do(t, "sign in on the provider's login page",
				typeInto(`input[name="login"]`, "ada"),
				typeInto(`input[name="password"]`, "any password"),
				click(`button[type="submit"]`),
				chromedp.WaitVisible(chromedp.CSS(`button[autofocus][type="submit"]`)))
			tb.do(t, "continue on the provider's consent page",
				click(`button[autofocus][type="submit"]`))

			expectSignedIn(t, tb, a, "Ada Lovelace", "ada@example.com")
			cb := callbackFor(t, tb, a, state)
			if got := cb.Query().Get("iss"); got != issuer {
				t.Errorf("the callback %s carried iss=%q, want %q (RFC 9207)", cb, got, issuer)
			}
			expectNoAttempts(t, tb, a)

			trs := op.tokenRequests()
			if len(trs) != 1 {
				t.Fatalf("the app made %d token requests, want 1", len(trs))
			}
			wantAud := issuer + "/token"
			if aud == "issuer" {
				wantAud = issuer
			}
			checkClientAssertion(t, trs[0], wantAud)

			signOut(t, tb, a,
				chromedp.WaitVisible(chromedp.CSS(`button[name="logout"][value="yes"]`)),
				click(`button[name="logout"][value="yes"]`))
			end := tb.lastRequest(t, issuer+"/session/end")
			u, _ := url.Parse(end.URL)
			if q := u.Query(); q.Get("id_token_hint") == "" || q.Get("client_id") != opClientID || q.Get("post_logout_redirect_uri") != a.URL+"/" {
				t.Errorf("end-session request %s: want id_token_hint, client_id=%s and post_logout_redirect_uri=%s/", end.URL, opClientID, a.URL)
			}
		})
	}
}

// checkClientAssertion checks a private_key_jwt token request as it went
// over the wire (RFC 7523 §2.2, OpenID Connect Core §9): no secret, and an
// RS256 assertion with the registered kid whose iss and sub are the
// client, whose aud is wantAud, with a jti and a short life. The provider
// checked the signature.
func checkClientAssertion(t *testing.T, tr tokenRequest, wantAud string) {
	t.Helper()
	f := tr.Form
	if tr.BasicAuth || f.Has("client_secret") {
		t.Errorf("token request: Basic auth %v, client_secret %v; want neither with private_key_jwt", tr.BasicAuth, f.Has("client_secret"))
	}
	if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || len(f.Get("code_verifier")) != 43 {
		t.Errorf("token request: client_assertion_type %q, code_verifier %q", f.Get("client_assertion_type"), f.Get("code_verifier"))
	}
	parts := strings.Split(f.Get("client_assertion"), ".")
	if len(parts) != 3 {
		t.Fatalf("client_assertion %q is not a compact JWS", f.Get("client_assertion"))
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Jti string          `json:"jti"`
		Exp int64           `json:"exp"`
		Iat int64           `json:"iat"`
	}
	for i, v := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("client_assertion part %d: %v", i, err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("client_assertion part %d: %v: %s", i, err, b)
		}
	}
	if header.Alg != "RS256" || header.Kid != opKeyID {
		t.Errorf("client_assertion header: alg %q kid %q, want RS256 and %s", header.Alg, header.Kid, opKeyID)
	}
	var aud string
	if err := json.Unmarshal(claims.Aud, &aud); err != nil {
		var auds []string
		if json.Unmarshal(claims.Aud, &auds) == nil && len(auds) == 1 {
			aud = auds[0]
		}
	}
	life := time.Duration(claims.Exp-claims.Iat) * time.Second
	if claims.Iss != opClientID || claims.Sub != opClientID || aud != wantAud || claims.Jti == "" || life <= 0 || life > 5*time.Minute {
		t.Errorf("client_assertion claims: iss %q sub %q aud %s jti %q life %v; want iss = sub = %s, aud %s, a jti, and a life of at most 5 minutes",
			claims.Iss, claims.Sub, claims.Aud, claims.Jti, life, opClientID, wantAud)
	}
}
