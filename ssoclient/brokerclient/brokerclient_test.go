package brokerclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssoclient/brokerclient"
)

// fakeBroker answers the ticket endpoint with what a test sets, and
// publishes a key.
type fakeBroker struct {
	srv    *httptest.Server
	key    *ecdsa.PrivateKey
	mu     sync.Mutex
	form   url.Values
	status int
	answer any
	ctype  string
}

func newFakeBroker(t *testing.T) *fakeBroker {
	fb := &fakeBroker{status: 200, ctype: "application/json"}
	fb.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	mux := http.NewServeMux()
	mux.HandleFunc("/sso/ticket", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		fb.mu.Lock()
		fb.form = r.PostForm
		status, answer, ctype := fb.status, fb.answer, fb.ctype
		fb.mu.Unlock()
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(answer)
	})
	mux.HandleFunc("/sso/jwks", func(w http.ResponseWriter, r *http.Request) {
		jwk, _ := jose.PublicJWK(&fb.key.PublicKey, "k1", "ES256")
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{jwk}})
	})
	fb.srv = httptest.NewServer(mux)
	t.Cleanup(fb.srv.Close)
	return fb
}

func (fb *fakeBroker) url() string { return fb.srv.URL + "/sso" }

func (fb *fakeBroker) set(status int, answer any) {
	fb.mu.Lock()
	fb.status, fb.answer = status, answer
	fb.mu.Unlock()
}

func (fb *fakeBroker) sign(t *testing.T, mod func(map[string]any)) string {
	now := time.Now()
	cl := map[string]any{
		"iss": fb.url(), "aud": "wiki", "sub": "alice", "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"idp_iss": "https://idp.example.com", "email": "alice@example.com", "email_verified": true,
		"preferred_username": "alice", "name": "Alice", "groups": []string{"staff"}, "profile": "acme",
		"auth_time": now.Add(-time.Minute).Unix(), "return_to": "https://wiki.example.com/r",
	}
	if mod != nil {
		mod(cl)
	}
	tok, err := jose.SignJSON(fb.key, "ES256", map[string]any{"kid": "k1", "typ": "JWT"}, cl)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func answer(jwt string) map[string]any {
	return map[string]any{
		"app": "wiki", "return_to": "https://wiki.example.com/r", "issuer": "https://idp.example.com", "subject": "alice",
		"email": "alice@example.com", "email_verified": true, "username": "alice", "name": "Alice", "groups": []string{"staff"},
		"profile": "acme", "auth_time": time.Now().Unix(), "identity_jwt": jwt,
	}
}

func TestNewValidates(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, cfg := range map[string]brokerclient.Config{
		"no url":    {AppID: "wiki", Secret: "s"},
		"http":      {BrokerURL: "http://sso.example.com/sso", AppID: "wiki", Secret: "s"},
		"query":     {BrokerURL: "https://sso.example.com/sso?x=1", AppID: "wiki", Secret: "s"},
		"no app":    {BrokerURL: "https://sso.example.com/sso", Secret: "s"},
		"no secret": {BrokerURL: "https://sso.example.com/sso", AppID: "wiki"},
		"both":      {BrokerURL: "https://sso.example.com/sso", AppID: "wiki", Secret: "s", PrivateKey: key},
		"small key": {BrokerURL: "https://sso.example.com/sso", AppID: "wiki", PrivateKey: key},
	} {
		if _, err := brokerclient.New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLoginURL(t *testing.T) {
	bc, err := brokerclient.New(brokerclient.Config{BrokerURL: "https://sso.example.com/api/sso/", AppID: "wiki", Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(bc.LoginURL("https://wiki.example.com/r?a=1&b=2", brokerclient.WithEmail("a@example.com"), brokerclient.WithPrompt("login")))
	if u.Scheme+"://"+u.Host+u.Path != "https://sso.example.com/api/sso/login" {
		t.Fatalf("login URL %s", u)
	}
	for k, want := range map[string]string{"app": "wiki", "return_to": "https://wiki.example.com/r?a=1&b=2", "email": "a@example.com", "prompt": "login"} {
		if got := u.Query().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if strings.Contains(u.String(), "s&") || u.Query().Has("app_secret") {
		t.Errorf("the login URL carries the secret: %s", u)
	}
}

func TestRedeemSigned(t *testing.T) {
	fb := newFakeBroker(t)
	bc, _ := brokerclient.New(brokerclient.Config{BrokerURL: fb.url(), AppID: "wiki", Secret: "wiki-secret", HTTPClient: fb.srv.Client()})
	fb.set(200, answer(fb.sign(t, nil)))
	id, err := bc.Redeem(context.Background(), "TICKET", "https://wiki.example.com/r")
	if err != nil {
		t.Fatal(err)
	}
	if !id.Signed || id.Subject != "alice" || id.Issuer != "https://idp.example.com" || id.Profile != "acme" || len(id.Groups) != 1 || id.AuthTime.IsZero() {
		t.Fatalf("identity %+v", id)
	}
	fb.mu.Lock()
	form := fb.form
	fb.mu.Unlock()
	if form.Get("ticket") != "TICKET" || form.Get("app_id") != "wiki" || form.Get("app_secret") != "wiki-secret" || form.Get("return_to") != "https://wiki.example.com/r" {
		t.Fatalf("form %v", form)
	}

	for name, jwt := range map[string]string{
		"wrong iss":   fb.sign(t, func(m map[string]any) { m["iss"] = "https://evil.example.com/sso" }),
		"wrong aud":   fb.sign(t, func(m map[string]any) { m["aud"] = "crm" }),
		"two auds":    fb.sign(t, func(m map[string]any) { m["aud"] = []string{"wiki", "crm"} }),
		"expired":     fb.sign(t, func(m map[string]any) { m["exp"] = time.Now().Add(-time.Hour).Unix() }),
		"no exp":      fb.sign(t, func(m map[string]any) { delete(m, "exp") }),
		"future iat":  fb.sign(t, func(m map[string]any) { m["iat"] = time.Now().Add(time.Hour).Unix() }),
		"other sub":   fb.sign(t, func(m map[string]any) { m["sub"] = "mallory" }),
		"tampered":    fb.sign(t, nil)[:20] + "x" + fb.sign(t, nil)[21:],
		"another key": otherKeyToken(t, fb),
		"other route": fb.sign(t, func(m map[string]any) { m["return_to"] = "https://wiki.example.com/other" }),
	} {
		fb.set(200, answer(jwt))
		if _, err := bc.Redeem(context.Background(), "TICKET", "https://wiki.example.com/r"); !errors.Is(err, &brokerclient.Error{Code: brokerclient.CodeIdentityInvalid}) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func otherKeyToken(t *testing.T, fb *fakeBroker) string {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tok, err := jose.SignJSON(k, "ES256", map[string]any{"kid": "k1"}, map[string]any{"iss": fb.url(), "aud": "wiki", "sub": "alice", "exp": time.Now().Add(time.Minute).Unix()})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRedeemErrors(t *testing.T) {
	fb := newFakeBroker(t)
	bc, _ := brokerclient.New(brokerclient.Config{BrokerURL: fb.url(), AppID: "wiki", Secret: "wiki-secret", HTTPClient: fb.srv.Client()})
	fb.set(400, map[string]string{"error": "ticket_invalid", "error_description": "The ticket is invalid"})
	_, err := bc.Redeem(context.Background(), "TICKET", "")
	var be *brokerclient.Error
	if !errors.As(err, &be) || be.Code != brokerclient.CodeTicketInvalid || be.Status != 400 {
		t.Fatalf("ticket_invalid: %v", err)
	}
	if strings.Contains(err.Error(), "TICKET") || strings.Contains(err.Error(), "wiki-secret") {
		t.Fatalf("the error holds the ticket or secret: %v", err)
	}
	fb.set(401, map[string]string{"error": "app_auth_failed"})
	if _, err := bc.Redeem(context.Background(), "TICKET", ""); !errors.Is(err, &brokerclient.Error{Code: brokerclient.CodeAppAuthFailed}) {
		t.Fatalf("app_auth_failed: %v", err)
	}
	fb.mu.Lock()
	fb.ctype = "text/html"
	fb.mu.Unlock()
	fb.set(502, "oops")
	if _, err := bc.Redeem(context.Background(), "TICKET", ""); !errors.Is(err, &brokerclient.Error{Code: brokerclient.CodeUnavailable}) {
		t.Fatalf("HTML answer: %v", err)
	}
	fb.mu.Lock()
	fb.ctype = "application/json"
	fb.mu.Unlock()
	// Unsigned answers: accepted unless RequireSigned; checked for app and
	// return URL either way.
	unsigned := answer("")
	delete(unsigned, "identity_jwt")
	fb.set(200, unsigned)
	if id, err := bc.Redeem(context.Background(), "TICKET", "https://wiki.example.com/r"); err != nil || id.Signed || id.Subject != "alice" {
		t.Fatalf("unsigned: %+v %v", id, err)
	}
	if _, err := bc.Redeem(context.Background(), "TICKET", "https://wiki.example.com/other"); !errors.Is(err, &brokerclient.Error{Code: brokerclient.CodeIdentityInvalid}) {
		t.Fatalf("unsigned, other return URL: %v", err)
	}
	strict, _ := brokerclient.New(brokerclient.Config{BrokerURL: fb.url(), AppID: "wiki", Secret: "wiki-secret", HTTPClient: fb.srv.Client(), RequireSigned: true})
	if _, err := strict.Redeem(context.Background(), "TICKET", ""); !errors.Is(err, &brokerclient.Error{Code: brokerclient.CodeIdentityInvalid}) {
		t.Fatalf("RequireSigned: %v", err)
	}
	if _, err := bc.Redeem(context.Background(), "", ""); !errors.Is(err, &brokerclient.Error{Code: brokerclient.CodeTicketInvalid}) {
		t.Fatalf("empty ticket: %v", err)
	}
}

func TestRedeemIsBounded(t *testing.T) {
	block := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	bc, _ := brokerclient.New(brokerclient.Config{BrokerURL: srv.URL, AppID: "wiki", Secret: "s", Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := bc.Redeem(context.Background(), "TICKET", "")
	if !errors.Is(err, &brokerclient.Error{Code: brokerclient.CodeUnavailable}) || time.Since(start) > 5*time.Second {
		t.Fatalf("slow broker: %v after %s", err, time.Since(start))
	}
}
