package ssoclient

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
)

// refreshEarly is how long before its expiry an access token is refreshed,
// so a token handed out is not already expired when the API receives it.
const refreshEarly = time.Minute

// TokenSource returns the signed-in user's access token as an
// oauth2.TokenSource, for calling APIs as the user (oauth2.NewClient(ctx,
// ts) makes an *http.Client of it). It needs Config.KeepTokens. When the
// access token is about to expire and the session has a refresh token
// (request the offline_access scope, or the provider's equivalent), Token
// refreshes it at the token endpoint with the profile's client
// authentication, and keeps the new tokens in the session. A new ID token
// in the refresh response is verified like the first (signature, iss, aud,
// exp, iat) and must name the same issuer and subject (OIDC Core §12.2).
//
// If the provider refuses the refresh (a revoked or expired refresh token,
// a disabled user), the session is ended and Token fails with code
// refresh_failed; a provider that fails or times out gives 502/504 and
// leaves the session as it is. A refreshed ID token that cannot be
// verified ends the session too, even when only the provider's keys are
// out of reach: its refresh token is spent by then. The context bounds
// every refresh.
//
// Without a session TokenSource fails with code login_required; without
// kept tokens, with no_token.
func (c *Client) TokenSource(ctx context.Context, r *http.Request) (oauth2.TokenSource, error) {
	s := c.Session(r)
	if s == nil {
		return nil, newError(CodeLoginRequired, "", nil)
	}
	if s.Tokens == nil {
		return nil, newError(CodeNoToken, "the session keeps no tokens: set Config.KeepTokens", nil)
	}
	return &sessionTokens{c: c, ctx: ctx, id: s.ID}, nil
}

// sessionTokens is a session's TokenSource. It reads the session from the
// store at every Token, so a refresh made by another request or replica is
// seen.
type sessionTokens struct {
	c   *Client
	ctx context.Context
	id  string
}

// Token implements oauth2.TokenSource.
func (ts *sessionTokens) Token() (*oauth2.Token, error) {
	s, err := ts.c.sessions.Load(ts.ctx, ts.id)
	if errors.Is(err, ErrSessionNotFound) {
		return nil, newError(CodeLoginRequired, "the session has ended", nil)
	} else if err != nil {
		return nil, newError(CodeProviderUnavailable, "the session store failed", err)
	}
	if s.Tokens == nil {
		return nil, newError(CodeNoToken, "the session keeps no tokens", nil)
	}
	if ts.c.fresh(s.Tokens) {
		return oauthToken(s.Tokens), nil
	}
	if s.Tokens.RefreshToken == "" {
		return nil, newError(CodeNoToken, "the access token has expired and the provider gave no refresh token", nil)
	}
	v, err, _ := ts.c.refreshes.Do(s.ID, func() (any, error) {
		return ts.c.refresh(ts.ctx, s)
	})
	if err != nil {
		return nil, err
	}
	return oauthToken(v.(*Tokens)), nil
}

// fresh reports whether t's access token may still be handed out.
func (c *Client) fresh(t *Tokens) bool {
	return t.AccessToken != "" && (t.Expiry.IsZero() || c.cfg.Now().Add(refreshEarly).Before(t.Expiry))
}

func oauthToken(t *Tokens) *oauth2.Token {
	return &oauth2.Token{AccessToken: string(t.AccessToken), TokenType: t.TokenType, Expiry: t.Expiry}
}

// refreshLease is how long one replica holds the right to refresh a
// session's tokens, and the others wait for its result: the token
// request's bound (Config.Timeout) and a margin for saving the session.
func (c *Client) refreshLease() time.Duration { return c.cfg.Timeout + 5*time.Second }

// refreshPoll is how often a replica waiting for another's refresh looks
// at the session store.
const refreshPoll = 25 * time.Millisecond

// refresh redeems s's refresh token (RFC 6749 §6) and saves the new
// tokens in a copy of s. Across replicas, the first to claim the refresh
// token in the replay cache redeems it; the others wait for the session
// to show its result, because a provider that rotates refresh tokens
// refuses the second redemption (and may revoke the family).
func (c *Client) refresh(ctx context.Context, s *Session) (*Tokens, error) {
	// Another request may have refreshed while this one waited.
	if cur, err := c.sessions.Load(ctx, s.ID); err == nil && cur.Tokens != nil && c.fresh(cur.Tokens) {
		return cur.Tokens, nil
	}
	// The key names the session and its refresh token by a hash: a
	// replay cache may log its keys.
	// The access token is in the key too: a provider that does not rotate
	// refresh tokens must not find the lease of the previous refresh.
	sum := sha256.Sum256([]byte(s.ID + "\x00" + string(s.Tokens.RefreshToken) + "\x00" + string(s.Tokens.AccessToken)))
	key := "refresh\x00" + hex.EncodeToString(sum[:16])
	// A lease this process holds from a refresh that failed (the provider
	// down) is still its own: retry without waiting it out.
	until := c.cfg.Now().Add(c.refreshLease())
	if held, mine := c.leases.Get(key); !mine || !c.cfg.Now().Before(held) {
		first, err := c.replay.Claim(ctx, key, until)
		if err != nil {
			return nil, newError(CodeProviderUnavailable, "the replay cache failed", err)
		}
		if !first {
			return c.awaitRefresh(ctx, s)
		}
		c.leases.Add(key, until)
	}
	keep := false
	defer func() {
		if !keep {
			c.leases.Remove(key)
		}
	}()
	p, err := c.provider(ctx, s.Profile)
	if err != nil {
		return nil, err
	}
	now := c.cfg.Now()
	f := make(formBody, 0, 256+len(s.Tokens.RefreshToken))
	f.add("grant_type", "refresh_token")
	f.add("refresh_token", string(s.Tokens.RefreshToken))
	tok, err := c.tokenRequest(ctx, p, "the refresh", f)
	if err != nil {
		e := asError(err)
		if e.Status >= 500 {
			// Keep the lease: this process retries, others wait for it.
			keep = true
			return nil, err
		}
		// The provider said no: the sign-in it vouched for is over.
		_ = c.sessions.Delete(ctx, s.ID)
		c.log.LogAttrs(ctx, slog.LevelWarn, "sso: refresh refused; session ended", slog.String("profile", s.Profile), slog.Any("error", e))
		return nil, newError(CodeRefreshFailed, e.Detail, nil)
	}
	ns := *s
	if tok.IDToken != "" {
		if err := c.checkRefreshedIDToken(ctx, p, s, tok); err != nil {
			_ = c.sessions.Delete(ctx, s.ID)
			c.log.LogAttrs(ctx, slog.LevelWarn, "sso: refreshed ID token refused; session ended", slog.String("profile", s.Profile), slog.Any("error", asError(err)))
			return nil, newError(CodeRefreshFailed, asError(err).Detail, nil)
		}
		ns.SetIDToken(tok.IDToken)
	}
	nt := &Tokens{AccessToken: Secret(tok.AccessToken), TokenType: tok.TokenType, RefreshToken: Secret(tok.RefreshToken), Expiry: tok.expiry(now)}
	if nt.RefreshToken == "" {
		nt.RefreshToken = s.Tokens.RefreshToken // not rotated
	}
	ns.Tokens = nt
	// The session may have ended during the token request (back-channel
	// logout, sign-out, an administrator): saving would bring it back.
	// The store has no compare-and-swap, so this narrows the window to
	// the Load and the Save.
	if _, err := c.sessions.Load(ctx, s.ID); errors.Is(err, ErrSessionNotFound) {
		return nil, newError(CodeLoginRequired, "the session ended during the refresh", nil)
	} else if err != nil {
		return nil, newError(CodeProviderUnavailable, "the session store failed", err)
	}
	if err := c.sessions.Save(ctx, &ns); err != nil {
		return nil, newError(CodeProviderUnavailable, "the session store failed", err)
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "sso: access token refreshed", slog.String("profile", s.Profile))
	return nt, nil
}

// awaitRefresh waits for another replica's refresh of s to show in the
// session store: new tokens, or the session ended.
func (c *Client) awaitRefresh(ctx context.Context, s *Session) (*Tokens, error) {
	ctx, cancel := context.WithTimeout(ctx, c.refreshLease())
	defer cancel()
	t := time.NewTicker(refreshPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, newError(CodeProviderTimeout, "another request's refresh of this session did not finish in time", nil)
		case <-t.C:
		}
		cur, err := c.sessions.Load(ctx, s.ID)
		switch {
		case errors.Is(err, ErrSessionNotFound):
			return nil, newError(CodeRefreshFailed, "the session ended during the refresh", nil)
		case err != nil && ctx.Err() == nil:
			return nil, newError(CodeProviderUnavailable, "the session store failed", err)
		case err == nil && cur.Tokens != nil && (cur.Tokens.AccessToken != s.Tokens.AccessToken || c.fresh(cur.Tokens)):
			return cur.Tokens, nil
		}
	}
}

// checkRefreshedIDToken verifies the ID token of a refresh response (OIDC
// Core §12.2): as any ID token (no nonce is expected: the sign-in's was
// spent), with at_hash, and for the same issuer, subject and auth_time.
func (c *Client) checkRefreshedIDToken(ctx context.Context, p *provider, s *Session, tok *tokenResponse) error {
	idt, err := c.verifyIDToken(ctx, p, tok.IDToken, "")
	if err != nil {
		return err
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		return err
	}
	prev, err := unverifiedClaims(s.IDToken())
	if err != nil {
		return newError(CodeIDTokenInvalid, "the session's ID token does not decode", err)
	}
	if idt.Issuer != prev.Iss || idt.Subject != prev.Sub {
		return newError(CodeIDTokenInvalid, "the refreshed ID token names another issuer or subject", nil)
	}
	if prev.AuthTime != 0 && !idt.AuthTime.IsZero() && idt.AuthTime.Unix() != prev.AuthTime {
		return newError(CodeIDTokenInvalid, "the refreshed ID token has another auth_time", nil)
	}
	return nil
}

// storedClaims are what a refresh compares of the session's ID token.
type storedClaims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	AuthTime int64  `json:"auth_time"`
}

// unverifiedClaims reads an ID token this Client verified at sign-in and
// kept in the session; it is not verified again.
func unverifiedClaims(raw string) (storedClaims, error) {
	var cl storedClaims
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return cl, errors.New("not a compact JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return cl, err
	}
	err = json.Unmarshal(b, &cl)
	return cl, err
}
