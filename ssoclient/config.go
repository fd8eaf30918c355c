package ssoclient

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/internal/safehttp"
	"github.com/ssokit/ssokit/provisioning"
)

// Secret is a string that never prints: its String, GoString, Format,
// JSON, text and slog forms are all "[redacted]". Convert it with
// string(s) where the value is really needed.
type Secret string

const redacted = "[redacted]"

// String returns "[redacted]".
func (Secret) String() string { return redacted }

// GoString returns "[redacted]", for %#v.
func (Secret) GoString() string { return redacted }

// Format prints "[redacted]" for every verb, %x and %q included.
func (Secret) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalJSON writes "[redacted]".
func (Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// MarshalText writes "[redacted]".
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// LogValue logs "[redacted]".
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// AuthMethod is how the client authenticates at the token endpoint (OIDC
// Core §9).
type AuthMethod string

// The authentication methods. The zero value chooses: private_key_jwt when
// a PrivateKey is set; none when there is no secret; else
// client_secret_post if the provider lists it (or lists nothing), else
// client_secret_basic.
const (
	AuthAuto              AuthMethod = ""
	AuthClientSecretBasic AuthMethod = "client_secret_basic"
	AuthClientSecretPost  AuthMethod = "client_secret_post"
	AuthPrivateKeyJWT     AuthMethod = "private_key_jwt"
	AuthNone              AuthMethod = "none"
)

// AssertionAudience is the aud of a private_key_jwt client assertion.
type AssertionAudience int

const (
	// AudienceTokenEndpoint, the default, puts the token endpoint URL in
	// aud, as Entra ID and Okta require.
	AudienceTokenEndpoint AssertionAudience = iota
	// AudienceIssuer puts the issuer identifier in aud, as the revision of
	// RFC 7523 and some providers require.
	AudienceIssuer
)

// Endpoints override what discovery says, for providers whose discovery
// document is missing or wrong. A field left empty comes from discovery.
// When Authorization, Token and JWKS are all given, New works even if the
// provider has no discovery document at all.
type Endpoints struct {
	Authorization string
	Token         string
	JWKS          string
	Userinfo      string
	EndSession    string
}

// Login is a verified sign-in, given to [Config.OnLogin].
type Login struct {
	Identity *Identity
	// Profile is the SSO profile signed in through ("" for a single
	// provider).
	Profile string
	// UserID is the application's user, when Config.Directory is set.
	UserID string
	// ReturnTo is the local path the browser goes to next; OnLogin may
	// change it (it must stay a local path).
	ReturnTo string
	// IDToken is the raw ID token.
	IDToken string
	// App is the relying app the sign-in is for, when the Client is a
	// broker (Config.Broker) and the login named one; OnLogin may refuse
	// a person per app. For a broker sign-in ReturnTo does not apply: the
	// browser goes to the app's return URL with a ticket.
	App string
}

// Config configures a Client. The zero value of every optional field means
// its default.
type Config struct {
	// Issuer is the provider: an issuer URL, a bare domain
	// ("acme.okta.com", "login.microsoftonline.com/{tenant}/v2.0") or the
	// full .well-known/openid-configuration URL. Required unless Profiles
	// is set.
	Issuer string
	// ClientID is the application's client ID at the provider. Required
	// with Issuer.
	ClientID string
	// Profiles, when set, makes the Client serve many SSO profiles, each
	// its own provider and client (see Profile and Client.Profiles), all
	// on one callback URL. Issuer and the provider fields beside it are
	// then left empty.
	Profiles ProfileStore
	// SecretKeys seal profile secrets at rest (AES-256-GCM, first key
	// seals, all open, so they rotate). Each at least 32 bytes. Required
	// with Profiles.
	SecretKeys []Secret
	// ClientSecret is the client secret, for client_secret_basic and
	// client_secret_post.
	ClientSecret Secret
	// AuthMethod pins the token endpoint authentication; see AuthMethod.
	AuthMethod AuthMethod
	// PrivateKey signs private_key_jwt client assertions (RS256; an RSA
	// key of at least 2048 bits, in memory or any crypto.Signer such as a
	// KMS key). KeyID is the kid the provider knows it by.
	PrivateKey crypto.Signer
	KeyID      string
	// Certificate, when set, adds its x5t and x5t#S256 thumbprints to the
	// assertion header, as Entra ID identifies certificate credentials.
	Certificate *x509.Certificate
	// AssertionAudience chooses the assertion's aud.
	AssertionAudience AssertionAudience
	// RedirectURL is the absolute URL of the callback, registered at the
	// provider: "https://app.example.com/auth/sso/callback". The handler's
	// login and logout live beside it ({mount}/login, {mount}/logout).
	// Required.
	RedirectURL string
	// Scopes requested; default openid, profile and email. openid is
	// always added.
	Scopes []string
	// Endpoints override discovery.
	Endpoints Endpoints
	// Claims maps claims to Identity fields.
	Claims claims.Mapping
	// Policy decides who may sign in: allowed email domains, how far the
	// provider's emails are trusted (by default email_verified false
	// refuses the sign-in), and JIT or match-only provisioning (which
	// needs Directory).
	Policy provisioning.Policy
	// Directory, when set, turns each verified identity into one of the
	// application's users (provisioning.Provisioner): the session's UserID.
	Directory provisioning.Directory
	// AlwaysFetchUserinfo asks userinfo on every sign-in; otherwise only
	// when the ID token lacks the email, username or name claim.
	AlwaysFetchUserinfo bool
	// Algorithms allowed for ID token signatures; default RS256, PS256 and
	// ES256. none and HMAC algorithms are never allowed.
	Algorithms []string
	// TrustedAudiences lists audiences besides ClientID an ID token may
	// carry; an ID token with any other extra audience is refused (OIDC
	// Core §3.1.3.7 step 3).
	TrustedAudiences []string
	// PostLogoutRedirectURL is where the browser lands after logout: sent
	// to the provider's end_session_endpoint as post_logout_redirect_uri
	// (register it there), or used directly when the provider has none.
	// Default: the application's root, "/".
	PostLogoutRedirectURL string
	// AllowedOrigins are origins besides RedirectURL's from which logout
	// may be posted ("https://www.example.com").
	AllowedOrigins []string
	// SessionLifetime is how long a session lasts; default 8 hours.
	SessionLifetime time.Duration
	// Sessions stores sessions; default an in-memory store of up to
	// 100,000 sessions.
	Sessions SessionStore
	// Replay records used attempts so a callback works once; default an
	// in-memory cache.
	Replay ReplayCache
	// CookieKeys seal the login attempt cookies (AES-256-GCM); the first
	// seals, all open, so keys can be rotated. Each must be at least 32
	// bytes. Replicas behind one load balancer need the same keys. Default:
	// a random key per process.
	CookieKeys []Secret
	// OnLogin runs after a sign-in is verified, before the session starts.
	// Return an error to refuse the sign-in (an *Error is shown as it is;
	// any other error as login_refused). An app with its own sessions
	// takes over here: if OnLogin writes a response, ssokit starts no
	// session and writes nothing more.
	OnLogin func(w http.ResponseWriter, r *http.Request, login *Login) error
	// Broker, when set, makes the Client an SSO broker for the relying
	// apps it registers: see Broker.
	Broker *Broker
	// ErrorHandler writes the response for a failure; default an HTML page
	// (JSON when the request asks for JSON) with the code and message.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err *Error)
	// HTTPClient makes every call to the provider; default
	// http.DefaultClient. Calls are bounded by Timeout regardless.
	HTTPClient *http.Client
	// Timeout bounds each call to the provider; default 10 seconds.
	Timeout time.Duration
	// BlockPrivateAddresses refuses to connect to the provider at a
	// loopback, private, link-local (cloud metadata) or other non-public
	// address. Turn it on when administrators type issuer URLs (a
	// multi-tenant app), so an issuer cannot make the server call inward.
	// It is checked at dial time on the resolved address, so DNS names,
	// redirects and every endpoint the discovery document lists are
	// covered. HTTPClient's transport must then be an *http.Transport (or
	// nil); it is cloned and used without a proxy.
	BlockPrivateAddresses bool
	// AllowPrivate lists the exceptions to BlockPrivateAddresses: host
	// names ("idp.corp.internal") or networks ("10.20.0.0/16") of internal
	// providers.
	AllowPrivate []string
	// Logger receives structured events; default slog.Default(). No
	// secret, token, code or state is ever logged. At Info: sign-in
	// started, signed in, signed out, refusals (Warn; Error for 5xx). At
	// Debug: each step of a callback ("sso: login step": attempt,
	// exchange, id_token, userinfo, claims, provisioning, session, with
	// the profile, outcome and error code) and every provider call.
	Logger *slog.Logger
	// Observer, when set, is told of every sign-in's start and outcome and
	// of every call to a provider, for metrics: see Observer.
	Observer Observer
	// KeepTokens keeps the access and refresh tokens in the session, for
	// Client.TokenSource: the application calls APIs as the user, and
	// with the offline_access scope (or the provider's equivalent) the
	// access token is refreshed when it expires. Off by default: a
	// session then holds no token but the ID token.
	KeepTokens bool
	// Now is the clock; default time.Now.
	Now func() time.Time
	// ClockSkew is the leeway for exp, iat and nbf; default 2 minutes.
	ClockSkew time.Duration
}

// Defaults.
const (
	DefaultSessionLifetime = 8 * time.Hour
	DefaultClockSkew       = 2 * time.Minute
	DefaultTimeout         = 10 * time.Second
	// AttemptLifetime is how long a sign-in may take from the redirect to
	// the provider until the callback.
	AttemptLifetime = 10 * time.Minute
)

// settings is a Config with its defaults applied and its derived values.
type settings struct {
	Config
	redirect     string       // RedirectURL
	mount        string       // path prefix of the handler: RedirectURL's path minus its last segment
	secure       bool         // RedirectURL is https: cookies are Secure and __Host-
	origin       string       // scheme://host of RedirectURL
	postLogout   string       // absolute PostLogoutRedirectURL
	postLogoutIn string       // local path for redirecting without a provider
	tokenClient  *http.Client // HTTPClient without redirects
}

func configError(format string, args ...any) error {
	return newError(CodeConfigInvalid, fmt.Sprintf(format, args...), nil)
}

// resolve validates cfg and applies defaults.
func resolve(cfg Config) (*settings, error) {
	s := &settings{Config: cfg}
	switch {
	case cfg.Profiles != nil && strings.TrimSpace(cfg.Issuer) != "":
		return nil, configError("set Issuer (one provider) or Profiles (many), not both")
	case cfg.Profiles != nil:
		if len(cfg.SecretKeys) == 0 {
			return nil, configError("Profiles needs SecretKeys to seal the profiles' client secrets")
		}
		for i, k := range cfg.SecretKeys {
			if len(k) < 32 {
				return nil, configError("SecretKeys[%d] is shorter than 32 bytes", i)
			}
		}
	case strings.TrimSpace(cfg.Issuer) == "":
		return nil, configError("Issuer is required")
	case cfg.ClientID == "":
		return nil, configError("ClientID is required")
	}
	u, err := safehttp.CheckURL(cfg.RedirectURL)
	if err != nil {
		return nil, configError("RedirectURL must be an absolute https URL (http only on a loopback host): %v", err)
	}
	if u.RawQuery != "" {
		return nil, configError("RedirectURL must not have a query")
	}
	path := strings.TrimSuffix(u.EscapedPath(), "/")
	i := strings.LastIndexByte(path, '/')
	if i < 0 || path[i+1:] == "" {
		return nil, configError("RedirectURL needs a path, such as /auth/sso/callback")
	}
	s.redirect = cfg.RedirectURL
	s.mount = path[:i]
	s.secure = u.Scheme == "https"
	s.origin = u.Scheme + "://" + u.Host

	if s.PostLogoutRedirectURL == "" {
		s.PostLogoutRedirectURL = "/"
	}
	if strings.HasPrefix(s.PostLogoutRedirectURL, "/") {
		if !isLocalPath(s.PostLogoutRedirectURL) {
			return nil, configError("PostLogoutRedirectURL %q is not a local path", s.PostLogoutRedirectURL)
		}
		s.postLogoutIn = s.PostLogoutRedirectURL
		s.postLogout = s.origin + s.PostLogoutRedirectURL
	} else {
		if _, err := safehttp.CheckURL(s.PostLogoutRedirectURL); err != nil {
			return nil, configError("PostLogoutRedirectURL: %v", err)
		}
		s.postLogout = s.PostLogoutRedirectURL
		s.postLogoutIn = s.PostLogoutRedirectURL
	}
	for _, o := range cfg.AllowedOrigins {
		if _, err := safehttp.CheckURL(o); err != nil || strings.Count(o, "/") != 2 {
			return nil, configError("AllowedOrigins: %q is not an origin like https://app.example.com", o)
		}
	}

	s.Scopes = withOpenID(s.Scopes)
	if s.SessionLifetime <= 0 {
		s.SessionLifetime = DefaultSessionLifetime
	}
	if s.ClockSkew <= 0 {
		s.ClockSkew = DefaultClockSkew
	}
	if s.Timeout <= 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.Default()
	}
	if s.HTTPClient == nil {
		s.HTTPClient = http.DefaultClient
	}
	if len(s.AllowPrivate) > 0 && !s.BlockPrivateAddresses {
		return nil, configError("AllowPrivate is set but BlockPrivateAddresses is not: set both, or neither")
	}
	if s.BlockPrivateAddresses {
		g := &safehttp.Guard{}
		for _, a := range s.AllowPrivate {
			if p, err := netip.ParsePrefix(a); err == nil {
				g.AllowPrefixes = append(g.AllowPrefixes, p.Masked())
			} else if ip, err := netip.ParseAddr(a); err == nil {
				g.AllowPrefixes = append(g.AllowPrefixes, netip.PrefixFrom(ip, ip.BitLen()))
			} else if a != "" && !strings.ContainsAny(a, "/:@ ") {
				g.AllowHosts = append(g.AllowHosts, a)
			} else {
				return nil, configError("AllowPrivate: %q is neither a host name nor a network like 10.20.0.0/16", a)
			}
		}
		c, err := g.Client(s.HTTPClient)
		if err != nil {
			return nil, configError("BlockPrivateAddresses: %v", err)
		}
		s.HTTPClient = c
	}
	s.tokenClient = tokenHTTPClient(s.HTTPClient)
	for i, k := range s.CookieKeys {
		if len(k) < 32 {
			return nil, configError("CookieKeys[%d] is shorter than 32 bytes", i)
		}
	}
	for _, a := range s.Algorithms {
		if a == "none" || strings.HasPrefix(a, "HS") {
			return nil, configError("Algorithms: %q is never allowed for ID tokens", a)
		}
	}

	s.Policy.AllowedDomains = lowerASCII(s.Policy.AllowedDomains)
	if err := s.Policy.Validate(); err != nil {
		return nil, configError("Policy: %v", err)
	}
	if s.Policy.Mode == provisioning.ModeMatchOnly && s.Directory == nil {
		return nil, configError("Policy.Mode match-only needs a Directory of existing users")
	}
	if cfg.Profiles == nil {
		cc := s.connConfig()
		if err := cc.check(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// withOpenID applies the scope defaults: openid profile email when none
// are given, and openid always.
func withOpenID(scopes []string) []string {
	if len(scopes) == 0 {
		return []string{"openid", "profile", "email"}
	}
	if !slices.Contains(scopes, "openid") {
		return append([]string{"openid"}, scopes...)
	}
	return scopes
}

// connConfig is what one connection to a provider needs: the Config's
// fields for a single provider, or a profile's.
type connConfig struct {
	profile      string // "" for the Config's single provider
	issuer       string
	clientID     string
	secret       Secret
	authMethod   AuthMethod
	privateKey   crypto.Signer
	keyID        string
	cert         *x509.Certificate
	assertionAud AssertionAudience
	scopes       []string
	endpoints    Endpoints
	mapping      claims.Mapping
	policy       provisioning.Policy
}

// connConfig returns the Config's single provider.
func (s *settings) connConfig() *connConfig {
	return &connConfig{
		issuer: s.Issuer, clientID: s.ClientID, secret: s.ClientSecret, authMethod: s.AuthMethod,
		privateKey: s.PrivateKey, keyID: s.KeyID, cert: s.Certificate, assertionAud: s.AssertionAudience,
		scopes: s.Scopes, endpoints: s.Endpoints, mapping: s.Claims, policy: s.Policy,
	}
}

// check validates the client authentication of a connection.
func (cc *connConfig) check() error {
	switch cc.authMethod {
	case AuthAuto:
	case AuthClientSecretBasic, AuthClientSecretPost:
		if cc.secret == "" {
			return configError("AuthMethod %s needs a client secret", cc.authMethod)
		}
	case AuthPrivateKeyJWT:
		if cc.privateKey == nil {
			return configError("AuthMethod private_key_jwt needs a private key")
		}
	case AuthNone:
		if cc.secret != "" || cc.privateKey != nil {
			return configError("AuthMethod none is for public clients: remove the client secret and private key")
		}
	default:
		return configError("unknown AuthMethod %q", cc.authMethod)
	}
	if cc.privateKey != nil {
		pub, ok := cc.privateKey.Public().(*rsa.PublicKey)
		if !ok {
			return configError("the private key must be an RSA key (private_key_jwt uses RS256)")
		}
		if pub.N.BitLen() < 2048 {
			return configError("the private key is %d bits; RS256 needs at least 2048", pub.N.BitLen())
		}
		if cc.cert != nil {
			if cp, ok := cc.cert.PublicKey.(*rsa.PublicKey); !ok || !cp.Equal(pub) {
				return configError("Certificate does not hold the private key's public key")
			}
		}
	}
	return nil
}

// chooseAuthMethod applies AuthAuto's rule against what the provider lists.
func (cc *connConfig) chooseAuthMethod(supported []string) AuthMethod {
	switch {
	case cc.authMethod != AuthAuto:
		return cc.authMethod
	case cc.privateKey != nil:
		return AuthPrivateKeyJWT
	case cc.secret == "":
		return AuthNone
	case len(supported) == 0 || slices.Contains(supported, string(AuthClientSecretPost)):
		return AuthClientSecretPost
	case slices.Contains(supported, string(AuthClientSecretBasic)):
		return AuthClientSecretBasic
	}
	return AuthClientSecretPost
}

// timeout bounds ctx by the provider call timeout.
func (s *settings) timeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.Timeout)
}
