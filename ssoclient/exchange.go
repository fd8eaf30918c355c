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
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/ssokit/ssokit/internal/jose"
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

// exchange redeems the code at the token endpoint with the provider's one
// authentication method.
func (c *Client) exchange(ctx context.Context, p *provider, code, verifier string) (*oauth2.Token, error) {
	opts := []oauth2.AuthCodeOption{oauth2.VerifierOption(verifier)}
	if p.authMethod == AuthPrivateKeyJWT {
		a, err := c.clientAssertion(p)
		if err != nil {
			return nil, newError(CodeConfigInvalid, "signing the client assertion failed", err)
		}
		opts = append(opts,
			oauth2.SetAuthURLParam("client_assertion_type", assertionType),
			oauth2.SetAuthURLParam("client_assertion", a))
	}
	ctx, cancel := c.cfg.timeout(ctx)
	defer cancel()
	// The one place the oauth2 context key is set: our own call.
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.cfg.tokenClient)
	tok, err := p.oauth.Exchange(ctx, code, opts...)
	if err != nil {
		return nil, tokenError(err)
	}
	if tok.Type() != "Bearer" {
		return nil, newError(CodeProviderUnavailable, fmt.Sprintf("token_type %q is not Bearer", clip(tok.TokenType)), nil)
	}
	return tok, nil
}

// tokenError classifies a token endpoint failure without keeping the
// response body, which a provider may fill with anything.
func tokenError(err error) *Error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		if re.Response != nil {
			status = re.Response.StatusCode
		}
		detail := fmt.Sprintf("the token endpoint answered %d %s", status, clip(re.ErrorCode))
		switch {
		case status >= 500:
			// A failing endpoint, whatever error its body names.
			return newError(CodeProviderUnavailable, detail, nil)
		case re.ErrorCode == "invalid_client" || re.ErrorCode == "unauthorized_client":
			return newError(CodeInvalidClient, detail, nil)
		case re.ErrorCode == "invalid_grant":
			return newError(CodeInvalidGrant, detail, nil)
		case re.ErrorCode != "" && status >= 400 && status < 500:
			return newError(CodeProviderError, detail, nil)
		case status == http.StatusUnauthorized:
			return newError(CodeInvalidClient, detail, nil)
		}
		return newError(CodeProviderUnavailable, detail, nil)
	}
	if safehttp.IsTimeout(err) {
		return newError(CodeProviderTimeout, "the token endpoint did not answer in time", nil)
	}
	// Transport and parse errors carry no body: x/oauth2 only quotes one
	// in RetrieveError, handled above.
	return newError(CodeProviderUnavailable, "the token endpoint failed", err)
}

// maxTokenResponseBytes bounds a token response.
const maxTokenResponseBytes = 1 << 20

// tokenResponseCheck reads the token endpoint's successful answer before
// x/oauth2 does, and refuses what x/oauth2 would read leniently: anything
// but a strict JSON object (OIDC Core §3.1.3.3: no form encoding, no
// duplicate members, UTF-8, numbers in range), members named like the
// protocol's in another letter case (encoding/json would take
// "ACCESS_TOKEN" for access_token), and an access_token that is not a
// non-empty string. A refusal is a transport error: the provider failed.
type tokenResponseCheck struct{ next http.RoundTripper }

func (t tokenResponseCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	body, err := safehttp.ReadAll(resp.Body, maxTokenResponseBytes)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if err := checkTokenJSON(body); err != nil {
		return nil, fmt.Errorf("the token response is refused: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// tokenMembers are the token response members OIDC and OAuth define.
var tokenMembers = []string{"access_token", "token_type", "id_token", "expires_in", "refresh_token", "scope"}

func checkTokenJSON(body []byte) error {
	// What json.Unmarshal into a map refuses: invalid JSON, or a value
	// other than an object.
	if !json.Valid(body) || body[skipSpace(body, 0)] != '{' {
		return errors.New("not a JSON object")
	}
	accessToken := false
	err := strictObject(body, func(name string, raw json.RawMessage) error {
		for _, want := range tokenMembers {
			if name != want && strings.EqualFold(name, want) {
				return fmt.Errorf("member %q is %s in another case", clip(name), want)
			}
		}
		// raw is valid JSON: a string starts with a quote, and one
		// longer than "" decodes to a non-empty string.
		switch name {
		case "access_token":
			accessToken = raw[0] == '"' && len(raw) > 2
		case "token_type":
			if raw[0] != '"' {
				return errors.New("token_type is not a string")
			}
		case "id_token":
			if raw[0] != '"' {
				return errors.New("id_token is not a string")
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !numbersInRange(body) {
		return errors.New("not a JSON object") // as json.Unmarshal refuses 1e700
	}
	if !accessToken {
		return errors.New("no access_token string")
	}
	return nil
}

// numbersInRange reports whether every number in the valid JSON b is
// within float64's range, as json.Unmarshal into an any requires.
func numbersInRange(b []byte) bool {
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
		case c == '-' || (c >= '0' && c <= '9'):
			j := i
			for j < len(b) && (b[j] == '-' || b[j] == '+' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || (b[j] >= '0' && b[j] <= '9')) {
				j++
			}
			if _, err := strconv.ParseFloat(string(b[i:j]), 64); err != nil {
				return false
			}
			i = j - 1
		}
	}
	return true
}

// tokenHTTPClient is client with tokenResponseCheck in front of its
// transport.
func tokenHTTPClient(client *http.Client) *http.Client {
	c := *client
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = tokenResponseCheck{next: next}
	return &c
}
