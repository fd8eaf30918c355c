package ssoclient

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/randtoken"
	"github.com/ssokit/ssokit/internal/safehttp"
)

// Broker makes a Client an SSO broker: instead of (or besides) signing
// people into its own application, it signs them in for registered relying
// apps, which get the verified identity by redeeming a single-use ticket.
// See README.md, "Running as a broker".
type Broker struct {
	// Apps are the relying apps allowed to use the broker. Required.
	Apps []RelyingApp
	// Tickets stores issued tickets until they are redeemed; default an
	// in-memory store of up to 100,000 tickets.
	Tickets TicketStore
	// TicketLifetime is how long a ticket may wait to be redeemed; default
	// DefaultTicketLifetime (60 seconds), at most 5 minutes.
	TicketLifetime time.Duration
	// SigningKey, when set, signs the identity a redemption answers with
	// (a JWT whose public key is published at {mount}/jwks): an RSA key of
	// at least 2048 bits (RS256) or an ECDSA P-256 key (ES256), in memory
	// or any crypto.Signer such as a KMS key.
	SigningKey crypto.Signer
	// KeyID is SigningKey's kid; default a hash of its public key.
	KeyID string
}

// RelyingApp is an application registered with a broker.
type RelyingApp struct {
	// ID is the app's identifier: 1 to 64 letters, digits, '-', '_', '.'.
	ID string
	// Name is shown to people and administrators.
	Name string
	// ReturnURLs are the URLs the browser may be sent back to with a
	// ticket, compared with the login request's return_to as exact
	// strings. Each is https (http only on a loopback host), without user
	// information, a fragment or a ticket parameter.
	ReturnURLs []string
	// Secret authenticates the app at the ticket endpoint (app_id and
	// app_secret form fields). Set it or PublicKey, not both.
	Secret Secret
	// PublicKey verifies the app's signed client assertions at the ticket
	// endpoint: an *rsa.PublicKey (RS256, at least 2048 bits) or an
	// *ecdsa.PublicKey on P-256 (ES256).
	PublicKey crypto.PublicKey
}

// Broker defaults and limits.
const (
	DefaultTicketLifetime = 60 * time.Second
	maxTicketLifetime     = 5 * time.Minute
	// maxAssertionLifetime is the furthest in the future an app's client
	// assertion may expire.
	maxAssertionLifetime = 5 * time.Minute
	// identityTokenLifetime is the life of the signed identity a
	// redemption returns: it is meant to be verified at once.
	identityTokenLifetime = 5 * time.Minute
	// AssertionType is the client_assertion_type of an app's signed
	// assertion (RFC 7523 §2.2).
	AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// broker is a Broker checked and ready.
type broker struct {
	apps     map[string]*RelyingApp
	tickets  TicketStore
	lifetime time.Duration
	key      crypto.Signer
	alg      string
	kid      string
	jwks     []byte // the published key set
	url      string // origin + mount: the iss of signed identities
	endpoint string // the ticket endpoint: the aud of app assertions
}

// brokerTarget is the relying app and return URL of a broker sign-in.
type brokerTarget struct {
	App       string
	ReturnURL string
}

func newBroker(b *Broker, s *settings) (*broker, error) {
	if len(b.Apps) == 0 {
		return nil, configError("Broker.Apps: register at least one relying app")
	}
	bk := &broker{
		apps:     map[string]*RelyingApp{},
		tickets:  b.Tickets,
		lifetime: b.TicketLifetime,
		url:      s.origin + s.mount,
		endpoint: s.origin + s.mount + "/ticket",
	}
	if bk.lifetime <= 0 {
		bk.lifetime = DefaultTicketLifetime
	}
	if bk.lifetime > maxTicketLifetime {
		return nil, configError("Broker.TicketLifetime is longer than %s", maxTicketLifetime)
	}
	if bk.tickets == nil {
		bk.tickets = NewMemoryTicketStore(0, s.Now)
	}
	for i := range b.Apps {
		app := b.Apps[i] // a copy: later changes to the Config do not apply
		if !validID(app.ID) {
			return nil, configError("Broker.Apps[%d]: ID %q must be 1 to 64 letters, digits, '-', '_' or '.'", i, app.ID)
		}
		if _, dup := bk.apps[app.ID]; dup {
			return nil, configError("Broker.Apps: two apps have the ID %q", app.ID)
		}
		switch {
		case app.Secret != "" && app.PublicKey != nil:
			return nil, configError("app %q: set Secret or PublicKey, not both", app.ID)
		case app.Secret == "" && app.PublicKey == nil:
			return nil, configError("app %q: set Secret or PublicKey, how it authenticates to redeem tickets", app.ID)
		case app.Secret != "" && len(app.Secret) < 16:
			return nil, configError("app %q: Secret is shorter than 16 bytes", app.ID)
		case app.PublicKey != nil:
			if _, err := keyAlg(app.PublicKey); err != nil {
				return nil, configError("app %q: PublicKey: %v", app.ID, err)
			}
		}
		if len(app.ReturnURLs) == 0 {
			return nil, configError("app %q: register at least one return URL", app.ID)
		}
		for _, ru := range app.ReturnURLs {
			if err := checkReturnURL(ru); err != nil {
				return nil, configError("app %q: return URL %q: %v", app.ID, ru, err)
			}
		}
		app.ReturnURLs = slices.Clone(app.ReturnURLs)
		bk.apps[app.ID] = &app
	}
	if b.SigningKey != nil {
		alg, err := keyAlg(b.SigningKey.Public())
		if err != nil {
			return nil, configError("Broker.SigningKey: %v", err)
		}
		bk.key, bk.alg, bk.kid = b.SigningKey, alg, b.KeyID
		if bk.kid == "" {
			der, err := x509.MarshalPKIXPublicKey(b.SigningKey.Public())
			if err != nil {
				return nil, configError("Broker.SigningKey: %v", err)
			}
			sum := sha256.Sum256(der)
			bk.kid = base64.RawURLEncoding.EncodeToString(sum[:12])
		}
		jwk, err := jose.PublicJWK(b.SigningKey.Public(), bk.kid, alg)
		if err != nil {
			return nil, configError("Broker.SigningKey: %v", err)
		}
		bk.jwks, _ = json.Marshal(map[string]any{"keys": []any{jwk}})
	}
	return bk, nil
}

// keyAlg is the one JWS algorithm a key is used with.
func keyAlg(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("the RSA key is %d bits; RS256 needs at least 2048", k.N.BitLen())
		}
		return "RS256", nil
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return "", errors.New("the ECDSA key must be on P-256 (ES256)")
		}
		return "ES256", nil
	}
	return "", fmt.Errorf("%T is neither an RSA (RS256) nor an ECDSA P-256 (ES256) public key", pub)
}

// checkReturnURL validates a registered return URL.
func checkReturnURL(raw string) error {
	if len(raw) > 2048 {
		return errors.New("longer than 2048 characters")
	}
	u, err := safehttp.CheckURL(raw)
	if err != nil {
		return err
	}
	switch {
	case u.User != nil:
		return errors.New("it has user information")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("it has a fragment")
	case u.Query().Has("ticket"):
		return errors.New("its query has a ticket parameter already")
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= 0x20 || c == 0x7f || c == '\\' {
			return errors.New("it has a space, control character or backslash")
		}
	}
	return nil
}

// target checks a login request's app and return_to: the app must be
// registered and return_to one of its return URLs, character for
// character. Nothing is normalised, so a look-alike never matches.
func (b *broker) target(q url.Values) (*RelyingApp, string, error) {
	if len(q["app"]) != 1 || len(q["return_to"]) > 1 {
		return nil, "", newError(CodeInvalidRequest, "a broker sign-in takes one app and one return_to", nil)
	}
	app := b.apps[q.Get("app")]
	if app == nil {
		return nil, "", newError(CodeAppUnknown, fmt.Sprintf("no relying app %q", clip(q.Get("app"))), nil)
	}
	ret := q.Get("return_to")
	if ret == "" && len(app.ReturnURLs) == 1 {
		ret = app.ReturnURLs[0]
	}
	if !slices.Contains(app.ReturnURLs, ret) {
		return nil, "", newError(CodeReturnURLInvalid, fmt.Sprintf("return_to is not a return URL registered for app %q", app.ID), nil)
	}
	return app, ret, nil
}

// brokerLogin starts a sign-in for a relying app: the app and return URL
// are checked before anything else, so a bad request redirects nowhere.
// A browser with a broker session gets a ticket at once.
func (c *Client) brokerLogin(w http.ResponseWriter, r *http.Request, q url.Values) {
	app, ret, err := c.broker.target(q)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	bt := brokerTarget{App: app.ID, ReturnURL: ret}
	if s := c.Session(r); s != nil && c.reusable(r.Context(), s, q) {
		w.Header().Set("Cache-Control", "no-store")
		tw := &trackingWriter{ResponseWriter: w}
		target, err := c.ticketFor(tw, r, bt, s, false)
		switch {
		case err != nil:
			c.fail(w, r, err)
		case !tw.wrote:
			redirect(w, target, http.StatusFound)
		}
		return
	}
	profile := q.Get("profile")
	if c.profiles != nil && profile == "" {
		c.pick(w, r, q)
		return
	}
	c.start(w, r, q, profile, "", bt)
}

// reusable reports whether a broker session may serve a new app without a
// sign-in at the provider: the request does not ask for another profile,
// another email or a fresh login, the session's profile still exists and
// is enabled, and its policy still admits the identity.
func (c *Client) reusable(ctx context.Context, s *Session, q url.Values) bool {
	if q.Get("prompt") == "login" || q.Get("prompt") == "select_account" {
		return false
	}
	if p := q.Get("profile"); p != "" && p != s.Profile {
		return false
	}
	email := q.Get("email")
	if email == "" {
		email = q.Get("login_hint")
	}
	if email != "" && !strings.EqualFold(strings.TrimSpace(email), s.Identity.Email) {
		return false
	}
	p, err := c.provider(ctx, s.Profile)
	if err != nil {
		return false
	}
	return p.conn.policy.AllowsEmail(s.Identity.Email, s.Identity.EmailVerified)
}

// ticketFor issues a ticket for a session and returns the URL to send the
// browser to. OnLogin has its say first when the session is reused (a
// fresh sign-in ran it already); if it writes the response, ticketFor
// returns "" and no ticket is issued.
func (c *Client) ticketFor(w http.ResponseWriter, r *http.Request, bt brokerTarget, s *Session, fresh bool) (string, error) {
	ctx := r.Context()
	if !fresh && c.cfg.OnLogin != nil {
		login := &Login{Identity: s.Identity, Profile: s.Profile, UserID: s.UserID, ReturnTo: "/", IDToken: s.IDToken(), App: bt.App}
		tw := &trackingWriter{ResponseWriter: w}
		if err := c.cfg.OnLogin(tw, r, login); err != nil {
			var se *Error
			if !errors.As(err, &se) {
				se = newError(CodeLoginRefused, "", err)
			}
			return "", se
		}
		if tw.wrote {
			return "", nil
		}
	}
	now := c.cfg.Now()
	value := randtoken.New(32)
	t := &Ticket{
		App: bt.App, ReturnURL: bt.ReturnURL, Identity: s.Identity, Profile: s.Profile, UserID: s.UserID,
		AuthTime: authTime(s), ExpiresAt: now.Add(c.broker.lifetime),
	}
	if err := c.broker.tickets.Put(ctx, ticketKey(value), t); err != nil {
		return "", newError(CodeProviderUnavailable, "the ticket store failed", err)
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "sso: ticket issued", slog.String("app", bt.App), slog.String("profile", s.Profile),
		slog.Bool("reused_session", !fresh), slog.Any("identity", s.Identity))
	sep := "?"
	if strings.Contains(bt.ReturnURL, "?") {
		sep = "&"
	}
	return bt.ReturnURL + sep + "ticket=" + value, nil
}

// authTime is when the session's person authenticated at the provider.
func authTime(s *Session) time.Time {
	if v, ok := s.Identity.Claims.Lookup("auth_time"); ok {
		if f, ok := v.(float64); ok && f > 0 && f < 1<<40 {
			return time.Unix(int64(f), 0)
		}
	}
	return s.CreatedAt
}

// ticketKey is what the ticket store keeps a ticket under: a hash, so the
// store never holds a redeemable value.
func ticketKey(value string) string {
	sum := sha256.Sum256([]byte(value))
	return "ssokit:ticket:" + hex.EncodeToString(sum[:])
}

// redemption is the answer of the ticket endpoint.
type redemption struct {
	App           string   `json:"app"`
	ReturnTo      string   `json:"return_to"`
	Issuer        string   `json:"issuer"`
	Subject       string   `json:"subject"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Username      string   `json:"username"`
	Name          string   `json:"name"`
	Groups        []string `json:"groups"`
	Profile       string   `json:"profile"`
	UserID        string   `json:"user_id,omitempty"`
	AuthTime      int64    `json:"auth_time"`
	IdentityJWT   string   `json:"identity_jwt,omitempty"`
}

// redeem serves POST {mount}/ticket: an app's backend authenticates and
// exchanges a ticket for the identity. It is a back-channel API: no
// cookies, JSON answers, typed errors.
func (c *Client) redeem(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		writeJSONError(w, &Error{Code: CodeInvalidRequest, Status: http.StatusMethodNotAllowed, Message: "The ticket endpoint takes POST."})
		return
	}
	ctx := r.Context()
	refuse := func(err *Error) {
		c.log.LogAttrs(ctx, slog.LevelWarn, "sso: ticket refused", slog.Any("error", err))
		writeJSONError(w, err)
	}
	if ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";"); !strings.EqualFold(strings.TrimSpace(ct), "application/x-www-form-urlencoded") {
		refuse(newError(CodeInvalidRequest, "the request is not a form (application/x-www-form-urlencoded)", nil))
		return
	}
	if r.URL.RawQuery != "" {
		// Tickets and secrets in a URL end up in access logs.
		refuse(newError(CodeInvalidRequest, "the ticket endpoint takes no query parameters: send the form in the body", nil))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		refuse(newError(CodeInvalidRequest, "the form does not parse", nil))
		return
	}
	f := r.PostForm
	for k, v := range f {
		if len(v) > 1 {
			refuse(newError(CodeInvalidRequest, fmt.Sprintf("the form repeats %q", clip(k)), nil))
			return
		}
	}
	app, err := c.authenticateApp(ctx, f)
	if err != nil {
		refuse(asError(err))
		return
	}
	value := f.Get("ticket")
	if value == "" || len(value) > 128 {
		refuse(newError(CodeInvalidRequest, "the form has no ticket", nil))
		return
	}
	t, err := c.broker.tickets.Take(ctx, ticketKey(value))
	switch {
	case errors.Is(err, ErrTicketNotFound):
		refuse(newError(CodeTicketInvalid, fmt.Sprintf("app %q: the ticket is unknown or already redeemed", app.ID), nil))
		return
	case err != nil:
		refuse(newError(CodeProviderUnavailable, "the ticket store failed", err))
		return
	case t.App != app.ID:
		// Taken all the same: a ticket in another app's hands has leaked.
		refuse(newError(CodeTicketInvalid, fmt.Sprintf("app %q presented a ticket issued to app %q", app.ID, t.App), nil))
		return
	case !c.cfg.Now().Before(t.ExpiresAt):
		refuse(newError(CodeTicketInvalid, fmt.Sprintf("app %q: the ticket expired %s ago", app.ID, c.cfg.Now().Sub(t.ExpiresAt).Round(time.Second)), nil))
		return
	case f.Has("return_to") && f.Get("return_to") != t.ReturnURL:
		refuse(newError(CodeTicketInvalid, fmt.Sprintf("app %q: the ticket was issued for another return URL", app.ID), nil))
		return
	}
	id := t.Identity
	ans := redemption{
		App: t.App, ReturnTo: t.ReturnURL, Issuer: id.Issuer, Subject: id.Subject, Email: id.Email,
		EmailVerified: id.EmailVerified, Username: id.Username, Name: id.Name, Groups: id.Groups,
		Profile: t.Profile, UserID: t.UserID, AuthTime: t.AuthTime.Unix(),
	}
	if ans.Groups == nil {
		ans.Groups = []string{}
	}
	if c.broker.key != nil {
		jwt, err := c.signIdentity(ans)
		if err != nil {
			refuse(newError(CodeProviderUnavailable, "signing the identity failed", err))
			return
		}
		ans.IdentityJWT = jwt
	}
	c.log.LogAttrs(ctx, slog.LevelInfo, "sso: ticket redeemed", slog.String("app", app.ID), slog.String("profile", t.Profile), slog.Any("identity", id))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(ans)
}

// signIdentity signs a redemption's identity as a JWT for its app.
func (c *Client) signIdentity(a redemption) (string, error) {
	now := c.cfg.Now()
	cl := map[string]any{
		"iss": c.broker.url, "aud": a.App, "sub": a.Subject,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(identityTokenLifetime).Unix(), "jti": randtoken.New(16),
		"idp_iss": a.Issuer, "email": a.Email, "email_verified": a.EmailVerified,
		"preferred_username": a.Username, "name": a.Name, "groups": a.Groups,
		"profile": a.Profile, "auth_time": a.AuthTime, "return_to": a.ReturnTo,
	}
	if a.UserID != "" {
		cl["user_id"] = a.UserID
	}
	return jose.SignJSON(c.broker.key, c.broker.alg, map[string]any{"typ": "JWT", "kid": c.broker.kid}, cl)
}

// serveJWKS publishes the broker's public signing key.
func (c *Client) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if c.broker.jwks == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(c.broker.jwks)
}

// authenticateApp checks a redemption's app credentials: app_id and
// app_secret, or a client assertion signed with the app's key. Every
// failure is app_auth_failed; the detail (logged, not sent) says which.
func (c *Client) authenticateApp(ctx context.Context, f url.Values) (*RelyingApp, error) {
	fail := func(format string, args ...any) (*RelyingApp, error) {
		return nil, newError(CodeAppAuthFailed, fmt.Sprintf(format, args...), nil)
	}
	if f.Has("client_assertion") || f.Has("client_assertion_type") {
		if f.Get("client_assertion_type") != AssertionType {
			return fail("client_assertion_type is not %s", AssertionType)
		}
		if f.Has("app_secret") {
			return fail("both a secret and an assertion were sent")
		}
		return c.verifyAssertion(ctx, f.Get("app_id"), f.Get("client_assertion"))
	}
	app := c.broker.apps[f.Get("app_id")]
	secret := f.Get("app_secret")
	// The comparison runs whether or not the app exists, on hashes, so
	// neither its time nor its length says which part was wrong.
	want := sha256.Sum256([]byte("\x00no app\x00"))
	if app != nil {
		want = sha256.Sum256([]byte(app.Secret))
	}
	got := sha256.Sum256([]byte(secret))
	ok := subtle.ConstantTimeCompare(want[:], got[:]) == 1
	switch {
	case app == nil:
		return fail("no relying app %q", clip(f.Get("app_id")))
	case app.Secret == "":
		return fail("app %q authenticates with a signed assertion, not a secret", app.ID)
	case secret == "" || !ok:
		return fail("app %q: wrong app_secret", app.ID)
	}
	return app, nil
}

// verifyAssertion checks an app's client assertion (RFC 7523): signed by
// the app's registered key with its one algorithm, iss = sub = the app,
// aud = the ticket endpoint, a near exp, and a jti used once.
func (c *Client) verifyAssertion(ctx context.Context, appID, tok string) (*RelyingApp, error) {
	fail := func(format string, args ...any) (*RelyingApp, error) {
		return nil, newError(CodeAppAuthFailed, fmt.Sprintf(format, args...), nil)
	}
	if tok == "" || len(tok) > 8<<10 {
		return fail("the client assertion is missing or too long")
	}
	hb, pb, sig, input, err := jose.Parts(tok)
	if err != nil {
		return fail("the client assertion is not a compact JWS")
	}
	var hdr map[string]any
	if json.Unmarshal(hb, &hdr) != nil {
		return fail("the client assertion's header does not decode")
	}
	var cl struct {
		Iss, Sub, Jti string
		Aud           any
		Exp, Iat, Nbf *float64
	}
	if json.Unmarshal(pb, &cl) != nil {
		return fail("the client assertion's claims do not decode")
	}
	if appID == "" {
		appID = cl.Iss
	}
	app := c.broker.apps[appID]
	switch {
	case app == nil:
		return fail("no relying app %q", clip(appID))
	case app.PublicKey == nil:
		return fail("app %q authenticates with a secret, not an assertion", app.ID)
	}
	alg, _ := keyAlg(app.PublicKey)
	if hdr["alg"] != alg {
		return fail("app %q: the assertion's alg is %v; its key signs %s", app.ID, hdr["alg"], alg)
	}
	if _, crit := hdr["crit"]; crit {
		return fail("app %q: the assertion has a crit header", app.ID)
	}
	if err := jose.VerifyInput(app.PublicKey, alg, []byte(input), sig); err != nil {
		return fail("app %q: the assertion's signature does not verify with its registered key", app.ID)
	}
	now := c.cfg.Now()
	skew := c.cfg.ClockSkew
	switch {
	case cl.Iss != app.ID || cl.Sub != app.ID:
		return fail("app %q: the assertion's iss and sub must both be the app ID", app.ID)
	case !audienceHas(cl.Aud, c.broker.endpoint):
		return fail("app %q: the assertion's aud is not %s", app.ID, c.broker.endpoint)
	case cl.Exp == nil:
		return fail("app %q: the assertion has no exp", app.ID)
	case !now.Before(time.Unix(int64(*cl.Exp), 0).Add(skew)):
		return fail("app %q: the assertion expired", app.ID)
	case time.Unix(int64(*cl.Exp), 0).After(now.Add(maxAssertionLifetime + skew)):
		return fail("app %q: the assertion's exp is more than %s away", app.ID, maxAssertionLifetime)
	case cl.Iat != nil && time.Unix(int64(*cl.Iat), 0).After(now.Add(skew)):
		return fail("app %q: the assertion is issued in the future", app.ID)
	case cl.Nbf != nil && time.Unix(int64(*cl.Nbf), 0).After(now.Add(skew)):
		return fail("app %q: the assertion is not valid yet", app.ID)
	case cl.Jti == "" || len(cl.Jti) > 256:
		return fail("app %q: the assertion has no jti", app.ID)
	}
	sum := sha256.Sum256([]byte(app.ID + "\x00" + cl.Jti))
	first, err := c.replay.Claim(ctx, "ssokit:assertion:"+hex.EncodeToString(sum[:16]), time.Unix(int64(*cl.Exp), 0).Add(skew))
	if err != nil {
		return nil, newError(CodeProviderUnavailable, "the replay cache failed", err)
	}
	if !first {
		return fail("app %q: the assertion's jti was used before", app.ID)
	}
	return app, nil
}

// audienceHas reports whether a JWT aud (a string or an array of them)
// holds want.
func audienceHas(aud any, want string) bool {
	switch a := aud.(type) {
	case string:
		return a == want
	case []any:
		for _, v := range a {
			if s, ok := v.(string); ok && s == want {
				return true
			}
		}
	}
	return false
}
