// Package brokerclient is the relying app's side of an ssokit broker
// (ssoclient.Config.Broker): it builds the URL that sends a browser to the
// broker to sign in, redeems the ticket the browser comes back with, and
// verifies the identity the broker signs.
//
//	bc, err := brokerclient.New(brokerclient.Config{
//		BrokerURL: "https://sso.example.com/api/sso",
//		AppID:     "wiki",
//		Secret:    os.Getenv("WIKI_BROKER_SECRET"),
//	})
//	// the "Sign in" link:
//	http.Redirect(w, r, bc.LoginURL("https://wiki.example.com/sso/return"), http.StatusFound)
//	// the return URL's handler:
//	id, err := bc.Redeem(r.Context(), r.URL.Query().Get("ticket"), "https://wiki.example.com/sso/return")
//
// It imports nothing of ssoclient: an app needs only this package to use a
// broker.
package brokerclient

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/randtoken"
	"github.com/ssokit/ssokit/internal/safehttp"
	"github.com/ssokit/ssokit/jwks"
)

// Config describes one relying app's access to a broker.
type Config struct {
	// BrokerURL is the broker's mount: the URL its login, ticket and jwks
	// endpoints live under ("https://sso.example.com/api/sso"), and the
	// iss of the identities it signs. https, or http on a loopback host.
	BrokerURL string
	// AppID is the app's ID at the broker.
	AppID string
	// Secret authenticates the app when it redeems a ticket. Set it or
	// PrivateKey, not both.
	Secret string
	// PrivateKey signs a client assertion instead (RS256 for an RSA key,
	// ES256 for an ECDSA P-256 key); the broker has its public key.
	// KeyID, when set, goes in the assertion's kid.
	PrivateKey crypto.Signer
	KeyID      string
	// RequireSigned refuses a redemption whose answer carries no signed
	// identity (a broker without a signing key).
	RequireSigned bool
	// HTTPClient makes the calls to the broker; default
	// http.DefaultClient. Each call is bounded by Timeout regardless.
	HTTPClient *http.Client
	// Timeout bounds each call to the broker; default 10 seconds.
	Timeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ClockSkew is the leeway for the signed identity's times; default 2
	// minutes.
	ClockSkew time.Duration
}

// Client talks to one broker for one app. It is safe for concurrent use.
type Client struct {
	cfg      Config
	base     string
	alg      string
	keys     *jwks.KeySet
	endpoint string
}

// New checks cfg and returns a Client. It makes no request.
func New(cfg Config) (*Client, error) {
	base := strings.TrimSuffix(cfg.BrokerURL, "/")
	u, err := safehttp.CheckURL(base)
	switch {
	case err != nil:
		return nil, fmt.Errorf("brokerclient: BrokerURL: %w", err)
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return nil, errors.New("brokerclient: BrokerURL must have no query, fragment or user information")
	case cfg.AppID == "":
		return nil, errors.New("brokerclient: AppID is required")
	case (cfg.Secret == "") == (cfg.PrivateKey == nil):
		return nil, errors.New("brokerclient: set Secret or PrivateKey, one of them")
	}
	c := &Client{cfg: cfg, base: base, endpoint: base + "/ticket"}
	if cfg.PrivateKey != nil {
		switch k := cfg.PrivateKey.Public().(type) {
		case *rsa.PublicKey:
			if k.N.BitLen() < 2048 {
				return nil, errors.New("brokerclient: the RSA key must have at least 2048 bits")
			}
			c.alg = "RS256"
		case *ecdsa.PublicKey:
			if k.Curve != elliptic.P256() {
				return nil, errors.New("brokerclient: the ECDSA key must be on P-256")
			}
			c.alg = "ES256"
		default:
			return nil, fmt.Errorf("brokerclient: %T keys are not supported: use RSA or ECDSA P-256", k)
		}
	}
	if c.cfg.HTTPClient == nil {
		c.cfg.HTTPClient = http.DefaultClient
	}
	if c.cfg.Timeout <= 0 {
		c.cfg.Timeout = 10 * time.Second
	}
	if c.cfg.Now == nil {
		c.cfg.Now = time.Now
	}
	if c.cfg.ClockSkew <= 0 {
		c.cfg.ClockSkew = 2 * time.Minute
	}
	c.keys, err = jwks.New(jwks.Config{
		URL: base + "/jwks", HTTPClient: c.cfg.HTTPClient, Timeout: c.cfg.Timeout,
		Algorithms: []string{"RS256", "ES256"}, Now: c.cfg.Now,
	})
	if err != nil {
		return nil, fmt.Errorf("brokerclient: %w", err)
	}
	return c, nil
}

// A LoginOption adds a parameter to LoginURL.
type LoginOption func(url.Values)

// WithProfile names the SSO profile to sign in through.
func WithProfile(id string) LoginOption { return func(v url.Values) { v.Set("profile", id) } }

// WithEmail gives the person's email, for home-realm discovery and as a
// login hint.
func WithEmail(email string) LoginOption { return func(v url.Values) { v.Set("email", email) } }

// WithPrompt passes prompt to the provider; "login" also makes the broker
// ignore its own session and sign the person in again.
func WithPrompt(prompt string) LoginOption { return func(v url.Values) { v.Set("prompt", prompt) } }

// LoginURL is where to send the browser to sign in. returnTo must be one
// of the app's registered return URLs, exactly as registered; the browser
// comes back to it with a ticket parameter.
func (c *Client) LoginURL(returnTo string, opts ...LoginOption) string {
	v := url.Values{"app": {c.cfg.AppID}, "return_to": {returnTo}}
	for _, o := range opts {
		o(v)
	}
	return c.base + "/login?" + v.Encode()
}

// Identity is the person the broker signed in.
type Identity struct {
	// Issuer and Subject identify the person at their identity provider;
	// (Issuer, Subject) is the key to link an account to.
	Issuer        string   `json:"issuer"`
	Subject       string   `json:"subject"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Username      string   `json:"username"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
	// Profile is the broker's SSO profile the person signed in through.
	Profile string `json:"profile"`
	// UserID is the broker's user, when the broker keeps a directory.
	UserID string `json:"user_id,omitempty"`
	// AuthTime is when the person authenticated at the provider.
	AuthTime time.Time `json:"-"`
	// App and ReturnTo are what the ticket was issued for.
	App      string `json:"app"`
	ReturnTo string `json:"return_to"`
	// Signed tells whether the identity came from a JWT the broker
	// signed, verified against its published keys.
	Signed bool `json:"-"`
}

// The codes of an *Error. The broker's own (app_auth_failed,
// ticket_invalid, invalid_request, …) come through as it sends them.
const (
	CodeTicketInvalid   = "ticket_invalid"
	CodeAppAuthFailed   = "app_auth_failed"
	CodeInvalidRequest  = "invalid_request"
	CodeUnavailable     = "broker_unavailable" // the broker did not answer properly
	CodeIdentityInvalid = "identity_invalid"   // the signed identity does not verify
)

// Error is a failed redemption. It never holds the ticket or the secret.
type Error struct {
	Code        string
	Status      int // the broker's HTTP status, 0 when it did not answer
	Description string
	cause       error
}

// Error gives the code, the broker's description and the cause; none
// carries the ticket or a secret.
func (e *Error) Error() string {
	s := "brokerclient: " + e.Code
	if e.Description != "" {
		s += ": " + e.Description
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Redeem exchanges a ticket for the identity. returnTo is the registered
// return URL the app sent the browser to ("" not to check it); a ticket
// issued for another is refused. When the broker signs identities, the
// signature, iss (the BrokerURL), aud (the AppID) and times are verified
// and the Identity comes from the signed claims.
func (c *Client) Redeem(ctx context.Context, ticket, returnTo string) (*Identity, error) {
	if ticket == "" || len(ticket) > 128 {
		return nil, &Error{Code: CodeTicketInvalid, Description: "no ticket, or one too long"}
	}
	form := url.Values{"ticket": {ticket}}
	if returnTo != "" {
		form.Set("return_to", returnTo)
	}
	if c.cfg.PrivateKey != nil {
		a, err := c.assertion()
		if err != nil {
			return nil, &Error{Code: CodeAppAuthFailed, Description: "signing the client assertion failed", cause: err}
		}
		form.Set("app_id", c.cfg.AppID)
		form.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
		form.Set("client_assertion", a)
	} else {
		form.Set("app_id", c.cfg.AppID)
		form.Set("app_secret", c.cfg.Secret)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, &Error{Code: CodeUnavailable, cause: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	hc := *c.cfg.HTTPClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		// url.Error holds the URL only: the form is in the body.
		return nil, &Error{Code: CodeUnavailable, Description: "the broker did not answer", cause: err}
	}
	defer resp.Body.Close()
	body, err := safehttp.ReadAll(resp.Body, 256<<10)
	if err != nil {
		return nil, &Error{Code: CodeUnavailable, Status: resp.StatusCode, Description: "reading the answer failed", cause: err}
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		return nil, &Error{Code: CodeUnavailable, Status: resp.StatusCode, Description: fmt.Sprintf("the broker answered %d with %q, not JSON", resp.StatusCode, mt)}
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(body, &e) != nil || e.Error == "" {
			return nil, &Error{Code: CodeUnavailable, Status: resp.StatusCode, Description: fmt.Sprintf("the broker answered %d", resp.StatusCode)}
		}
		return nil, &Error{Code: e.Error, Status: resp.StatusCode, Description: e.Description}
	}
	var ans struct {
		Identity
		AuthTime    int64  `json:"auth_time"`
		IdentityJWT string `json:"identity_jwt"`
	}
	if err := json.Unmarshal(body, &ans); err != nil {
		return nil, &Error{Code: CodeUnavailable, Status: resp.StatusCode, Description: "the answer does not decode", cause: err}
	}
	if ans.IdentityJWT == "" {
		if c.cfg.RequireSigned {
			return nil, &Error{Code: CodeIdentityInvalid, Status: resp.StatusCode, Description: "the broker sent no signed identity"}
		}
		id := ans.Identity
		id.AuthTime = time.Unix(ans.AuthTime, 0)
		if err := c.check(&id, returnTo); err != nil {
			return nil, err
		}
		return &id, nil
	}
	id, err := c.VerifyIdentity(ctx, ans.IdentityJWT)
	if err != nil {
		return nil, err
	}
	if id.Subject != ans.Subject || id.Issuer != ans.Issuer {
		return nil, &Error{Code: CodeIdentityInvalid, Description: "the signed identity is not the answer's"}
	}
	if err := c.check(id, returnTo); err != nil {
		return nil, err
	}
	return id, nil
}

// check makes sure an answer is for this app and return URL.
func (c *Client) check(id *Identity, returnTo string) error {
	switch {
	case id.App != c.cfg.AppID:
		return &Error{Code: CodeIdentityInvalid, Description: "the identity was issued to another app"}
	case returnTo != "" && id.ReturnTo != returnTo:
		return &Error{Code: CodeIdentityInvalid, Description: "the identity was issued for another return URL"}
	case id.Issuer == "" || id.Subject == "":
		return &Error{Code: CodeIdentityInvalid, Description: "the identity has no issuer or subject"}
	}
	return nil
}

// VerifyIdentity verifies a signed identity (the identity_jwt of a
// redemption) against the broker's published keys: the signature, iss =
// BrokerURL, aud = AppID, exp, nbf and iat.
func (c *Client) VerifyIdentity(ctx context.Context, token string) (*Identity, error) {
	fail := func(desc string, cause error) (*Identity, error) {
		return nil, &Error{Code: CodeIdentityInvalid, Description: desc, cause: cause}
	}
	payload, hdr, err := c.keys.Verify(ctx, token)
	if err != nil {
		if errors.Is(err, jwks.ErrFetch) {
			return nil, &Error{Code: CodeUnavailable, Description: "the broker's keys could not be fetched", cause: err}
		}
		return fail("the signature does not verify", err)
	}
	if hdr.Type != "" && !strings.EqualFold(hdr.Type, "JWT") {
		return fail("the token's typ is not JWT", nil)
	}
	var cl struct {
		Iss           string   `json:"iss"`
		Aud           any      `json:"aud"`
		Sub           string   `json:"sub"`
		Exp           *int64   `json:"exp"`
		Nbf           *int64   `json:"nbf"`
		Iat           *int64   `json:"iat"`
		IdpIss        string   `json:"idp_iss"`
		Email         string   `json:"email"`
		EmailVerified bool     `json:"email_verified"`
		Username      string   `json:"preferred_username"`
		Name          string   `json:"name"`
		Groups        []string `json:"groups"`
		Profile       string   `json:"profile"`
		UserID        string   `json:"user_id"`
		AuthTime      int64    `json:"auth_time"`
		ReturnTo      string   `json:"return_to"`
	}
	if err := json.Unmarshal(payload, &cl); err != nil {
		return fail("the claims do not decode", err)
	}
	now, skew := c.cfg.Now(), c.cfg.ClockSkew
	switch {
	case cl.Iss != c.base:
		return fail(fmt.Sprintf("iss is %q, not the broker", cl.Iss), nil)
	case !audienceIs(cl.Aud, c.cfg.AppID):
		return fail("aud is not this app", nil)
	case cl.Exp == nil || !now.Before(time.Unix(*cl.Exp, 0).Add(skew)):
		return fail("the signed identity has expired", nil)
	case cl.Nbf != nil && time.Unix(*cl.Nbf, 0).After(now.Add(skew)):
		return fail("the signed identity is not valid yet", nil)
	case cl.Iat != nil && time.Unix(*cl.Iat, 0).After(now.Add(skew)):
		return fail("the signed identity is issued in the future", nil)
	}
	return &Identity{
		Issuer: cl.IdpIss, Subject: cl.Sub, Email: cl.Email, EmailVerified: cl.EmailVerified,
		Username: cl.Username, Name: cl.Name, Groups: cl.Groups, Profile: cl.Profile, UserID: cl.UserID,
		AuthTime: time.Unix(cl.AuthTime, 0), App: c.cfg.AppID, ReturnTo: cl.ReturnTo, Signed: true,
	}, nil
}

// audienceIs reports whether aud is exactly app, or an array holding only
// it.
func audienceIs(aud any, app string) bool {
	switch a := aud.(type) {
	case string:
		return a == app
	case []any:
		return len(a) == 1 && a[0] == app
	}
	return false
}

// assertion signs a client assertion for one redemption.
func (c *Client) assertion() (string, error) {
	now := c.cfg.Now()
	hdr := map[string]any{"typ": "JWT"}
	if c.cfg.KeyID != "" {
		hdr["kid"] = c.cfg.KeyID
	}
	return jose.SignJSON(c.cfg.PrivateKey, c.alg, hdr, map[string]any{
		"iss": c.cfg.AppID, "sub": c.cfg.AppID, "aud": c.endpoint,
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": randtoken.New(24),
	})
}
