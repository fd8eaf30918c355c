package ssotest

import (
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ssokit/ssokit/internal/randtoken"
)

// authCode is an issued authorization code, redeemable once.
type authCode struct {
	clientID    string
	redirectURI string
	user        string // subject
	nonce       string
	scope       string
	challenge   string
	method      string
	authTime    time.Time
	sid         string // the provider session the code was issued in
	expires     time.Time
	used        bool     // redeemed once; kept until expiry to detect a replay
	issued      []string // access and refresh tokens, revoked if the code is replayed
}

// grant is what an access or refresh token stands for.
type grant struct {
	clientID string
	user     string
	scope    string
	authTime time.Time
	sid      string
	expires  time.Time // zero: does not expire
}

func (p *Provider) routes(prefix string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/.well-known/openid-configuration", p.faulty(EndpointDiscovery, p.handleDiscovery))
	mux.HandleFunc(prefix+"/authorize", p.faulty(EndpointAuthorize, p.handleAuthorize))
	mux.HandleFunc("POST "+prefix+"/token", p.faulty(EndpointToken, p.handleToken))
	mux.HandleFunc("GET "+prefix+"/jwks", p.faulty(EndpointJWKS, p.handleJWKS))
	mux.HandleFunc(prefix+"/userinfo", p.faulty(EndpointUserinfo, p.handleUserinfo))
	mux.HandleFunc(prefix+"/end_session", p.faulty(EndpointEndSession, p.handleEndSession))
	return mux
}

// Discovery returns the provider's discovery document as it serves it,
// with the DiscoveryIssuer and ModifyDiscovery faults applied.
func (p *Provider) Discovery() map[string]any {
	f := p.currentFaults()
	iss := p.issuer
	if f.DiscoveryIssuer != "" {
		iss = f.DiscoveryIssuer
	}
	doc := map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                p.endpoint("/authorize"),
		"token_endpoint":                        p.endpoint("/token"),
		"jwks_uri":                              p.endpoint("/jwks"),
		"userinfo_endpoint":                     p.endpoint("/userinfo"),
		"end_session_endpoint":                  p.endpoint("/end_session"),
		"response_types_supported":              []string{"code"},
		"response_modes_supported":              []string{"query"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256", "PS256", "ES256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "groups", "offline_access"},
		"token_endpoint_auth_methods_supported": []string{
			AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT, AuthNone,
		},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS256", "PS256", "ES256"},
		"code_challenge_methods_supported":                 []string{"S256", "plain"},
		"claims_supported": []string{
			"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash",
			"email", "email_verified", "preferred_username", "name", "picture", "locale", "groups",
		},
		"authorization_response_iss_parameter_supported": true,
		"backchannel_logout_supported":                   true,
		"backchannel_logout_session_supported":           true,
	}
	if f.ModifyDiscovery != nil {
		f.ModifyDiscovery(doc)
	}
	return doc
}

func (p *Provider) handleDiscovery(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, p.Discovery())
}

// allowedURI reports whether uri is one of registered, or, when none is
// registered, any URI on a loopback host.
func allowedURI(registered []string, uri string) bool {
	if len(registered) > 0 {
		return slices.Contains(registered, uri)
	}
	u, err := url.Parse(uri)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" {
		return false
	}
	switch u.Hostname() {
	case "127.0.0.1", "::1", "localhost":
		return true
	}
	return false
}

var pickerPage = template.Must(template.New("picker").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ssotest: sign in</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;color:#222}
button{display:block;width:100%;text-align:left;padding:.7rem 1rem;margin:.4rem 0;border:1px solid #bbb;border-radius:.4rem;background:#fafafa;cursor:pointer;font-size:1rem}
button:hover{background:#eef}small{color:#666}</style></head>
<body><h1>Sign in to the test provider</h1>
<p>This is ssotest, a fake OpenID provider. Pick a test user; no password needed.</p>
{{range .Users}}<form method="post" action="{{$.Action}}">{{range $k, $vs := $.Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<input type="hidden" name="ssotest_user" value="{{.Subject}}">
<button type="submit" name="pick" value="{{.Subject}}"><strong>{{.Name}}</strong><br><small>{{if .Email}}{{.Email}}{{else}}{{.PreferredUsername}}{{end}}{{if and .Email (not .EmailVerified)}} (email not verified){{end}}</small></button></form>
{{end}}<form method="post" action="{{.Action}}">{{range $k, $vs := .Params}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<input type="hidden" name="ssotest_deny" value="1"><button type="submit">Cancel (access_denied)</button></form>
</body></html>`))

func (p *Provider) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "ssotest: bad request", http.StatusBadRequest)
		return
	}
	q := cloneValues(r.Form)
	picked, deny := q.Get("ssotest_user"), q.Get("ssotest_deny") != ""
	q.Del("ssotest_user")
	q.Del("ssotest_deny")
	q.Del("pick")
	p.mu.Lock()
	p.lastAuthorize = cloneValues(q)
	client, ok := p.clients[q.Get("client_id")]
	loginUser := p.loginUser
	p.mu.Unlock()
	f := p.currentFaults()

	// Errors before the redirect URI is trusted are shown, never redirected
	// (RFC 6749 §4.1.2.1).
	redirectURI := q.Get("redirect_uri")
	if !ok {
		http.Error(w, "ssotest: unknown client_id", http.StatusBadRequest)
		return
	}
	if !allowedURI(client.RedirectURIs, redirectURI) {
		http.Error(w, "ssotest: redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	back := func(params url.Values) {
		if !f.OmitIssParameter {
			iss := p.issuer
			if f.IssParameter != "" {
				iss = f.IssParameter
			}
			params.Set("iss", iss)
		}
		if s := q.Get("state"); s != "" {
			params.Set("state", s)
		}
		http.Redirect(w, r, addQuery(redirectURI, params), http.StatusFound)
	}
	fail := func(code, desc string) {
		back(url.Values{"error": {code}, "error_description": {desc}})
	}
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", "only response_type=code is supported")
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		fail("invalid_scope", "the openid scope is required")
		return
	case q.Get("code_challenge") == "" && client.AuthMethod == AuthNone:
		fail("invalid_request", "PKCE is required for public clients")
		return
	case q.Get("code_challenge") != "" && !validChallenge(q.Get("code_challenge"), q.Get("code_challenge_method")):
		fail("invalid_request", "code_challenge or code_challenge_method is invalid")
		return
	case f.AuthorizeError != "":
		fail(f.AuthorizeError, "ssotest: injected fault")
		return
	case deny:
		fail("access_denied", "the user cancelled the sign-in")
		return
	}

	var user User
	found := false
	for _, hint := range []string{picked, q.Get("login_hint"), loginUser} {
		if user, found = p.findUser(hint); found {
			break
		}
	}
	if !found {
		if q.Get("prompt") == "none" {
			fail("login_required", "no user is signed in")
			return
		}
		p.renderPicker(w, r, q)
		return
	}

	code := randtoken.New(32)
	sid := randtoken.New(16)
	now := p.now()
	method := q.Get("code_challenge_method")
	if method == "" && q.Get("code_challenge") != "" {
		method = "plain"
	}
	p.mu.Lock()
	p.codes[code] = &authCode{
		clientID: client.ID, redirectURI: redirectURI, user: user.Subject,
		nonce: q.Get("nonce"), scope: q.Get("scope"),
		challenge: q.Get("code_challenge"), method: method,
		authTime: now, sid: sid, expires: now.Add(CodeLifetime),
	}
	if len(p.sessions) >= maxSessions {
		p.sessions = slices.Delete(p.sessions, 0, len(p.sessions)-maxSessions+1)
	}
	p.sessions = append(p.sessions, opSession{sid: sid, user: user.Subject, clientID: client.ID})
	p.mu.Unlock()
	back(url.Values{"code": {code}})
}

// validChallenge checks an RFC 7636 §4.2 code challenge and its method.
func validChallenge(challenge, method string) bool {
	switch method {
	case "S256":
		b, err := base64.RawURLEncoding.DecodeString(challenge)
		return err == nil && len(b) == 32
	case "", "plain":
		return validVerifier(challenge)
	}
	return false
}

// validVerifier checks RFC 7636 §4.1: 43 to 128 unreserved characters.
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range v {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', strings.ContainsRune("-._~", c):
		default:
			return false
		}
	}
	return true
}

func (p *Provider) renderPicker(w http.ResponseWriter, r *http.Request, q url.Values) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = pickerPage.Execute(w, struct {
		Action string
		Params url.Values
		Users  []User
	}{Action: p.endpoint("/authorize"), Params: q, Users: p.Users()})
}

// userClaims returns the claims of u that scope grants.
func userClaims(u User, scope string, f Faults) map[string]any {
	c := map[string]any{}
	scopes := strings.Fields(scope)
	if slices.Contains(scopes, "profile") {
		for k, v := range map[string]string{
			"preferred_username": u.PreferredUsername, "name": u.Name,
			"picture": u.Picture, "locale": u.Locale,
		} {
			if v != "" {
				c[k] = v
			}
		}
	}
	if slices.Contains(scopes, "email") && u.Email != "" {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified && !f.UnverifiedEmail
	}
	if len(u.Groups) > 0 {
		c["groups"] = append([]string(nil), u.Groups...)
	}
	for k, v := range u.Claims {
		c[k] = v
	}
	return c
}

func (p *Provider) handleUserinfo(w http.ResponseWriter, r *http.Request) {
	token := ""
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		token = strings.TrimSpace(h[7:])
	} else if r.Method == http.MethodPost {
		token = r.PostFormValue("access_token")
	}
	p.mu.Lock()
	g, ok := p.accessTokens[token]
	p.mu.Unlock()
	if !ok || (!g.expires.IsZero() && !p.now().Before(g.expires)) {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	u, ok := p.findUser(g.user)
	if !ok {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_token"})
		return
	}
	f := p.currentFaults()
	c := userClaims(u, g.scope, f)
	c["sub"] = u.Subject
	if f.UserinfoSubject != "" {
		c["sub"] = f.UserinfoSubject
	}
	if f.SignUserinfo {
		c["iss"], c["aud"] = p.issuer, g.clientID
	}
	if f.ModifyUserinfo != nil {
		f.ModifyUserinfo(c)
	}
	if f.SignUserinfo {
		tok, err := p.sign(map[string]any{"typ": "JWT"}, c, Faults{})
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error"})
			return
		}
		w.Header().Set("Content-Type", "application/jwt")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(tok))
		return
	}
	writeJSON(w, http.StatusOK, c)
}

var signedOutPage = template.Must(template.New("out").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ssotest: signed out</title></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto">
<h1>Signed out</h1><p>You are signed out of the test provider.</p></body></html>`))

func (p *Provider) handleEndSession(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "ssotest: bad request", http.StatusBadRequest)
		return
	}
	q := cloneValues(r.Form)
	p.mu.Lock()
	p.lastEndSession = cloneValues(q)
	p.mu.Unlock()
	target := q.Get("post_logout_redirect_uri")
	if target == "" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = signedOutPage.Execute(w, nil)
		return
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		clientID = audienceOf(q.Get("id_token_hint"))
	}
	p.mu.Lock()
	client, ok := p.clients[clientID]
	p.mu.Unlock()
	if !ok || !allowedURI(client.PostLogoutRedirectURIs, target) {
		http.Error(w, "ssotest: post_logout_redirect_uri is not registered for this client", http.StatusBadRequest)
		return
	}
	params := url.Values{}
	f := p.currentFaults()
	state := q.Get("state")
	if f.PostLogoutState != "" {
		state = f.PostLogoutState
	}
	if state != "" && !f.OmitPostLogoutState {
		params.Set("state", state)
	}
	http.Redirect(w, r, addQuery(target, params), http.StatusFound)
}

// audienceOf reads the first aud of an ID token without verifying it: the
// end-session endpoint only uses it to find the client.
func audienceOf(idToken string) string {
	_, rest, ok := cut(idToken)
	if !ok {
		return ""
	}
	payload, _, _ := strings.Cut(rest, ".")
	b, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil {
		return ""
	}
	var c struct {
		Aud any `json:"aud"`
	}
	if json.Unmarshal(b, &c) != nil {
		return ""
	}
	switch a := c.Aud.(type) {
	case string:
		return a
	case []any:
		if len(a) > 0 {
			s, _ := a[0].(string)
			return s
		}
	}
	return ""
}

// addQuery adds params to uri, keeping its own query.
func addQuery(uri string, params url.Values) string {
	u, err := url.Parse(uri)
	if err != nil {
		return uri
	}
	q := u.Query()
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return u.String()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// cut splits a compact JWS after its header.
func cut(tok string) (header, rest string, ok bool) { return strings.Cut(tok, ".") }

// corrupt flips a bit in a token's signature.
func corrupt(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil || len(sig) == 0 {
		return tok[:i+1] + "AAAA"
	}
	sig[len(sig)/2] ^= 0x01
	return tok[:i+1] + b64(sig)
}
