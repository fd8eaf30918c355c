package ssotest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssokit/ssokit/internal/randtoken"
)

// BackChannelLogoutEvent is the member of a logout token's events claim
// (OpenID Connect Back-Channel Logout 1.0 §2.4).
const BackChannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// LogoutTokenClaims returns the claims of a valid logout token for
// clientID about subject and/or sid (at least one): iss, aud, iat, exp
// (two minutes), a fresh jti and the events claim. Change them and sign
// them with [Provider.SignLogoutToken] to make a bad one.
func (p *Provider) LogoutTokenClaims(clientID, subject, sid string) map[string]any {
	now := p.now()
	c := map[string]any{
		"iss":    p.issuer,
		"aud":    clientID,
		"iat":    now.Unix(),
		"exp":    now.Add(2 * time.Minute).Unix(),
		"jti":    randtoken.New(16),
		"events": map[string]any{BackChannelLogoutEvent: map[string]any{}},
	}
	if subject != "" {
		c["sub"] = subject
	}
	if sid != "" {
		c["sid"] = sid
	}
	return c
}

// SignLogoutToken signs claims as a logout token, with the typ
// "logout+jwt" the specification recommends, and panics on failure.
func (p *Provider) SignLogoutToken(claims map[string]any) string {
	return p.SignTyped("logout+jwt", claims)
}

// SignTyped signs claims with the provider's current key and the given
// typ header ("" for none), and panics on failure.
func (p *Provider) SignTyped(typ string, claims map[string]any) string {
	h := map[string]any{}
	if typ != "" {
		h["typ"] = typ
	}
	tok, err := p.sign(h, claims, Faults{})
	if err != nil {
		panic(err)
	}
	return tok
}

// SendLogoutToken posts logoutToken to uri as a back-channel logout
// request (§2.5) and returns the response's status.
func (p *Provider) SendLogoutToken(ctx context.Context, uri, logoutToken string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, uri, strings.NewReader(url.Values{"logout_token": {logoutToken}}.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// BackChannelLogout ends subject's sessions at the provider: for each of
// the user's sign-ins through a client with a BackChannelLogoutURI, it
// sends a logout token naming the subject and the sign-in's sid, as an
// OpenID provider does when the user signs out there or an administrator
// ends their sessions. It returns how many were sent, and an error
// naming every client that did not answer 200.
func (p *Provider) BackChannelLogout(ctx context.Context, subject string) (int, error) {
	p.mu.Lock()
	var targets []struct{ uri, clientID, sid string }
	kept := p.sessions[:0]
	for _, s := range p.sessions {
		if s.user != subject {
			kept = append(kept, s)
			continue
		}
		if uri := p.clients[s.clientID].BackChannelLogoutURI; uri != "" {
			targets = append(targets, struct{ uri, clientID, sid string }{uri, s.clientID, s.sid})
		}
	}
	p.sessions = kept
	p.mu.Unlock()
	var errs []error
	for _, t := range targets {
		status, err := p.SendLogoutToken(ctx, t.uri, p.SignLogoutToken(p.LogoutTokenClaims(t.clientID, subject, t.sid)))
		if err == nil && status != http.StatusOK {
			err = fmt.Errorf("answered %d", status)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("ssotest: back-channel logout to client %s: %w", t.clientID, err))
		}
	}
	return len(targets), errors.Join(errs...)
}

// SIDs returns the sid of each of subject's sign-ins at the provider, oldest
// first.
func (p *Provider) SIDs(subject string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, s := range p.sessions {
		if s.user == subject {
			out = append(out, s.sid)
		}
	}
	return out
}

// RevokeRefreshTokens revokes every refresh token issued to subject, as a
// provider does when a user is disabled or their consent withdrawn, and
// returns how many there were.
func (p *Provider) RevokeRefreshTokens(subject string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for t, g := range p.refreshTokens {
		if g.user == subject {
			delete(p.refreshTokens, t)
			n++
		}
	}
	return n
}
