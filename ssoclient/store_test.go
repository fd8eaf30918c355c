package ssoclient_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now()} }

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

func TestMemorySessionStore(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	st := ssoclient.NewMemorySessionStore(0, clock.Now)
	s := &ssoclient.Session{ID: "s1", Identity: &ssoclient.Identity{Subject: "alice"}, ExpiresAt: clock.Now().Add(time.Hour)}
	if err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	got, err := st.Load(ctx, "s1")
	if err != nil || got.Identity.Subject != "alice" {
		t.Fatalf("Load = %v, %v", got, err)
	}
	if _, err := st.Load(ctx, "nope"); !errors.Is(err, ssoclient.ErrSessionNotFound) {
		t.Errorf("unknown id: %v", err)
	}
	clock.Add(time.Hour)
	if _, err := st.Load(ctx, "s1"); !errors.Is(err, ssoclient.ErrSessionNotFound) {
		t.Errorf("expired session loaded: %v", err)
	}
	if err := st.Delete(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "never-there"); err != nil {
		t.Errorf("deleting an unknown id: %v", err)
	}
}

func TestMemorySessionStoreIsBounded(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	const max = 320
	st := ssoclient.NewMemorySessionStore(max, clock.Now)
	for i := range 20 * max {
		s := &ssoclient.Session{ID: fmt.Sprintf("id-%d", i), Identity: &ssoclient.Identity{}, ExpiresAt: clock.Now().Add(time.Hour + time.Duration(i)*time.Second)}
		if err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if n := st.Len(); n > max {
		t.Fatalf("store holds %d sessions, bound %d", n, max)
	}
	// The newest session survives the flood.
	if _, err := st.Load(ctx, fmt.Sprintf("id-%d", 20*max-1)); err != nil {
		t.Errorf("newest session evicted: %v", err)
	}
}

func TestMemoryReplayCache(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	rc := ssoclient.NewMemoryReplayCache(0, clock.Now)
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := rc.Claim(ctx, "k", clock.Now().Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if first {
				wins.Add(1)
			}
		}()
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d concurrent claims of one key won; want exactly 1", wins.Load())
	}
	if first, _ := rc.Claim(ctx, "other", clock.Now().Add(time.Minute)); !first {
		t.Error("a new key was refused")
	}
	// After its time the key may be claimed again (its attempt cookie is
	// long dead by then).
	clock.Add(2 * time.Minute)
	if first, _ := rc.Claim(ctx, "k", clock.Now().Add(time.Minute)); !first {
		t.Error("an expired key stayed claimed")
	}
}

// leakyStore keeps every session forever, as a careless shared store
// might.
type leakyStore struct{ m sync.Map }

func (l *leakyStore) Save(_ context.Context, s *ssoclient.Session) error {
	l.m.Store(s.ID, s)
	return nil
}
func (l *leakyStore) Load(_ context.Context, id string) (*ssoclient.Session, error) {
	if s, ok := l.m.Load(id); ok {
		return s.(*ssoclient.Session), nil
	}
	return nil, ssoclient.ErrSessionNotFound
}
func (l *leakyStore) Delete(_ context.Context, id string) error { l.m.Delete(id); return nil }

func TestSessionEndsOnTimeWhateverTheStore(t *testing.T) {
	clock := newFakeClock()
	a := newApp(t, nil, func(c *ssoclient.Config) {
		c.Now = clock.Now
		c.Sessions = &leakyStore{}
		c.SessionLifetime = time.Hour
	})
	a.signIn("")
	if who := a.signedIn(); who != "alice" {
		t.Fatalf("signed in as %q", who)
	}
	clock.Add(time.Hour)
	if who := a.signedIn(); who != "" {
		t.Fatalf("a session past its end still signs in %q", who)
	}
}

// Two Clients in one application (two providers, say) never take each
// other's sessions, even inside each other's RequireLogin.
func TestTwoClientsKeepTheirSessions(t *testing.T) {
	a := newApp(t, nil, nil)
	idp2 := ssotest.New(t)
	other, err := ssoclient.New(context.Background(), ssoclient.Config{
		Issuer: idp2.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL: a.srv.URL + "/auth/other/callback", HTTPClient: idp2.HTTPClient(),
	})
	if err != nil {
		t.Fatal(err)
	}
	a.signIn("")
	u, _ := url.Parse(a.srv.URL)
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	for _, ck := range a.browser.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	var seen string
	a.sso.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = fmt.Sprint(a.sso.Identity(r) != nil, other.Identity(r) != nil)
	})).ServeHTTP(httptest.NewRecorder(), req)
	if seen != "true false" {
		t.Fatalf("inside the first client's RequireLogin: first, other signed in = %s; want true false", seen)
	}
}

func TestLoginPassesHints(t *testing.T) {
	a := newApp(t, nil, nil)
	noFollow := *a.browser
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, tc := range []struct {
		query      string
		hint, prmt string
	}{
		{"login_hint=bob%40example.com&prompt=login", "bob@example.com", "login"},
		{"email=carol%40contoso.com&prompt=select_account", "carol@contoso.com", "select_account"},
		{"prompt=bogus", "", ""},
		{"login_hint=" + strings.Repeat("x", 300), "", ""},
	} {
		resp, err := noFollow.Get(a.srv.URL + "/auth/sso/login?" + tc.query)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		q := loc.Query()
		if q.Get("login_hint") != tc.hint || q.Get("prompt") != tc.prmt {
			t.Errorf("%s: login_hint=%q prompt=%q; want %q %q", tc.query, q.Get("login_hint"), q.Get("prompt"), tc.hint, tc.prmt)
		}
	}
}

func TestAlwaysFetchUserinfo(t *testing.T) {
	for _, always := range []bool{false, true} {
		a := newApp(t, nil, func(c *ssoclient.Config) { c.AlwaysFetchUserinfo = always })
		a.signIn("")
		n := a.idp.Requests(ssotest.EndpointUserinfo)
		if want := map[bool]int{false: 0, true: 1}[always]; n != want {
			t.Errorf("AlwaysFetchUserinfo=%v: %d userinfo requests; want %d", always, n, want)
		}
	}
}

func (l *leakyStore) Count(_ context.Context, f ssoclient.SessionFilter) (int, error) {
	n := 0
	l.m.Range(func(_, v any) bool {
		if f.Match(v.(*ssoclient.Session)) {
			n++
		}
		return true
	})
	return n, nil
}

func (l *leakyStore) DeleteMatching(ctx context.Context, f ssoclient.SessionFilter) (int, error) {
	n, _ := l.Count(ctx, f)
	l.m.Range(func(k, v any) bool {
		if f.Match(v.(*ssoclient.Session)) {
			l.m.Delete(k)
		}
		return true
	})
	return n, nil
}
