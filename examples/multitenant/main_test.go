package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
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

// harness runs the app behind httptest with a SQLite file of its own.
type harness struct {
	t    *testing.T
	app  *app
	srv  *httptest.Server
	base string
	db   string
	out  *syncBuffer // what the app prints for the person who started it
	logs *syncBuffer
}

func newHarness(t *testing.T, dbPath string) *harness {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	h := &harness{t: t, srv: srv, db: dbPath, base: "http://" + srv.Listener.Addr().String(), out: &syncBuffer{}, logs: &syncBuffer{}}
	a, err := newApp(context.Background(), options{
		DBPath:  dbPath,
		BaseURL: h.base,
		Out:     h.out,
		Logger:  slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		srv.Listener.Close()
		t.Fatalf("newApp: %v", err)
	}
	h.app = a
	srv.Config.Handler = a
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
	return h
}

func newTestApp(t *testing.T) *harness {
	return newHarness(t, filepath.Join(t.TempDir(), "multitenant.db"))
}

func (h *harness) browser() *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		h.t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

type result struct {
	status int
	url    *url.URL
	header http.Header
	body   string
}

func (r result) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("%d %s: not a JSON object: %v", r.status, r.body, err)
	}
	return m
}

// do sends a request as the browser b would from the app's own pages
// (Origin set on state-changing requests unless origin is false).
func (h *harness) do(b *http.Client, method, path string, body io.Reader, contentType string, origin bool) result {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if strings.HasPrefix(path, "/admin/api/") {
		req.Header.Set("Accept", "application/json")
	}
	if origin && method != http.MethodGet {
		req.Header.Set("Origin", h.base)
	}
	resp, err := b.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: string(rb)}
}

func (h *harness) get(b *http.Client, path string) result {
	h.t.Helper()
	return h.do(b, http.MethodGet, path, nil, "", true)
}

func (h *harness) api(b *http.Client, method, path string, v any) result {
	h.t.Helper()
	var body io.Reader
	ct := ""
	if v != nil {
		j, err := json.Marshal(v)
		if err != nil {
			h.t.Fatal(err)
		}
		body, ct = bytes.NewReader(j), "application/json"
	}
	return h.do(b, method, path, body, ct, true)
}

// signIn signs a new browser in with the login query; it must land home.
func (h *harness) signIn(query string) *http.Client {
	h.t.Helper()
	b := h.browser()
	if r := h.get(b, "/auth/sso/login?"+query); r.status != 200 || r.url.Path != "/" || !strings.Contains(r.body, "Signed in as") {
		h.t.Fatalf("sign-in %s: %d at %s: %s", query, r.status, r.url, clip(r.body))
	}
	return b
}

// refused checks a response is the failure code with its status.
func (h *harness) refused(r result, status int, code ssoclient.Code) {
	h.t.Helper()
	if r.status != status || !strings.Contains(r.body, string(code)) {
		h.t.Fatalf("got %d at %s: %s; want %d %s", r.status, r.url, clip(r.body), status, code)
	}
}

// session returns the browser's session.
func (h *harness) session(b *http.Client) *ssoclient.Session {
	u, _ := url.Parse(h.base)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range b.Jar.Cookies(u) {
		req.AddCookie(c)
	}
	return h.app.sso.Session(req)
}

func clip(s string) string {
	if len(s) > 600 {
		return s[:600] + "…"
	}
	return s
}

func TestSeededProfilesAndSecretKey(t *testing.T) {
	h := newTestApp(t)
	admin := h.signIn("profile=acme-okta&login_hint=alice")
	r := h.get(admin, "/admin/api/profiles")
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var ps []ssoclient.Profile
	if err := json.Unmarshal([]byte(r.body), &ps); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range ps {
		got[p.ID] = p.Organization + " " + string(p.AuthMethod) + " " + p.Policy.Mode.String()
		if !p.Enabled || p.Vendor != "oidc" {
			t.Errorf("%s: enabled %v vendor %q", p.ID, p.Enabled, p.Vendor)
		}
	}
	want := map[string]string{
		"acme-okta":        "acme client_secret_post jit",
		"acme-contractors": "acme private_key_jwt match",
		"globex-entra":     "globex none jit",
	}
	if len(got) != len(want) {
		t.Fatalf("profiles %v; want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: %q; want %q", id, got[id], w)
		}
	}
	if strings.Contains(r.body, acmeOktaSecret) || strings.Contains(r.body, "PRIVATE KEY") {
		t.Fatalf("a secret in the list: %s", r.body)
	}

	// The generated key is next to the database, readable by its owner only.
	fi, err := os.Stat(h.db + ".secret-key")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret key file: %v %v", fi, err)
	}
	if !strings.Contains(h.out.String(), "secret key: generated and written to "+h.db+".secret-key") {
		t.Fatalf("stdout does not say where the key is: %s", h.out)
	}
}
