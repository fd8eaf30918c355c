package ssoclient

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ssokit/ssokit/internal/jose"
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
	payload   []byte
	// checked: payload passed strictObject when the token was verified.
	checked bool
}

// Claims decodes the token's claims into v, as encoding/json does.
func (t *IDToken) Claims(v any) error { return json.Unmarshal(t.payload, v) }

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

func (a *audience) UnmarshalJSON(b []byte) error {
	if s, ok := plainString(b); ok {
		*a = audience{s}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*a = audience{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
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

func (d *numericDate) UnmarshalJSON(b []byte) error {
	var f float64
	// A JSON number (b is valid JSON here) parses as encoding/json parses
	// it; anything else goes through encoding/json to be refused.
	if len(b) > 0 && (b[0] == '-' || b[0] >= '0' && b[0] <= '9') {
		var err error
		if f, err = strconv.ParseFloat(string(b), 64); err != nil {
			return errors.New("a time claim is not a number")
		}
	} else if err := json.Unmarshal(b, &f); err != nil {
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
}

// decode reads the claims by their exact names (see strictObject). A
// null claim is an absent one.
func (cl *idTokenClaims) decode(payload []byte) error {
	return strictObject(payload, func(name string, raw json.RawMessage) error {
		if string(raw) == "null" {
			return nil
		}
		var err error
		switch name {
		case "iss":
			err = unmarshalString(raw, &cl.Iss)
		case "sub":
			err = unmarshalString(raw, &cl.Sub)
		case "aud":
			err = cl.Aud.UnmarshalJSON(raw)
		case "azp":
			err = unmarshalString(raw, &cl.Azp)
		case "exp":
			err = cl.Exp.UnmarshalJSON(raw)
		case "iat":
			err = cl.Iat.UnmarshalJSON(raw)
		case "nbf":
			err = cl.Nbf.UnmarshalJSON(raw)
		case "auth_time":
			err = cl.AuthTime.UnmarshalJSON(raw)
		case "nonce":
			err = unmarshalString(raw, &cl.Nonce)
		case "at_hash":
			err = unmarshalString(raw, &cl.AtHash)
		case "tid":
			err = unmarshalString(raw, &cl.Tid)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
}

// plainString returns the JSON string b (valid JSON) when it has no
// escape to undo: its bytes between the quotes are the string.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || bytes.IndexByte(b, '\\') >= 0 {
		return "", false
	}
	return string(b[1 : len(b)-1]), true
}

// unmarshalString is json.Unmarshal(b, s) with a fast path for a string
// without escapes.
func unmarshalString(b []byte, s *string) error {
	if v, ok := plainString(b); ok {
		*s = v
		return nil
	}
	return json.Unmarshal(b, s)
}

// strictObject checks that b is a JSON object of unique member names in
// valid UTF-8, and calls each (when not nil) with every member. Claims
// are read this way, by their exact names: encoding/json's struct
// decoding folds case, which would let a custom claim "SUB", "Aud" or
// "NONCE" stand in for sub, aud or nonce while IDToken.Claims and
// claims.Map read the real ones; of duplicate names it keeps the last
// where other parsers keep the first (RFC 7519 §4 lets a parser refuse
// duplicates, as jwks does in headers); and it turns bytes that are not
// UTF-8 into U+FFFD, so two different subjects could read the same.
//
// Once json.Valid has accepted b, the members are found by a scan of its
// top level: raw is a slice of b (callers must not keep it), and a name is
// unescaped by encoding/json only when it has an escape.
func strictObject(b []byte, each func(name string, raw json.RawMessage) error) error {
	if !utf8.Valid(b) || !json.Valid(b) {
		return errors.New("not JSON in UTF-8")
	}
	i := skipSpace(b, 0)
	if b[i] != '{' {
		return errors.New("not a JSON object")
	}
	var small [32][]byte // names seen, while few
	seen := small[:0]
	var seenMap map[string]bool
	i = skipSpace(b, i+1)
	for b[i] != '}' {
		// b is valid JSON: a member is a string, a colon, a value, then
		// a comma or the closing brace.
		end := skipValue(b, i)
		nameRaw := b[i+1 : end-1]
		if bytes.IndexByte(nameRaw, '\\') >= 0 {
			var n string
			if err := json.Unmarshal(b[i:end], &n); err != nil {
				return err
			}
			nameRaw = []byte(n)
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the colon
		end = skipValue(b, i)
		raw := json.RawMessage(b[i:end:end])
		i = skipSpace(b, end)
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
		dup := false
		if seenMap == nil && len(seen) < len(small) {
			for _, s := range seen {
				if bytes.Equal(s, nameRaw) {
					dup = true
					break
				}
			}
			seen = append(seen, nameRaw)
		} else {
			if seenMap == nil {
				seenMap = make(map[string]bool, 2*len(small))
				for _, s := range seen {
					seenMap[string(s)] = true
				}
			}
			dup = seenMap[string(nameRaw)]
			seenMap[string(nameRaw)] = true
		}
		if dup {
			return fmt.Errorf("the member %q appears twice", clip(string(nameRaw)))
		}
		if each != nil {
			if err := each(string(nameRaw), raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// skipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value that starts at b[i], in b
// that json.Valid accepted.
func skipValue(b []byte, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return i
			}
		}
	}
	return i
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
	var cl idTokenClaims
	if err := cl.decode(payload); err != nil {
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
		Nonce: cl.Nonce, Algorithm: hdr.Algorithm, atHash: cl.AtHash, payload: payload, checked: true,
	}
	if cl.AuthTime.set {
		t.AuthTime = cl.AuthTime.t
	}
	return t, nil
}

// clip shortens a value from a token for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// claimsMap decodes the verified token's claims into a map, as
// json.Unmarshal into a map[string]any does (float64 numbers, []any
// arrays, map[string]any objects), with the same checks strictObject
// makes. Names and plain strings (no escapes), and arrays of them, are
// slices of one copy of the payload; other values go through
// json.Unmarshal.
func (t *IDToken) claimsMap() (map[string]any, error) {
	b := t.payload
	if !t.checked {
		if err := strictObject(b, nil); err != nil {
			return nil, err
		}
	}
	s := string(b)
	m := make(map[string]any, 24)
	i := skipSpace(b, skipSpace(b, 0)+1)
	for b[i] != '}' {
		end := skipValue(b, i)
		name := s[i+1 : end-1]
		if strings.IndexByte(name, '\\') >= 0 {
			if err := json.Unmarshal(b[i:end], &name); err != nil {
				return nil, err
			}
		}
		i = skipSpace(b, end)
		i = skipSpace(b, i+1) // the colon
		end = skipValue(b, i)
		v, err := claimValue(b, s, i, end)
		if err != nil {
			return nil, err
		}
		m[name] = v
		i = skipSpace(b, end)
		if b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return m, nil
}

// claimValue decodes the valid JSON value b[i:end] (s is b as a string)
// as json.Unmarshal into an any does.
func claimValue(b []byte, s string, i, end int) (any, error) {
	raw := s[i:end]
	switch c := raw[0]; {
	case c == '"':
		if strings.IndexByte(raw, '\\') < 0 {
			return raw[1 : len(raw)-1], nil
		}
	case raw == "true":
		return true, nil
	case raw == "false":
		return false, nil
	case raw == "null":
		return nil, nil
	case c == '-' || (c >= '0' && c <= '9'):
		if f, err := strconv.ParseFloat(raw, 64); err == nil {
			return f, nil
		}
	case c == '[':
		if a, ok := plainStrings(b, s, i, end); ok {
			return a, nil
		}
	}
	var v any
	if err := json.Unmarshal(b[i:end], &v); err != nil {
		return nil, err
	}
	return v, nil
}

// plainStrings returns the valid JSON array b[i:end] as an []any of
// strings when every element is a string without escapes.
func plainStrings(b []byte, s string, i, end int) ([]any, bool) {
	n := 0
	for j := skipSpace(b, i+1); b[j] != ']'; {
		e := skipValue(b, j)
		if b[j] != '"' || strings.IndexByte(s[j:e], '\\') >= 0 {
			return nil, false
		}
		n++
		j = skipSpace(b, e)
		if b[j] == ',' {
			j = skipSpace(b, j+1)
		}
	}
	a := make([]any, 0, n)
	for j := skipSpace(b, i+1); b[j] != ']'; {
		e := skipValue(b, j)
		a = append(a, s[j+1:e-1])
		j = skipSpace(b, e)
		if b[j] == ',' {
			j = skipSpace(b, j+1)
		}
	}
	return a, true
}
