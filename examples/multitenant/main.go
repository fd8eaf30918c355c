// Command multitenant is an application where each organisation brings its
// own identity providers: SSO profiles kept in SQLite, created and managed
// through a small admin area, a sign-in picker with home-realm discovery,
// and connected accounts. From the repository root:
//
//	go run ./examples/multitenant
//
// It starts three fake identity providers in-process (package ssotest) and,
// when the database has no profiles yet, creates one SSO profile for each
// through ssoclient's ProfileManager, for two organisations:
//
//	acme-okta         Acme     client_secret_post  JIT, allowed domains example.com
//	acme-contractors  Acme     private_key_jwt     match-only: only the invited bob@example.com
//	globex-entra      Globex   none (public, PKCE) JIT, any domain
//
// Users, their links to identities and the profiles (client secrets and
// keys sealed with the secret key) live in the SQLite file; sessions live in
// memory, so a restart signs everybody out but keeps the profiles. The
// private_key_jwt key is generated anew at each start and rotated into its
// profile with ProfileManager.Update.
//
// The admin area (/admin and /admin/api/...) requires a signed-in session,
// any user's: this is a demo, where every signed-in person may manage every
// organisation's profiles. A real application checks that the person is an
// administrator of the organisation that owns the profile. The server also
// listens on 127.0.0.1 only, unless ADDR says otherwise.
//
// Environment:
//
//	ADDR            listen address (default 127.0.0.1:8001)
//	BASE_URL        the app's external URL (default http://ADDR as it listens);
//	                the redirect URI is ${BASE_URL}/auth/sso/callback
//	DB              SQLite file (default multitenant.db in the system's
//	                temporary directory)
//	SSO_SECRET_KEY  seals client secrets and keys at rest, at least 32 bytes;
//	                default: a key generated once and kept in ${DB}.secret-key
//	                (mode 0600)
//	IDP_PORT        first port of the fake providers, which use it and the
//	                next two (default 8101); 0 picks free ports, so profiles
//	                stored by an earlier run point at providers that are gone
//	CUSTOM_HOSTS    more host names the app serves, comma separated, for the
//	                redirect URIs list
package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/discovery"
	"github.com/ssokit/ssokit/provisioning"
	"github.com/ssokit/ssokit/sqlstore"
	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

func main() {
	if err := run(); err != nil {
		log.Fatal(err)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	ln, err := net.Listen("tcp", env("ADDR", "127.0.0.1:8001"))
	if err != nil {
		return err
	}
	defer ln.Close()
	idpPort, err := strconv.Atoi(env("IDP_PORT", "8101"))
	if err != nil || idpPort < 0 || idpPort > 65533 {
		return errors.New("IDP_PORT must be a port number, or 0 for free ports")
	}
	a, err := newApp(ctx, options{
		DBPath:      env("DB", filepath.Join(os.TempDir(), "multitenant.db")),
		SecretKey:   os.Getenv("SSO_SECRET_KEY"),
		BaseURL:     env("BASE_URL", "http://"+ln.Addr().String()),
		IDPPort:     idpPort,
		CustomHosts: strings.FieldsFunc(os.Getenv("CUSTOM_HOSTS"), func(r rune) bool { return r == ' ' || r == ',' }),
		Out:         os.Stdout,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
	})
	if err != nil {
		return err
	}
	defer a.Close()

	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Printf("listening on http://%s (open %s; admin at %s/admin)\n", ln.Addr(), a.base, a.base)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// options configure newApp.
type options struct {
	// DBPath is the SQLite file; ":memory:" for none.
	DBPath string
	// SecretKey seals profile secrets; empty: read or create DBPath's key
	// file.
	SecretKey string
	// BaseURL is the app's external URL, without a trailing slash.
	BaseURL string
	// IDPPort is the first port of the fake providers; 0 picks free ones.
	IDPPort int
	// CustomHosts are more hosts for the redirect URIs list.
	CustomHosts []string
	// Out receives what the app tells the person who started it.
	Out    io.Writer
	Logger *slog.Logger
}

// app is the multi-tenant application: one ssoclient.Client serving every
// profile, the SQLite store, and the fake providers.
type app struct {
	sso     *ssoclient.Client
	store   *sqlstore.Store
	idps    map[string]*ssotest.Provider // by profile ID
	base    string                       // scheme://host of BaseURL
	hosts   []string                     // for RedirectURIs
	log     *slog.Logger
	handler http.Handler
}

// The demo's profiles: one fake provider each, on IDPPort+port.
const (
	acmeOkta        = "acme-okta"
	acmeContractors = "acme-contractors"
	globexEntra     = "globex-entra"
)

// The fake providers' client secrets. They are demo values that both the
// fake provider and the sealed profile hold; a real secret comes from the
// provider's console and is typed into the admin form once.
const acmeOktaSecret = "acme-okta-demo-client-secret"

type demoProfile struct {
	port    int
	profile ssoclient.Profile
}

func demoProfiles() []demoProfile {
	return []demoProfile{
		{0, ssoclient.Profile{
			ID: acmeOkta, Organization: "acme", DisplayName: "Acme Okta",
			ClientID: "acme-okta-app", ClientSecret: acmeOktaSecret,
			AuthMethod: ssoclient.AuthClientSecretPost, Enabled: true,
			Domains: []string{"example.com"},
			Policy:  provisioning.Policy{Mode: provisioning.ModeJIT, AllowedDomains: []string{"example.com"}},
		}},
		{1, ssoclient.Profile{
			ID: acmeContractors, Organization: "acme", DisplayName: "Acme Contractors",
			ButtonText: "Contractors (invited only)",
			ClientID:   "acme-contractors-app", AuthMethod: ssoclient.AuthPrivateKeyJWT, Enabled: true,
			Domains: []string{"example.com"},
			Policy:  provisioning.Policy{Mode: provisioning.ModeMatchOnly},
		}},
		{2, ssoclient.Profile{
			ID: globexEntra, Organization: "globex", DisplayName: "Globex Entra ID",
			ClientID: "globex-public-app", AuthMethod: ssoclient.AuthNone, Enabled: true,
			Domains: []string{"contoso.onmicrosoft.com", "example.org"},
			Policy:  provisioning.Policy{Mode: provisioning.ModeJIT, EmailTrust: claims.TrustEmailClaim},
		}},
	}
}

// invited is the user an admin invited before any sign-in: the one person
// the match-only profile lets in.
var invited = provisioning.User{Username: "bob", Email: "bob@example.com", Name: "Bob (invited)"}

func newApp(ctx context.Context, o options) (_ *app, err error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	base, err := url.Parse(strings.TrimSuffix(o.BaseURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" || (base.Path != "" && base.Path != "/") {
		return nil, fmt.Errorf("BASE_URL %q must be http(s)://host[:port]", o.BaseURL)
	}
	a := &app{base: base.Scheme + "://" + base.Host, idps: map[string]*ssotest.Provider{}, log: o.Logger}
	a.hosts = append([]string{base.Host}, o.CustomHosts...)
	defer func() {
		if err != nil {
			a.Close()
		}
	}()

	a.store, err = sqlstore.OpenSQLite(ctx, o.DBPath)
	if err != nil {
		return nil, fmt.Errorf("DB %s: %w", o.DBPath, err)
	}
	fmt.Fprintf(o.Out, "database: %s (users, links and profiles; sessions are in memory)\n", o.DBPath)
	key, err := secretKey(o)
	if err != nil {
		return nil, err
	}

	// The fake providers, one per demo profile. Each registers the client
	// its profile uses, with this app's exact redirect URI.
	pkey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	pkeyDER, err := x509.MarshalPKCS8PrivateKey(pkey)
	if err != nil {
		return nil, err
	}
	pkeyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkeyDER}))
	pubDER, _ := x509.MarshalPKIXPublicKey(&pkey.PublicKey)
	sum := sha256.Sum256(pubDER)
	kid := hex.EncodeToString(sum[:8])

	redirect := a.base + "/auth/sso/callback"
	demos := demoProfiles()
	for _, d := range demos {
		c := ssotest.Client{
			ID: d.profile.ClientID, Secret: string(d.profile.ClientSecret), AuthMethod: string(d.profile.AuthMethod),
			RedirectURIs: []string{redirect}, PostLogoutRedirectURIs: []string{a.base + "/"},
			// What an IdP engineer registers besides the redirect URI,
			// so a sign-out at the provider ends the session here too.
			BackChannelLogoutURI: a.base + "/auth/sso/backchannel-logout?profile=" + url.QueryEscape(d.profile.ID),
		}
		if d.profile.AuthMethod == ssoclient.AuthPrivateKeyJWT {
			c.PublicKey, c.KeyID = pkey.Public(), kid
		}
		addr := "127.0.0.1:0"
		if o.IDPPort != 0 {
			addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(o.IDPPort+d.port))
		}
		idp, err := ssotest.Start(ssotest.WithClient(c), ssotest.WithAddr(addr))
		if err != nil {
			return nil, fmt.Errorf("fake provider for %s on %s: %w", d.profile.ID, addr, err)
		}
		a.idps[d.profile.ID] = idp
	}

	a.sso, err = ssoclient.New(ctx, ssoclient.Config{
		Profiles:    a.store.Profiles(),
		SecretKeys:  []ssoclient.Secret{ssoclient.Secret(key)},
		Directory:   a.store.Directory(),
		RedirectURL: redirect,
		// Admins type issuer URLs: refuse inward addresses, except the
		// loopback where this demo's providers run. A real deployment
		// leaves loopback out of AllowPrivate.
		BlockPrivateAddresses: true,
		AllowPrivate:          []string{"127.0.0.0/8"},
		HTTPClient:            a.idps[acmeOkta].HTTPClient(),
		Logger:                o.Logger,
	})
	if err != nil {
		return nil, err
	}

	if err := a.seed(ctx, o.Out, demos, pkeyPEM, kid); err != nil {
		return nil, err
	}
	a.handler = a.routes()
	return a, nil
}

// secretKey returns SSO_SECRET_KEY, or the key kept next to the database,
// creating it (0600) on first start.
func secretKey(o options) (string, error) {
	if o.SecretKey != "" {
		if len(o.SecretKey) < 32 {
			return "", errors.New("SSO_SECRET_KEY must be at least 32 bytes")
		}
		fmt.Fprintln(o.Out, "secret key: from SSO_SECRET_KEY")
		return o.SecretKey, nil
	}
	if o.DBPath == ":memory:" {
		fmt.Fprintln(o.Out, "secret key: generated for this run only (in-memory database)")
		return rand.Text() + rand.Text(), nil
	}
	path := o.DBPath + ".secret-key"
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		k := strings.TrimSpace(string(b))
		if len(k) < 32 {
			return "", fmt.Errorf("%s: the key is shorter than 32 bytes", path)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(o.Out, "warning: %s is readable by others (mode %v); chmod 600 it\n", path, fi.Mode().Perm())
		}
		fmt.Fprintf(o.Out, "secret key: read from %s\n", path)
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	k := base64.RawURLEncoding.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("writing the secret key: %w", err)
	}
	if _, err := f.WriteString(k + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	fmt.Fprintf(o.Out, "secret key: generated and written to %s (mode 0600); set SSO_SECRET_KEY to use your own\n", path)
	return k, nil
}

// seed creates the demo profiles and the invited user when the store has
// no profile, and otherwise rotates this run's private key into the
// private_key_jwt profile.
func (a *app) seed(ctx context.Context, out io.Writer, demos []demoProfile, pkeyPEM, kid string) error {
	pm := a.sso.Profiles()
	existing, err := pm.List(ctx)
	if err != nil {
		return err
	}
	if len(existing) == 0 {
		for _, d := range demos {
			p := d.profile
			p.Issuer = a.idps[p.ID].Issuer()
			if p.AuthMethod == ssoclient.AuthPrivateKeyJWT {
				p.PrivateKeyPEM, p.KeyID = ssoclient.Secret(pkeyPEM), kid
			}
			if _, err := pm.Create(ctx, p); err != nil {
				return fmt.Errorf("creating profile %s: %w", p.ID, err)
			}
		}
		if _, err := a.store.Directory().AddUser(ctx, invited); err != nil && !errors.Is(err, provisioning.ErrConflict) {
			return fmt.Errorf("inviting %s: %w", invited.Email, err)
		}
		fmt.Fprintf(out, "created %d SSO profiles and invited %s\n", len(demos), invited.Email)
	} else {
		fmt.Fprintf(out, "the database has %d SSO profiles: kept as they are\n", len(existing))
		// The fake provider knows only this run's key: rotate it in. A
		// blank client secret in Update keeps the stored one.
		if p, err := pm.Get(ctx, acmeContractors); err == nil && p.AuthMethod == ssoclient.AuthPrivateKeyJWT {
			p.PrivateKeyPEM, p.KeyID = ssoclient.Secret(pkeyPEM), kid
			if _, err := pm.Update(ctx, *p); err != nil {
				fmt.Fprintf(out, "warning: could not rotate the private key of %s: %v\n", p.ID, err)
			}
		}
	}
	for _, d := range demos {
		fmt.Fprintf(out, "fake provider for %-17s %s\n", d.profile.ID, a.idps[d.profile.ID].Issuer())
	}
	fmt.Fprintln(out, "test users at every provider (pick one on its page; no password):")
	for _, u := range a.idps[acmeOkta].Users() {
		login := u.Email
		if login == "" {
			login = u.PreferredUsername
		}
		fmt.Fprintf(out, "  %-30s %s\n", login, u.Name)
	}
	return nil
}

// Close stops the providers and closes the database.
func (a *app) Close() {
	for _, idp := range a.idps {
		idp.Close()
	}
	if a.store != nil {
		_ = a.store.Close()
	}
}

func (a *app) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

func (a *app) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/auth/sso/", a.sso.Handler())
	mux.HandleFunc("GET /{$}", a.home)
	mux.Handle("POST /account/unlink", a.sso.RequireLogin(a.sameOrigin(http.HandlerFunc(a.unlink))))

	admin := http.NewServeMux()
	admin.HandleFunc("GET /admin", a.adminPage)
	admin.HandleFunc("GET /admin/api/profiles", a.listProfiles)
	admin.HandleFunc("POST /admin/api/profiles", a.createProfile)
	admin.HandleFunc("GET /admin/api/profiles/{id}", a.getProfile)
	admin.HandleFunc("PUT /admin/api/profiles/{id}", a.updateProfile)
	admin.HandleFunc("DELETE /admin/api/profiles/{id}", a.deleteProfile)
	admin.HandleFunc("POST /admin/api/profiles/{id}/enable", a.setEnabled(true))
	admin.HandleFunc("POST /admin/api/profiles/{id}/disable", a.setEnabled(false))
	admin.HandleFunc("GET /admin/api/profiles/{id}/test", a.testProfile)
	admin.HandleFunc("GET /admin/api/profiles/{id}/sessions", a.profileSessions)
	admin.HandleFunc("GET /admin/api/redirect-uris", a.redirectURIs)
	guarded := a.sso.RequireLogin(a.sameOrigin(admin))
	mux.Handle("/admin", guarded)
	mux.Handle("/admin/", guarded)
	return mux
}

// sameOrigin refuses state-changing requests whose Origin (or, without
// one, Referer) is not this app's, as ssoclient does for logout: the
// session cookie is SameSite=Lax, and this is the second fence.
func (a *app) sameOrigin(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			h.ServeHTTP(w, r)
			return
		}
		origin := r.Header.Get("Origin")
		if origin == "" {
			if ref, err := url.Parse(r.Header.Get("Referer")); err == nil && ref.Host != "" {
				origin = ref.Scheme + "://" + ref.Host
			}
		}
		if !strings.EqualFold(origin, a.base) {
			ssoclient.WriteError(w, r, &ssoclient.Error{Code: ssoclient.CodeOriginInvalid, Status: http.StatusForbidden,
				Message: "This request did not come from this application's own pages."})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// ---- pages for people

type homeData struct {
	Identity *ssoclient.Identity
	Session  *ssoclient.Session
	Links    []linkView
	Connect  []*ssoclient.Profile // enabled profiles not linked yet
	Orgs     []string
}

type linkView struct {
	provisioning.Link
	ProfileName string
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d := homeData{Session: a.sso.Session(r)}
	profiles, err := a.sso.Profiles().List(ctx)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, p := range profiles {
		names[p.ID] = p.DisplayName
		if p.Organization != "" && !slices.Contains(d.Orgs, p.Organization) {
			d.Orgs = append(d.Orgs, p.Organization)
		}
	}
	if d.Session != nil {
		d.Identity = d.Session.Identity
		links, err := a.sso.ConnectedAccounts(ctx, d.Session.UserID)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		linked := map[string]bool{}
		for _, l := range links {
			d.Links = append(d.Links, linkView{Link: l, ProfileName: names[l.Profile]})
			linked[l.Profile] = true
		}
		for _, p := range profiles {
			if p.Enabled && !linked[p.ID] {
				d.Connect = append(d.Connect, p)
			}
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = homePage.Execute(w, d)
}

func (a *app) unlink(w http.ResponseWriter, r *http.Request) {
	s := a.sso.Session(r)
	// The app has no passwords: a user's last link is their only way in.
	if err := a.sso.Unlink(r.Context(), s.UserID, r.PostFormValue("issuer"), r.PostFormValue("subject"), false); err != nil {
		a.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// fail writes an *ssoclient.Error as ssoclient does (HTML or JSON), and
// anything else as a 500 without its text.
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *ssoclient.Error
	if !errors.As(err, &e) {
		a.log.ErrorContext(r.Context(), "request failed", "path", r.URL.Path, "err", err)
		e = &ssoclient.Error{Code: ssoclient.CodeProviderUnavailable, Status: http.StatusInternalServerError, Message: "Something went wrong."}
	}
	ssoclient.WriteError(w, r, e)
}

// ---- the admin API

// profileInput is a profile as the admin API takes it: the public view
// plus the write-only secrets, which are sealed and never returned.
type profileInput struct {
	ssoclient.Profile
	ClientSecret  string `json:"client_secret,omitempty"`
	PrivateKeyPEM string `json:"private_key_pem,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError answers an admin request with the *ssoclient.Error's code, its
// message and its detail (what an administrator needs: which field, why
// discovery failed; never a secret). A provider that cannot be reached
// while an admin saves a profile is the admin's input to fix: 422, not the
// 502 a sign-in would get.
func (a *app) apiError(w http.ResponseWriter, r *http.Request, err error) {
	var e *ssoclient.Error
	if !errors.As(err, &e) {
		a.log.ErrorContext(r.Context(), "admin request failed", "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "internal_error", "error_description": "Something went wrong."})
		return
	}
	status := e.Status
	switch e.Code {
	case ssoclient.CodeProfileInvalid, ssoclient.CodeConfigInvalid:
		status = http.StatusBadRequest
	case ssoclient.CodeDiscoveryFailed, ssoclient.CodeIssuerMismatch, ssoclient.CodeProviderTimeout:
		status = http.StatusUnprocessableEntity
	}
	detail := e.Detail
	if cause := e.Unwrap(); detail == "" && cause != nil {
		// Create and Update leave discovery's reason (the URL fetched
		// and what went wrong) in the cause, not in Detail.
		detail = cause.Error()
	}
	writeJSON(w, status, map[string]string{"error": string(e.Code), "error_description": e.Message, "detail": detail})
}

func (a *app) readProfile(w http.ResponseWriter, r *http.Request) (ssoclient.Profile, bool) {
	var in profileInput
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		// The decoder's message names the field, never its value.
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "The body must be a profile in JSON: " + err.Error()})
		return ssoclient.Profile{}, false
	}
	p := in.Profile
	p.ClientSecret, p.PrivateKeyPEM = ssoclient.Secret(in.ClientSecret), ssoclient.Secret(in.PrivateKeyPEM)
	return p, true
}

func (a *app) listProfiles(w http.ResponseWriter, r *http.Request) {
	ps, err := a.sso.Profiles().List(r.Context())
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	if ps == nil {
		ps = []*ssoclient.Profile{}
	}
	writeJSON(w, http.StatusOK, ps)
}

func (a *app) createProfile(w http.ResponseWriter, r *http.Request) {
	p, ok := a.readProfile(w, r)
	if !ok {
		return
	}
	created, err := a.sso.Profiles().Create(r.Context(), p)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	w.Header().Set("Location", "/admin/api/profiles/"+url.PathEscape(created.ID))
	writeJSON(w, http.StatusCreated, created)
}

func (a *app) getProfile(w http.ResponseWriter, r *http.Request) {
	p, err := a.sso.Profiles().Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func (a *app) updateProfile(w http.ResponseWriter, r *http.Request) {
	p, ok := a.readProfile(w, r)
	if !ok {
		return
	}
	id := r.PathValue("id")
	if p.ID != "" && p.ID != id {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "The profile's id cannot change; delete it and create another."})
		return
	}
	p.ID = id
	updated, err := a.sso.Profiles().Update(r.Context(), p)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, updated)
}

func (a *app) deleteProfile(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	n, err := a.sso.Profiles().Delete(r.Context(), id)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"deleted": id, "sessions_revoked": n})
}

func (a *app) setEnabled(enabled bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := a.sso.Profiles().SetEnabled(r.Context(), r.PathValue("id"), enabled)
		if err != nil {
			a.apiError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, p)
	}
}

func (a *app) testProfile(w http.ResponseWriter, r *http.Request) {
	rep, err := a.sso.Profiles().Check(r.Context(), r.PathValue("id"))
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		OK bool `json:"ok"`
		*discovery.Report
	}{rep.OK(), rep})
}

func (a *app) profileSessions(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := a.sso.Profiles().Get(r.Context(), id); err != nil {
		a.apiError(w, r, err)
		return
	}
	n, err := a.sso.Profiles().Sessions(r.Context(), id)
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"profile": id, "sessions": n})
}

// redirectURIs lists what an IdP engineer registers at the provider: the
// redirect URIs, and each profile's back-channel logout URI.
func (a *app) redirectURIs(w http.ResponseWriter, r *http.Request) {
	profiles, err := a.sso.Profiles().List(r.Context())
	if err != nil {
		a.apiError(w, r, err)
		return
	}
	bcl := map[string]string{}
	for _, p := range profiles {
		bcl[p.ID] = a.sso.BackChannelLogoutURL(p.ID)
	}
	writeJSON(w, http.StatusOK, map[string]any{"redirect_uris": a.sso.RedirectURIs(a.hosts...), "backchannel_logout_uris": bcl})
}

func (a *app) adminPage(w http.ResponseWriter, r *http.Request) {
	profiles, err := a.sso.Profiles().List(r.Context())
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = adminPage.Execute(w, map[string]any{"Profiles": profiles, "Identity": a.sso.Identity(r)})
}

const style = `<style>
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left;vertical-align:top}
.badge{font-size:.8rem;border:1px solid #999;border-radius:.3rem;padding:0 .3rem}form{display:inline}
pre{background:#f4f4f4;padding:.6rem;overflow:auto;max-height:24rem}
</style>`

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ssokit multitenant example</title>
<meta name="viewport" content="width=device-width, initial-scale=1">` + style + `</head><body>
<h1>ssokit multitenant example</h1>
{{if .Identity}}
<p>Signed in as <strong>{{.Identity.Name}}</strong>{{if .Identity.Email}} ({{.Identity.Email}}){{end}},
user <code>{{.Session.UserID}}</code>, through the profile <code>{{.Session.Profile}}</code>.</p>
<form method="post" action="/auth/sso/logout"><button type="submit">Sign out</button></form>
<a href="/admin">Admin: SSO profiles</a>
<h2>Connected accounts</h2>
<table><tr><th>Profile</th><th>Email</th><th>Linked</th><th></th></tr>
{{range .Links}}<tr><td>{{or .ProfileName .Profile}}<br><small><code>{{.Issuer}}</code></small></td><td>{{.Email}}</td>
<td>{{.LinkedAt.Format "2006-01-02 15:04"}}</td>
<td><form method="post" action="/account/unlink"><input type="hidden" name="issuer" value="{{.Issuer}}">
<input type="hidden" name="subject" value="{{.Subject}}"><button type="submit">Unlink</button></form></td></tr>
{{end}}</table>
{{if .Connect}}<h2>Connect another provider</h2><ul>
{{range .Connect}}<li><a href="/auth/sso/link?profile={{.ID}}">Connect {{.DisplayName}}</a> <span class="badge">{{.Vendor.Name}}</span></li>
{{end}}</ul>{{end}}
{{else}}
<p>You are not signed in.</p>
<p><a href="/auth/sso/login">Sign in with SSO</a> (every enabled profile){{range .Orgs}} ·
<a href="/auth/sso/login?org={{.}}">{{.}}'s profiles</a>{{end}}</p>
<form method="get" action="/auth/sso/login"><label>Or type your work email
<input type="email" name="email" placeholder="alice@example.com" required></label>
<button type="submit">Continue</button></form>
<p><small>Try alice@example.com or bob@example.com (Acme: two profiles, one match-only with bob invited),
carol@contoso.onmicrosoft.com (Globex, straight to its provider), dave@example.org (unverified email: refused).</small></p>
{{end}}
</body></html>`))

var adminPage = template.Must(template.New("admin").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SSO profiles · admin</title>
<meta name="viewport" content="width=device-width, initial-scale=1">` + style + `</head><body>
<p><a href="/">Home</a> · signed in as {{.Identity.Name}}</p>
<h1>Identity providers</h1>
<p><button onclick="show('/admin/api/redirect-uris')">🔗 Redirect URIs</button></p>
<table><tr><th>Name</th><th>Organisation</th><th>Provider</th><th>Auth</th><th>Enabled</th><th>Actions</th></tr>
{{range .Profiles}}<tr><td>{{.DisplayName}}<br><small><code>{{.ID}}</code> {{.Issuer}}</small></td><td>{{.Organization}}</td>
<td><span class="badge">{{.Vendor.Name}}</span></td><td>{{.AuthMethod}}</td>
<td><label><input type="checkbox" {{if .Enabled}}checked{{end}} data-id="{{.ID}}" onchange="toggle(this)"> {{if .Enabled}}on{{else}}off{{end}}</label></td>
<td><button data-id="{{.ID}}" onclick="show('/admin/api/profiles/'+this.dataset.id+'/test')">Test connection</button>
<button data-id="{{.ID}}" onclick="del(this.dataset.id)">🗑️ Delete</button></td></tr>
{{end}}</table>
<h2>Add OIDC provider</h2>
<form id="add" onsubmit="add(event)">
<p><label>ID <input name="id" required pattern="[A-Za-z0-9._-]+"></label>
<label>Organisation <input name="organization"></label>
<label>Display name <input name="display_name"></label></p>
<p><label>Domain, issuer URI or well-known URL <input name="issuer" size="50" required></label></p>
<p><label>Client ID <input name="client_id" required></label>
<label>Client secret <input name="client_secret" type="password" autocomplete="off"></label>
<label>Auth method <select name="auth_method"><option>client_secret_post</option><option>client_secret_basic</option><option>none</option></select></label></p>
<p><label>Verified email domains <input name="domains" placeholder="acme.com, acme.co.uk"></label>
<label>Allowed domains <input name="allowed_domains"></label>
<label>Provisioning <select name="mode"><option value="jit">JIT</option><option value="match">Match only</option></select></label></p>
<button type="submit">Create</button></form>
<pre id="out"></pre>
<script>
const out = document.getElementById('out');
async function call(method, path) {
  const r = await fetch(path, {method, headers: {'Accept': 'application/json'}});
  return [r, await r.json()];
}
async function show(path) { const [, j] = await call('GET', path); out.textContent = JSON.stringify(j, null, 2); }
async function toggle(box) {
  const [r, j] = await call('POST', '/admin/api/profiles/' + box.dataset.id + (box.checked ? '/enable' : '/disable'));
  if (!r.ok) { out.textContent = JSON.stringify(j, null, 2); return; }
  location.reload();
}
async function del(id) {
  const [, s] = await call('GET', '/admin/api/profiles/' + id + '/sessions');
  if (!confirm('Delete ' + id + '? This signs out ' + s.sessions + ' active session(s) and cannot be undone.')) return;
  const [r, j] = await call('DELETE', '/admin/api/profiles/' + id);
  if (!r.ok) { out.textContent = JSON.stringify(j, null, 2); return; }
  alert('Deleted; ' + j.sessions_revoked + ' session(s) revoked.');
  location.reload();
}
async function add(ev) {
  ev.preventDefault();
  const f = new FormData(ev.target), list = s => s.split(/[\s,]+/).filter(Boolean);
  const body = {id: f.get('id'), organization: f.get('organization'), display_name: f.get('display_name'),
    issuer: f.get('issuer'), client_id: f.get('client_id'), client_secret: f.get('client_secret'),
    auth_method: f.get('auth_method'), enabled: true, domains: list(f.get('domains')),
    policy: {mode: f.get('mode'), allowed_domains: list(f.get('allowed_domains'))}};
  const r = await fetch('/admin/api/profiles', {method: 'POST', headers: {'Content-Type': 'application/json', 'Accept': 'application/json'}, body: JSON.stringify(body)});
  const j = await r.json();
  out.textContent = JSON.stringify(j, null, 2);
  if (r.ok) location.reload();
}
</script>
</body></html>`))
