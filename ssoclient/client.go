package ssoclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/discovery"
	"github.com/ssokit/ssokit/internal/randtoken"
	"github.com/ssokit/ssokit/internal/seal"
	"github.com/ssokit/ssokit/provisioning"
	"golang.org/x/sync/singleflight"
)

// Client signs people in through one OpenID provider. It is safe for
// concurrent use. Make one with New at start-up and mount its Handler.
type Client struct {
	cfg         *settings
	log         *slog.Logger
	disc        *discovery.Client
	prov        *provider        // the single provider (Config.Issuer), or nil
	profiles    *profileRegistry // the profiles (Config.Profiles), or nil
	provisioner *provisioning.Provisioner
	attempts    attemptCookies
	sessions    SessionStore
	replay      ReplayCache
	session     sessionCookie
	broker      *broker // Config.Broker, or nil
	// refreshes makes concurrent refreshes of one session share one
	// token request: a provider that rotates refresh tokens would
	// refuse the second.
	refreshes *singleflight.Group
	// leases are the refresh leases this process claimed and still holds
	// after a failed refresh (see refresh).
	leases *lru.Cache[string, time.Time]
}

// New checks cfg, discovers the provider and returns a Client. It fails
// fast, with an *Error whose Detail says what is wrong, when the
// configuration or the provider's discovery document is: code
// config_invalid, discovery_failed, issuer_mismatch, provider_timeout.
func New(ctx context.Context, cfg Config) (*Client, error) {
	s, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	disc := discovery.New(discovery.Config{HTTPClient: s.HTTPClient, Timeout: s.Timeout, Now: s.Now,
		OnFetch: func(issuer string, status int, d time.Duration, err error) {
			s.providerCall(context.Background(), "", issuer, EndpointDiscovery, status, d, err)
		},
	})
	var p *provider
	var reg *profileRegistry
	if s.Profiles != nil {
		reg, err = newProfileRegistry(s.Profiles, s.SecretKeys)
	} else {
		p, err = newProvider(ctx, s, disc, s.connConfig())
	}
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(s.CookieKeys))
	for _, k := range s.CookieKeys {
		keys = append(keys, string(k))
	}
	if len(keys) == 0 {
		keys = []string{seal.RandomSecret()}
	}
	ring, err := seal.NewRing("attempt", keys...)
	if err != nil {
		return nil, configError("CookieKeys: %v", err)
	}
	c := &Client{
		cfg:       s,
		log:       s.Logger,
		disc:      disc,
		prov:      p,
		profiles:  reg,
		attempts:  newAttemptCookies(ring, s.secure),
		sessions:  s.Sessions,
		replay:    s.Replay,
		session:   newSessionCookie(s.secure),
		refreshes: new(singleflight.Group),
		leases:    newLeases(),
	}
	if c.sessions == nil {
		c.sessions = NewMemorySessionStore(0, s.Now)
	}
	if c.replay == nil {
		c.replay = NewMemoryReplayCache(0, s.Now)
	}
	if s.Directory != nil {
		c.provisioner = &provisioning.Provisioner{Directory: s.Directory, Now: s.Now}
	}
	if s.Broker != nil {
		if c.broker, err = newBroker(s.Broker, s); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// String describes the client without any secret.
func (c *Client) String() string {
	if c.prov == nil {
		return "ssoclient.Client{profiles}"
	}
	return fmt.Sprintf("ssoclient.Client{issuer: %q, client_id: %q, auth: %s}", c.prov.issuer, c.cfg.ClientID, c.prov.authMethod)
}

// GoString is String, so %#v prints no secret either.
func (c *Client) GoString() string { return c.String() }

// Issuer returns the provider's issuer identifier ("" for a Client with
// profiles).
func (c *Client) Issuer() string {
	if c.prov == nil {
		return ""
	}
	return c.prov.issuer
}

// AuthMethod returns the token endpoint authentication in use ("" for a
// Client with profiles).
func (c *Client) AuthMethod() AuthMethod {
	if c.prov == nil {
		return ""
	}
	return c.prov.authMethod
}

// Handler serves the sign-in endpoints under the mount path, the
// RedirectURL's directory:
//
//	GET  {mount}/login[?return_to=/path&login_hint=&prompt=]  start a sign-in
//	     with profiles: ?profile=ID, ?email= (home-realm discovery),
//	     ?org= (one organisation's picker), or nothing (the picker)
//	GET  {mount}/callback                                     the provider's redirect
//	POST {mount}/link  (profile=ID[&return_to=])              link another identity to the
//	                                                          signed-in user (same origin only)
//	GET  {mount}/link?profile=ID                              a page with a button posting it
//	POST {mount}/logout                                       sign out
//	GET  {mount}/logout                                       a page with a sign-out button
//	POST {mount}/backchannel-logout[?profile=ID]              the provider's logout tokens
//	                                                          (see BackChannelLogoutURL)
//
// A broker (Config.Broker) serves besides:
//
//	GET  {mount}/login?app=ID&return_to=URL[&profile=|&email=]  a sign-in for a relying app
//	POST {mount}/ticket                                         an app redeems a ticket
//	GET  {mount}/jwks                                           the key of signed identities
//
// Mount it with its prefix, as mux.Handle("/auth/sso/", sso.Handler()); it
// also works behind http.StripPrefix.
func (c *Client) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimSuffix(r.URL.Path, "/")
		switch p[strings.LastIndexByte(p, '/')+1:] {
		case "login":
			if r.Method != http.MethodGet && r.Method != http.MethodPost {
				methodNotAllowed(w, "GET, POST")
				return
			}
			c.login(w, r)
		case "link":
			switch r.Method {
			case http.MethodPost:
				c.link(w, r)
			case http.MethodGet:
				c.linkPage(w, r)
			default:
				methodNotAllowed(w, "GET, POST")
			}
		case "callback":
			if r.Method != http.MethodGet {
				methodNotAllowed(w, "GET")
				return
			}
			c.callback(w, r)
		case "logout":
			switch r.Method {
			case http.MethodPost:
				c.logout(w, r)
			case http.MethodGet:
				c.logoutPage(w, r)
			default:
				methodNotAllowed(w, "GET, POST")
			}
		case "backchannel-logout":
			if r.Method != http.MethodPost {
				methodNotAllowed(w, "POST")
				return
			}
			c.backChannelLogout(w, r)
		case "ticket":
			if c.broker == nil {
				http.NotFound(w, r)
				return
			}
			c.redeem(w, r)
		case "jwks":
			if c.broker == nil {
				http.NotFound(w, r)
				return
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				methodNotAllowed(w, "GET, HEAD")
				return
			}
			c.serveJWKS(w, r)
		default:
			http.NotFound(w, r)
		}
	})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
}

// loginURL is the path of the login endpoint.
func (c *Client) loginURL(returnTo string) string {
	u := c.cfg.mount + "/login"
	if returnTo != "" && returnTo != "/" {
		u += "?return_to=" + url.QueryEscape(returnTo)
	}
	return u
}

// login starts a sign-in: an attempt sealed into its own cookie, and a
// redirect to the provider's authorization endpoint with PKCE S256.
func (c *Client) login(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			q = r.Form
		}
	}
	if c.broker != nil && q.Has("app") {
		c.brokerLogin(w, r, q)
		return
	}
	profile := q.Get("profile")
	if c.profiles != nil && profile == "" {
		c.pick(w, r, q)
		return
	}
	c.start(w, r, q, profile, "", brokerTarget{})
}

// link starts linking another identity to the signed-in user: a sign-in at
// the profile's provider whose callback links instead of signing in.
func (c *Client) link(w http.ResponseWriter, r *http.Request) {
	s := c.Session(r)
	switch {
	case c.provisioner == nil:
		c.fail(w, r, newError(CodeConfigInvalid, "account linking needs Config.Directory", nil))
		return
	case s == nil || s.UserID == "":
		c.fail(w, r, newError(CodeLoginRequired, "linking an account needs a signed-in user", nil))
		return
	}
	// A cross-site page must not start a linking in the user's name: with
	// a login CSRF at the provider it would link the attacker's identity
	// to the victim's account. POST from the application's own origin only.
	if !c.sameOrigin(r) {
		c.refuse(w, r, "sso: account linking refused", newError(CodeOriginInvalid, "account linking was posted from another origin", nil))
		return
	}
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, newError(CodeInvalidRequest, "the form does not parse", nil))
		return
	}
	c.start(w, r, r.PostForm, r.PostForm.Get("profile"), s.UserID, brokerTarget{})
}

var linkPage = template.Must(template.New("link").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connect an account</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem">
<h1>Connect an account</h1>
<form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<button type="submit">Continue to the identity provider</button>
</form>
</body></html>`))

// linkPage serves a button that posts the linking, so a plain link to
// {mount}/link?profile=ID works without making GET a way to start one.
func (c *Client) linkPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fields := map[string]string{}
	for _, k := range []string{"profile", "return_to", "login_hint", "prompt"} {
		if v := q.Get(k); v != "" && len(v) <= 512 {
			fields[k] = v
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = linkPage.Execute(w, map[string]any{"Action": c.cfg.mount + "/link", "Fields": fields})
}

// start creates an attempt and sends the browser to the profile's
// provider. bt is the relying app of a broker sign-in, checked already.
func (c *Client) start(w http.ResponseWriter, r *http.Request, q url.Values, profile, linkUser string, bt brokerTarget) {
	p, err := c.provider(r.Context(), profile)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	a := newAttempt(returnTo(q.Get("return_to")), profile, c.cfg.Now())
	a.LinkUser = linkUser
	a.App, a.AppReturn = bt.App, bt.ReturnURL
	hint := q.Get("login_hint")
	if hint == "" {
		hint = q.Get("email")
	}
	if len(hint) > 256 {
		hint = ""
	}
	prompt := q.Get("prompt")
	switch prompt {
	case "none", "login", "consent", "select_account":
	default:
		prompt = ""
	}
	c.attempts.set(w, r, a)
	w.Header().Set("Cache-Control", "no-store")
	attrs := []slog.Attr{slog.String("issuer", p.issuer), slog.String("profile", profile)}
	if bt.App != "" {
		attrs = append(attrs, slog.String("app", bt.App))
	}
	c.log.LogAttrs(r.Context(), slog.LevelInfo, "sso: sign-in started", attrs...)
	c.observeLogin(r.Context(), profile, p.issuer, OutcomeStarted, nil, 0)
	redirect(w, p.authorizationURL(a, hint, prompt), http.StatusFound)
}

// callback completes a sign-in. Every failure ends in c.fail, with no
// session created.
func (c *Client) callback(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	start := time.Now()
	var tr loginTrace
	id, sess, returnTo, err := c.complete(w, r, &tr)
	d := time.Since(start)
	if err == errLinked {
		c.observeLogin(r.Context(), tr.profile, tr.issuer, OutcomeLinked, nil, d)
		redirect(w, returnTo, http.StatusFound)
		return
	}
	if err != nil {
		c.observeLogin(r.Context(), tr.profile, tr.issuer, OutcomeFailure, err, d)
		c.fail(w, r, err)
		return
	}
	c.observeLogin(r.Context(), tr.profile, tr.issuer, OutcomeSuccess, nil, d)
	if sess == nil {
		return // OnLogin wrote the response
	}
	c.session.set(w, sess)
	c.log.LogAttrs(r.Context(), slog.LevelInfo, "sso: signed in", slog.String("profile", sess.Profile), slog.Any("identity", id))
	redirect(w, returnTo, http.StatusFound)
}

// loginTrace is what a callback learned of its sign-in, for the Observer.
type loginTrace struct{ profile, issuer string }

// complete runs the checks of a callback in order and returns the new
// session, or nil when OnLogin took over the response.
func (c *Client) complete(w http.ResponseWriter, r *http.Request, tr *loginTrace) (*Identity, *Session, string, error) {
	ctx := r.Context()
	q := r.URL.Query()
	now := c.cfg.Now()

	// 1. The attempt: this browser's, intact, fresh (CSRF protection).
	a, e := c.attempts.take(w, r, q.Get("state"), now)
	if e != nil {
		return nil, nil, "", e
	}
	tr.profile = a.Profile
	// Its profile must still exist and be enabled.
	p, err := c.provider(ctx, a.Profile)
	if err != nil {
		return nil, nil, "", err
	}
	tr.issuer = p.issuer
	id, sess, target, err := c.completeWith(w, r, q, a, p, now)
	if err != nil && err != errLinked {
		c.step(ctx, p, "callback", err)
	}
	return id, sess, target, err
}

// completeWith runs the checks after the attempt and its provider are
// known; see complete.
func (c *Client) completeWith(w http.ResponseWriter, r *http.Request, q url.Values, a *attempt, p *provider, now time.Time) (*Identity, *Session, string, error) {
	ctx := r.Context()
	c.step(ctx, p, "attempt", nil)
	// A broker sign-in's app and return URL must still be registered.
	if a.App != "" {
		if c.broker == nil || c.broker.apps[a.App] == nil {
			return nil, nil, "", newError(CodeAppUnknown, fmt.Sprintf("app %q is no longer registered", clip(a.App)), nil)
		}
		if !slices.Contains(c.broker.apps[a.App].ReturnURLs, a.AppReturn) {
			return nil, nil, "", newError(CodeReturnURLInvalid, fmt.Sprintf("app %q: the return URL is no longer registered", clip(a.App)), nil)
		}
	}
	// 2. RFC 9207: the response names the provider it came from (mix-up).
	if iss, ok := q["iss"]; ok {
		if len(iss) != 1 || !c.matchesAuthorizationIssuer(p, iss[0]) {
			return nil, nil, "", newError(CodeIssuerMismatch, "the authorization response's iss is another issuer", nil)
		}
	} else if p.issParam {
		return nil, nil, "", newError(CodeIssuerMismatch, "the provider sends iss in authorization responses and this one has none", nil)
	}
	// 3. Single use, across replicas when the cache is shared.
	first, err := c.replay.Claim(ctx, replayKey(a.State), time.Unix(a.Created, 0).Add(AttemptLifetime+time.Minute))
	if err != nil {
		return nil, nil, "", newError(CodeProviderUnavailable, "the replay cache failed", err)
	}
	if !first {
		return nil, nil, "", newError(CodeAttemptReplayed, "", nil)
	}
	// 4. The provider's error, if it sent one.
	if code := q.Get("error"); code != "" {
		detail := "the provider answered " + clip(code)
		if d := q.Get("error_description"); d != "" {
			detail += ": " + clip(d)
		}
		if code == "access_denied" {
			return nil, nil, "", newError(CodeAccessDenied, detail, nil)
		}
		return nil, nil, "", newError(CodeProviderError, detail, nil)
	}
	code := q.Get("code")
	if code == "" || len(q["code"]) != 1 {
		return nil, nil, "", newError(CodeInvalidRequest, "the callback has no code", nil)
	}
	// 5. The code for tokens, proving the PKCE verifier.
	tok, err := c.exchange(ctx, p, code, a.Verifier)
	if err != nil {
		return nil, nil, "", err
	}
	c.step(ctx, p, "exchange", nil)
	rawID := tok.IDToken
	// 6. The ID token (OIDC Core §3.1.3.7), then at_hash.
	idt, err := c.verifyIDToken(ctx, p, rawID, a.Nonce)
	if err != nil {
		return nil, nil, "", err
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		return nil, nil, "", err
	}
	c.step(ctx, p, "id_token", nil)
	// 7. Claims, completed by userinfo when they lack what the mapping
	// needs.
	set := idt.claims
	if p.endpoints.Userinfo != "" && (c.cfg.AlwaysFetchUserinfo || len(p.conn.mapping.Missing(set)) > 0) {
		ui, err := c.userinfo(ctx, p, tok.AccessToken, idt.Subject)
		if err != nil {
			return nil, nil, "", err
		}
		c.step(ctx, p, "userinfo", nil)
		merged := set.Map()
		for k, v := range ui {
			if _, ok := merged[k]; !ok {
				merged[k] = v
			}
		}
		if set, err = claims.SetOf(merged); err != nil {
			return nil, nil, "", newError(CodeClaimsInvalid, "", err)
		}
	}
	pol := p.conn.policy
	// The nonce and the hashes bind the token to this sign-in and are
	// spent; an app that shows or stores the claims has no use for them.
	id, err := claims.Map(idt.Issuer, set.Without(spentClaims...), p.conn.mapping, pol.EmailTrust)
	switch {
	case errors.Is(err, claims.ErrEmailNotVerified):
		return nil, nil, "", newError(CodeEmailNotVerified, "", err)
	case err != nil:
		return nil, nil, "", newError(CodeClaimsInvalid, "", err)
	}
	c.step(ctx, p, "claims", nil)
	// 8. The policy and provisioning: who may come in, as which user.
	if !pol.AllowsEmail(id.Email, id.EmailVerified) {
		return nil, nil, "", newError(CodeDomainNotAllowed, "the email's domain is not allowed, or the email is missing or unverified", nil)
	}
	if a.LinkUser != "" {
		// Account linking: the browser must still be the user's who
		// started it; the identity joins that user, no session starts.
		if s := c.Session(r); s == nil || s.UserID != a.LinkUser {
			return nil, nil, "", newError(CodeLoginRequired, "the session that started the linking has ended", nil)
		}
		l, err := c.provisioner.Link(ctx, a.LinkUser, a.Profile, pol, id)
		if err != nil {
			return nil, nil, "", provisioningError(err)
		}
		c.log.LogAttrs(ctx, slog.LevelInfo, "sso: identity linked", slog.String("profile", l.Profile), slog.Any("identity", id))
		return id, nil, returnTo(a.ReturnTo), errLinked
	}
	var userID string
	if c.provisioner != nil {
		res, err := c.provisioner.SignIn(ctx, a.Profile, pol, id)
		if err != nil {
			return nil, nil, "", provisioningError(err)
		}
		userID = res.User.ID
		c.step(ctx, p, "provisioning", nil)
	}
	// 9. The application's say.
	login := &Login{Identity: id, Profile: a.Profile, UserID: userID, ReturnTo: a.ReturnTo, IDToken: rawID, App: a.App}
	if c.cfg.OnLogin != nil {
		tw := &trackingWriter{ResponseWriter: w}
		if err := c.cfg.OnLogin(tw, r, login); err != nil {
			var se *Error
			if !errors.As(err, &se) {
				se = newError(CodeLoginRefused, "", err)
			}
			return nil, nil, "", se
		}
		if tw.wrote {
			return id, nil, "", nil
		}
	}
	// 10. A fresh session: a new id, whatever the browser had (no fixation).
	sess := c.newSession(a.Profile, id, userID, idt, tok, now)
	if err := c.sessions.Save(ctx, sess); err != nil {
		return nil, nil, "", newError(CodeProviderUnavailable, "the session store failed", err)
	}
	c.step(ctx, p, "session", nil)
	if old, err := r.Cookie(c.session.name); err == nil {
		_ = c.sessions.Delete(ctx, old.Value)
	}
	// 11. A broker sign-in goes back to its app with a ticket.
	if a.App != "" {
		target, err := c.ticketFor(w, r, brokerTarget{App: a.App, ReturnURL: a.AppReturn}, sess, true)
		if err != nil {
			return nil, nil, "", err
		}
		return id, sess, target, nil
	}
	return id, sess, returnTo(login.ReturnTo), nil
}

// spentClaims are the ID token's claims an Identity leaves out.
var spentClaims = []string{"nonce", "at_hash", "c_hash"}

// newSession is the session of a sign-in: a new id, the identity, the
// ID token (in parts, sharing the claims' memory, see
// Session.SetIDToken) and the tokens when Config.KeepTokens is set.
func (c *Client) newSession(profile string, id *Identity, userID string, idt *IDToken, tok *tokenResponse, now time.Time) *Session {
	s := &Session{
		ID: randtoken.New(32), Identity: id, Profile: profile, UserID: userID, SID: idt.sid,
		CreatedAt: now, ExpiresAt: now.Add(c.cfg.SessionLifetime),
	}
	s.idt = compactIDToken(tok.IDToken, idt.claims.JSON())
	if c.cfg.KeepTokens {
		s.Tokens = &Tokens{AccessToken: Secret(tok.AccessToken), TokenType: tok.TokenType,
			RefreshToken: Secret(tok.RefreshToken), Expiry: tok.expiry(now)}
	}
	return s
}

// matchesAuthorizationIssuer checks RFC 9207's iss. For Entra's
// multi-tenant template any tenant fits here; the ID token's iss, checked
// against its own tid, pins it.
func (c *Client) matchesAuthorizationIssuer(p *provider, iss string) bool {
	if p.templated() {
		prefix, suffix, _ := strings.Cut(p.issuer, "{tenantid}")
		tid, ok := strings.CutPrefix(iss, prefix)
		if !ok {
			return false
		}
		tid, ok = strings.CutSuffix(tid, suffix)
		return ok && p.matchesIssuer(iss, tid)
	}
	return p.matchesIssuer(iss, "")
}

// replayKey is what the replay cache stores for a state: a hash, so the
// store never holds a live state value.
func replayKey(state string) string {
	sum := sha256.Sum256([]byte(state))
	return "ssokit:attempt:" + hex.EncodeToString(sum[:16])
}

// trackingWriter notes whether OnLogin wrote a response.
type trackingWriter struct {
	http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) WriteHeader(code int) { t.wrote = true; t.ResponseWriter.WriteHeader(code) }
func (t *trackingWriter) Write(b []byte) (int, error) {
	t.wrote = true
	return t.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// fail logs a failed sign-in and writes its response.
func (c *Client) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.refuse(w, r, "sso: sign-in failed", err)
}

// refuse logs a refused request under msg and writes its response.
func (c *Client) refuse(w http.ResponseWriter, r *http.Request, msg string, err error) {
	e := asError(err)
	level := slog.LevelWarn
	if e.Status >= 500 {
		level = slog.LevelError
	}
	c.log.LogAttrs(r.Context(), level, msg, slog.String("issuer", c.Issuer()), slog.Any("error", e))
	if c.cfg.ErrorHandler != nil {
		c.cfg.ErrorHandler(w, r, e)
		return
	}
	WriteError(w, r, e)
}

// provisioningError maps the provisioning package's refusals to codes.
func provisioningError(err error) *Error {
	switch {
	case errors.Is(err, provisioning.ErrDomainNotAllowed):
		return newError(CodeDomainNotAllowed, "", err)
	case errors.Is(err, provisioning.ErrProvisioningDisabled):
		return newError(CodeProvisioningDisabled, "", err)
	case errors.Is(err, provisioning.ErrLinkedToAnotherUser):
		return newError(CodeAlreadyLinked, "", err)
	case errors.Is(err, provisioning.ErrLastSignInMethod):
		return newError(CodeLastSignInMethod, "", err)
	case errors.Is(err, claims.ErrEmailNotVerified):
		return newError(CodeEmailNotVerified, "", err)
	case errors.Is(err, provisioning.ErrIdentityMismatch), errors.Is(err, provisioning.ErrConflict):
		return newError(CodeAccountConflict, "", err)
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(CodeProviderUnavailable, "the user directory failed", err)
}

// errLinked ends a callback that linked an identity instead of signing in.
var errLinked = errors.New("linked")

// ConnectedAccounts lists the identities linked to a user, for a
// "connected accounts" page: issuer, profile, email and when. It needs
// Config.Directory.
func (c *Client) ConnectedAccounts(ctx context.Context, userID string) ([]provisioning.Link, error) {
	if c.provisioner == nil {
		return nil, newError(CodeConfigInvalid, "connected accounts need Config.Directory", nil)
	}
	links, err := c.provisioner.Connected(ctx, userID)
	if err != nil {
		return nil, provisioningError(err)
	}
	return links, nil
}

// Unlink removes a user's link to an identity. It is refused with
// last_sign_in_method when that would leave the user no way to sign in:
// hasPassword tells whether the application has another (a password).
func (c *Client) Unlink(ctx context.Context, userID, issuer, subject string, hasPassword bool) error {
	if c.provisioner == nil {
		return newError(CodeConfigInvalid, "unlinking needs Config.Directory", nil)
	}
	if err := c.provisioner.Unlink(ctx, userID, issuer, subject, hasPassword); err != nil {
		if errors.Is(err, provisioning.ErrNotFound) {
			return newError(CodeInvalidRequest, "the user has no such link", err)
		}
		return provisioningError(err)
	}
	return nil
}

// newLeases is the cache of refresh leases: 10,000 of them at most.
func newLeases() *lru.Cache[string, time.Time] {
	c, _ := lru.New[string, time.Time](10_000) // fails only for a size <= 0
	return c
}
