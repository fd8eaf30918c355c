package ssotest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// TestingT is the part of *testing.T (and *testing.B, *testing.F) that New
// uses.
type TestingT interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Default credentials of the client every Provider registers unless an
// option registers a client with the same ID.
const (
	DefaultClientID     = "ssotest-client"
	DefaultClientSecret = "ssotest-secret"
)

// Client authentication methods at the token endpoint (OIDC Core §9).
const (
	AuthClientSecretBasic = "client_secret_basic"
	AuthClientSecretPost  = "client_secret_post"
	AuthPrivateKeyJWT     = "private_key_jwt"
	AuthNone              = "none"
)

// Lifetimes the provider gives what it issues.
const (
	CodeLifetime        = time.Minute
	AccessTokenLifetime = time.Hour
	IDTokenLifetime     = time.Hour
)

// A Client is a relying party registered at the provider.
type Client struct {
	ID string
	// Secret is required for client_secret_basic and client_secret_post.
	Secret string
	// AuthMethod pins how the client must authenticate at the token
	// endpoint. Empty accepts client_secret_basic or client_secret_post.
	AuthMethod string
	// PublicKey verifies private_key_jwt client assertions (RSA or EC).
	PublicKey crypto.PublicKey
	// KeyID, when set, must equal the assertion's kid header.
	KeyID string
	// RedirectURIs are the exact redirect URIs the client may use. When
	// empty, any URI on a loopback host (127.0.0.1, ::1, localhost) is
	// accepted, so a test need not know its server's port in advance; the
	// token request must still repeat the authorize request's URI exactly.
	RedirectURIs []string
	// PostLogoutRedirectURIs work as RedirectURIs, for end_session.
	PostLogoutRedirectURIs []string
	// BackChannelLogoutURI receives logout tokens when a user's sessions
	// end at the provider ([Provider.BackChannelLogout]).
	BackChannelLogoutURI string
}

// A User is a person who can sign in at the provider. Its fields become
// the standard claims of OIDC Core §5.1.
type User struct {
	Subject           string
	Email             string
	EmailVerified     bool
	PreferredUsername string
	Name              string
	Picture           string
	Locale            string
	Groups            []string
	// Claims are added to the ID token and userinfo as they are, for
	// example Entra's "oid" and "tid".
	Claims map[string]any
}

// DefaultUsers are the users a Provider starts with unless WithUsers is
// given.
func DefaultUsers() []User {
	return []User{
		{
			Subject: "alice", Email: "alice@example.com", EmailVerified: true,
			PreferredUsername: "alice", Name: "Alice Example", Locale: "en-US",
			Picture: "https://example.com/alice.png", Groups: []string{"engineering", "admins"},
		},
		{
			Subject: "bob", Email: "bob@example.com", EmailVerified: true,
			PreferredUsername: "bob", Name: "Bob Example", Locale: "fr-FR",
			Groups: []string{"sales"},
		},
		{
			// Carol looks like an Entra ID user: no email claim, a UPN in
			// preferred_username, and oid/tid.
			Subject: "Zp3bK9xQ-carol-pairwise", PreferredUsername: "carol@contoso.onmicrosoft.com",
			Name: "Carol Contoso", Groups: []string{"b7c1c7e2-5f7e-4a53-9d5f-0c3c7c1b2a11"},
			Claims: map[string]any{
				"oid": "00000000-0000-0000-66f3-3332eca7ea81",
				"tid": "9122040d-6c67-4c5b-b112-36a304b66dad",
			},
		},
		{
			Subject: "dave", Email: "dave@example.org", EmailVerified: false,
			PreferredUsername: "dave", Name: "Dave Unverified",
		},
	}
}

// An Option configures a Provider at start.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	clients    []Client
	users      []User
	usersSet   bool
	loginUser  string
	alg        string
	tls        bool
	addr       string
	issuerPath string
	now        func() time.Time
	faults     Faults
}

// WithClient registers a client. A client with DefaultClientID replaces
// the default one.
func WithClient(c Client) Option {
	return optionFunc(func(cfg *config) { cfg.clients = append(cfg.clients, c) })
}

// WithUsers replaces DefaultUsers.
func WithUsers(users ...User) Option {
	return optionFunc(func(cfg *config) { cfg.users = append(cfg.users, users...); cfg.usersSet = true })
}

// WithLoginUser makes the authorization endpoint approve at once as the
// user with this subject, without showing the picker: what tests want.
func WithLoginUser(subject string) Option {
	return optionFunc(func(cfg *config) { cfg.loginUser = subject })
}

// WithSigningAlg sets the algorithm of the first signing key: RS256 (the
// default), PS256, ES256, or any other of RS/PS/ES 256/384/512 and EdDSA.
func WithSigningAlg(alg string) Option {
	return optionFunc(func(cfg *config) { cfg.alg = alg })
}

// WithTLS serves https with a fresh self-signed certificate; use
// [Provider.HTTPClient] to trust it.
func WithTLS() Option { return optionFunc(func(cfg *config) { cfg.tls = true }) }

// WithAddr listens on addr instead of a free 127.0.0.1 port.
func WithAddr(addr string) Option { return optionFunc(func(cfg *config) { cfg.addr = addr }) }

// WithIssuerPath puts the issuer under a path, as real providers do
// ("/tenant/v2.0", "/oauth2/default", or "/" for an issuer with a trailing
// slash). Endpoints live under it.
func WithIssuerPath(path string) Option {
	return optionFunc(func(cfg *config) { cfg.issuerPath = path })
}

// WithClock sets the provider's clock, used for iat, exp, auth_time and
// the lifetime of codes and assertions.
func WithClock(now func() time.Time) Option { return optionFunc(func(cfg *config) { cfg.now = now }) }

// WithFaults starts the provider misbehaving; see [Provider.SetFaults].
func WithFaults(f Faults) Option { return optionFunc(func(cfg *config) { cfg.faults = f }) }

// A Provider is a running fake OpenID provider.
type Provider struct {
	issuer   string
	prefix   string // the issuer's URL without a trailing slash: endpoints hang off it
	srv      *http.Server
	ln       net.Listener
	client   *http.Client
	now      func() time.Time
	closeMu  sync.Once
	serveErr chan error

	mu             sync.Mutex // guards every field below
	clients        map[string]Client
	users          []User
	loginUser      string
	keys           []*signingKey // keys[0] signs; the rest are published until they expire
	codes          map[string]*authCode
	accessTokens   map[string]*grant
	refreshTokens  map[string]*grant
	usedJTIs       map[string]time.Time
	faults         Faults
	lastAuthorize  url.Values
	lastToken      *TokenRequest
	lastEndSession url.Values
	counts         map[Endpoint]int
	sessions       []opSession // sign-ins, for back-channel logout
}

// maxSessions bounds the sign-ins a Provider remembers for back-channel
// logout; the oldest are forgotten first.
const maxSessions = 10_000

// opSession is a sign-in at the provider: its sid, who, for which client.
type opSession struct {
	sid, user, clientID string
}

// New starts a Provider for a test and closes it when the test ends. It
// fails the test if the provider cannot start.
func New(t TestingT, opts ...Option) *Provider {
	t.Helper()
	p, err := Start(opts...)
	if err != nil {
		t.Fatalf("ssotest: %v", err)
		return nil
	}
	t.Cleanup(p.Close)
	return p
}

// Start starts a Provider outside a test (the examples' default run).
// Call Close when done.
func Start(opts ...Option) (*Provider, error) {
	cfg := config{alg: "RS256", now: time.Now, addr: "127.0.0.1:0"}
	for _, o := range opts {
		o.apply(&cfg)
	}
	key, err := newSigningKey(cfg.alg)
	if err != nil {
		return nil, err
	}
	p := &Provider{
		now:           cfg.now,
		clients:       map[string]Client{DefaultClientID: {ID: DefaultClientID, Secret: DefaultClientSecret}},
		users:         DefaultUsers(),
		loginUser:     cfg.loginUser,
		keys:          []*signingKey{key},
		codes:         map[string]*authCode{},
		accessTokens:  map[string]*grant{},
		refreshTokens: map[string]*grant{},
		usedJTIs:      map[string]time.Time{},
		faults:        cfg.faults,
		counts:        map[Endpoint]int{},
		serveErr:      make(chan error, 1),
	}
	if cfg.usersSet {
		p.users = append([]User(nil), cfg.users...)
	}
	for _, c := range cfg.clients {
		if err := p.AddClient(c); err != nil {
			return nil, err
		}
	}
	if cfg.loginUser != "" {
		if _, ok := p.findUser(cfg.loginUser); !ok {
			return nil, fmt.Errorf("ssotest: login user %q is not a user", cfg.loginUser)
		}
	}

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("ssotest: listen: %w", err)
	}
	scheme := "http"
	transport := &http.Transport{ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 64}
	if cfg.tls {
		cert, pool, err := selfSigned()
		if err != nil {
			ln.Close()
			return nil, err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
		transport.TLSClientConfig = &tls.Config{RootCAs: pool}
		scheme = "https"
	}
	p.ln = ln
	p.client = &http.Client{Transport: transport}
	path := cfg.issuerPath
	if path != "" && !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	p.issuer = scheme + "://" + ln.Addr().String() + path
	p.prefix = strings.TrimSuffix(p.issuer, "/")
	p.srv = &http.Server{
		Handler:           p.routes(strings.TrimSuffix(path, "/")),
		ReadHeaderTimeout: 10 * time.Second,
		// Clients that refuse the test certificate are expected in tests;
		// their handshake errors are not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { p.serveErr <- p.srv.Serve(ln) }()
	return p, nil
}

// Issuer is the provider's issuer identifier, for example
// "http://127.0.0.1:41234". Discovery lives at Issuer() +
// "/.well-known/openid-configuration".
func (p *Provider) Issuer() string { return p.issuer }

// HTTPClient returns a client that trusts the provider's certificate when
// it serves TLS. Pass it to the relying party under test.
func (p *Provider) HTTPClient() *http.Client { return p.client }

// Close stops the provider. It is safe to call more than once.
func (p *Provider) Close() {
	p.closeMu.Do(func() {
		_ = p.srv.Close()
		<-p.serveErr
		if t, ok := p.client.Transport.(*http.Transport); ok {
			t.CloseIdleConnections()
		}
	})
}

// AddClient registers c, replacing a client with the same ID.
func (p *Provider) AddClient(c Client) error {
	if c.ID == "" {
		return errors.New("ssotest: client needs an ID")
	}
	switch c.AuthMethod {
	case "", AuthClientSecretBasic, AuthClientSecretPost:
		if c.Secret == "" {
			return fmt.Errorf("ssotest: client %q needs a Secret for %q", c.ID, c.AuthMethod)
		}
	case AuthPrivateKeyJWT:
		if c.PublicKey == nil {
			return fmt.Errorf("ssotest: client %q needs a PublicKey for private_key_jwt", c.ID)
		}
	case AuthNone:
	default:
		return fmt.Errorf("ssotest: client %q: unknown auth method %q", c.ID, c.AuthMethod)
	}
	c.RedirectURIs = append([]string(nil), c.RedirectURIs...)
	c.PostLogoutRedirectURIs = append([]string(nil), c.PostLogoutRedirectURIs...)
	p.mu.Lock()
	p.clients[c.ID] = c
	p.mu.Unlock()
	return nil
}

// AddUser adds u, replacing a user with the same subject.
func (p *Provider) AddUser(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range p.users {
		if p.users[i].Subject == u.Subject {
			p.users[i] = u
			return
		}
	}
	p.users = append(p.users, u)
}

// Users returns the provider's users.
func (p *Provider) Users() []User {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]User(nil), p.users...)
}

// SetLoginUser makes the authorization endpoint approve at once as the
// user with this subject; "" brings the picker back. It panics, for ease
// of use in tests, when no user has the subject.
func (p *Provider) SetLoginUser(subject string) {
	if subject != "" {
		if _, ok := p.findUser(subject); !ok {
			panic(fmt.Sprintf("ssotest: SetLoginUser: no user %q", subject))
		}
	}
	p.mu.Lock()
	p.loginUser = subject
	p.mu.Unlock()
}

// findUser finds a user by subject, email or preferred_username.
func (p *Provider) findUser(hint string) (User, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, u := range p.users {
		if hint != "" && (u.Subject == hint || strings.EqualFold(u.Email, hint) || strings.EqualFold(u.PreferredUsername, hint)) {
			return u, true
		}
	}
	return User{}, false
}

// Requests returns how many requests each endpoint has received, for
// tests that assert caching.
func (p *Provider) Requests(e Endpoint) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[e]
}

func (p *Provider) endpoint(name string) string { return p.prefix + name }

func selfSigned() (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ssotest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("ssotest: certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, fmt.Errorf("ssotest: certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
