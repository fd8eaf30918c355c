package ssoclient

import (
	"context"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/internal/safehttp"
)

// maxUserinfoBytes bounds a userinfo response.
const maxUserinfoBytes = 256 << 10

// userinfo asks the provider's userinfo endpoint about the holder of
// accessToken and checks that the answer is about sub (OIDC Core §5.3.4:
// a different sub must be refused, or the answer may be about someone
// else). A signed (application/jwt) answer is verified with the provider's
// keys.
func (c *Client) userinfo(ctx context.Context, p *provider, accessToken, sub string) (map[string]any, error) {
	h := http.Header{"Authorization": {"Bearer " + accessToken}, "Accept": {"application/json, application/jwt"}}
	start := time.Now()
	body, ctype, err := safehttp.GetWithHeader(ctx, c.cfg.HTTPClient, p.endpoints.Userinfo, h,
		safehttp.Limits{Timeout: c.cfg.Timeout, MaxBytes: maxUserinfoBytes, MaxRedirects: -1})
	c.observeEndpoint(ctx, p, EndpointUserinfo, safehttp.StatusOf(err), time.Since(start), err)
	if err != nil {
		var se *safehttp.StatusError
		switch {
		case safehttp.IsTimeout(err):
			return nil, newError(CodeProviderTimeout, "userinfo did not answer in time", err)
		case errors.As(err, &se) && se.StatusCode >= 400 && se.StatusCode < 500:
			return nil, newError(CodeUserinfoInvalid, "userinfo refused the access token", err)
		}
		return nil, newError(CodeProviderUnavailable, "userinfo failed", err)
	}
	if mt, _, _ := mime.ParseMediaType(ctype); mt == "application/jwt" {
		payload, _, err := p.keys.Verify(ctx, string(body))
		if err != nil {
			return nil, newError(CodeUserinfoInvalid, "the signed userinfo response does not verify", err)
		}
		body = payload
	}
	// Read as the ID token's claims are: no duplicate names, UTF-8 only.
	// Garbage or a truncated answer is the provider failing, not a
	// refusal: 502, as for the token endpoint and the keys.
	set, err := claims.ParseSet(body)
	if err != nil {
		return nil, newError(CodeProviderUnavailable, "userinfo is not a strict JSON object", err)
	}
	m := set.Map()
	if got, _ := m["sub"].(string); got != sub {
		return nil, newError(CodeUserinfoInvalid, "userinfo's sub differs from the ID token's", nil)
	}
	// A signed response names its issuer and audience; when it does, they
	// must be ours (OIDC Core §5.3.2).
	if iss, ok := m["iss"]; ok && !p.matchesIssuer(str(iss), str(m["tid"])) {
		return nil, newError(CodeUserinfoInvalid, "userinfo's iss is another provider", nil)
	}
	if aud, ok := m["aud"]; ok {
		var a audience
		if b, err := json.Marshal(aud); err != nil || a.decode(string(b)) != nil || !slices.Contains(a, p.conn.clientID) {
			return nil, newError(CodeUserinfoInvalid, "userinfo's aud is not this client", nil)
		}
	}
	return m, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
