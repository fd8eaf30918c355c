package ssoclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/internal/jsonobj"
	"github.com/ssokit/ssokit/jwks"
)

// backChannelLogoutEvent is the events member of a logout token (OpenID
// Connect Back-Channel Logout 1.0 §2.4).
const backChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// maxLogoutTokenAge is how old a logout token may be (iat), on top of the
// clock skew, whether or not it has an exp: the specification leaves exp
// optional in 1.0 drafts and required in the final text; either way a
// token is only accepted briefly (no longer than its jti is remembered),
// and its jti once.
const maxLogoutTokenAge = 5 * time.Minute

// BackChannelLogoutURL is the URL to register at the provider as the
// client's back-channel logout URI ({mount}/backchannel-logout). With
// profiles, each profile has its own: pass its ID; it is named in the
// query.
func (c *Client) BackChannelLogoutURL(profile string) string {
	u, _ := url.Parse(c.cfg.redirect)
	u.Path = c.cfg.mount + "/backchannel-logout"
	u.RawPath = ""
	if profile != "" {
		u.RawQuery = url.Values{"profile": {profile}}.Encode()
	}
	return u.String()
}

// logoutTokenClaims are the claims a logout token is checked on.
type logoutTokenClaims struct {
	idTokenClaims
	sid, jti    string
	event, nbad bool // events has the back-channel member as an object; nbad: a claim has the wrong type
}

// backChannelLogout serves POST {mount}/backchannel-logout: the provider
// says a user's session there ended (OpenID Connect Back-Channel Logout
// 1.0). The logout token is validated as §2.6 requires and the matching
// sessions here are ended: by sid when it has one, otherwise every
// session of the subject. It answers 200 on success (also when no session
// matched: the user may have signed out here already) and 400 with
// logout_token_invalid otherwise, with Cache-Control: no-store (§2.8).
func (c *Client) backChannelLogout(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	n, err := c.endByLogoutToken(r)
	if err != nil {
		c.refuse(w, r, "sso: back-channel logout refused", err)
		return
	}
	c.log.LogAttrs(r.Context(), slog.LevelInfo, "sso: back-channel logout", slog.String("profile", r.URL.Query().Get("profile")), slog.Int("sessions_ended", n))
	w.WriteHeader(http.StatusOK)
}

func (c *Client) endByLogoutToken(r *http.Request) (int, error) {
	ctx := r.Context()
	invalid := func(detail string, err error) (int, error) {
		return 0, newError(CodeLogoutTokenInvalid, detail, err)
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return invalid("the request is not form-encoded", nil)
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return invalid("the request body does not parse", nil)
	}
	raw := r.PostForm["logout_token"]
	if len(raw) != 1 || raw[0] == "" {
		return invalid("the request has no logout_token (or several)", nil)
	}
	q := r.URL.Query()
	p, err := c.provider(ctx, q.Get("profile"))
	if err != nil {
		if asError(err).Status >= 500 {
			return 0, err // discovery failed: the provider's keys are out of reach
		}
		// §2.8: a request that fails is answered 400.
		return invalid("no enabled profile "+strconv.Quote(clip(q.Get("profile"))), nil)
	}
	cl, err := c.verifyLogoutToken(ctx, p, raw[0])
	if err != nil {
		return 0, err
	}
	// §2.6 step 7: each logout token once.
	first, err := c.replay.Claim(ctx, "logout\x00"+cl.Iss+"\x00"+cl.jti, c.cfg.Now().Add(maxLogoutTokenAge+2*c.cfg.ClockSkew))
	if err != nil {
		return 0, newError(CodeProviderUnavailable, "the replay cache failed", err)
	}
	if !first {
		return invalid("this logout token was already used (jti)", nil)
	}
	f := SessionFilter{Issuer: cl.Iss, SID: cl.sid}
	subClaim := p.conn.mapping.SubjectClaim(cl.Iss)
	if cl.Sub != "" && subClaim == "sub" {
		f.Subject = cl.Sub
	}
	if f.SID == "" && f.Subject == "" {
		// The sessions here are keyed by another claim than sub (Entra's
		// oid, or a mapping's choice): a sub alone names none of them.
		return invalid(fmt.Sprintf("the logout token has no sid, and sessions here are keyed by %q, not sub", subClaim), nil)
	}
	if p.conn.profile != "" {
		f.Profile = p.conn.profile
	}
	n, err := c.sessions.DeleteMatching(ctx, f)
	if err != nil {
		return 0, newError(CodeProviderUnavailable, "the session store failed", err)
	}
	return n, nil
}

// verifyLogoutToken checks a logout token as §2.6 requires: a JWS signed
// by the provider with an allowed algorithm (the ID token's rules: no
// "none", no HMAC, the provider's keys), typed logout+jwt or JWT (or
// untyped), iss the provider's, aud this client, iat present and recent,
// exp (when present) not passed, a jti, sub and/or sid, the events claim
// with the back-channel logout member holding an object, and no nonce (so
// an ID token cannot pass for one).
func (c *Client) verifyLogoutToken(ctx context.Context, p *provider, raw string) (*logoutTokenClaims, error) {
	invalid := func(detail string) (*logoutTokenClaims, error) {
		return nil, newError(CodeLogoutTokenInvalid, detail, nil)
	}
	payload, hdr, err := p.keys.Verify(ctx, raw)
	if err != nil {
		if errors.Is(err, jwks.ErrFetch) {
			return nil, newError(CodeProviderUnavailable, "the provider's keys cannot be fetched", err)
		}
		return nil, newError(CodeLogoutTokenInvalid, "", err)
	}
	switch strings.ToLower(hdr.Type) {
	case "", "jwt", "logout+jwt", "application/logout+jwt":
	default:
		return invalid(fmt.Sprintf("typ %q is not a logout token's", clip(hdr.Type)))
	}
	var cl logoutTokenClaims
	if err := cl.decode(payload); err != nil {
		return nil, newError(CodeLogoutTokenInvalid, "claims do not decode", err)
	}
	s := c.cfg
	now := s.Now()
	switch {
	case cl.nbad:
		return invalid("sid, jti or events has the wrong type")
	case !p.matchesIssuer(cl.Iss, cl.Tid):
		return invalid(fmt.Sprintf("iss %q is not the provider's", clip(cl.Iss)))
	case !slices.Contains(cl.Aud, p.conn.clientID):
		return invalid("aud does not contain this client ID")
	case cl.Azp != "" && cl.Azp != p.conn.clientID:
		return invalid("azp is another client")
	case !cl.Iat.set:
		return invalid("iat is missing")
	case cl.Iat.t.After(now.Add(s.ClockSkew)):
		return invalid("iat is in the future")
	case cl.Exp.set && !now.Before(cl.Exp.t.Add(s.ClockSkew)):
		return invalid("the token has expired")
	case now.After(cl.Iat.t.Add(maxLogoutTokenAge + s.ClockSkew)):
		// Also with an exp: a token accepted longer than its jti is
		// remembered could be replayed.
		return invalid("the token is too old (iat)")
	case cl.jti == "":
		return invalid("jti is missing")
	case cl.Sub == "" && cl.sid == "":
		return invalid("the token names neither sub nor sid")
	case !cl.event:
		return invalid("events has no back-channel logout event")
	case cl.Nonce != "":
		return invalid("the token has a nonce: it is not a logout token")
	}
	for _, a := range cl.Aud {
		if a != p.conn.clientID && !slices.Contains(s.TrustedAudiences, a) {
			return invalid(fmt.Sprintf("aud contains the untrusted audience %q", clip(a)))
		}
	}
	return &cl, nil
}

// decode reads a logout token's claims by their exact names, as ID token
// claims are read.
func (cl *logoutTokenClaims) decode(payload []byte) error {
	set, err := claims.ParseSet(payload)
	if err != nil {
		return err
	}
	if err := cl.idTokenClaims.decode(set); err != nil {
		return err
	}
	// A nonce of any type (or null) marks a token that is not a logout
	// token; the ID token decoder reads only strings and skips null.
	return jsonobj.Each(set.JSON(), func(name, raw string) error {
		switch name {
		case "nonce":
			if cl.Nonce == "" {
				cl.Nonce = "present"
			}
		case "sid", "jti":
			if raw == "null" {
				return nil
			}
			dst := &cl.sid
			if name == "jti" {
				dst = &cl.jti
			}
			if raw[0] != '"' || jsonobj.String(raw, dst) != nil {
				cl.nbad = true
			}
		case "events":
			var ev map[string]json.RawMessage
			if json.Unmarshal([]byte(raw), &ev) != nil {
				cl.nbad = true
				return nil
			}
			v, ok := ev[backChannelLogoutEvent]
			cl.event = ok && len(v) > 0 && v[0] == '{'
		}
		return nil
	})
}
