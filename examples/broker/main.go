// Command broker runs ssokit as an SSO broker with two relying apps, all in
// one process against the bundled fake identity provider:
//
//	go run ./examples/broker
//
// The broker (ssoclient with Config.Broker) signs people in at the
// provider and sends each app's browser back with a single-use ticket; the
// app's backend redeems it with package brokerclient for the verified
// identity and starts its own session. Sign in to the wiki, then to the
// CRM: the second needs no sign-in at the provider, because the broker
// remembers the person (its own session).
//
// The wiki authenticates to the broker with a secret, the CRM with a
// signed assertion (ES256); the broker signs the identities it hands out
// and publishes its key at /sso/jwks, and both apps require the
// signature.
//
// Environment:
//
//	BROKER_ADDR  the broker's listen address (default 127.0.0.1:8100)
//	WIKI_ADDR    the wiki's (default 127.0.0.1:8101)
//	CRM_ADDR     the CRM's (default 127.0.0.1:8102)
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/brokerclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, env("BROKER_ADDR", "127.0.0.1:8100"), env("WIKI_ADDR", "127.0.0.1:8101"), env("CRM_ADDR", "127.0.0.1:8102")); err != nil {
		log.Fatal(err)
	}
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, brokerAddr, wikiAddr, crmAddr string) error {
	d, err := start(ctx, brokerAddr, wikiAddr, crmAddr)
	if err != nil {
		return err
	}
	defer d.idp.Close()
	fmt.Printf("fake identity provider at %s\n", d.idp.Issuer())
	fmt.Printf("broker at %s\n", d.brokerURL)
	fmt.Printf("wiki at %s\n", d.wikiURL)
	fmt.Printf("crm at %s\n", d.crmURL)
	fmt.Printf("listening on http://%s (open %s, sign in, then open %s)\n", d.listeners[1].Addr(), d.wikiURL, d.crmURL)
	return d.serve(ctx)
}

// demo is the running set: the provider, the broker and the two apps.
type demo struct {
	idp                         *ssotest.Provider
	brokerURL, wikiURL          string
	crmURL                      string
	broker, wiki, crm           http.Handler
	listeners                   []net.Listener
	sso                         *ssoclient.Client
	wikiReturnURL, crmReturnURL string
}

// start listens on the three addresses (":0" picks a port) and builds
// the handlers; serve serves them.
func start(ctx context.Context, brokerAddr, wikiAddr, crmAddr string) (*demo, error) {
	d := &demo{}
	for _, a := range []string{brokerAddr, wikiAddr, crmAddr} {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			for _, l := range d.listeners {
				l.Close()
			}
			return nil, err
		}
		d.listeners = append(d.listeners, ln)
	}
	d.brokerURL = "http://" + d.listeners[0].Addr().String()
	d.wikiURL = "http://" + d.listeners[1].Addr().String()
	d.crmURL = "http://" + d.listeners[2].Addr().String()
	d.wikiReturnURL = d.wikiURL + "/sso/return"
	d.crmReturnURL = d.crmURL + "/sso/return"

	idp, err := ssotest.Start()
	if err != nil {
		return nil, err
	}
	d.idp = idp

	// Keys: the broker's, to sign identities, and the CRM's, to
	// authenticate to the broker. Real deployments load them from a KMS
	// or a file; the wiki's secret, from a secret store.
	brokerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	crmKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	wikiSecret := newToken()

	d.sso, err = ssoclient.New(ctx, ssoclient.Config{
		Issuer:       idp.Issuer(),
		ClientID:     ssotest.DefaultClientID,
		ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL:  d.brokerURL + "/sso/callback",
		Logger:       slog.Default(),
		Broker: &ssoclient.Broker{
			Apps: []ssoclient.RelyingApp{
				{ID: "wiki", Name: "Wiki", ReturnURLs: []string{d.wikiReturnURL}, Secret: ssoclient.Secret(wikiSecret)},
				{ID: "crm", Name: "CRM", ReturnURLs: []string{d.crmReturnURL}, PublicKey: &crmKey.PublicKey},
			},
			SigningKey: brokerKey,
		},
	})
	if err != nil {
		idp.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/sso/", d.sso.Handler())
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, r *http.Request) {
		who := "nobody"
		if id := d.sso.Identity(r); id != nil {
			who = id.Email
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = brokerPage.Execute(w, map[string]string{"Who": who, "Wiki": d.wikiURL, "CRM": d.crmURL})
	})
	d.broker = mux

	wiki, err := newApp("Wiki", "wiki_session", d.wikiReturnURL, brokerclient.Config{
		BrokerURL: d.brokerURL + "/sso", AppID: "wiki", Secret: wikiSecret, RequireSigned: true,
	})
	if err != nil {
		idp.Close()
		return nil, err
	}
	crm, err := newApp("CRM", "crm_session", d.crmReturnURL, brokerclient.Config{
		BrokerURL: d.brokerURL + "/sso", AppID: "crm", PrivateKey: crypto.Signer(crmKey), RequireSigned: true,
	})
	if err != nil {
		idp.Close()
		return nil, err
	}
	d.wiki, d.crm = wiki, crm
	return d, nil
}

// serve serves the three handlers until ctx ends.
func (d *demo) serve(ctx context.Context) error {
	errs := make(chan error, 3)
	var servers []*http.Server
	for i, h := range []http.Handler{d.broker, d.wiki, d.crm} {
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func(ln net.Listener) { errs <- srv.Serve(ln) }(d.listeners[i])
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-errs:
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(shutdown)
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

var brokerPage = template.Must(template.New("broker").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>SSO broker</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto">
<h1>SSO broker</h1>
<p>The broker knows: <strong>{{.Who}}</strong>.</p>
<p>Relying apps: <a href="{{.Wiki}}">Wiki</a>, <a href="{{.CRM}}">CRM</a>.</p>
<form method="post" action="/sso/logout"><button>Sign out of the broker</button></form>
</body></html>`))

// relyingApp is a small application that signs people in through the
// broker and keeps its own sessions.
type relyingApp struct {
	name, cookie, returnURL string
	bc                      *brokerclient.Client
	mu                      sync.Mutex
	sessions                map[string]*brokerclient.Identity
}

func newApp(name, cookie, returnURL string, cfg brokerclient.Config) (http.Handler, error) {
	bc, err := brokerclient.New(cfg)
	if err != nil {
		return nil, err
	}
	a := &relyingApp{name: name, cookie: cookie, returnURL: returnURL, bc: bc, sessions: map[string]*brokerclient.Identity{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, a.bc.LoginURL(a.returnURL), http.StatusFound)
	})
	mux.HandleFunc("GET /sso/return", a.ret)
	mux.HandleFunc("POST /logout", a.logout)
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if id := a.identity(r); id != nil {
			fmt.Fprint(w, id.Subject)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	})
	return mux, nil
}

func (a *relyingApp) identity(r *http.Request) *brokerclient.Identity {
	ck, err := r.Cookie(a.cookie)
	if err != nil {
		return nil
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.sessions[ck.Value]
}

var appPage = template.Must(template.New("app").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Name}}</title></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto">
<h1>{{.Name}}</h1>
{{with .ID}}<p>Signed in as <strong>{{.Name}}</strong> ({{.Email}}), subject <code>{{.Subject}}</code> at <code>{{.Issuer}}</code>.</p>
<form method="post" action="/logout"><button>Sign out of {{$.Name}}</button></form>
{{else}}<p>Nobody is signed in. <a href="/login">Sign in</a></p>{{end}}
</body></html>`))

func (a *relyingApp) home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = appPage.Execute(w, map[string]any{"Name": a.name, "ID": a.identity(r)})
}

// ret redeems the ticket the browser came back with, starts the app's own
// session and redirects, so the ticket leaves the address bar.
func (a *relyingApp) ret(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	id, err := a.bc.Redeem(r.Context(), r.URL.Query().Get("ticket"), a.returnURL)
	if err != nil {
		var be *brokerclient.Error
		code := "broker_unavailable"
		if errors.As(err, &be) {
			code = be.Code
		}
		slog.Warn(a.name+": sign-in failed", "code", code)
		http.Error(w, "sign-in failed: "+code, http.StatusBadRequest)
		return
	}
	sid := newToken()
	a.mu.Lock()
	a.sessions[sid] = id
	a.mu.Unlock()
	http.SetCookie(w, &http.Cookie{Name: a.cookie, Value: sid, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *relyingApp) logout(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(a.cookie); err == nil {
		a.mu.Lock()
		delete(a.sessions, ck.Value)
		a.mu.Unlock()
	}
	http.SetCookie(w, &http.Cookie{Name: a.cookie, Value: "", Path: "/", MaxAge: -1})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// newToken returns 256 random bits, base64url-encoded.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
