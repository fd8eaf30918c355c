package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is the app behind httptest, signing in against a fake provider,
// with its Prometheus registry, an OpenTelemetry ManualReader, its debug
// log and a browser.
type harness struct {
	t       *testing.T
	idp     *ssotest.Provider
	app     *app
	srv     *httptest.Server
	reader  *sdkmetric.ManualReader
	logs    *syncBuffer
	browser *http.Client
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	idp := ssotest.New(t, ssotest.WithLoginUser("alice"))
	srv := httptest.NewUnstartedServer(nil)
	t.Cleanup(srv.Close)
	base := "http://" + srv.Listener.Addr().String()
	h := &harness{t: t, idp: idp, srv: srv, reader: sdkmetric.NewManualReader(), logs: &syncBuffer{}}
	logger, err := newLogger(h.logs, "debug")
	if err != nil {
		t.Fatal(err)
	}
	cfg := ssoclient.Config{
		Issuer: idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL: base + "/auth/sso/callback", HTTPClient: idp.HTTPClient(), Logger: logger,
		// Kept, with a refresh token, so the test can read the tokens and
		// show they leak nowhere; the app itself needs no token.
		KeepTokens: true, Scopes: []string{"openid", "profile", "email", "offline_access"},
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	h.app, err = newApp(t.Context(), cfg, prometheus.NewRegistry(), mp)
	if err != nil {
		t.Fatalf("newApp: %v", err)
	}
	srv.Config.Handler = h.app
	srv.Start()
	jar, _ := cookiejar.New(nil)
	h.browser = &http.Client{Jar: jar, Transport: idp.HTTPClient().Transport}
	return h
}

// get fetches path with the browser and returns the status and body.
func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	resp, err := h.browser.Get(h.srv.URL + path)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// signIn signs alice in and checks the home page greets her.
func (h *harness) signIn() {
	h.t.Helper()
	if status, body := h.get("/auth/sso/login"); status != http.StatusOK || !strings.Contains(body, "Signed in as") {
		h.t.Fatalf("sign-in ended on %d:\n%s", status, body)
	}
}

// scrape reads /metrics as Prometheus does.
func (h *harness) scrape() string {
	h.t.Helper()
	status, body := h.get("/metrics")
	if status != http.StatusOK {
		h.t.Fatalf("/metrics: %d\n%s", status, body)
	}
	return body
}

// secrets are what the sign-in carried that must never reach metrics or
// logs: the client secret, the authorization code, the PKCE verifier, the
// state and nonce, the tokens and the session cookie.
func (h *harness) secrets() map[string]string {
	h.t.Helper()
	s := map[string]string{"client secret": ssotest.DefaultClientSecret}
	if tr := h.idp.LastTokenRequest(); tr != nil {
		s["code"] = tr.Form.Get("code")
		s["code_verifier"] = tr.Form.Get("code_verifier")
	}
	ar := h.idp.LastAuthorizeRequest()
	s["state"], s["nonce"] = ar.Get("state"), ar.Get("nonce")
	u, _ := url.Parse(h.srv.URL)
	r := httptest.NewRequest(http.MethodGet, h.srv.URL+"/", nil)
	for _, c := range h.browser.Jar.Cookies(u) {
		r.AddCookie(c)
		s["cookie "+c.Name] = c.Value
	}
	sess := h.app.sso.Session(r)
	if sess == nil || sess.Tokens == nil {
		h.t.Fatalf("no session with tokens: %v", sess)
	}
	s["session ID"], s["ID token"] = sess.ID, sess.IDToken()
	s["access token"], s["refresh token"] = string(sess.Tokens.AccessToken), string(sess.Tokens.RefreshToken)
	for name, v := range s {
		if len(v) < 8 {
			h.t.Fatalf("%s is %q: too short to look for", name, v)
		}
	}
	return s
}

func TestPrometheusMetrics(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	if status, _ := h.get("/auth/sso/callback?state=forged&code=x"); status != http.StatusBadRequest {
		t.Errorf("forged callback: %d, want 400", status)
	}
	metrics := h.scrape()

	for _, want := range []string{
		`ssokit_logins_total{code="",outcome="started",profile=""} 1`,
		`ssokit_logins_total{code="",outcome="success",profile=""} 1`,
		`ssokit_logins_total{code="state_invalid",outcome="failure",profile=""} 1`,
		`ssokit_login_duration_seconds_count{outcome="success",profile=""} 1`,
		`ssokit_login_duration_seconds_count{outcome="failure",profile=""} 1`,
		`ssokit_provider_request_duration_seconds_count{endpoint="discovery",failed="false",profile="",status_class="2xx"} 1`,
		`ssokit_provider_request_duration_seconds_count{endpoint="jwks",failed="false",profile="",status_class="2xx"} 1`,
		`ssokit_provider_request_duration_seconds_count{endpoint="token",failed="false",profile="",status_class="2xx"} 1`,
		`ssokit_provider_request_duration_seconds_bucket{endpoint="token",failed="false",profile="",status_class="2xx",le="+Inf"} 1`,
		"# TYPE ssokit_logins_total counter",
		"# TYPE ssokit_login_duration_seconds histogram",
		"# TYPE ssokit_provider_request_duration_seconds histogram",
	} {
		if !hasLine(metrics, want) {
			t.Errorf("/metrics lacks the line\n\t%s", want)
		}
	}
	if n := strings.Count(metrics, "\nssokit_logins_total{"); n != 3 {
		t.Errorf("/metrics has %d ssokit_logins_total series, want 3", n)
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", ssokitLines(metrics))
	}
	assertNoSecrets(t, "/metrics", metrics, h.secrets())
}

// A provider that fails shows in both instruments: the failed token
// request by its status class, and the sign-in by its error code.
func TestPrometheusProviderFailure(t *testing.T) {
	h := newHarness(t)
	h.idp.SetFaults(ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointToken: http.StatusServiceUnavailable}})
	if status, body := h.get("/auth/sso/login"); status < 500 {
		t.Fatalf("sign-in against a failing token endpoint: %d, want 5xx\n%s", status, body)
	}
	metrics := h.scrape()
	for _, want := range []string{
		`ssokit_logins_total{code="provider_unavailable",outcome="failure",profile=""} 1`,
		`ssokit_provider_request_duration_seconds_count{endpoint="token",failed="true",profile="",status_class="5xx"} 1`,
	} {
		if !hasLine(metrics, want) {
			t.Errorf("/metrics lacks the line\n\t%s\n%s", want, ssokitLines(metrics))
		}
	}
}

func TestOTelMetrics(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	h.get("/auth/sso/callback?state=forged&code=x")

	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(t.Context(), &rm); err != nil {
		t.Fatal(err)
	}
	byName := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != otelScope {
			continue
		}
		for _, m := range sm.Metrics {
			byName[m.Name] = m
		}
	}

	logins, ok := byName["ssokit.logins"].Data.(metricdata.Sum[int64])
	if !ok || !logins.IsMonotonic {
		t.Fatalf("ssokit.logins is %T, want a monotonic Sum[int64]", byName["ssokit.logins"].Data)
	}
	got := map[string]int64{}
	for _, dp := range logins.DataPoints {
		got[attrs(dp.Attributes)] += dp.Value
	}
	want := map[string]int64{
		`code="",outcome="started",profile=""`:              1,
		`code="",outcome="success",profile=""`:              1,
		`code="state_invalid",outcome="failure",profile=""`: 1,
	}
	if !maps.Equal(got, want) {
		t.Errorf("ssokit.logins = %v, want %v", got, want)
	}

	for name, want := range map[string]map[string]uint64{
		"ssokit.login.duration": {
			`outcome="success",profile=""`: 1,
			`outcome="failure",profile=""`: 1,
		},
		"ssokit.provider.request.duration": {
			`endpoint="discovery",failed="false",profile="",status_class="2xx"`: 1,
			`endpoint="jwks",failed="false",profile="",status_class="2xx"`:      1,
			`endpoint="token",failed="false",profile="",status_class="2xx"`:     1,
		},
	} {
		m := byName[name]
		hist, ok := m.Data.(metricdata.Histogram[float64])
		if !ok {
			t.Errorf("%s is %T, want a Histogram[float64]", name, m.Data)
			continue
		}
		if m.Unit != "s" {
			t.Errorf("%s unit %q, want s", name, m.Unit)
		}
		got := map[string]uint64{}
		for _, dp := range hist.DataPoints {
			got[attrs(dp.Attributes)] += dp.Count
			if len(dp.Bounds) != len(otelDurationBuckets) {
				t.Errorf("%s has bounds %v, want %v", name, dp.Bounds, otelDurationBuckets)
			}
		}
		if !maps.Equal(got, want) {
			t.Errorf("%s counts = %v, want %v", name, got, want)
		}
	}
}

// The debug log has ssokit's login steps and provider calls, and no
// secret.
func TestLogs(t *testing.T) {
	h := newHarness(t)
	h.signIn()
	h.get("/auth/sso/callback?state=forged&code=x")
	logs := h.logs.String()
	for _, want := range []string{
		`"msg":"sso: login step"`,
		`"msg":"sso: provider call"`,
		`"endpoint":"token"`,
		`"code":"state_invalid"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	assertNoSecrets(t, "the log", logs, h.secrets())
	if t.Failed() {
		t.Logf("log:\n%s", logs)
	}
}

// Run as main runs it, against the fake provider that startFakeProvider
// starts, the app exports its OpenTelemetry metrics to the console writer,
// at the latest when the MeterProvider shuts down.
func TestConsoleExporter(t *testing.T) {
	srv := httptest.NewUnstartedServer(nil)
	defer srv.Close()
	base := "http://" + srv.Listener.Addr().String()
	var out, console syncBuffer
	cfg := ssoclient.Config{RedirectURL: base + "/auth/sso/callback", Logger: slog.New(slog.DiscardHandler)}
	idp, err := startFakeProvider(&cfg, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer idp.Close()
	if !strings.Contains(out.String(), idp.Issuer()) || cfg.Issuer != idp.Issuer() || cfg.ClientSecret == "" {
		t.Fatalf("startFakeProvider: cfg %+v, printed\n%s", cfg, out.String())
	}
	idp.SetLoginUser("alice")
	mp, err := newMeterProvider("console", &console)
	if err != nil {
		t.Fatal(err)
	}
	a, err := newApp(t.Context(), cfg, prometheus.NewRegistry(), mp)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = a
	srv.Start()
	jar, _ := cookiejar.New(nil)
	resp, err := (&http.Client{Jar: jar}).Get(base + "/auth/sso/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "Signed in as") {
		t.Fatalf("sign-in ended on %d:\n%s", resp.StatusCode, body)
	}
	if err := mp.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"Name":"ssokit.logins"`, `"Name":"ssokit.provider.request.duration"`, `"Value":"success"`} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("the console export lacks %s:\n%s", want, console.String())
		}
	}
	if strings.Contains(console.String(), string(cfg.ClientSecret)) {
		t.Error("the console export contains the client secret")
	}

	if _, err := newMeterProvider("otlp", io.Discard); err == nil {
		t.Error(`newMeterProvider("otlp"): no error`)
	}
}

func TestNewLogger(t *testing.T) {
	for level, debug := range map[string]bool{"": false, "info": false, "DEBUG": true, "debug": true, "warn": false} {
		l, err := newLogger(io.Discard, level)
		if err != nil {
			t.Fatalf("newLogger(%q): %v", level, err)
		}
		if got := l.Enabled(context.Background(), slog.LevelDebug); got != debug {
			t.Errorf("newLogger(%q) debug enabled %v, want %v", level, got, debug)
		}
	}
	if _, err := newLogger(io.Discard, "loud"); err == nil {
		t.Error(`newLogger("loud"): no error`)
	}
}

func TestStatusClass(t *testing.T) {
	for status, want := range map[int]string{0: "none", 200: "2xx", 204: "2xx", 302: "3xx", 401: "4xx", 503: "5xx", 999: "none"} {
		if got := statusClass(status); got != want {
			t.Errorf("statusClass(%d) = %q, want %q", status, got, want)
		}
		if got := otelStatusClass(status); got != want {
			t.Errorf("otelStatusClass(%d) = %q, want %q", status, got, want)
		}
	}
}

func hasLine(text, line string) bool {
	for l := range strings.Lines(text) {
		if strings.TrimSuffix(l, "\n") == line {
			return true
		}
	}
	return false
}

// ssokitLines are the ssokit_ lines of a scrape, for failure messages.
func ssokitLines(metrics string) string {
	var b strings.Builder
	for l := range strings.Lines(metrics) {
		if strings.HasPrefix(l, "ssokit_") {
			b.WriteString(l)
		}
	}
	return b.String()
}

func assertNoSecrets(t *testing.T, where, text string, secrets map[string]string) {
	t.Helper()
	for name, v := range secrets {
		if strings.Contains(text, v) {
			t.Errorf("%s contains the %s", where, name)
		}
	}
}

// attrs writes an attribute set as Prometheus labels, sorted by key.
func attrs(s attribute.Set) string {
	var parts []string
	for _, kv := range s.ToSlice() {
		parts = append(parts, string(kv.Key)+`="`+kv.Value.Emit()+`"`)
	}
	return strings.Join(parts, ",")
}
