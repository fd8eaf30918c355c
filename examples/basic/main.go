// Command basic is the smallest application that signs people in with
// ssokit. With no SSO_ISSUER it starts the bundled fake identity provider
// and signs in against it:
//
//	go run ./examples/basic
//
// Against a real provider:
//
//	SSO_ISSUER=https://acme.okta.com SSO_CLIENT_ID=... SSO_CLIENT_SECRET=... go run ./examples/basic
//
// Environment:
//
//	ADDR                    listen address (default 127.0.0.1:8000)
//	BASE_URL                the app's external URL (default http://localhost:8000);
//	                        the redirect URI is ${BASE_URL}/auth/sso/callback
//	SSO_ISSUER              issuer URL, bare domain or discovery URL; empty: the fake provider
//	SSO_CLIENT_ID           client ID
//	SSO_CLIENT_SECRET       client secret
//	SSO_AUTH_METHOD         client_secret_basic, client_secret_post, private_key_jwt or none
//	SSO_PRIVATE_KEY_FILE    PEM RSA private key (PKCS#1 or PKCS#8), for private_key_jwt
//	SSO_KEY_ID              the key's kid
//	SSO_ASSERTION_AUDIENCE  token_endpoint (default) or issuer: the assertion's aud
//	SSO_SCOPES              scopes, space or comma separated (default "openid profile email")
//	SSO_ALLOWED_DOMAINS     email domains allowed to sign in, comma separated (default: all)
//	SSO_PROVISIONING        jit (default: create users on first sign-in) or match (only SSO_KNOWN_USERS)
//	SSO_KNOWN_USERS         usernames or emails that exist before any sign-in, comma separated
//	                        (an entry with @ matches a verified email or an email-shaped username)
//	SSO_EMAIL_TRUST         claim (default: trust email_verified, refuse false), provider or never
//	LOG_LEVEL               debug (every sign-in step and provider call), info (default), warn or error
//
// Register at the provider, besides the redirect URI, the back-channel
// logout URI ${BASE_URL}/auth/sso/backchannel-logout if it supports
// OpenID Connect Back-Channel Logout; both are printed at startup.
package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"html/template"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ssokit/ssokit/provisioning"
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

	addr := env("ADDR", "127.0.0.1:8000")
	baseURL := strings.TrimSuffix(env("BASE_URL", "http://localhost:8000"), "/")
	cfg := ssoclient.Config{
		Issuer:       os.Getenv("SSO_ISSUER"),
		ClientID:     os.Getenv("SSO_CLIENT_ID"),
		ClientSecret: ssoclient.Secret(os.Getenv("SSO_CLIENT_SECRET")),
		AuthMethod:   ssoclient.AuthMethod(os.Getenv("SSO_AUTH_METHOD")),
		KeyID:        os.Getenv("SSO_KEY_ID"),
		RedirectURL:  baseURL + "/auth/sso/callback",
		Scopes:       strings.FieldsFunc(os.Getenv("SSO_SCOPES"), func(r rune) bool { return r == ' ' || r == ',' }),
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(env("LOG_LEVEL", "info"))); err != nil {
		return fmt.Errorf("LOG_LEVEL: %w", err)
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := policyFromEnv(&cfg); err != nil {
		return err
	}
	switch os.Getenv("SSO_ASSERTION_AUDIENCE") {
	case "", "token_endpoint":
	case "issuer":
		cfg.AssertionAudience = ssoclient.AudienceIssuer
	default:
		return errors.New("SSO_ASSERTION_AUDIENCE must be token_endpoint or issuer")
	}
	if f := os.Getenv("SSO_PRIVATE_KEY_FILE"); f != "" {
		key, err := readKey(f)
		if err != nil {
			return err
		}
		cfg.PrivateKey = key
	}

	backChannel := baseURL + "/auth/sso/backchannel-logout"
	if cfg.Issuer == "" {
		idp, err := startFakeProvider(&cfg, backChannel)
		if err != nil {
			return err
		}
		defer idp.Close()
	}

	sso, err := ssoclient.New(ctx, cfg)
	if err != nil {
		return err
	}

	mux := http.NewServeMux()
	mux.Handle("/auth/sso/", sso.Handler())
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = home.Execute(w, sso.Identity(r))
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		id := sso.Identity(r)
		if id == nil {
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "login_required"})
			return
		}
		_ = json.NewEncoder(w).Encode(id)
	})
	mux.Handle("GET /private", sso.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "Hello, %s. Only signed-in people see this page.\n", sso.Identity(r).Name)
	})))

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	fmt.Printf("redirect URI: %s\nback-channel logout URI: %s\n", cfg.RedirectURL, sso.BackChannelLogoutURL(""))
	fmt.Printf("listening on http://%s (open %s)\n", ln.Addr(), baseURL)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startFakeProvider starts ssotest with a client registered for cfg's
// redirect URL and authentication method, and points cfg at it.
func startFakeProvider(cfg *ssoclient.Config, backChannel string) (*ssotest.Provider, error) {
	client := ssotest.Client{
		BackChannelLogoutURI:   backChannel,
		ID:                     "basic-example",
		Secret:                 "basic-example-secret",
		AuthMethod:             string(cfg.AuthMethod),
		RedirectURIs:           []string{cfg.RedirectURL},
		PostLogoutRedirectURIs: []string{strings.TrimSuffix(cfg.RedirectURL, "/auth/sso/callback") + "/"},
	}
	switch cfg.AuthMethod {
	case ssoclient.AuthNone:
		client.Secret = ""
	case ssoclient.AuthPrivateKeyJWT:
		client.Secret = ""
		if cfg.PrivateKey == nil {
			key, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				return nil, err
			}
			cfg.PrivateKey = key
		}
		client.PublicKey = cfg.PrivateKey.Public()
		client.KeyID = cfg.KeyID
	}
	idp, err := ssotest.Start(ssotest.WithClient(client))
	if err != nil {
		return nil, err
	}
	cfg.Issuer, cfg.ClientID, cfg.ClientSecret = idp.Issuer(), client.ID, ssoclient.Secret(client.Secret)
	fmt.Printf("SSO_ISSUER is empty: signing in against the bundled fake identity provider at %s\n", idp.Issuer())
	fmt.Println("test users (pick one on the provider's page; no password):")
	for _, u := range idp.Users() {
		login := u.Email
		if login == "" {
			login = u.PreferredUsername
		}
		fmt.Printf("  %-26s %s\n", login, u.Name)
	}
	return idp, nil
}

// readKey reads a PEM RSA private key, PKCS#1 or PKCS#8.
func readKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", path)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: not a PKCS#1 or PKCS#8 private key: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%s: the key is %T, private_key_jwt needs RSA", path, k)
	}
	return rk, nil
}

var home = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ssokit basic example</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">
<h1>ssokit basic example</h1>
{{if .}}
<p>Signed in as <strong>{{.Name}}</strong>{{if .Email}} ({{.Email}}){{end}}.</p>
<p>Subject <code>{{.Subject}}</code> at <code>{{.Issuer}}</code>. See <a href="/me">/me</a> or <a href="/private">a private page</a>.</p>
<form method="post" action="/auth/sso/logout"><button type="submit">Sign out</button></form>
{{else}}
<p>You are not signed in.</p>
<p><a href="/auth/sso/login">Sign in with SSO</a></p>
{{end}}
</body></html>`))

// list splits a comma- or space-separated variable.
func list(name string) []string {
	return strings.FieldsFunc(os.Getenv(name), func(r rune) bool { return r == ' ' || r == ',' })
}

// policyFromEnv sets who may sign in: allowed domains, email trust, and
// JIT or match-only provisioning against an in-memory directory holding
// SSO_KNOWN_USERS.
func policyFromEnv(cfg *ssoclient.Config) error {
	cfg.Policy.AllowedDomains = list("SSO_ALLOWED_DOMAINS")
	if err := cfg.Policy.EmailTrust.UnmarshalText([]byte(os.Getenv("SSO_EMAIL_TRUST"))); err != nil {
		return fmt.Errorf("SSO_EMAIL_TRUST: %w", err)
	}
	if err := cfg.Policy.Mode.UnmarshalText([]byte(os.Getenv("SSO_PROVISIONING"))); err != nil {
		return fmt.Errorf("SSO_PROVISIONING: %w", err)
	}
	dir := provisioning.NewMemoryDirectory()
	for _, u := range list("SSO_KNOWN_USERS") {
		// An entry with @ matches a verified email, or a username that is
		// an email address (an Entra UPN in preferred_username).
		user := provisioning.User{Username: u}
		if strings.Contains(u, "@") {
			user.Email = u
		}
		// A known user has no link yet: the first sign-in matches and
		// links it. CreateUser needs a link, so known users are created
		// through the directory's own seeding method.
		if _, err := dir.AddUser(context.Background(), user); err != nil {
			return fmt.Errorf("SSO_KNOWN_USERS %q: %w", u, err)
		}
	}
	cfg.Directory = dir
	return nil
}
