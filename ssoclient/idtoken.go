package ssoclient

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/jsonobj"
	"github.com/ssokit/ssokit/internal/safehttp"
	"github.com/ssokit/ssokit/jwks"
)

// IDToken is a verified ID token.
type IDToken struct {
	Issuer    string
	Subject   string
	Audience  []string
	Expiry    time.Time
	IssuedAt  time.Time
	AuthTime  time.Time // zero when absent
	Nonce     string
	Algorithm string // the JWS alg it was signed with
	atHash    string
	sid       string
	claims    claims.Set
}

// Claims decodes the token's claims into v, as encoding/json does.
func (t *IDToken) Claims(v any) error { return t.claims.Decode(v) }

// ClaimSet returns the token's claims, as an Identity keeps them.
func (t *IDToken) ClaimSet() claims.Set { return t.claims }

// VerifyAccessToken checks the token's at_hash against accessToken (OIDC
// Core §3.1.3.8). A token without at_hash passes: in the code flow the
// claim is optional.
func (t *IDToken) VerifyAccessToken(accessToken string) error {
	if t.atHash == "" {
		return nil
	}
	want, ok := jose.HalfHash(t.Algorithm, accessToken)
	if !ok || subtle.ConstantTimeCompare([]byte(want), []byte(t.atHash)) != 1 {
		return newError(CodeIDTokenInvalid, "at_hash does not match the access token", nil)
	}
	return nil
}

// audience is aud: a string or an array of strings (RFC 7519 §4.1.3).
type audience []string

// decode reads the valid JSON value raw.
func (a *audience) decode(raw string) error {
	if s, ok := jsonobj.PlainString(raw); ok {
		*a = audience{s}
		return nil
	}
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err == nil {
		*a = audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal([]byte(raw), &l); err != nil {
		return errors.New("aud is neither a string nor an array of strings")
	}
	*a = l
	return nil
}

// numericDate is a JSON number of seconds (RFC 7519 §2); fractions are
// allowed and dropped.
type numericDate struct {
	t   time.Time
	set bool
}

// decode reads the valid JSON value raw.
func (d *numericDate) decode(raw string) error {
	// A JSON number (raw is valid JSON here) parses as encoding/json
	// parses it; a string, boolean, array or object is refused, as
	// encoding/json refuses it for a float64.
	if len(raw) == 0 || !(raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9') {
		return errors.New("a time claim is not a number")
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		return errors.New("a time claim is not a number")
	}
	if f < 0 || f > 1<<40 {
		return errors.New("a time claim is out of range")
	}
	d.t, d.set = time.Unix(int64(f), 0), true
	return nil
}

// idTokenClaims are the claims OIDC Core §2 and §3.1.3.7 check.
type idTokenClaims struct {
	Iss      string      `json:"iss"`
	Sub      string      `json:"sub"`
	Aud      audience    `json:"aud"`
	Azp      string      `json:"azp"`
	Exp      numericDate `json:"exp"`
	Iat      numericDate `json:"iat"`
	Nbf      numericDate `json:"nbf"`
	AuthTime numericDate `json:"auth_time"`
	Nonce    string      `json:"nonce"`
	AtHash   string      `json:"at_hash"`
	Tid      string      `json:"tid"`
	Sid      string      `json:"sid"`
}

// decode reads the claims of c by their exact names: encoding/json's
// struct decoding folds case, which would let a custom claim "SUB", "Aud"
// or "NONCE" stand in for sub, aud or nonce while IDToken.Claims and
// claims.Map read the real ones (claims.ParseSet has refused duplicate
// names, bytes that are not UTF-8 and anything but an object). A null
// claim is an absent one.
func (cl *idTokenClaims) decode(c claims.Set) error {
	return jsonobj.Each(c.JSON(), func(name, raw string) error {
		if raw == "null" {
			return nil
		}
		var err error
		switch name {
		case "iss":
			err = jsonobj.String(raw, &cl.Iss)
		case "sub":
			err = jsonobj.String(raw, &cl.Sub)
		case "aud":
			err = cl.Aud.decode(raw)
		case "azp":
			err = jsonobj.String(raw, &cl.Azp)
		case "exp":
			err = cl.Exp.decode(raw)
		case "iat":
			err = cl.Iat.decode(raw)
		case "nbf":
			err = cl.Nbf.decode(raw)
		case "auth_time":
			err = cl.AuthTime.decode(raw)
		case "nonce":
			err = jsonobj.String(raw, &cl.Nonce)
		case "at_hash":
			err = jsonobj.String(raw, &cl.AtHash)
		case "tid":
			err = jsonobj.String(raw, &cl.Tid)
		case "sid":
			err = jsonobj.String(raw, &cl.Sid)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
}

// VerifyIDToken verifies an ID token as OIDC Core §3.1.3.7 requires:
// compact JWS signed with an allowed algorithm by a key of the provider's
// JWKS; iss the provider's (Entra's multi-tenant issuer resolved with the
// token's tid); aud containing the client ID and no untrusted audience;
// azp, when present or when there are several audiences, the client ID;
// exp in the future and iat and nbf not in it, with ClockSkew; typ, when
// present, JWT; a sub; and, when nonce is not empty, the same nonce. It
// returns an *Error: id_token_invalid, issuer_mismatch or nonce_mismatch
// for a bad token, provider_unavailable or provider_timeout when the keys
// cannot be fetched.
//
// It does not check at_hash (see [IDToken.VerifyAccessToken]), acr or
// auth_time.
func (c *Client) VerifyIDToken(ctx context.Context, rawIDToken, nonce string) (*IDToken, error) {
	return c.verifyIDToken(ctx, c.prov, rawIDToken, nonce)
}

func (c *Client) verifyIDToken(ctx context.Context, p *provider, raw, nonce string) (*IDToken, error) {
	if raw == "" {
		return nil, newError(CodeIDTokenInvalid, "the token response has no id_token", nil)
	}
	payload, hdr, err := p.keys.Verify(ctx, raw)
	if err != nil {
		if errors.Is(err, jwks.ErrFetch) {
			if safehttp.IsTimeout(err) {
				return nil, newError(CodeProviderTimeout, "fetching the provider's keys timed out", err)
			}
			return nil, newError(CodeProviderUnavailable, "the provider's keys cannot be fetched", err)
		}
		return nil, newError(CodeIDTokenInvalid, "", err)
	}
	if hdr.Type != "" && !strings.EqualFold(hdr.Type, "JWT") && !strings.EqualFold(hdr.Type, "application/jwt") {
		return nil, newError(CodeIDTokenInvalid, fmt.Sprintf("typ %q is not an ID token's", hdr.Type), nil)
	}
	set, err := claims.ParseSet(payload)
	if err != nil {
		return nil, newError(CodeIDTokenInvalid, "claims do not decode", err)
	}
	var cl idTokenClaims
	if err := cl.decode(set); err != nil {
		return nil, newError(CodeIDTokenInvalid, "claims do not decode", err)
	}
	s := c.cfg
	now := s.Now()
	switch {
	case !p.matchesIssuer(cl.Iss, cl.Tid):
		return nil, newError(CodeIssuerMismatch, fmt.Sprintf("iss %q is not the provider's %q", clip(cl.Iss), p.issuer), nil)
	case cl.Sub == "" || len(cl.Sub) > 255:
		return nil, newError(CodeIDTokenInvalid, "sub is missing or longer than 255 characters", nil)
	case !slices.Contains(cl.Aud, p.conn.clientID):
		return nil, newError(CodeIDTokenInvalid, "aud does not contain this client ID", nil)
	case len(cl.Aud) > 1 && cl.Azp == "":
		return nil, newError(CodeIDTokenInvalid, "several audiences and no azp", nil)
	case cl.Azp != "" && cl.Azp != p.conn.clientID:
		return nil, newError(CodeIDTokenInvalid, "azp is another client", nil)
	case !cl.Exp.set:
		return nil, newError(CodeIDTokenInvalid, "exp is missing", nil)
	case !now.Before(cl.Exp.t.Add(s.ClockSkew)):
		return nil, newError(CodeIDTokenInvalid, "the token has expired", nil)
	case !cl.Iat.set:
		return nil, newError(CodeIDTokenInvalid, "iat is missing", nil)
	case cl.Iat.t.After(now.Add(s.ClockSkew)):
		return nil, newError(CodeIDTokenInvalid, "iat is in the future", nil)
	case cl.Nbf.set && cl.Nbf.t.After(now.Add(s.ClockSkew)):
		return nil, newError(CodeIDTokenInvalid, "nbf is in the future", nil)
	}
	for _, a := range cl.Aud {
		if a != p.conn.clientID && !slices.Contains(s.TrustedAudiences, a) {
			return nil, newError(CodeIDTokenInvalid, fmt.Sprintf("aud contains the untrusted audience %q", clip(a)), nil)
		}
	}
	if nonce != "" && subtle.ConstantTimeCompare([]byte(cl.Nonce), []byte(nonce)) != 1 {
		if cl.Nonce == "" {
			return nil, newError(CodeNonceMismatch, "the ID token has no nonce", nil)
		}
		return nil, newError(CodeNonceMismatch, "the ID token's nonce is not this sign-in's", nil)
	}
	t := &IDToken{
		Issuer: cl.Iss, Subject: cl.Sub, Audience: cl.Aud, Expiry: cl.Exp.t, IssuedAt: cl.Iat.t,
		Nonce: cl.Nonce, Algorithm: hdr.Algorithm, atHash: cl.AtHash, sid: cl.Sid, claims: set,
	}
	if cl.AuthTime.set {
		t.AuthTime = cl.AuthTime.t
	}
	return t, nil
}

// clip shortens a value from a token for an error message.
func clip(s string) string { return jsonobj.Clip(s) }
