package ssoclient

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/jsonobj"
	"github.com/ssokit/ssokit/internal/randtoken"
	"github.com/ssokit/ssokit/internal/safehttp"
)

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionLifetime is the life of a private_key_jwt client assertion: long
// enough for clock skew, short enough to be useless if captured.
const assertionLifetime = 2 * time.Minute

// clientAssertion makes a private_key_jwt assertion (OIDC Core §9, RFC 7523
// §3): RS256, iss = sub = client_id, aud a single string, a unique jti,
// iat and a short exp, kid, and x5t/x5t#S256 when a certificate is set.
func (c *Client) clientAssertion(p *provider) (string, error) {
	cc := p.conn
	aud := p.endpoints.Token
	if cc.assertionAud == AudienceIssuer {
		aud = p.issuer
	}
	now := c.cfg.Now()
	h := map[string]any{"typ": "JWT"}
	if cc.keyID != "" {
		h["kid"] = cc.keyID
	}
	if cc.cert != nil {
		s1 := sha1.Sum(cc.cert.Raw)
		s256 := sha256.Sum256(cc.cert.Raw)
		h["x5t"] = base64.RawURLEncoding.EncodeToString(s1[:])
		h["x5t#S256"] = base64.RawURLEncoding.EncodeToString(s256[:])
	}
	return jose.SignJSON(cc.privateKey, "RS256", h, map[string]any{
		"iss": cc.clientID,
		"sub": cc.clientID,
		"aud": aud,
		"jti": randtoken.New(24),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(assertionLifetime).Unix(),
	})
}

// tokenResponse is a token endpoint's successful answer (RFC 6749 §5.1,
// OIDC Core §3.1.3.3), read strictly by parseTokenResponse.
type tokenResponse struct {
	AccessToken  string
	TokenType    string
	IDToken      string
	RefreshToken string
	// ExpiresIn is the access token's lifetime in seconds; 0 when the
	// provider did not say.
	ExpiresIn int64
}

// expiry is when the access token expires, from a response received at
// now; zero when unknown.
func (t *tokenResponse) expiry(now time.Time) time.Time {
	if t.ExpiresIn <= 0 {
		return time.Time{}
	}
	return now.Add(time.Duration(t.ExpiresIn) * time.Second)
}

// exchange redeems the code at the token endpoint, proving the PKCE
// verifier (RFC 7636 §4.5).
func (c *Client) exchange(ctx context.Context, p *provider, code, verifier string) (*tokenResponse, error) {
	f := make(formBody, 0, 256+len(code))
	f.add("grant_type", "authorization_code")
	f.add("code", code)
	f.add("redirect_uri", c.cfg.redirect)
	f.add("code_verifier", verifier)
	return c.tokenRequest(ctx, p, "the code exchange", f)
}

// formBody is an application/x-www-form-urlencoded body, written in place
// as url.Values.Encode would write it, less the sorting of names.
type formBody []byte

// add appends name=value, each escaped as url.QueryEscape does.
func (f *formBody) add(name, value string) {
	b := *f
	if len(b) > 0 {
		b = append(b, '&')
	}
	b = appendQueryEscape(b, name)
	b = append(b, '=')
	*f = appendQueryEscape(b, value)
}

// appendQueryEscape appends s escaped as url.QueryEscape escapes it.
func appendQueryEscape(b []byte, s string) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.', c == '~':
			b = append(b, c)
		case c == ' ':
			b = append(b, '+')
		default:
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

// tokenRequest posts a grant to p's token endpoint with the provider's one
// client authentication method, and reads the answer strictly. It follows
// no redirect: a token request carries the client's credentials and the
// grant, and only the token endpoint may see them.
//
// This replaces x/oauth2's Config.Exchange, which DESIGN.md first named:
// the answer has to be read strictly here anyway (x/oauth2 reads JSON
// member names without regard to case and accepts form-encoded answers),
// x/oauth2 then decoded it twice more, and its refresh path cannot send a
// private_key_jwt assertion.
func (c *Client) tokenRequest(ctx context.Context, p *provider, what string, form formBody) (*tokenResponse, error) {
	cc := p.conn
	switch p.authMethod {
	case AuthClientSecretPost:
		form.add("client_id", cc.clientID)
		form.add("client_secret", string(cc.secret))
	case AuthPrivateKeyJWT:
		a, err := c.clientAssertion(p)
		if err != nil {
			return nil, newError(CodeConfigInvalid, "signing the client assertion failed", err)
		}
		form.add("client_id", cc.clientID)
		form.add("client_assertion_type", assertionType)
		form.add("client_assertion", a)
	case AuthNone:
		form.add("client_id", cc.clientID)
	}
	ctx, cancel := c.cfg.timeout(ctx)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.endpoints.Token, bytes.NewReader(form))
	if err != nil {
		return nil, newError(CodeConfigInvalid, "the token endpoint URL is invalid", nil)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if p.authMethod == AuthClientSecretBasic {
		// RFC 6749 §2.3.1: each part form-encoded first.
		req.SetBasicAuth(url.QueryEscape(cc.clientID), url.QueryEscape(string(cc.secret)))
	}
	start := time.Now()
	resp, err := c.cfg.tokenClient.Do(req)
	if err != nil {
		c.observeEndpoint(ctx, p, EndpointToken, 0, time.Since(start), err)
		return nil, tokenTransportError(what, err)
	}
	body, err := safehttp.ReadBody(resp, maxTokenResponseBytes)
	resp.Body.Close()
	c.observeEndpoint(ctx, p, EndpointToken, resp.StatusCode, time.Since(start), err)
	if err != nil {
		return nil, tokenTransportError(what, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, tokenStatusError(resp.StatusCode, body)
	}
	tok, err := parseTokenResponse(body)
	if err != nil {
		return nil, newError(CodeProviderUnavailable, "the token response is refused", err)
	}
	return tok, nil
}

// tokenTransportError is a token request that got no complete answer.
func tokenTransportError(what string, err error) *Error {
	if safehttp.IsTimeout(err) {
		return newError(CodeProviderTimeout, "the token endpoint did not answer "+what+" in time", nil)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // its copy of the URL adds nothing
	}
	return newError(CodeProviderUnavailable, "the token endpoint failed", err)
}

// tokenStatusError classifies a token endpoint's refusal (RFC 6749 §5.2)
// without keeping the response body, which a provider may fill with
// anything: only a well-formed error code is quoted.
func tokenStatusError(status int, body []byte) *Error {
	var e struct {
		Error any `json:"error"`
	}
	code := ""
	if json.Unmarshal(body, &e) == nil {
		if s, ok := e.Error.(string); ok {
			code = s
		}
	}
	detail := fmt.Sprintf("the token endpoint answered %d %s", status, clip(code))
	switch {
	case status >= 500 || status == http.StatusTooManyRequests || code == "server_error" || code == "temporarily_unavailable":
		// A failing (or rate-limiting) endpoint, whatever error its body
		// names: not a refusal of the grant.
		return newError(CodeProviderUnavailable, detail, nil)
	case code == "invalid_client" || code == "unauthorized_client":
		return newError(CodeInvalidClient, detail, nil)
	case code == "invalid_grant":
		return newError(CodeInvalidGrant, detail, nil)
	case code != "" && status >= 400:
		return newError(CodeProviderError, detail, nil)
	case status == http.StatusUnauthorized:
		return newError(CodeInvalidClient, detail, nil)
	}
	return newError(CodeProviderUnavailable, detail, nil)
}

// maxTokenResponseBytes bounds a token response.
const maxTokenResponseBytes = 1 << 20

// maxExpiresIn bounds expires_in: ten years, in seconds.
const maxExpiresIn = 10 * 365 * 24 * 3600

// parseTokenResponse reads a token endpoint's successful answer and
// refuses what a lenient reader would take: anything but a strict JSON
// object (OIDC Core §3.1.3.3: no form encoding, no duplicate members,
// UTF-8, numbers in range), members named like the protocol's in another
// letter case (encoding/json would take "ACCESS_TOKEN" for access_token),
// a member of the wrong type, an access_token that is not a non-empty
// string, and a token_type other than Bearer. A missing token_type is
// Bearer, as x/oauth2 has it.
func parseTokenResponse(body []byte) (*tokenResponse, error) {
	// jsonobj.Strict checks body (UTF-8, JSON, an object, unique names,
	// numbers in range) as it goes.
	var t tokenResponse
	err := jsonobj.Strict(body, func(name, raw []byte) error {
		for _, want := range tokenMembers {
			if string(name) != want && foldsTo(name, want) {
				return fmt.Errorf("member %q is %s in another case", clip(string(name)), want)
			}
		}
		var dst *string
		switch string(name) {
		case "access_token":
			dst = &t.AccessToken
		case "token_type":
			dst = &t.TokenType
		case "id_token":
			dst = &t.IDToken
		case "refresh_token":
			dst = &t.RefreshToken
		case "expires_in":
			n, err := expiresIn(raw)
			if err != nil {
				return err
			}
			t.ExpiresIn = n
			return nil
		default:
			return nil
		}
		if string(raw) == "null" {
			return nil // absent; a missing access_token is refused below
		}
		if raw[0] != '"' {
			return fmt.Errorf("%s is not a string", name)
		}
		return jsonobj.String(raw, dst)
	})
	if err != nil {
		return nil, err
	}
	if t.AccessToken == "" {
		return nil, errors.New("no access_token string")
	}
	if t.TokenType == "" {
		t.TokenType = "Bearer"
	}
	if !strings.EqualFold(t.TokenType, "Bearer") {
		return nil, fmt.Errorf("token_type %q is not Bearer", clip(t.TokenType))
	}
	return &t, nil
}

// expiresIn reads expires_in: a number of seconds, or (as some providers
// send it) a string holding one.
func expiresIn(raw []byte) (int64, error) {
	if raw[0] == '"' {
		var s string
		if err := jsonobj.String(raw, &s); err != nil {
			return 0, err
		}
		raw = []byte(s)
	}
	if string(raw) == "null" {
		return 0, nil
	}
	n, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || n < 0 || n > maxExpiresIn || n != float64(int64(n)) {
		return 0, errors.New("expires_in is not a number of seconds")
	}
	return int64(n), nil
}

// foldsTo reports whether name is want in another letter case, as
// strings.EqualFold (and so encoding/json) folds it. An ASCII name is
// compared in place; one with other bytes goes through strings.EqualFold,
// which also folds the Kelvin sign K to k and the long ſ to s.
func foldsTo(name []byte, want string) bool {
	for _, c := range name {
		if c >= utf8.RuneSelf {
			return strings.EqualFold(string(name), want)
		}
	}
	if len(name) != len(want) {
		return false
	}
	for i := range len(want) {
		if c := name[i]; c != want[i] && c|0x20 != want[i] {
			return false
		}
	}
	return true
}

// tokenMembers are the token response members OIDC and OAuth define.
var tokenMembers = []string{"access_token", "token_type", "id_token", "expires_in", "refresh_token", "scope"}

// tokenHTTPClient is client without redirects: a token request is
// answered by the token endpoint itself.
func tokenHTTPClient(client *http.Client) *http.Client {
	c := *client
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
