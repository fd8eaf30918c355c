package redisstore_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/ssokit/ssokit/provisioning"
	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/redisstore"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// The replicas of these tests are two Clients of one application, each
// with its own handler, behind one front server that plays the load
// balancer: each request names the replica that serves it in a header, so
// a test decides where every step of a sign-in lands. The replicas share
// what DESIGN.md says replicas share: the cookie keys, the Redis stores,
// the user directory and the profile store. Nothing else: each has its
// own discovery and key caches, its own profile cache, and stores of its
// own made on the same Redis client options, as separate processes would.

const (
	replicaHeader = "X-Test-Replica"
	wikiSecret    = "wiki-secret-of-some-length"
)

// replica is one process of the application.
type replica struct {
	sso     *ssoclient.Client
	handler http.Handler
	served  atomic.Int64
	// direct serves the replica's handler at an address of its own, for
	// calls that do not come through the front (the provider's
	// back-channel).
	direct *httptest.Server
}

// cluster is the application: its replicas, the front, and what they share.
type cluster struct {
	t        *testing.T
	idp      *ssotest.Provider
	front    *httptest.Server
	rdb      *redis.Client
	opts     *redisstore.Options
	replicas map[string]*replica
	wikiRet  string
}

// cookieKey is the key ring every replica shares (Config.CookieKeys).
var cookieKey = ssoclient.Secret("replicas-share-this-cookie-key-32+bytes")

// newCluster starts the provider, the front and the replicas named in
// names; configure adjusts each replica's Config after the shared parts
// are set.
func newCluster(t *testing.T, names []string, configure func(name string, cfg *ssoclient.Config)) *cluster {
	t.Helper()
	cl := &cluster{t: t, replicas: map[string]*replica{}}
	cl.rdb = newClient(t)
	cl.opts = &redisstore.Options{Prefix: newPrefix(t, cl.rdb)}
	cl.idp = ssotest.New(t, ssotest.WithLoginUser("alice"))
	cl.front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp := cl.replicas[r.Header.Get(replicaHeader)]
		if rp == nil {
			http.Error(w, "no such replica", http.StatusBadGateway)
			return
		}
		rp.served.Add(1)
		rp.handler.ServeHTTP(w, r)
	}))
	t.Cleanup(cl.front.Close)
	wiki := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "wiki") }))
	t.Cleanup(wiki.Close)
	cl.wikiRet = wiki.URL + "/sso/return"
	directory := provisioning.NewMemoryDirectory() // the application's user table

	for _, name := range names {
		// Each replica opens its own connection pool to the shared Redis.
		rdb := redis.NewClient(&redis.Options{Addr: redisAddr(), Protocol: 2, DisableIdentity: true})
		t.Cleanup(func() { rdb.Close() })
		cfg := ssoclient.Config{
			Issuer:       cl.idp.Issuer(),
			ClientID:     ssotest.DefaultClientID,
			ClientSecret: ssotest.DefaultClientSecret,
			RedirectURL:  cl.front.URL + "/auth/sso/callback",
			HTTPClient:   cl.idp.HTTPClient(),
			CookieKeys:   []ssoclient.Secret{cookieKey},
			Sessions:     redisstore.NewSessionStore(rdb, cl.opts),
			Replay:       redisstore.NewReplayCache(rdb, cl.opts),
			Directory:    directory,
			Broker: &ssoclient.Broker{
				Apps:    []ssoclient.RelyingApp{{ID: "wiki", Name: "Wiki", ReturnURLs: []string{cl.wikiRet}, Secret: wikiSecret}},
				Tickets: redisstore.NewTicketStore(rdb, cl.opts),
			},
			Logger: slog.New(slog.DiscardHandler),
		}
		if configure != nil {
			configure(name, &cfg)
		}
		sso, err := ssoclient.New(context.Background(), cfg)
		if err != nil {
			t.Fatalf("replica %s: New: %v", name, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/auth/sso/", sso.Handler())
		mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
			s := sso.Session(r)
			if s == nil {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"subject": s.Identity.Subject, "user": s.UserID, "profile": s.Profile})
		})
		mux.Handle("/private/", sso.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "private for "+sso.Identity(r).Subject)
		})))
		direct := httptest.NewServer(mux)
		t.Cleanup(direct.Close)
		cl.replicas[name] = &replica{sso: sso, handler: mux, direct: direct}
	}
	return cl
}

// browser is a person's browser: a cookie jar, and no redirect followed
// on its own, so the test routes each step.
type browser struct {
	cl *cluster
	c  *http.Client
}

func (cl *cluster) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	c := *cl.idp.HTTPClient()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{cl: cl, c: &c}
}

// answer is a response, read.
type answer struct {
	status   int
	location string
	body     string
}

// visit sends a request to target, an absolute URL; on names the replica
// that serves it when it goes to the front.
func (b *browser) visit(method, target, on string, header http.Header) answer {
	b.cl.t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		b.cl.t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set(replicaHeader, on)
	resp, err := b.c.Do(req)
	if err != nil {
		b.cl.t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Location"), string(body)}
}

func (b *browser) get(path, on string) answer {
	b.cl.t.Helper()
	return b.visit(http.MethodGet, b.cl.front.URL+path, on, http.Header{"Accept": {"application/json"}})
}

// signIn starts a sign-in at path on replica start, lets the provider
// approve it, and brings the callback to replica finish. It returns the
// callback URL, the cookies the browser had when it went there (the
// attempt cookie), and the callback's answer.
func (b *browser) signIn(path, start, finish string) (callback string, cookies []*http.Cookie, a answer) {
	t := b.cl.t
	t.Helper()
	login := b.visit(http.MethodGet, b.cl.front.URL+path, start, nil)
	if login.status != http.StatusFound && login.status != http.StatusSeeOther || !strings.HasPrefix(login.location, b.cl.idp.Issuer()) {
		t.Fatalf("login on %s: %d to %q: %s", start, login.status, login.location, login.body)
	}
	authz := b.visit(http.MethodGet, login.location, "", nil)
	if !strings.HasPrefix(authz.location, b.cl.front.URL+"/auth/sso/callback?") {
		t.Fatalf("the provider answered %d to %q", authz.status, authz.location)
	}
	u, _ := url.Parse(b.cl.front.URL)
	cookies = b.c.Jar.Cookies(u)
	return authz.location, cookies, b.visit(http.MethodGet, authz.location, finish, http.Header{"Accept": {"application/json"}})
}

// who is the subject /me on replica on sees ("" for nobody).
func (b *browser) who(on string) (subject, user string) {
	b.cl.t.Helper()
	a := b.get("/me", on)
	if a.status == http.StatusUnauthorized {
		return "", ""
	}
	var m map[string]string
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &m) != nil {
		b.cl.t.Fatalf("/me on %s: %d %q", on, a.status, a.body)
	}
	return m["subject"], m["user"]
}

func (b *browser) logout(on string) answer {
	b.cl.t.Helper()
	return b.visit(http.MethodPost, b.cl.front.URL+"/auth/sso/logout", on, http.Header{"Origin": {b.cl.front.URL}})
}

func errorCode(t *testing.T, a answer) string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(a.body), &m); err != nil {
		t.Fatalf("answer %d is not a JSON error: %q", a.status, a.body)
	}
	return m["error"]
}

// sessionIDs lists the session ids stored in Redis.
func (cl *cluster) sessionIDs() []string {
	var ids []string
	for _, k := range keysUnder(cl.t, cl.rdb, cl.opts.Prefix) {
		if id, ok := strings.CutPrefix(k, cl.opts.Prefix+":s:"); ok {
			ids = append(ids, id)
		}
	}
	return ids
}

func TestReplicasShareSignIns(t *testing.T) {
	cl := newCluster(t, []string{"A", "B"}, nil)
	A, B := cl.replicas["A"], cl.replicas["B"]

	t.Run("login on A completes on B, and its replay on A is refused", func(t *testing.T) {
		b := cl.newBrowser()
		servedA, servedB := A.served.Load(), B.served.Load()
		callback, cookies, done := b.signIn("/auth/sso/login?return_to=/private/report", "A", "B")
		if done.status != http.StatusSeeOther && done.status != http.StatusFound || done.location != "/private/report" {
			t.Fatalf("callback on B: %d to %q: %s", done.status, done.location, done.body)
		}
		if A.served.Load() != servedA+1 || B.served.Load() != servedB+1 {
			t.Fatalf("A served %d and B %d requests, want the login on A and the callback on B", A.served.Load()-servedA, B.served.Load()-servedB)
		}
		// The stolen callback and attempt cookie, replayed at the other replica.
		thief := cl.newBrowser()
		u, _ := url.Parse(cl.front.URL)
		thief.c.Jar.SetCookies(u, cookies)
		replay := thief.visit(http.MethodGet, callback, "A", http.Header{"Accept": {"application/json"}})
		if code := errorCode(t, replay); replay.status != http.StatusBadRequest || code != string(ssoclient.CodeAttemptReplayed) {
			t.Fatalf("replay on A: %d %s, want 400 attempt_replayed", replay.status, code)
		}
		if sub, _ := thief.who("A"); sub != "" {
			t.Fatalf("the replay signed the thief in as %q", sub)
		}
		// The session B started is A's too.
		for _, on := range []string{"A", "B"} {
			if sub, user := b.who(on); sub != "alice" || user == "" {
				t.Errorf("/me on %s: %q (user %q), want alice with a user", on, sub, user)
			}
			if a := b.get("/private/report", on); a.status != http.StatusOK || a.body != "private for alice" {
				t.Errorf("RequireLogin on %s: %d %q", on, a.status, a.body)
			}
		}
	})

	t.Run("a session made on A is seen on B and ended through B", func(t *testing.T) {
		b := cl.newBrowser()
		if _, _, done := b.signIn("/auth/sso/login", "A", "A"); done.status != http.StatusSeeOther && done.status != http.StatusFound {
			t.Fatalf("callback on A: %d %s", done.status, done.body)
		}
		if sub, _ := b.who("B"); sub != "alice" {
			t.Fatalf("/me on B: %q", sub)
		}
		before := len(cl.sessionIDs())
		if out := b.logout("B"); out.status != http.StatusSeeOther {
			t.Fatalf("logout on B: %d %s", out.status, out.body)
		}
		if after := len(cl.sessionIDs()); after != before-1 {
			t.Errorf("logout left %d sessions in Redis, want %d", after, before-1)
		}
		// The cookie is cleared by the logout; the session must be gone
		// even for a browser that kept it.
		if sub, _ := b.who("A"); sub != "" {
			t.Errorf("/me on A after logout on B: %q", sub)
		}
	})

	t.Run("a stolen session cookie is worthless on every replica after logout", func(t *testing.T) {
		b := cl.newBrowser()
		b.signIn("/auth/sso/login", "B", "B")
		u, _ := url.Parse(cl.front.URL)
		kept := b.c.Jar.Cookies(u)
		b.logout("A")
		copycat := cl.newBrowser()
		copycat.c.Jar.SetCookies(u, kept)
		for _, on := range []string{"A", "B"} {
			if sub, _ := copycat.who(on); sub != "" {
				t.Errorf("/me on %s with the old cookie: %q", on, sub)
			}
		}
	})

	t.Run("a user's sessions on both replicas end together", func(t *testing.T) {
		onA, onB := cl.newBrowser(), cl.newBrowser()
		onA.signIn("/auth/sso/login", "A", "A")
		onB.signIn("/auth/sso/login", "B", "B")
		_, userA := onA.who("B")
		_, userB := onB.who("A")
		if userA == "" || userA != userB {
			t.Fatalf("the two sign-ins of alice have users %q and %q, want one", userA, userB)
		}
		ctx := t.Context()
		storeA := redisstore.NewSessionStore(cl.rdb, cl.opts)
		if n, err := storeA.Count(ctx, ssoclient.SessionFilter{UserID: userA}); err != nil || n < 2 {
			t.Fatalf("Count(user) = %d, %v; want at least 2", n, err)
		}
		// "Sign out everywhere", from a third process.
		n, err := redisstore.NewSessionStore(newClient(t), cl.opts).DeleteMatching(ctx, ssoclient.SessionFilter{UserID: userA})
		if err != nil || n < 2 {
			t.Fatalf("DeleteMatching(user) = %d, %v", n, err)
		}
		for _, b := range []*browser{onA, onB} {
			for _, on := range []string{"A", "B"} {
				if sub, _ := b.who(on); sub != "" {
					t.Errorf("/me on %s after DeleteMatching: %q", on, sub)
				}
			}
		}
		if ids := cl.sessionIDs(); len(ids) != 0 {
			t.Errorf("%d sessions left in Redis", len(ids))
		}
	})

	t.Run("a back-channel logout at B ends the provider session's sign-in made on A", func(t *testing.T) {
		ended, kept := cl.newBrowser(), cl.newBrowser()
		ended.signIn("/auth/sso/login", "A", "A")
		sids := cl.idp.SIDs("alice")
		kept.signIn("/auth/sso/login", "A", "A")
		if len(sids) == 0 {
			t.Fatal("the provider has no sid for alice")
		}
		token := cl.idp.SignLogoutToken(cl.idp.LogoutTokenClaims(ssotest.DefaultClientID, "alice", sids[len(sids)-1]))
		status, err := cl.idp.SendLogoutToken(t.Context(), B.direct.URL+"/auth/sso/backchannel-logout", token)
		if err != nil || status != http.StatusOK {
			t.Fatalf("back-channel logout at B: %d, %v", status, err)
		}
		for _, on := range []string{"A", "B"} {
			if sub, _ := ended.who(on); sub != "" {
				t.Errorf("/me on %s after the back-channel logout: %q", on, sub)
			}
			if sub, _ := kept.who(on); sub != "alice" {
				t.Errorf("/me on %s for alice's other provider session: %q", on, sub)
			}
		}
	})

	t.Run("a broker ticket issued on A is redeemed once, on B", func(t *testing.T) {
		b := cl.newBrowser()
		q := url.Values{"app": {"wiki"}, "return_to": {cl.wikiRet}}.Encode()
		_, _, done := b.signIn("/auth/sso/login?"+q, "A", "A")
		landed, err := url.Parse(done.location)
		if err != nil || !strings.HasPrefix(done.location, cl.wikiRet+"?ticket=") {
			t.Fatalf("the broker sign-in ended at %q: %d %s", done.location, done.status, done.body)
		}
		ticket := landed.Query().Get("ticket")
		redeem := func(on string) (int, map[string]any) {
			form := url.Values{"ticket": {ticket}, "app_id": {"wiki"}, "app_secret": {wikiSecret}}
			req := httptest.NewRequest(http.MethodPost, "/auth/sso/ticket", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			cl.replicas[on].handler.ServeHTTP(rec, req)
			var m map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &m)
			return rec.Code, m
		}
		if status, m := redeem("B"); status != http.StatusOK || m["subject"] != "alice" {
			t.Fatalf("redeem on B: %d %v", status, m)
		}
		if status, m := redeem("A"); status != http.StatusBadRequest || m["error"] != string(ssoclient.CodeTicketInvalid) {
			t.Fatalf("second redeem on A: %d %v; want 400 ticket_invalid", status, m)
		}

		// The broker session A started serves B: a ticket at once, without
		// the provider. That ticket, redeemed at both replicas at once,
		// goes to one.
		authorized := cl.idp.Requests(ssotest.EndpointAuthorize)
		again := b.visit(http.MethodGet, cl.front.URL+"/auth/sso/login?"+q, "B", nil)
		landed, err = url.Parse(again.location)
		if err != nil || !strings.HasPrefix(again.location, cl.wikiRet+"?ticket=") || cl.idp.Requests(ssotest.EndpointAuthorize) != authorized {
			t.Fatalf("a second app login on B: %d to %q", again.status, again.location)
		}
		ticket = landed.Query().Get("ticket")
		var ok atomic.Int64
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				if status, _ := redeem([]string{"A", "B"}[i%2]); status == http.StatusOK {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("%d of 16 concurrent redemptions at both replicas succeeded, want 1", ok.Load())
		}
	})
}

// TestReplicasNeedSharedKeysAndReplayCache shows what the shared parts are
// for: a replica with another cookie key cannot finish a sign-in started
// elsewhere, and replicas with their own replay caches let a callback be
// replayed at the other one (the provider's single-use code is then all
// that stops it).
func TestReplicasNeedSharedKeysAndReplayCache(t *testing.T) {
	cl := newCluster(t, []string{"A", "B", "other-key", "own-replay"}, func(name string, cfg *ssoclient.Config) {
		switch name {
		case "other-key":
			cfg.CookieKeys = []ssoclient.Secret{"a-different-cookie-key-of-32-bytes-or-more"}
		case "own-replay":
			cfg.Replay = ssoclient.NewMemoryReplayCache(0, nil)
		}
	})
	b := cl.newBrowser()
	_, _, done := b.signIn("/auth/sso/login", "A", "other-key")
	if code := errorCode(t, done); code != string(ssoclient.CodeStateInvalid) {
		t.Errorf("callback at a replica with another cookie key: %d %s, want state_invalid", done.status, code)
	}
	callback, cookies, done := b.signIn("/auth/sso/login", "A", "B")
	if done.status != http.StatusSeeOther && done.status != http.StatusFound {
		t.Fatalf("callback on B: %d %s", done.status, done.body)
	}
	thief := cl.newBrowser()
	u, _ := url.Parse(cl.front.URL)
	thief.c.Jar.SetCookies(u, cookies)
	replay := thief.visit(http.MethodGet, callback, "own-replay", http.Header{"Accept": {"application/json"}})
	if code := errorCode(t, replay); code == string(ssoclient.CodeAttemptReplayed) || replay.status < 400 {
		t.Errorf("a replica with its own replay cache answered %d %s; the shared cache is what says attempt_replayed", replay.status, code)
	}
}

func TestReplicasShareProfiles(t *testing.T) {
	profiles := ssoclient.NewMemoryProfileStore() // the application's database, shared
	secretKey := ssoclient.Secret("replicas-share-the-profile-secret-keys!!")
	cl := newCluster(t, []string{"A", "B"}, func(_ string, cfg *ssoclient.Config) {
		cfg.Issuer, cfg.ClientID, cfg.ClientSecret = "", "", ""
		cfg.Profiles = profiles
		cfg.SecretKeys = []ssoclient.Secret{secretKey}
		cfg.Broker = nil
	})
	A, B := cl.replicas["A"], cl.replicas["B"]
	ctx := t.Context()
	if _, err := A.sso.Profiles().Create(ctx, ssoclient.Profile{
		ID: "acme", Issuer: cl.idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret, Enabled: true,
	}); err != nil {
		t.Fatal(err)
	}
	onB, onA := cl.newBrowser(), cl.newBrowser()
	// A profile created on A signs people in on B, and the other way.
	if _, _, done := onB.signIn("/auth/sso/login?profile=acme", "B", "B"); done.status != http.StatusSeeOther && done.status != http.StatusFound {
		t.Fatalf("sign-in through acme on B: %d %s", done.status, done.body)
	}
	if _, _, done := onA.signIn("/auth/sso/login?profile=acme", "B", "A"); done.status != http.StatusSeeOther && done.status != http.StatusFound {
		t.Fatalf("sign-in through acme, B then A: %d %s", done.status, done.body)
	}
	if sub, _ := onB.who("A"); sub != "alice" {
		t.Fatalf("/me on A: %q", sub)
	}
	if n, err := B.sso.Profiles().Sessions(ctx, "acme"); err != nil || n != 2 {
		t.Fatalf("B counts %d sessions of acme (%v), want 2", n, err)
	}
	// Deleting the profile on A signs its people out on B.
	revoked, err := A.sso.Profiles().Delete(ctx, "acme")
	if err != nil || revoked != 2 {
		t.Fatalf("Delete on A revoked %d (%v), want 2", revoked, err)
	}
	for _, b := range []*browser{onA, onB} {
		for _, on := range []string{"A", "B"} {
			if sub, _ := b.who(on); sub != "" {
				t.Errorf("/me on %s after the profile was deleted on A: %q", on, sub)
			}
		}
	}
	a := onB.get("/auth/sso/login?profile=acme", "B")
	if code := errorCode(t, a); code != string(ssoclient.CodeProfileNotFound) {
		t.Errorf("login through the deleted profile on B: %d %s", a.status, code)
	}
}
