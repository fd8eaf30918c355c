// Command observability is an application that signs people in with ssokit
// and records its sign-ins and provider calls as metrics, in Prometheus and
// in OpenTelemetry at once, through ssoclient.Observer; ssokit's structured
// log events go to a JSON slog logger. With no SSO_ISSUER it starts the
// bundled fake identity provider and signs in against it:
//
//	cd examples/observability && go run .
//
// then sign in at http://localhost:8000 and read http://localhost:8000/metrics.
// Against a real provider:
//
//	SSO_ISSUER=https://acme.okta.com SSO_CLIENT_ID=... SSO_CLIENT_SECRET=... go run .
//
// Environment:
//
//	ADDR                         listen address (default 127.0.0.1:8000)
//	BASE_URL                     the app's external URL (default http://localhost:8000);
//	                             the redirect URI is ${BASE_URL}/auth/sso/callback
//	LOG_LEVEL                    debug, info (default), warn or error; debug adds
//	                             ssokit's "sso: login step" and "sso: provider call" events
//	SSO_ISSUER                   issuer URL, bare domain or discovery URL; empty: the fake provider
//	SSO_CLIENT_ID                client ID
//	SSO_CLIENT_SECRET            client secret
//	SSO_SCOPES                   scopes, space or comma separated (default "openid profile email")
//	OTEL_METRICS_EXPORTER        console (default: the OpenTelemetry metrics as JSON on
//	                             standard output) or none
//	OTEL_METRIC_EXPORT_INTERVAL  milliseconds between two console exports (default 60000)
//
// Prometheus metrics are served at /metrics; OpenTelemetry's are exported
// to standard output, and once more when the app stops.
package main

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/exporters/stdout/stdoutmetric"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

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

	logger, err := newLogger(os.Stderr, os.Getenv("LOG_LEVEL"))
	if err != nil {
		return err
	}
	addr := env("ADDR", "127.0.0.1:8000")
	baseURL := strings.TrimSuffix(env("BASE_URL", "http://localhost:8000"), "/")
	cfg := ssoclient.Config{
		Issuer:       os.Getenv("SSO_ISSUER"),
		ClientID:     os.Getenv("SSO_CLIENT_ID"),
		ClientSecret: ssoclient.Secret(os.Getenv("SSO_CLIENT_SECRET")),
		RedirectURL:  baseURL + "/auth/sso/callback",
		Scopes:       strings.FieldsFunc(os.Getenv("SSO_SCOPES"), func(r rune) bool { return r == ' ' || r == ',' }),
		Logger:       logger,
	}
	if cfg.Issuer == "" {
		idp, err := startFakeProvider(&cfg, os.Stdout)
		if err != nil {
			return err
		}
		defer idp.Close()
	}

	// Prometheus: a registry of the app's own, with the Go runtime's and
	// the process's metrics beside ssokit's.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// OpenTelemetry: a MeterProvider whose reader exports to standard
	// output. An application with a collector uses an OTLP exporter here;
	// nothing else changes.
	mp, err := newMeterProvider(os.Getenv("OTEL_METRICS_EXPORTER"), os.Stdout)
	if err != nil {
		return err
	}
	defer func() {
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := mp.Shutdown(shutdown); err != nil {
			logger.Error("otel: shutdown", slog.Any("error", err))
		}
	}()

	a, err := newApp(ctx, cfg, reg, mp)
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	logger.Info("listening", slog.String("addr", ln.Addr().String()), slog.String("base_url", baseURL),
		slog.String("metrics", baseURL+"/metrics"))
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newLogger is a JSON slog logger at level ("" is info).
func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if level != "" {
		if err := l.UnmarshalText([]byte(level)); err != nil {
			return nil, fmt.Errorf("LOG_LEVEL: %w", err)
		}
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// newMeterProvider is an OpenTelemetry MeterProvider exporting to w every
// OTEL_METRIC_EXPORT_INTERVAL (exporter "console" or ""), or exporting
// nothing ("none").
func newMeterProvider(exporter string, w io.Writer) (*sdkmetric.MeterProvider, error) {
	switch exporter {
	case "", "console":
		exp, err := stdoutmetric.New(stdoutmetric.WithWriter(w))
		if err != nil {
			return nil, err
		}
		return sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp))), nil
	case "none":
		return sdkmetric.NewMeterProvider(), nil
	default:
		return nil, fmt.Errorf("OTEL_METRICS_EXPORTER %q: this example knows console and none", exporter)
	}
}

// app is the application's handler: ssokit's routes, a home page and the
// Prometheus /metrics.
type app struct {
	http.Handler
	sso *ssoclient.Client
}

// newApp makes the ssokit client with an Observer that records into both
// reg (served at /metrics) and mp, and the app's routes.
func newApp(ctx context.Context, cfg ssoclient.Config, reg *prometheus.Registry, mp metric.MeterProvider) (*app, error) {
	prom, err := NewPrometheusObserver(reg)
	if err != nil {
		return nil, err
	}
	otel, err := NewOTelObserver(mp)
	if err != nil {
		return nil, err
	}
	cfg.Observer = observers{prom, otel}
	sso, err := ssoclient.New(ctx, cfg)
	if err != nil {
		return nil, err
	}

	mux := http.NewServeMux()
	mux.Handle("/auth/sso/", sso.Handler())
	// In production /metrics is often served on an internal port of its
	// own instead; its content is the same.
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = home.Execute(w, sso.Identity(r))
	})
	return &app{Handler: mux, sso: sso}, nil
}

// startFakeProvider starts ssotest with a client registered for cfg's
// redirect URL, points cfg at it and prints its users to out.
func startFakeProvider(cfg *ssoclient.Config, out io.Writer) (*ssotest.Provider, error) {
	client := ssotest.Client{
		ID:                     "observability-example",
		Secret:                 "observability-example-secret",
		RedirectURIs:           []string{cfg.RedirectURL},
		PostLogoutRedirectURIs: []string{strings.TrimSuffix(cfg.RedirectURL, "/auth/sso/callback") + "/"},
	}
	idp, err := ssotest.Start(ssotest.WithClient(client))
	if err != nil {
		return nil, err
	}
	cfg.Issuer, cfg.ClientID, cfg.ClientSecret = idp.Issuer(), client.ID, ssoclient.Secret(client.Secret)
	fmt.Fprintf(out, "SSO_ISSUER is empty: signing in against the bundled fake identity provider at %s\n", idp.Issuer())
	fmt.Fprintln(out, "test users (pick one on the provider's page; no password):")
	for _, u := range idp.Users() {
		login := u.Email
		if login == "" {
			login = u.PreferredUsername
		}
		fmt.Fprintf(out, "  %-26s %s\n", login, u.Name)
	}
	return idp, nil
}

var home = template.Must(template.New("home").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ssokit observability example</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem">
<h1>ssokit observability example</h1>
{{if .}}
<p>Signed in as <strong>{{.Name}}</strong>{{if .Email}} ({{.Email}}){{end}}.</p>
<form method="post" action="/auth/sso/logout"><button type="submit">Sign out</button></form>
{{else}}
<p>You are not signed in. <a href="/auth/sso/login">Sign in with SSO</a></p>
{{end}}
<p>See the sign-ins and provider calls counted at <a href="/metrics">/metrics</a>.</p>
</body></html>`))
