package ssotest_test

import (
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/randtoken"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

const redirectURI = "http://127.0.0.1:9999/auth/sso/callback"

// rp is a minimal relying party written against the protocol directly, to
// show what the provider does.
type rp struct {
	t        *testing.T
	p        *ssotest.Provider
	http     *http.Client
	verifier string
	nonce    string
	state    string
}

// base is the issuer without a trailing slash: endpoints hang off it.
func base(p *ssotest.Provider) string { return strings.TrimSuffix(p.Issuer(), "/") }

func newRP(t *testing.T, p *ssotest.Provider) *rp {
	c := *p.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &rp{t: t, p: p, http: &c, verifier: randtoken.New(32), nonce: randtoken.New(32), state: randtoken.New(32)}
}

func (r *rp) authParams() url.Values {
	sum := sha256.Sum256([]byte(r.verifier))
	return url.Values{
		"response_type":         {"code"},
		"client_id":             {ssotest.DefaultClientID},
		"redirect_uri":          {redirectURI},
		"scope":                 {"openid profile email"},
		"state":                 {r.state},
		"nonce":                 {r.nonce},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	}
}

// authorize sends the browser's GET and returns the status and where the
// provider redirects.
func (r *rp) authorize(params url.Values) (int, *url.URL, string) {
	r.t.Helper()
	resp, err := r.http.Get(base(r.p) + "/authorize?" + params.Encode())
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	loc, _ := resp.Location()
	return resp.StatusCode, loc, string(body)
}

// code runs authorize and returns the code, failing the test otherwise.
func (r *rp) code(params url.Values) string {
	r.t.Helper()
	status, loc, body := r.authorize(params)
	if status != http.StatusFound || loc == nil || loc.Query().Get("code") == "" {
		r.t.Fatalf("authorize: status %d, location %v, body %q", status, loc, body)
	}
	if got := loc.Query().Get("state"); got != r.state {
		r.t.Fatalf("state = %q, want %q", got, r.state)
	}
	if got := loc.Query().Get("iss"); got != r.p.Issuer() {
		r.t.Fatalf("iss = %q, want %q", got, r.p.Issuer())
	}
	return loc.Query().Get("code")
}

func (r *rp) token(form url.Values, basic ...string) (int, map[string]any) {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base(r.p)+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	resp, err := r.http.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		r.t.Fatalf("token response: %v", err)
	}
	return resp.StatusCode, out
}

func (r *rp) exchangeForm(code string) url.Values {
	return url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {r.verifier},
		"client_id":     {ssotest.DefaultClientID},
		"client_secret": {ssotest.DefaultClientSecret},
	}
}

// keys fetches the JWKS and returns its public keys by kid.
func (r *rp) keys() map[string]crypto.PublicKey {
	r.t.Helper()
	resp, err := r.http.Get(base(r.p) + "/jwks")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	set, err := jwk.Parse(b)
	if err != nil {
		r.t.Fatalf("jwks: %v", err)
	}
	out := map[string]crypto.PublicKey{}
	for i := 0; i < set.Len(); i++ {
		k, _ := set.Key(i)
		kid, _ := k.KeyID()
		var raw any
		if err := jwk.Export(k, &raw); err != nil {
			r.t.Fatal(err)
		}
		out[kid] = raw
	}
	return out
}

// verify checks the ID token's signature against the JWKS and returns its
// header and claims.
func (r *rp) verify(tok string) (map[string]any, map[string]any) {
	r.t.Helper()
	hb, pb, sig, input, err := jose.Parts(tok)
	if err != nil {
		r.t.Fatal(err)
	}
	var h, c map[string]any
	if err := json.Unmarshal(hb, &h); err != nil {
		r.t.Fatal(err)
	}
	if err := json.Unmarshal(pb, &c); err != nil {
		r.t.Fatal(err)
	}
	key := r.keys()[h["kid"].(string)]
	if key == nil {
		r.t.Fatalf("kid %v not in JWKS", h["kid"])
	}
	if err := jose.VerifyInput(key, h["alg"].(string), []byte(input), sig); err != nil {
		r.t.Fatalf("ID token signature: %v", err)
	}
	return h, c
}

func TestDiscovery(t *testing.T) {
	p := ssotest.New(t)
	resp, err := p.HTTPClient().Get(p.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"issuer":                 p.Issuer(),
		"authorization_endpoint": p.Issuer() + "/authorize",
		"token_endpoint":         p.Issuer() + "/token",
		"jwks_uri":               p.Issuer() + "/jwks",
		"userinfo_endpoint":      p.Issuer() + "/userinfo",
		"end_session_endpoint":   p.Issuer() + "/end_session",
	} {
		if doc[k] != want {
			t.Errorf("%s = %v, want %v", k, doc[k], want)
		}
	}
	if !strings.HasPrefix(p.Issuer(), "http://127.0.0.1:") {
		t.Errorf("issuer %q is not on loopback", p.Issuer())
	}
}

func TestIssuerPath(t *testing.T) {
	for _, path := range []string{"/tenant/v2.0", "/"} {
		p := ssotest.New(t, ssotest.WithIssuerPath(path), ssotest.WithLoginUser("alice"))
		if !strings.HasSuffix(p.Issuer(), path) {
			t.Fatalf("issuer %q does not end in %q", p.Issuer(), path)
		}
		doc := p.Discovery()
		base := strings.TrimSuffix(p.Issuer(), "/")
		if doc["token_endpoint"] != base+"/token" {
			t.Errorf("token_endpoint = %v, want no doubled slash under %q", doc["token_endpoint"], base)
		}
		r := newRP(t, p)
		status, tok := r.token(r.exchangeForm(r.code(r.authParams())))
		if status != http.StatusOK {
			t.Fatalf("path %q: token status %d: %v", path, status, tok)
		}
		if _, c := r.verify(tok["id_token"].(string)); c["iss"] != p.Issuer() {
			t.Errorf("iss = %v, want %q", c["iss"], p.Issuer())
		}
	}
}

func TestCodeFlow(t *testing.T) {
	p := ssotest.New(t, ssotest.WithLoginUser("alice"))
	r := newRP(t, p)
	code := r.code(r.authParams())
	status, tok := r.token(r.exchangeForm(code))
	if status != http.StatusOK {
		t.Fatalf("token: %d %v", status, tok)
	}
	if tok["token_type"] != "Bearer" {
		t.Errorf("token_type = %v", tok["token_type"])
	}
	if _, ok := tok["refresh_token"]; ok {
		t.Errorf("refresh_token issued without offline_access")
	}
	h, c := r.verify(tok["id_token"].(string))
	if h["alg"] != "RS256" || h["kid"] != p.KeyID() {
		t.Errorf("header = %v", h)
	}
	wantAtHash, _ := jose.HalfHash("RS256", tok["access_token"].(string))
	for k, want := range map[string]any{
		"iss": p.Issuer(), "sub": "alice", "aud": ssotest.DefaultClientID, "nonce": r.nonce,
		"email": "alice@example.com", "email_verified": true, "name": "Alice Example",
		"preferred_username": "alice", "at_hash": wantAtHash,
	} {
		if c[k] != want {
			t.Errorf("claim %s = %v, want %v", k, c[k], want)
		}
	}
	exp, iat := c["exp"].(float64), c["iat"].(float64)
	if exp-iat != ssotest.IDTokenLifetime.Seconds() {
		t.Errorf("exp-iat = %v", exp-iat)
	}

	// Userinfo with the access token.
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ui map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&ui); err != nil {
		t.Fatal(err)
	}
	if ui["sub"] != "alice" || ui["email"] != "alice@example.com" {
		t.Errorf("userinfo = %v", ui)
	}

	// What the provider saw.
	if got := p.LastAuthorizeRequest().Get("code_challenge_method"); got != "S256" {
		t.Errorf("recorded code_challenge_method = %q", got)
	}
	if got := p.LastTokenRequest(); got.AuthMethod != ssotest.AuthClientSecretPost || got.ClientID != ssotest.DefaultClientID {
		t.Errorf("recorded token request: %+v", got)
	}
}

func TestUserinfoRefusesUnknownToken(t *testing.T) {
	p := ssotest.New(t)
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer not-a-token")
	resp, err := p.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Errorf("status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
}

func TestLoginHintAndPicker(t *testing.T) {
	p := ssotest.New(t)
	r := newRP(t, p)

	// No login user and no hint: the picker page.
	status, loc, body := r.authorize(r.authParams())
	if status != http.StatusOK || loc != nil {
		t.Fatalf("picker: status %d, location %v", status, loc)
	}
	for _, u := range ssotest.DefaultUsers() {
		if !strings.Contains(body, u.Name) {
			t.Errorf("picker does not list %q", u.Name)
		}
	}
	if !strings.Contains(body, `name="ssotest_user" value="alice"`) {
		t.Errorf("picker has no form for alice")
	}

	// login_hint by email signs in as bob at once.
	params := r.authParams()
	params.Set("login_hint", "bob@example.com")
	code := r.code(params)
	_, tok := r.token(r.exchangeForm(code))
	if _, c := r.verify(tok["id_token"].(string)); c["sub"] != "bob" {
		t.Errorf("sub = %v, want bob", c["sub"])
	}

	// prompt=none with nobody to sign in: login_required.
	params = r.authParams()
	params.Set("prompt", "none")
	_, loc, _ = r.authorize(params)
	if loc == nil || loc.Query().Get("error") != "login_required" {
		t.Errorf("prompt=none: location %v", loc)
	}
}

// TestPickerPost submits the picker's form as a browser would.
func TestPickerPost(t *testing.T) {
	p := ssotest.New(t)
	r := newRP(t, p)
	form := r.authParams()
	form.Set("ssotest_user", "carol@contoso.onmicrosoft.com")
	resp, err := r.http.PostForm(p.Issuer()+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatal(err)
	}
	_, tok := r.token(r.exchangeForm(loc.Query().Get("code")))
	_, c := r.verify(tok["id_token"].(string))
	if c["sub"] != "Zp3bK9xQ-carol-pairwise" || c["oid"] == nil || c["tid"] == nil {
		t.Errorf("claims = %v", c)
	}
	if _, ok := c["email"]; ok {
		t.Errorf("carol has no email, got %v", c["email"])
	}

	form.Del("ssotest_user")
	form.Set("ssotest_deny", "1")
	resp, err = r.http.PostForm(p.Issuer()+"/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ = resp.Location()
	if loc == nil || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != r.state {
		t.Errorf("deny: location %v", loc)
	}
}

func TestAuthorizeRefusals(t *testing.T) {
	p := ssotest.New(t, ssotest.WithLoginUser("alice"), ssotest.WithClient(ssotest.Client{
		ID: "public", AuthMethod: ssotest.AuthNone, RedirectURIs: []string{redirectURI},
	}))
	tests := []struct {
		name      string
		change    func(url.Values)
		wantError string // in the redirect; "" means a 400 page and no redirect
	}{
		{"unknown client", func(v url.Values) { v.Set("client_id", "nobody") }, ""},
		{"redirect not loopback", func(v url.Values) { v.Set("redirect_uri", "https://evil.example/cb") }, ""},
		{"redirect not registered", func(v url.Values) {
			v.Set("client_id", "public")
			v.Set("redirect_uri", redirectURI+"/x")
		}, ""},
		{"response_type token", func(v url.Values) { v.Set("response_type", "token") }, "unsupported_response_type"},
		{"no openid scope", func(v url.Values) { v.Set("scope", "profile") }, "invalid_scope"},
		{"public client without PKCE", func(v url.Values) {
			v.Set("client_id", "public")
			v.Del("code_challenge")
			v.Del("code_challenge_method")
		}, "invalid_request"},
		{"bad challenge method", func(v url.Values) { v.Set("code_challenge_method", "S512") }, "invalid_request"},
		{"short S256 challenge", func(v url.Values) { v.Set("code_challenge", "abc") }, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRP(t, p)
			params := r.authParams()
			tt.change(params)
			status, loc, _ := r.authorize(params)
			if tt.wantError == "" {
				if status != http.StatusBadRequest || loc != nil {
					t.Fatalf("status %d, location %v; want a 400 page", status, loc)
				}
				return
			}
			if loc == nil || loc.Query().Get("error") != tt.wantError {
				t.Fatalf("location %v, want error %q", loc, tt.wantError)
			}
		})
	}
}

func TestTokenRefusals(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := ssotest.New(t, ssotest.WithLoginUser("alice"), ssotest.WithClock(clock),
		ssotest.WithClient(ssotest.Client{ID: "other", Secret: "other-secret"}))
	tests := []struct {
		name   string
		change func(r *rp, form url.Values) []string // returns Basic credentials, if any
		want   string
		status int
	}{
		{"wrong secret", func(_ *rp, f url.Values) []string { f.Set("client_secret", "nope"); return nil }, "invalid_client", 401},
		{"unknown client", func(_ *rp, f url.Values) []string { f.Set("client_id", "nobody"); return nil }, "invalid_client", 401},
		{"two auth methods", func(_ *rp, f url.Values) []string {
			return []string{ssotest.DefaultClientID, ssotest.DefaultClientSecret}
		}, "invalid_request", 400},
		{"code of another client", func(_ *rp, f url.Values) []string {
			f.Set("client_id", "other")
			f.Set("client_secret", "other-secret")
			return nil
		}, "invalid_grant", 400},
		{"redirect_uri differs", func(_ *rp, f url.Values) []string { f.Set("redirect_uri", redirectURI+"/"); return nil }, "invalid_grant", 400},
		{"redirect_uri missing", func(_ *rp, f url.Values) []string { f.Del("redirect_uri"); return nil }, "invalid_grant", 400},
		{"wrong verifier", func(_ *rp, f url.Values) []string { f.Set("code_verifier", randtoken.New(32)); return nil }, "invalid_grant", 400},
		{"missing verifier", func(_ *rp, f url.Values) []string { f.Del("code_verifier"); return nil }, "invalid_grant", 400},
		{"unknown code", func(_ *rp, f url.Values) []string { f.Set("code", "made-up"); return nil }, "invalid_grant", 400},
		{"wrong grant type", func(_ *rp, f url.Values) []string { f.Set("grant_type", "password"); return nil }, "unsupported_grant_type", 400},
		{"expired code", func(_ *rp, f url.Values) []string {
			mu.Lock()
			now = now.Add(ssotest.CodeLifetime + time.Second)
			mu.Unlock()
			return nil
		}, "invalid_grant", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRP(t, p)
			form := r.exchangeForm(r.code(r.authParams()))
			basic := tt.change(r, form)
			status, body := r.token(form, basic...)
			if status != tt.status || body["error"] != tt.want {
				t.Fatalf("status %d, body %v; want %d %s", status, body, tt.status, tt.want)
			}
		})
	}
}

func TestCodeSingleUseRevokes(t *testing.T) {
	p := ssotest.New(t, ssotest.WithLoginUser("alice"))
	r := newRP(t, p)
	form := r.exchangeForm(r.code(r.authParams()))
	status, tok := r.token(form)
	if status != http.StatusOK {
		t.Fatalf("first redemption: %d %v", status, tok)
	}
	status, body := r.token(form)
	if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Fatalf("second redemption: %d %v", status, body)
	}
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("access token of a replayed code still works: %d", resp.StatusCode)
	}
}

func TestPKCE(t *testing.T) {
	p := ssotest.New(t, ssotest.WithLoginUser("alice"))
	t.Run("plain", func(t *testing.T) {
		r := newRP(t, p)
		params := r.authParams()
		params.Set("code_challenge", r.verifier)
		params.Set("code_challenge_method", "plain")
		if status, body := r.token(r.exchangeForm(r.code(params))); status != http.StatusOK {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("downgrade: verifier without challenge", func(t *testing.T) {
		r := newRP(t, p)
		params := r.authParams()
		params.Del("code_challenge")
		params.Del("code_challenge_method")
		status, body := r.token(r.exchangeForm(r.code(params)))
		if status != http.StatusBadRequest || body["error"] != "invalid_grant" {
			t.Fatalf("%d %v", status, body)
		}
	})
	t.Run("no PKCE at all for a confidential client", func(t *testing.T) {
		r := newRP(t, p)
		params := r.authParams()
		params.Del("code_challenge")
		params.Del("code_challenge_method")
		form := r.exchangeForm(r.code(params))
		form.Del("code_verifier")
		if status, body := r.token(form); status != http.StatusOK {
			t.Fatalf("%d %v", status, body)
		}
	})
}

func TestClientAuthMethods(t *testing.T) {
	priv, err := jose.GenerateKey("RS256")
	if err != nil {
		t.Fatal(err)
	}
	p := ssotest.New(t, ssotest.WithLoginUser("alice"),
		ssotest.WithClient(ssotest.Client{ID: "basic", Secret: "s:e/c r+t", AuthMethod: ssotest.AuthClientSecretBasic, RedirectURIs: []string{redirectURI}}),
		ssotest.WithClient(ssotest.Client{ID: "post", Secret: "post-secret", AuthMethod: ssotest.AuthClientSecretPost, RedirectURIs: []string{redirectURI}}),
		ssotest.WithClient(ssotest.Client{ID: "jwt", AuthMethod: ssotest.AuthPrivateKeyJWT, PublicKey: priv.Public(), KeyID: "k1", RedirectURIs: []string{redirectURI}}),
		ssotest.WithClient(ssotest.Client{ID: "public", AuthMethod: ssotest.AuthNone, RedirectURIs: []string{redirectURI}}),
	)
	tokenURL := p.Issuer() + "/token"
	assertion := func(change func(h, c map[string]any)) string {
		h := map[string]any{"kid": "k1", "typ": "JWT"}
		c := map[string]any{
			"iss": "jwt", "sub": "jwt", "aud": tokenURL, "jti": randtoken.New(16),
			"iat": time.Now().Unix(), "exp": time.Now().Add(time.Minute).Unix(),
		}
		if change != nil {
			change(h, c)
		}
		tok, err := jose.SignJSON(priv, "RS256", h, c)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	type auth struct {
		form  url.Values
		basic []string
	}
	jwtAuth := func(a string) auth {
		return auth{form: url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {a}}}
	}
	replayed := assertion(nil)
	tests := []struct {
		name   string
		client string
		auth   auth
		want   string // "" for success, else the OAuth error
	}{
		{"basic", "basic", auth{basic: []string{"basic", "s:e/c r+t"}}, ""},
		{"basic client sends post", "basic", auth{form: url.Values{"client_id": {"basic"}, "client_secret": {"s:e/c r+t"}}}, "invalid_client"},
		{"post", "post", auth{form: url.Values{"client_id": {"post"}, "client_secret": {"post-secret"}}}, ""},
		{"post client sends basic", "post", auth{basic: []string{"post", "post-secret"}}, "invalid_client"},
		{"private_key_jwt aud token endpoint", "jwt", jwtAuth(assertion(nil)), ""},
		{"private_key_jwt aud issuer", "jwt", jwtAuth(assertion(func(_, c map[string]any) { c["aud"] = p.Issuer() })), ""},
		{"private_key_jwt replayed jti (first)", "jwt", jwtAuth(replayed), ""},
		{"private_key_jwt replayed jti", "jwt", jwtAuth(replayed), "invalid_client"},
		{"private_key_jwt wrong aud", "jwt", jwtAuth(assertion(func(_, c map[string]any) { c["aud"] = "https://elsewhere" })), "invalid_client"},
		{"private_key_jwt expired", "jwt", jwtAuth(assertion(func(_, c map[string]any) { c["exp"] = time.Now().Add(-time.Second).Unix() })), "invalid_client"},
		{"private_key_jwt no exp", "jwt", jwtAuth(assertion(func(_, c map[string]any) { delete(c, "exp") })), "invalid_client"},
		{"private_key_jwt too long", "jwt", jwtAuth(assertion(func(_, c map[string]any) { c["exp"] = time.Now().Add(time.Hour).Unix() })), "invalid_client"},
		{"private_key_jwt iss != sub", "jwt", jwtAuth(assertion(func(_, c map[string]any) { c["sub"] = "someone" })), "invalid_client"},
		{"private_key_jwt no jti", "jwt", jwtAuth(assertion(func(_, c map[string]any) { delete(c, "jti") })), "invalid_client"},
		{"private_key_jwt wrong kid", "jwt", jwtAuth(assertion(func(h, _ map[string]any) { h["kid"] = "k2" })), "invalid_client"},
		{"private_key_jwt bad signature", "jwt", jwtAuth(assertion(nil) + "x"), "invalid_client"},
		{"none", "public", auth{form: url.Values{"client_id": {"public"}}}, ""},
		{"none for a confidential client", "post", auth{form: url.Values{"client_id": {"post"}}}, "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRP(t, p)
			params := r.authParams()
			params.Set("client_id", tt.client)
			code := r.code(params)
			form := url.Values{
				"grant_type": {"authorization_code"}, "code": {code},
				"redirect_uri": {redirectURI}, "code_verifier": {r.verifier},
			}
			for k, v := range tt.auth.form {
				form[k] = v
			}
			status, body := r.token(form, tt.auth.basic...)
			if tt.want == "" {
				if status != http.StatusOK {
					t.Fatalf("%d %v", status, body)
				}
				if _, c := r.verify(body["id_token"].(string)); c["aud"] != tt.client {
					t.Errorf("aud = %v", c["aud"])
				}
				if got := p.LastTokenRequest().ClientID; got != tt.client {
					t.Errorf("recorded client %q", got)
				}
				return
			}
			if body["error"] != tt.want {
				t.Fatalf("%d %v, want %s", status, body, tt.want)
			}
		})
	}
}

func TestRefreshToken(t *testing.T) {
	p := ssotest.New(t, ssotest.WithLoginUser("bob"))
	r := newRP(t, p)
	params := r.authParams()
	params.Set("scope", "openid email offline_access")
	_, tok := r.token(r.exchangeForm(r.code(params)))
	rt, _ := tok["refresh_token"].(string)
	if rt == "" {
		t.Fatalf("no refresh token: %v", tok)
	}
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"client_id": {ssotest.DefaultClientID}, "client_secret": {ssotest.DefaultClientSecret}}
	status, next := r.token(form)
	if status != http.StatusOK {
		t.Fatalf("refresh: %d %v", status, next)
	}
	_, c := r.verify(next["id_token"].(string))
	if c["sub"] != "bob" || c["nonce"] != nil {
		t.Errorf("refreshed ID token claims %v", c)
	}
	if next["refresh_token"] == rt {
		t.Errorf("refresh token not rotated")
	}
	if status, body := r.token(form); status != http.StatusBadRequest || body["error"] != "invalid_grant" {
		t.Errorf("old refresh token reused: %d %v", status, body)
	}
}

func TestSigningAlgsAndRotation(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			p := ssotest.New(t, ssotest.WithLoginUser("alice"), ssotest.WithSigningAlg(alg))
			r := newRP(t, p)
			_, tok := r.token(r.exchangeForm(r.code(r.authParams())))
			if h, _ := r.verify(tok["id_token"].(string)); h["alg"] != alg {
				t.Errorf("alg = %v", h["alg"])
			}
		})
	}

	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := ssotest.New(t, ssotest.WithClock(clock))
	r := newRP(t, p)
	first := p.KeyID()
	second := p.RotateKeys(time.Hour)
	if second == first || p.KeyID() != second {
		t.Fatalf("rotation kept kid %q", first)
	}
	if keys := r.keys(); keys[first] == nil || keys[second] == nil {
		t.Errorf("during grace the JWKS should hold both keys, has %v", keys)
	}
	mu.Lock()
	now = now.Add(time.Hour + time.Second)
	mu.Unlock()
	if keys := r.keys(); keys[first] != nil || len(keys) != 1 {
		t.Errorf("after grace the JWKS should hold only the new key, has %v", keys)
	}
	third := p.RotateKeys(0)
	if keys := r.keys(); keys[second] != nil || keys[third] == nil || len(keys) != 1 {
		t.Errorf("a rotation without grace should drop the old key at once, JWKS has %v", keys)
	}
}

func TestFaults(t *testing.T) {
	p := ssotest.New(t, ssotest.WithLoginUser("alice"))
	claimsWith := func(t *testing.T, f ssotest.Faults) (map[string]any, map[string]any) {
		t.Helper()
		p.SetFaults(f)
		defer p.SetFaults(ssotest.Faults{})
		r := newRP(t, p)
		_, tok := r.token(r.exchangeForm(r.code(r.authParams())))
		hb, pb, _, _, err := jose.Parts(tok["id_token"].(string))
		if err != nil {
			t.Fatal(err)
		}
		var h, c map[string]any
		_ = json.Unmarshal(hb, &h)
		_ = json.Unmarshal(pb, &c)
		return h, c
	}
	t.Run("issuer", func(t *testing.T) {
		if _, c := claimsWith(t, ssotest.Faults{IDTokenIssuer: "https://evil"}); c["iss"] != "https://evil" {
			t.Errorf("iss = %v", c["iss"])
		}
	})
	t.Run("audience", func(t *testing.T) {
		_, c := claimsWith(t, ssotest.Faults{IDTokenAudience: []string{ssotest.DefaultClientID, "other"}})
		if diff := cmp.Diff([]any{ssotest.DefaultClientID, "other"}, c["aud"]); diff != "" {
			t.Errorf("aud (-want +got):\n%s", diff)
		}
	})
	t.Run("nonce and omitted claims", func(t *testing.T) {
		_, c := claimsWith(t, ssotest.Faults{Nonce: "wrong", OmitClaims: []string{"email", "exp"}})
		if c["nonce"] != "wrong" || c["email"] != nil || c["exp"] != nil {
			t.Errorf("claims = %v", c)
		}
	})
	t.Run("time shift", func(t *testing.T) {
		_, c := claimsWith(t, ssotest.Faults{TimeShift: -2 * time.Hour})
		if exp := int64(c["exp"].(float64)); exp > time.Now().Add(-time.Hour+time.Minute).Unix() {
			t.Errorf("exp %d is not in the past", exp)
		}
	})
	t.Run("thin ID token", func(t *testing.T) {
		_, c := claimsWith(t, ssotest.Faults{ThinIDToken: true})
		if c["email"] != nil || c["name"] != nil || c["sub"] != "alice" {
			t.Errorf("claims = %v", c)
		}
	})
	t.Run("unverified email", func(t *testing.T) {
		if _, c := claimsWith(t, ssotest.Faults{UnverifiedEmail: true}); c["email_verified"] != false {
			t.Errorf("email_verified = %v", c["email_verified"])
		}
	})
	t.Run("alg none", func(t *testing.T) {
		h, _ := claimsWith(t, ssotest.Faults{AlgNone: true})
		if h["alg"] != "none" {
			t.Errorf("alg = %v", h["alg"])
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		p.SetFaults(ssotest.Faults{BadSignature: true})
		defer p.SetFaults(ssotest.Faults{})
		r := newRP(t, p)
		_, tok := r.token(r.exchangeForm(r.code(r.authParams())))
		hb, _, sig, input, _ := jose.Parts(tok["id_token"].(string))
		var h map[string]any
		_ = json.Unmarshal(hb, &h)
		if err := jose.VerifyInput(r.keys()[h["kid"].(string)], "RS256", []byte(input), sig); err == nil {
			t.Errorf("a corrupted signature verifies")
		}
	})
	t.Run("modify", func(t *testing.T) {
		h, c := claimsWith(t, ssotest.Faults{ModifyIDToken: func(h, c map[string]any) {
			h["crit"] = []string{"exp"}
			c["azp"] = "someone-else"
		}})
		if h["crit"] == nil || c["azp"] != "someone-else" {
			t.Errorf("header %v claims %v", h, c)
		}
	})
	t.Run("token error", func(t *testing.T) {
		for _, code := range []string{"invalid_grant", "invalid_client"} {
			p.SetFaults(ssotest.Faults{TokenError: code})
			r := newRP(t, p)
			status, body := r.token(r.exchangeForm(r.code(r.authParams())))
			if body["error"] != code || (code == "invalid_client") != (status == 401) {
				t.Errorf("%s: %d %v", code, status, body)
			}
		}
		p.SetFaults(ssotest.Faults{})
	})
	t.Run("omit ID token and token type", func(t *testing.T) {
		p.SetFaults(ssotest.Faults{OmitIDToken: true, TokenType: "bearer"})
		defer p.SetFaults(ssotest.Faults{})
		r := newRP(t, p)
		_, body := r.token(r.exchangeForm(r.code(r.authParams())))
		if body["id_token"] != nil || body["token_type"] != "bearer" {
			t.Errorf("token response %v", body)
		}
	})
	t.Run("authorize error and iss parameter", func(t *testing.T) {
		p.SetFaults(ssotest.Faults{AuthorizeError: "access_denied", IssParameter: "https://mix-up"})
		defer p.SetFaults(ssotest.Faults{})
		r := newRP(t, p)
		_, loc, _ := r.authorize(r.authParams())
		if loc.Query().Get("error") != "access_denied" || loc.Query().Get("iss") != "https://mix-up" {
			t.Errorf("location %v", loc)
		}
		p.SetFaults(ssotest.Faults{OmitIssParameter: true})
		_, loc, _ = r.authorize(r.authParams())
		if loc.Query().Has("iss") {
			t.Errorf("iss present: %v", loc)
		}
	})
	t.Run("userinfo subject", func(t *testing.T) {
		p.SetFaults(ssotest.Faults{UserinfoSubject: "mallory"})
		defer p.SetFaults(ssotest.Faults{})
		r := newRP(t, p)
		_, tok := r.token(r.exchangeForm(r.code(r.authParams())))
		req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
		resp, err := r.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var ui map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&ui)
		if ui["sub"] != "mallory" {
			t.Errorf("userinfo sub = %v", ui["sub"])
		}
	})
	t.Run("discovery issuer", func(t *testing.T) {
		p.SetFaults(ssotest.Faults{DiscoveryIssuer: "https://other"})
		defer p.SetFaults(ssotest.Faults{})
		if got := p.Discovery()["issuer"]; got != "https://other" {
			t.Errorf("issuer = %v", got)
		}
	})
}

func TestEndpointFaults(t *testing.T) {
	p := ssotest.New(t)
	get := func(path string, timeout time.Duration) (int, string, error) {
		c := *p.HTTPClient()
		c.Timeout = timeout
		resp, err := c.Get(p.Issuer() + path)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), nil
	}
	p.SetFaults(ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointJWKS: 503}})
	if status, _, _ := get("/jwks", time.Second); status != 503 {
		t.Errorf("jwks status %d", status)
	}
	p.SetFaults(ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointDiscovery: `{"issuer":`}})
	if _, body, _ := get("/.well-known/openid-configuration", time.Second); body != `{"issuer":` {
		t.Errorf("discovery body %q", body)
	}
	p.SetFaults(ssotest.Faults{Delay: map[ssotest.Endpoint]time.Duration{ssotest.EndpointDiscovery: time.Minute}})
	start := time.Now()
	if _, _, err := get("/.well-known/openid-configuration", 100*time.Millisecond); err == nil {
		t.Errorf("a delayed endpoint answered in time")
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("the client's timeout was not honoured")
	}
	p.SetFaults(ssotest.Faults{})
	if n := p.Requests(ssotest.EndpointDiscovery); n != 2 {
		t.Errorf("discovery requests = %d, want 2", n)
	}
	if status, _, _ := get("/jwks", time.Second); status != 200 {
		t.Errorf("healed jwks status %d", status)
	}
}

func TestEndSession(t *testing.T) {
	p := ssotest.New(t, ssotest.WithClient(ssotest.Client{
		ID: "app", Secret: "s", PostLogoutRedirectURIs: []string{"http://127.0.0.1:9999/bye"},
	}))
	c := *p.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	idt := p.SignJWT(map[string]any{"iss": p.Issuer(), "sub": "alice", "aud": "app"})
	tests := []struct {
		name       string
		params     url.Values
		wantStatus int
		wantLoc    string
	}{
		{"registered with client_id", url.Values{"client_id": {"app"}, "post_logout_redirect_uri": {"http://127.0.0.1:9999/bye"}, "state": {"s1"}}, 302, "http://127.0.0.1:9999/bye?state=s1"},
		{"client from id_token_hint", url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"http://127.0.0.1:9999/bye"}}, 302, "http://127.0.0.1:9999/bye"},
		{"unregistered", url.Values{"client_id": {"app"}, "post_logout_redirect_uri": {"http://127.0.0.1:9999/elsewhere"}}, 400, ""},
		{"no redirect", url.Values{"client_id": {"app"}}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Get(p.Issuer() + "/end_session?" + tt.params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.wantStatus || resp.Header.Get("Location") != tt.wantLoc {
				t.Fatalf("status %d location %q", resp.StatusCode, resp.Header.Get("Location"))
			}
			if got := p.LastEndSessionRequest(); got.Get("post_logout_redirect_uri") != tt.params.Get("post_logout_redirect_uri") {
				t.Errorf("recorded %v", got)
			}
		})
	}
}

func TestTLS(t *testing.T) {
	p := ssotest.New(t, ssotest.WithTLS(), ssotest.WithLoginUser("alice"))
	if !strings.HasPrefix(p.Issuer(), "https://127.0.0.1:") {
		t.Fatalf("issuer %q", p.Issuer())
	}
	r := newRP(t, p)
	if status, body := r.token(r.exchangeForm(r.code(r.authParams()))); status != http.StatusOK {
		t.Fatalf("%d %v", status, body)
	}
	if _, err := http.Get(p.Issuer() + "/jwks"); err == nil {
		t.Errorf("a client that does not trust the test certificate connected")
	}
}

func TestStartAndClose(t *testing.T) {
	p, err := ssotest.Start()
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	p.Close() // idempotent
	if _, err := p.HTTPClient().Get(p.Issuer() + "/jwks"); err == nil {
		t.Errorf("closed provider still answers")
	}
	if _, err := ssotest.Start(ssotest.WithLoginUser("nobody")); err == nil {
		t.Errorf("an unknown login user was accepted")
	}
	if _, err := ssotest.Start(ssotest.WithSigningAlg("HS256")); err == nil {
		t.Errorf("an HMAC signing key was accepted")
	}
	if _, err := ssotest.Start(ssotest.WithClient(ssotest.Client{ID: "x", AuthMethod: ssotest.AuthPrivateKeyJWT})); err == nil {
		t.Errorf("a private_key_jwt client without a key was accepted")
	}
}

// fakeT records what New does with a TestingT.
type fakeT struct {
	cleanups []func()
	failed   string
}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Cleanup(fn func())              { f.cleanups = append(f.cleanups, fn) }
func (f *fakeT) Fatalf(format string, a ...any) { f.failed = format }

func TestNewRegistersCleanup(t *testing.T) {
	ft := &fakeT{}
	p := ssotest.New(ft)
	if len(ft.cleanups) != 1 {
		t.Fatalf("cleanups = %d", len(ft.cleanups))
	}
	ft.cleanups[0]()
	if _, err := p.HTTPClient().Get(p.Issuer() + "/jwks"); err == nil {
		t.Errorf("cleanup did not close the provider")
	}
	bad := &fakeT{}
	if ssotest.New(bad, ssotest.WithAddr("256.0.0.1:1")); bad.failed == "" {
		t.Errorf("a provider that cannot listen did not fail the test")
	}
}
