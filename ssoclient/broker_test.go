package ssoclient_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/brokerclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

const (
	wikiSecret = "wiki-secret-of-some-length"
	crmSecret  = "crm-secret-of-some-length!"
)

// offsetClock is a clock a test can move forward.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

// brokerEnv is a broker (an app whose Client has Config.Broker) and two
// relying apps' servers, which only show where the browser landed.
type brokerEnv struct {
	*app
	wiki, crm       *httptest.Server
	wikiRet, crmRet string
	clock           *offsetClock
}

func newBrokerEnv(t *testing.T, configure func(*ssoclient.Broker, *ssoclient.Config)) *brokerEnv {
	t.Helper()
	landing := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app page") })
	e := &brokerEnv{wiki: httptest.NewServer(landing), crm: httptest.NewServer(landing), clock: &offsetClock{}}
	t.Cleanup(e.wiki.Close)
	t.Cleanup(e.crm.Close)
	e.wikiRet = e.wiki.URL + "/sso/return?lang=en"
	e.crmRet = e.crm.URL + "/cb"
	e.app = newApp(t, nil, func(cfg *ssoclient.Config) {
		b := &ssoclient.Broker{Apps: []ssoclient.RelyingApp{
			{ID: "wiki", Name: "Wiki", ReturnURLs: []string{e.wikiRet, e.wiki.URL + "/other"}, Secret: wikiSecret},
			{ID: "crm", Name: "CRM", ReturnURLs: []string{e.crmRet}, Secret: crmSecret},
		}}
		cfg.Now = e.clock.Now
		if configure != nil {
			configure(b, cfg)
		}
		cfg.Broker = b
	})
	return e
}

// loginFor runs a broker sign-in for an app in browser b and returns where
// it ended.
func (e *brokerEnv) loginFor(b *http.Client, query string) result {
	e.t.Helper()
	return e.get(b, "/auth/sso/login?"+query)
}

func q(app, returnTo string) string {
	return url.Values{"app": {app}, "return_to": {returnTo}}.Encode()
}

// ticketFrom is the ticket of a sign-in that landed at an app.
func (e *brokerEnv) ticketFrom(r result, wantPrefix string) string {
	e.t.Helper()
	if r.status != 200 || !strings.HasPrefix(r.url.String(), wantPrefix) {
		e.t.Fatalf("sign-in ended at %s (%d): %q; want %s…", r.url, r.status, clipBody(r.body), wantPrefix)
	}
	tk := r.url.Query().Get("ticket")
	if len(tk) != 43 {
		e.t.Fatalf("ticket %q is not 256 bits", tk)
	}
	return tk
}

type redeemed struct {
	status int
	header http.Header
	body   map[string]any
}

func (e *brokerEnv) redeem(form url.Values) redeemed {
	e.t.Helper()
	resp, err := http.Post(e.srv.URL+"/auth/sso/ticket", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		e.t.Fatalf("answer %d is not JSON: %v", resp.StatusCode, err)
	}
	return redeemed{resp.StatusCode, resp.Header, m}
}

func wikiForm(ticket string) url.Values {
	return url.Values{"ticket": {ticket}, "app_id": {"wiki"}, "app_secret": {wikiSecret}}
}

func (r redeemed) wantError(t *testing.T, code ssoclient.Code, status int) {
	t.Helper()
	if r.status != status || r.body["error"] != string(code) {
		t.Fatalf("got %d %v; want %d %s", r.status, r.body, status, code)
	}
	if _, leaked := r.body["subject"]; leaked {
		t.Fatalf("a refusal carries an identity: %v", r.body)
	}
}

func TestBrokerTicketFlow(t *testing.T) {
	e := newBrokerEnv(t, nil)
	r := e.loginFor(e.browser, q("wiki", e.wikiRet))
	tk := e.ticketFrom(r, e.wikiRet+"&ticket=")
	if r.url.Query().Get("lang") != "en" {
		t.Errorf("the return URL's own query was lost: %s", r.url)
	}
	got := e.redeem(wikiForm(tk))
	if got.status != 200 {
		t.Fatalf("redeem: %d %v", got.status, got.body)
	}
	if cc := got.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control %q", cc)
	}
	for k, want := range map[string]any{
		"issuer": e.idp.Issuer(), "subject": "alice", "email": "alice@example.com", "email_verified": true,
		"app": "wiki", "return_to": e.wikiRet, "profile": "",
	} {
		if got.body[k] != want {
			t.Errorf("%s = %v, want %v", k, got.body[k], want)
		}
	}
	for _, k := range []string{"username", "name", "groups", "auth_time"} {
		if _, ok := got.body[k]; !ok {
			t.Errorf("the answer lacks %s: %v", k, got.body)
		}
	}
	if at, _ := got.body["auth_time"].(float64); at <= 0 || time.Since(time.Unix(int64(at), 0)) > time.Minute {
		t.Errorf("auth_time %v", got.body["auth_time"])
	}
	if _, ok := got.body["identity_jwt"]; ok {
		t.Errorf("an identity_jwt without a signing key")
	}
	// Single use.
	e.redeem(wikiForm(tk)).wantError(t, ssoclient.CodeTicketInvalid, 400)
	// The broker has its own session too.
	if who := e.signedIn(); who != "alice" {
		t.Errorf("broker session for %q", who)
	}
	// Without a key there is no key set.
	if resp, err := http.Get(e.srv.URL + "/auth/sso/jwks"); err != nil || resp.StatusCode != 404 {
		t.Errorf("jwks without a key: %v %v", resp.StatusCode, err)
	}
}

func TestBrokerSecondAppNeedsNoSignIn(t *testing.T) {
	e := newBrokerEnv(t, nil)
	e.ticketFrom(e.loginFor(e.browser, q("wiki", e.wikiRet)), e.wikiRet)
	authorizes := e.idp.Requests(ssotest.EndpointAuthorize)
	tk := e.ticketFrom(e.loginFor(e.browser, q("crm", e.crmRet)), e.crmRet+"?ticket=")
	if n := e.idp.Requests(ssotest.EndpointAuthorize); n != authorizes {
		t.Fatalf("the second app went to the provider again (%d authorize requests, had %d)", n, authorizes)
	}
	got := e.redeem(url.Values{"ticket": {tk}, "app_id": {"crm"}, "app_secret": {crmSecret}})
	if got.status != 200 || got.body["subject"] != "alice" || got.body["app"] != "crm" {
		t.Fatalf("crm redeem: %d %v", got.status, got.body)
	}
	// prompt=login, another profile or another email sign in again.
	for _, extra := range []string{"&prompt=login", "&email=bob@example.com"} {
		e.ticketFrom(e.loginFor(e.browser, q("crm", e.crmRet)+extra), e.crmRet)
		if n := e.idp.Requests(ssotest.EndpointAuthorize); n != authorizes+1 {
			t.Fatalf("%s: %d authorize requests, want %d", extra, n, authorizes+1)
		}
		authorizes++
	}
	// A fresh browser has no broker session: it signs in.
	e.ticketFrom(e.loginFor(newBrowser(t, e.idp), q("crm", e.crmRet)), e.crmRet)
	if n := e.idp.Requests(ssotest.EndpointAuthorize); n != authorizes+1 {
		t.Fatalf("a browser without a session skipped the provider")
	}
}

func TestBrokerLoginRefusals(t *testing.T) {
	e := newBrokerEnv(t, nil)
	wikiHost := strings.TrimPrefix(e.wiki.URL, "http://")
	lookAlikes := []string{
		"", // wiki has two return URLs, so none is implied
		strings.ToUpper(e.wikiRet[:4]) + e.wikiRet[4:], // scheme case
		strings.Replace(e.wikiRet, "/sso/return", "/SSO/return", 1),
		strings.Replace(e.wikiRet, "/sso/return", "/sso/return/", 1),
		strings.Replace(e.wikiRet, "/sso/return", "/sso/return/x", 1),
		strings.Replace(e.wikiRet, "/sso/return", "/sso/retur%6E", 1),
		strings.Replace(e.wikiRet, "/sso/return", "/sso/../sso/return", 1),
		e.wikiRet + "&x=1",
		e.wikiRet + "#frag",
		strings.Replace(e.wikiRet, "?lang=en", "?lang=fr", 1),
		strings.Replace(e.wikiRet, "?lang=en", "", 1),
		"http://evil.example@" + wikiHost + "/sso/return?lang=en",
		"http://" + wikiHost + "@evil.example/sso/return?lang=en",
		strings.Replace(e.wikiRet, "http://", "https://", 1),
		strings.Replace(e.wikiRet, "127.0.0.1", "localhost", 1),
		strings.Replace(e.wikiRet, wikiHost, wikiHost+"0", 1), // another port
		e.crmRet, // registered, but for another app
		"/sso/return?lang=en",
		"//" + wikiHost + "/sso/return?lang=en",
		" " + e.wikiRet,
	}
	for _, ret := range lookAlikes {
		b := newBrowser(t, e.idp)
		b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		before := e.idp.Requests(ssotest.EndpointAuthorize)
		r := e.loginFor(b, q("wiki", ret))
		if r.status != 400 || !strings.Contains(r.body, string(ssoclient.CodeReturnURLInvalid)) {
			t.Errorf("return_to %q: %d %q", ret, r.status, clipBody(r.body))
		}
		if e.idp.Requests(ssotest.EndpointAuthorize) != before {
			t.Errorf("return_to %q: went to the provider", ret)
		}
	}
	b := newBrowser(t, e.idp)
	b.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for query, code := range map[string]ssoclient.Code{
		q("nope", e.wikiRet):                           ssoclient.CodeAppUnknown,
		q("WIKI", e.wikiRet):                           ssoclient.CodeAppUnknown,
		"app=&return_to=" + url.QueryEscape(e.wikiRet): ssoclient.CodeAppUnknown,
		q("wiki", e.wikiRet) + "&app=crm":              ssoclient.CodeInvalidRequest,
	} {
		r := e.loginFor(b, query)
		if r.status != 400 || !strings.Contains(r.body, string(code)) {
			t.Errorf("%s: %d %q; want 400 %s", query, r.status, clipBody(r.body), code)
		}
	}
	// A signed-in browser is refused the same way: the session is no
	// shortcut around the return URL check.
	e.ticketFrom(e.loginFor(e.browser, q("wiki", e.wikiRet)), e.wikiRet)
	e.browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	r := e.loginFor(e.browser, q("wiki", e.wikiRet+"x"))
	if r.status != 400 || !strings.Contains(r.body, string(ssoclient.CodeReturnURLInvalid)) {
		t.Errorf("signed in, bad return_to: %d", r.status)
	}
	// An app with one return URL may leave return_to out.
	e.browser.CheckRedirect = nil
	e.ticketFrom(e.loginFor(e.browser, "app=crm"), e.crmRet+"?ticket=")
}

func TestBrokerRedemptionRefusals(t *testing.T) {
	e := newBrokerEnv(t, nil)
	issue := func() string {
		t.Helper()
		return e.ticketFrom(e.loginFor(e.browser, q("wiki", e.wikiRet)), e.wikiRet)
	}

	// A wrong credential: refused, and the ticket is not spent.
	tk := issue()
	for _, form := range []url.Values{
		{"ticket": {tk}, "app_id": {"wiki"}, "app_secret": {"wrong"}},
		{"ticket": {tk}, "app_id": {"wiki"}, "app_secret": {crmSecret}},
		{"ticket": {tk}, "app_id": {"wiki"}},
		{"ticket": {tk}, "app_id": {"nope"}, "app_secret": {wikiSecret}},
		{"ticket": {tk}, "app_secret": {wikiSecret}},
		{"ticket": {tk}, "app_id": {"wiki"}, "client_assertion_type": {ssoclient.AssertionType}, "client_assertion": {"a.b.c"}},
	} {
		e.redeem(form).wantError(t, ssoclient.CodeAppAuthFailed, 401)
	}
	if got := e.redeem(wikiForm(tk)); got.status != 200 {
		t.Fatalf("the ticket did not survive failed authentications: %d %v", got.status, got.body)
	}

	// Another app: refused, and the ticket is spent (it has leaked).
	tk = issue()
	e.redeem(url.Values{"ticket": {tk}, "app_id": {"crm"}, "app_secret": {crmSecret}}).wantError(t, ssoclient.CodeTicketInvalid, 400)
	e.redeem(wikiForm(tk)).wantError(t, ssoclient.CodeTicketInvalid, 400)

	// Another return URL than the one it was issued for.
	tk = issue()
	f := wikiForm(tk)
	f.Set("return_to", e.wiki.URL+"/other")
	e.redeem(f).wantError(t, ssoclient.CodeTicketInvalid, 400)
	tk = issue()
	f = wikiForm(tk)
	f.Set("return_to", e.wikiRet)
	if got := e.redeem(f); got.status != 200 {
		t.Fatalf("with the right return_to: %d %v", got.status, got.body)
	}

	// Unknown, and forged from a real one.
	e.redeem(wikiForm("x")).wantError(t, ssoclient.CodeTicketInvalid, 400)
	tk = issue()
	forged := tk[:len(tk)-1] + "A"
	if forged == tk { // the last character already was A (one ticket in 16)
		forged = tk[:len(tk)-1] + "Q"
	}
	e.redeem(wikiForm(forged)).wantError(t, ssoclient.CodeTicketInvalid, 400)

	// Expired: 60 seconds of life.
	tk = issue()
	e.clock.Advance(61 * time.Second)
	e.redeem(wikiForm(tk)).wantError(t, ssoclient.CodeTicketInvalid, 400)
	tk = issue()
	e.clock.Advance(50 * time.Second)
	if got := e.redeem(wikiForm(tk)); got.status != 200 {
		t.Fatalf("a 50-second-old ticket: %d %v", got.status, got.body)
	}

	// The request's form.
	tk = issue()
	resp, err := http.Get(e.srv.URL + "/auth/sso/ticket?" + wikiForm(tk).Encode())
	if err != nil || resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Fatalf("GET: %v %v", resp.StatusCode, err)
	}
	resp, err = http.Post(e.srv.URL+"/auth/sso/ticket?"+wikiForm(tk).Encode(), "application/x-www-form-urlencoded", nil)
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("POST with the form in the query: %v %v", resp.StatusCode, err)
	}
	resp, err = http.Post(e.srv.URL+"/auth/sso/ticket", "application/json", strings.NewReader(`{"ticket":"`+tk+`"}`))
	if err != nil || resp.StatusCode != 400 {
		t.Fatalf("POST JSON: %v %v", resp.StatusCode, err)
	}
	f = wikiForm(tk)
	f.Add("ticket", "other")
	e.redeem(f).wantError(t, ssoclient.CodeInvalidRequest, 400)
	if got := e.redeem(wikiForm(tk)); got.status != 200 {
		t.Fatalf("the ticket did not survive malformed requests: %d %v", got.status, got.body)
	}
}

func TestBrokerConcurrentRedemption(t *testing.T) {
	e := newBrokerEnv(t, nil)
	tk := e.ticketFrom(e.loginFor(e.browser, q("wiki", e.wikiRet)), e.wikiRet)
	var wins, refusals atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resp, err := http.Post(e.srv.URL+"/auth/sso/ticket", "application/x-www-form-urlencoded", strings.NewReader(wikiForm(tk).Encode()))
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			switch resp.StatusCode {
			case 200:
				wins.Add(1)
			case 400:
				refusals.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || refusals.Load() != 49 {
		t.Fatalf("%d redemptions won and %d were refused; want 1 and 49", wins.Load(), refusals.Load())
	}
}

func TestBrokerLogsHoldNoSecrets(t *testing.T) {
	e := newBrokerEnv(t, nil)
	tk := e.ticketFrom(e.loginFor(e.browser, q("wiki", e.wikiRet)), e.wikiRet)
	code := e.idp.LastTokenRequest().Form.Get("code")
	e.redeem(url.Values{"ticket": {tk}, "app_id": {"wiki"}, "app_secret": {"wrong-" + wikiSecret}})
	e.redeem(wikiForm(tk))
	e.redeem(wikiForm(tk))
	tk2 := e.ticketFrom(e.loginFor(e.browser, q("wiki", e.wikiRet)), e.wikiRet)
	e.redeem(url.Values{"ticket": {tk2}, "app_id": {"crm"}, "app_secret": {crmSecret}})
	e.logMu.Lock()
	logs := e.logs.String()
	e.logMu.Unlock()
	for name, v := range map[string]string{"ticket": tk, "second ticket": tk2, "wiki secret": wikiSecret, "crm secret": crmSecret, "code": code, "client secret": ssotest.DefaultClientSecret} {
		if v != "" && strings.Contains(logs, v) {
			t.Errorf("the logs hold the %s", name)
		}
	}
	for _, want := range []string{"ticket issued", "ticket redeemed", "ticket refused", "already redeemed", "wrong app_secret", "issued to app"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q", want)
		}
	}
}

func TestBrokerSignedIdentityAndAssertions(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	brokerKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	e := newBrokerEnv(t, func(b *ssoclient.Broker, _ *ssoclient.Config) {
		b.SigningKey = brokerKey
		b.Apps = append(b.Apps,
			ssoclient.RelyingApp{ID: "rsa-app", ReturnURLs: []string{"http://127.0.0.1:1/rsa"}, PublicKey: &rsaKey.PublicKey},
			ssoclient.RelyingApp{ID: "ec-app", ReturnURLs: []string{"http://127.0.0.1:1/ec"}, PublicKey: &ecKey.PublicKey},
		)
	})
	ticketAt := func(app, ret string) string {
		t.Helper()
		b := e.browser
		b.CheckRedirect = func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), ret) {
				return http.ErrUseLastResponse
			}
			return nil
		}
		defer func() { b.CheckRedirect = nil }()
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/auth/sso/login?"+q(app, ret), nil)
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if !strings.HasPrefix(loc.String(), ret+"?ticket=") {
			t.Fatalf("landed at %q", loc)
		}
		return loc.Query().Get("ticket")
	}
	broker := e.srv.URL + "/auth/sso"

	for _, tc := range []struct {
		app string
		key crypto.Signer
	}{{"rsa-app", rsaKey}, {"ec-app", ecKey}} {
		ret := "http://127.0.0.1:1/" + strings.TrimSuffix(tc.app, "-app")
		bc, err := brokerclient.New(brokerclient.Config{BrokerURL: broker, AppID: tc.app, PrivateKey: tc.key, RequireSigned: true})
		if err != nil {
			t.Fatal(err)
		}
		id, err := bc.Redeem(context.Background(), ticketAt(tc.app, ret), ret)
		if err != nil {
			t.Fatalf("%s: Redeem: %v", tc.app, err)
		}
		if !id.Signed || id.Subject != "alice" || id.Issuer != e.idp.Issuer() || id.Email != "alice@example.com" || id.App != tc.app || id.AuthTime.IsZero() {
			t.Fatalf("%s: identity %+v", tc.app, id)
		}
		// The secret method is not this app's.
		tk := ticketAt(tc.app, ret)
		e.redeem(url.Values{"ticket": {tk}, "app_id": {tc.app}, "app_secret": {"whatever-long-enough"}}).wantError(t, ssoclient.CodeAppAuthFailed, 401)
		// An assertion from a brokerclient of another app's key.
		other, _ := brokerclient.New(brokerclient.Config{BrokerURL: broker, AppID: tc.app, PrivateKey: map[string]crypto.Signer{"rsa-app": ecKey, "ec-app": rsaKey}[tc.app]})
		if _, err := other.Redeem(context.Background(), tk, ""); !errors.Is(err, &brokerclient.Error{Code: brokerclient.CodeAppAuthFailed}) {
			t.Fatalf("%s: another key: %v", tc.app, err)
		}
		if _, err := bc.Redeem(context.Background(), tk, ""); err != nil {
			t.Fatalf("%s: the ticket did not survive a failed assertion: %v", tc.app, err)
		}
	}

	// Hand-made assertions for rsa-app, each wrong one way.
	endpoint := broker + "/ticket"
	assertion := func(key crypto.Signer, alg string, mod func(map[string]any)) string {
		now := time.Now()
		cl := map[string]any{"iss": "rsa-app", "sub": "rsa-app", "aud": endpoint, "iat": now.Unix(), "exp": now.Add(time.Minute).Unix(), "jti": randomJTI()}
		if mod != nil {
			mod(cl)
		}
		tok, err := jose.SignJSON(key, alg, map[string]any{"typ": "JWT"}, cl)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	form := func(tk, a string) url.Values {
		return url.Values{"ticket": {tk}, "client_assertion_type": {ssoclient.AssertionType}, "client_assertion": {a}}
	}
	tk := ticketAt("rsa-app", "http://127.0.0.1:1/rsa")
	replayed := assertion(rsaKey, "RS256", nil)
	for name, a := range map[string]string{
		"wrong aud":      assertion(rsaKey, "RS256", func(m map[string]any) { m["aud"] = broker }),
		"iss not sub":    assertion(rsaKey, "RS256", func(m map[string]any) { m["sub"] = "ec-app" }),
		"expired":        assertion(rsaKey, "RS256", func(m map[string]any) { m["exp"] = time.Now().Add(-3 * time.Minute).Unix() }),
		"far exp":        assertion(rsaKey, "RS256", func(m map[string]any) { m["exp"] = time.Now().Add(time.Hour).Unix() }),
		"no exp":         assertion(rsaKey, "RS256", func(m map[string]any) { delete(m, "exp") }),
		"no jti":         assertion(rsaKey, "RS256", func(m map[string]any) { delete(m, "jti") }),
		"PS256":          assertion(rsaKey, "PS256", nil),
		"alg none":       assertion(rsaKey, "none", nil),
		"another app id": assertion(rsaKey, "RS256", func(m map[string]any) { m["iss"], m["sub"] = "ec-app", "ec-app" }),
	} {
		if got := e.redeem(form(tk, a)); got.status != 401 || got.body["error"] != string(ssoclient.CodeAppAuthFailed) {
			t.Errorf("%s: %d %v", name, got.status, got.body)
		}
	}
	if got := e.redeem(form(tk, replayed)); got.status != 200 {
		t.Fatalf("a good assertion: %d %v", got.status, got.body)
	}
	tk = ticketAt("rsa-app", "http://127.0.0.1:1/rsa")
	e.redeem(form(tk, replayed)).wantError(t, ssoclient.CodeAppAuthFailed, 401)

	// The published key verifies the identity; the identity is for its app
	// only.
	resp, err := http.Get(broker + "/jwks")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("jwks: %v", err)
	}
	var set struct{ Keys []map[string]any }
	_ = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if len(set.Keys) != 1 || set.Keys[0]["alg"] != "ES256" || set.Keys[0]["d"] != nil {
		t.Fatalf("jwks %v", set)
	}
	got := e.redeem(form(ticketAt("rsa-app", "http://127.0.0.1:1/rsa"), assertion(rsaKey, "RS256", nil)))
	jwt, _ := got.body["identity_jwt"].(string)
	_, payload, _, _, err := jose.Parts(jwt)
	if err != nil {
		t.Fatalf("identity_jwt %q: %v", jwt, err)
	}
	var cl map[string]any
	_ = json.Unmarshal(payload, &cl)
	if cl["iss"] != broker || cl["aud"] != "rsa-app" || cl["sub"] != "alice" || cl["idp_iss"] != e.idp.Issuer() {
		t.Fatalf("identity claims %v", cl)
	}
	ecClient, _ := brokerclient.New(brokerclient.Config{BrokerURL: broker, AppID: "ec-app", PrivateKey: ecKey})
	if _, err := ecClient.VerifyIdentity(context.Background(), jwt); !errors.Is(err, &brokerclient.Error{Code: brokerclient.CodeIdentityInvalid}) {
		t.Fatalf("another app's identity verified: %v", err)
	}
	rsaClient, _ := brokerclient.New(brokerclient.Config{BrokerURL: broker, AppID: "rsa-app", PrivateKey: rsaKey})
	if id, err := rsaClient.VerifyIdentity(context.Background(), jwt); err != nil || id.Subject != "alice" {
		t.Fatalf("VerifyIdentity: %v %v", id, err)
	}
}

func randomJTI() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestBrokerOnLoginPerApp(t *testing.T) {
	e := newBrokerEnv(t, func(_ *ssoclient.Broker, cfg *ssoclient.Config) {
		cfg.OnLogin = func(w http.ResponseWriter, r *http.Request, l *ssoclient.Login) error {
			if l.App == "crm" {
				return errors.New("no crm for alice")
			}
			return nil
		}
	})
	e.ticketFrom(e.loginFor(e.browser, q("wiki", e.wikiRet)), e.wikiRet)
	// The session's reuse asks OnLogin too.
	r := e.loginFor(e.browser, q("crm", e.crmRet))
	if r.status != 403 || !strings.Contains(r.body, string(ssoclient.CodeLoginRefused)) || r.url.Query().Has("ticket") {
		t.Fatalf("crm: %d at %s", r.status, r.url)
	}
	r = e.loginFor(newBrowser(t, e.idp), q("crm", e.crmRet))
	if r.status != 403 || !strings.Contains(r.body, string(ssoclient.CodeLoginRefused)) {
		t.Fatalf("crm, fresh browser: %d at %s", r.status, r.url)
	}
}

func TestBrokerWithProfiles(t *testing.T) {
	const ret = "http://127.0.0.1:1/return"
	pa := newProfileApp(t, func(cfg *ssoclient.Config) {
		cfg.Broker = &ssoclient.Broker{Apps: []ssoclient.RelyingApp{{ID: "wiki", ReturnURLs: []string{ret}, Secret: wikiSecret}}}
	})
	pa.addProvider("acme", "alice", ssoclient.Profile{DisplayName: "Acme", Domains: []string{"example.com"}})
	pa.addProvider("globex", "bob", ssoclient.Profile{DisplayName: "Globex", Domains: []string{"globex.test"}})
	pa.browser.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), ret) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	landed := func(query string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, pa.srv.URL+"/auth/sso/login?"+query, nil)
		resp, err := pa.browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == http.StatusFound {
			return resp.StatusCode, resp.Header.Get("Location")
		}
		return resp.StatusCode, string(b)
	}
	// The picker carries the app and its return URL.
	status, page := landed(q("wiki", ret))
	if status != 200 || !strings.Contains(page, `name="app" value="wiki"`) || !strings.Contains(page, "app=wiki") || !strings.Contains(page, url.QueryEscape(ret)) {
		t.Fatalf("picker: %d %s", status, clipBody(page))
	}
	// Home-realm discovery, then a ticket.
	status, loc := landed(q("wiki", ret) + "&email=alice@example.com")
	if status != 302 || !strings.HasPrefix(loc, ret+"?ticket=") {
		t.Fatalf("discovery: %d %s", status, loc)
	}
	// Disabling the session's profile ends the shortcut: the login goes
	// to the provider and is refused there.
	if _, err := pa.sso.Profiles().SetEnabled(context.Background(), "acme", false); err != nil {
		t.Fatal(err)
	}
	status, body := landed(q("wiki", ret) + "&profile=acme")
	if status != 403 || !strings.Contains(body, string(ssoclient.CodeProfileDisabled)) {
		t.Fatalf("disabled profile: %d %s", status, clipBody(body))
	}
	status, body = landed(q("wiki", ret))
	if status != 200 || strings.Contains(body, "ticket=") {
		t.Fatalf("disabled profile's session: %d %s", status, clipBody(body))
	}
	// Another profile is another sign-in.
	status, loc = landed(q("wiki", ret) + "&profile=globex")
	if status != 302 || !strings.HasPrefix(loc, ret+"?ticket=") {
		t.Fatalf("globex: %d %s", status, loc)
	}
}

func TestBrokerConfig(t *testing.T) {
	idp := ssotest.New(t)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	good := ssoclient.RelyingApp{ID: "wiki", ReturnURLs: []string{"https://wiki.example.com/r"}, Secret: wikiSecret}
	with := func(mod func(*ssoclient.RelyingApp)) ssoclient.RelyingApp {
		a := good
		a.ReturnURLs = append([]string(nil), good.ReturnURLs...)
		mod(&a)
		return a
	}
	for name, b := range map[string]*ssoclient.Broker{
		"no apps":          {},
		"bad id":           {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.ID = "a b" })}},
		"duplicate":        {Apps: []ssoclient.RelyingApp{good, good}},
		"no credential":    {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.Secret = "" })}},
		"both credentials": {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.PublicKey = &p384.PublicKey })}},
		"short secret":     {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.Secret = "short" })}},
		"small rsa key":    {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.Secret, a.PublicKey = "", &small.PublicKey })}},
		"p384 key":         {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.Secret, a.PublicKey = "", &p384.PublicKey })}},
		"no return url":    {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.ReturnURLs = nil })}},
		"http return url":  {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.ReturnURLs = []string{"http://wiki.example.com/r"} })}},
		"relative":         {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.ReturnURLs = []string{"/r"} })}},
		"fragment":         {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.ReturnURLs = []string{"https://wiki.example.com/r#x"} })}},
		"userinfo":         {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.ReturnURLs = []string{"https://u@wiki.example.com/r"} })}},
		"ticket param":     {Apps: []ssoclient.RelyingApp{with(func(a *ssoclient.RelyingApp) { a.ReturnURLs = []string{"https://wiki.example.com/r?ticket=1"} })}},
		"long lifetime":    {Apps: []ssoclient.RelyingApp{good}, TicketLifetime: time.Hour},
		"small broker key": {Apps: []ssoclient.RelyingApp{good}, SigningKey: small},
	} {
		_, err := ssoclient.New(context.Background(), ssoclient.Config{
			Issuer: idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret,
			RedirectURL: "http://127.0.0.1/auth/sso/callback", HTTPClient: idp.HTTPClient(), Broker: b,
		})
		if !errors.Is(err, &ssoclient.Error{Code: ssoclient.CodeConfigInvalid}) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestMemoryTicketStoreBounded(t *testing.T) {
	now := time.Now()
	st := ssoclient.NewMemoryTicketStore(3, func() time.Time { return now })
	ctx := context.Background()
	for i, k := range []string{"a", "b", "c", "d"} {
		_ = st.Put(ctx, k, &ssoclient.Ticket{App: k, ExpiresAt: now.Add(time.Duration(i+1) * time.Second)})
	}
	if st.Len() != 3 {
		t.Fatalf("Len %d", st.Len())
	}
	if _, err := st.Take(ctx, "a"); !errors.Is(err, ssoclient.ErrTicketNotFound) {
		t.Fatalf("the soonest-expiring ticket was kept: %v", err)
	}
	if tk, err := st.Take(ctx, "d"); err != nil || tk.App != "d" {
		t.Fatalf("Take d: %v %v", tk, err)
	}
	if _, err := st.Take(ctx, "d"); !errors.Is(err, ssoclient.ErrTicketNotFound) {
		t.Fatal("a ticket was taken twice")
	}
}
