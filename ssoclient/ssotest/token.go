package ssotest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/randtoken"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// oauthError is an RFC 6749 §5.2 error response.
type oauthError struct {
	status int
	code   string
	desc   string
}

func (e *oauthError) Error() string { return e.code + ": " + e.desc }

func invalidClient(desc string) *oauthError {
	return &oauthError{http.StatusUnauthorized, "invalid_client", desc}
}

func invalidGrant(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_grant", desc}
}

func invalidRequest(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, "invalid_request", desc}
}

// statusFor is the status RFC 6749 §5.2 gives an error code.
func statusFor(code string) int {
	if code == "invalid_client" {
		return http.StatusUnauthorized
	}
	return http.StatusBadRequest
}

func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Basic realm="ssotest"`)
	}
	writeJSON(w, e.status, map[string]string{"error": e.code, "error_description": e.desc})
}

func (p *Provider) handleToken(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, invalidRequest("the body is not a form"))
		return
	}
	form := cloneValues(r.PostForm)
	rec := &TokenRequest{Form: cloneValues(form), Header: r.Header.Clone()}
	client, err := p.authenticate(r, form, rec)
	p.mu.Lock()
	p.lastToken = rec
	p.mu.Unlock()
	if err != nil {
		var oe *oauthError
		if !errors.As(err, &oe) {
			oe = invalidClient(err.Error())
		}
		writeOAuthError(w, oe)
		return
	}
	f := p.currentFaults()
	if f.TokenError != "" {
		writeOAuthError(w, &oauthError{statusFor(f.TokenError), f.TokenError, "ssotest: injected fault"})
		return
	}
	var resp map[string]any
	switch form.Get("grant_type") {
	case "authorization_code":
		resp, err = p.redeemCode(client, form, f)
	case "refresh_token":
		resp, err = p.redeemRefresh(client, form, f)
	default:
		err = &oauthError{http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token"}
	}
	if err != nil {
		var oe *oauthError
		if !errors.As(err, &oe) {
			oe = &oauthError{http.StatusInternalServerError, "server_error", err.Error()}
		}
		writeOAuthError(w, oe)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// authenticate finds the client and checks its credentials with the one
// method the request uses (RFC 6749 §2.3: never more than one).
func (p *Provider) authenticate(r *http.Request, form url.Values, rec *TokenRequest) (Client, error) {
	user, pass, hasBasic := r.BasicAuth()
	methods := 0
	method := AuthNone
	id := form.Get("client_id")
	if hasBasic {
		methods++
		method = AuthClientSecretBasic
		// RFC 6749 §2.3.1: both are form-urlencoded inside the header.
		var err1, err2 error
		if user, err1 = url.QueryUnescape(user); err1 == nil {
			pass, err2 = url.QueryUnescape(pass)
		}
		if err1 != nil || err2 != nil {
			return Client{}, invalidClient("malformed Basic credentials")
		}
		if id != "" && id != user {
			return Client{}, invalidRequest("client_id in the body differs from the Basic credentials")
		}
		id = user
	}
	if form.Has("client_secret") {
		methods++
		method = AuthClientSecretPost
	}
	if form.Has("client_assertion") || form.Has("client_assertion_type") {
		methods++
		method = AuthPrivateKeyJWT
	}
	if methods > 1 {
		return Client{}, invalidRequest("more than one client authentication method was used")
	}
	rec.AuthMethod = method
	if method == AuthPrivateKeyJWT {
		return p.authenticateAssertion(form, rec)
	}
	p.mu.Lock()
	client, ok := p.clients[id]
	p.mu.Unlock()
	if !ok {
		return Client{}, invalidClient("unknown client")
	}
	rec.ClientID = client.ID
	if !methodAllowed(client, method) {
		return Client{}, invalidClient(fmt.Sprintf("client is registered for %s, request used %s", registered(client), method))
	}
	switch method {
	case AuthClientSecretBasic:
		if subtle.ConstantTimeCompare([]byte(pass), []byte(client.Secret)) != 1 {
			return Client{}, invalidClient("wrong client secret")
		}
	case AuthClientSecretPost:
		if subtle.ConstantTimeCompare([]byte(form.Get("client_secret")), []byte(client.Secret)) != 1 {
			return Client{}, invalidClient("wrong client secret")
		}
	}
	return client, nil
}

func registered(c Client) string {
	if c.AuthMethod == "" {
		return "client_secret_basic or client_secret_post"
	}
	return c.AuthMethod
}

func methodAllowed(c Client, method string) bool {
	if c.AuthMethod == "" {
		return method == AuthClientSecretBasic || method == AuthClientSecretPost
	}
	return c.AuthMethod == method
}

// authenticateAssertion checks a private_key_jwt client assertion (OIDC Core
// §9, RFC 7523 §3): signature by the client's key, iss = sub = client_id,
// aud naming this provider, exp in the future, jti not seen before.
func (p *Provider) authenticateAssertion(form url.Values, rec *TokenRequest) (Client, error) {
	if form.Get("client_assertion_type") != assertionType {
		return Client{}, invalidClient("client_assertion_type must be " + assertionType)
	}
	hb, pb, sig, input, err := jose.Parts(form.Get("client_assertion"))
	if err != nil {
		return Client{}, invalidClient("client_assertion is not a compact JWS")
	}
	var hdr, claims map[string]any
	if json.Unmarshal(hb, &hdr) != nil || json.Unmarshal(pb, &claims) != nil {
		return Client{}, invalidClient("client_assertion does not decode")
	}
	rec.AssertionHeader, rec.AssertionClaims = hdr, claims
	iss, _ := claims["iss"].(string)
	sub, _ := claims["sub"].(string)
	if iss == "" || iss != sub {
		return Client{}, invalidClient("client_assertion needs iss = sub = client_id")
	}
	if id := form.Get("client_id"); id != "" && id != iss {
		return Client{}, invalidClient("client_id differs from the assertion's iss")
	}
	p.mu.Lock()
	client, ok := p.clients[iss]
	p.mu.Unlock()
	if !ok {
		return Client{}, invalidClient("unknown client")
	}
	rec.ClientID = client.ID
	if client.AuthMethod != AuthPrivateKeyJWT {
		return Client{}, invalidClient(fmt.Sprintf("client is registered for %s, request used private_key_jwt", registered(client)))
	}
	alg, _ := hdr["alg"].(string)
	if !slices.Contains([]string{"RS256", "PS256", "ES256"}, alg) {
		return Client{}, invalidClient("client_assertion alg must be RS256, PS256 or ES256")
	}
	if kid, _ := hdr["kid"].(string); client.KeyID != "" && kid != client.KeyID {
		return Client{}, invalidClient("client_assertion kid does not match the registered key")
	}
	if jose.VerifyInput(client.PublicKey, alg, []byte(input), sig) != nil {
		return Client{}, invalidClient("client_assertion signature does not verify")
	}
	if !audienceNames(claims["aud"], p.endpoint("/token"), p.issuer) {
		return Client{}, invalidClient("client_assertion aud must be the token endpoint or the issuer")
	}
	now := p.now()
	exp, ok := numericDate(claims["exp"])
	if !ok || !now.Before(exp) {
		return Client{}, invalidClient("client_assertion is expired or has no exp")
	}
	if exp.After(now.Add(10 * time.Minute)) {
		return Client{}, invalidClient("client_assertion lives longer than 10 minutes")
	}
	if iat, ok := numericDate(claims["iat"]); ok && iat.After(now.Add(time.Minute)) {
		return Client{}, invalidClient("client_assertion is issued in the future")
	}
	jti, _ := claims["jti"].(string)
	if jti == "" {
		return Client{}, invalidClient("client_assertion needs a jti")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for j, until := range p.usedJTIs {
		if !now.Before(until) {
			delete(p.usedJTIs, j)
		}
	}
	key := client.ID + "\x00" + jti
	if _, seen := p.usedJTIs[key]; seen {
		return Client{}, invalidClient("client_assertion jti was already used")
	}
	p.usedJTIs[key] = exp
	return client, nil
}

// audienceNames reports whether aud (a string or an array) names one of
// want.
func audienceNames(aud any, want ...string) bool {
	switch a := aud.(type) {
	case string:
		return slices.Contains(want, a)
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok && slices.Contains(want, s) {
				return true
			}
		}
	}
	return false
}

func numericDate(v any) (time.Time, bool) {
	f, ok := v.(float64)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

func (p *Provider) redeemCode(client Client, form url.Values, f Faults) (map[string]any, error) {
	code := form.Get("code")
	now := p.now()
	p.mu.Lock()
	c, ok := p.codes[code]
	if ok && c.used {
		// RFC 6749 §4.1.2: a replayed code revokes what it issued.
		for _, t := range c.issued {
			delete(p.accessTokens, t)
			delete(p.refreshTokens, t)
		}
		p.mu.Unlock()
		return nil, invalidGrant("the authorization code was already used")
	}
	if ok {
		c.used = true
	}
	p.mu.Unlock()
	switch {
	case !ok:
		return nil, invalidGrant("unknown authorization code")
	case !now.Before(c.expires):
		return nil, invalidGrant("the authorization code expired")
	case c.clientID != client.ID:
		return nil, invalidGrant("the authorization code was issued to another client")
	case form.Get("redirect_uri") != c.redirectURI:
		return nil, invalidGrant("redirect_uri differs from the authorization request's")
	}
	if err := checkPKCE(c, form.Get("code_verifier")); err != nil {
		return nil, err
	}
	u, ok := p.findUser(c.user)
	if !ok {
		return nil, invalidGrant("the user no longer exists")
	}
	resp, issued, err := p.issue(client, u, c.scope, c.nonce, c.authTime, c.sid, f)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	c.issued = issued
	p.mu.Unlock()
	return resp, nil
}

// checkPKCE applies RFC 7636 §4.6, and RFC 9700 §2.1.1's rule that a
// verifier without a challenge is refused (a PKCE downgrade).
func checkPKCE(c *authCode, verifier string) error {
	if c.challenge == "" {
		if verifier != "" {
			return invalidGrant("code_verifier sent but the authorization request had no code_challenge")
		}
		return nil
	}
	if !validVerifier(verifier) {
		return invalidGrant("code_verifier is missing or malformed")
	}
	want := verifier
	if c.method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		want = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(c.challenge)) != 1 {
		return invalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}

func (p *Provider) redeemRefresh(client Client, form url.Values, f Faults) (map[string]any, error) {
	rt := form.Get("refresh_token")
	p.mu.Lock()
	g, ok := p.refreshTokens[rt]
	if ok && g.clientID == client.ID && !f.KeepRefreshToken {
		delete(p.refreshTokens, rt) // rotated: each refresh token works once
	}
	p.mu.Unlock()
	if !ok || g.clientID != client.ID {
		return nil, invalidGrant("unknown refresh token")
	}
	u, ok := p.findUser(g.user)
	if !ok {
		return nil, invalidGrant("the user no longer exists")
	}
	resp, _, err := p.issue(client, u, g.scope, "", g.authTime, g.sid, f)
	if rt2, ok := resp["refresh_token"].(string); ok && err == nil && f.KeepRefreshToken {
		p.mu.Lock()
		delete(p.refreshTokens, rt2)
		p.mu.Unlock()
		delete(resp, "refresh_token")
	}
	return resp, err
}

// issue makes the token response: an access token, an ID token, and a
// refresh token when offline_access was granted.
func (p *Provider) issue(client Client, u User, scope, nonce string, authTime time.Time, sid string, f Faults) (map[string]any, []string, error) {
	now := p.now()
	access := randtoken.New(32)
	issued := []string{access}
	lifetime := AccessTokenLifetime
	if f.AccessTokenLifetime > 0 {
		lifetime = f.AccessTokenLifetime
	}
	p.mu.Lock()
	p.accessTokens[access] = &grant{clientID: client.ID, user: u.Subject, scope: scope, authTime: authTime, expires: now.Add(lifetime)}
	p.mu.Unlock()
	tokenType := "Bearer"
	if f.TokenType != "" {
		tokenType = f.TokenType
	}
	resp := map[string]any{
		"access_token": access,
		"token_type":   tokenType,
		"expires_in":   int(lifetime / time.Second),
		"scope":        scope,
	}
	if slices.Contains(strings.Fields(scope), "offline_access") {
		refresh := randtoken.New(32)
		issued = append(issued, refresh)
		p.mu.Lock()
		p.refreshTokens[refresh] = &grant{clientID: client.ID, user: u.Subject, scope: scope, authTime: authTime, sid: sid}
		p.mu.Unlock()
		resp["refresh_token"] = refresh
	}
	if !f.OmitIDToken {
		idt, err := p.idToken(client.ID, u, scope, nonce, authTime, sid, access, f)
		if err != nil {
			return nil, nil, err
		}
		resp["id_token"] = idt
	}
	return resp, issued, nil
}

// idToken builds and signs an ID token (OIDC Core §2), applying the faults.
func (p *Provider) idToken(clientID string, u User, scope, nonce string, authTime time.Time, sid, access string, f Faults) (string, error) {
	now := p.now().Add(f.TimeShift)
	claims := map[string]any{}
	if !f.ThinIDToken {
		claims = userClaims(u, scope, f)
	}
	claims["iss"] = p.issuer
	claims["sub"] = u.Subject
	claims["aud"] = clientID
	claims["azp"] = clientID
	claims["iat"] = now.Unix()
	claims["exp"] = now.Add(IDTokenLifetime).Unix()
	claims["auth_time"] = authTime.Add(f.TimeShift).Unix()
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if sid != "" {
		claims["sid"] = sid
	}
	p.mu.Lock()
	alg := p.keys[0].alg
	p.mu.Unlock()
	if h, ok := jose.HalfHash(alg, access); ok {
		claims["at_hash"] = h
	}
	if f.IDTokenIssuer != "" {
		claims["iss"] = f.IDTokenIssuer
	}
	switch len(f.IDTokenAudience) {
	case 0:
	case 1:
		claims["aud"] = f.IDTokenAudience[0]
	default:
		claims["aud"] = f.IDTokenAudience
	}
	if f.Nonce != "" {
		claims["nonce"] = f.Nonce
	}
	for _, c := range f.OmitClaims {
		delete(claims, c)
	}
	return p.sign(map[string]any{"typ": "JWT"}, claims, f)
}
