package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
)

// RunSessionStore checks a SessionStore against the contract of
// [ssoclient.SessionStore]. newStore returns an empty store of its own for
// each subtest, using now as its clock where it can (see the package
// documentation).
func RunSessionStore(t *testing.T, newStore func(t *testing.T, now func() time.Time) ssoclient.SessionStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, st ssoclient.SessionStore, c *clock)
	}{
		{"RoundTrip", sessionRoundTrip},
		{"LoadUnknown", sessionLoadUnknown},
		{"SaveReplaces", sessionSaveReplaces},
		{"Delete", sessionDelete},
		{"ExpiresByClock", sessionExpiresByClock},
		{"ExpiresInRealTime", sessionExpiresInRealTime},
		{"SaveExpired", sessionSaveExpired},
		{"Filters", nil},
		{"InvalidFilters", sessionInvalidFilters},
		{"AwkwardValues", sessionAwkwardValues},
		{"Concurrent", sessionConcurrent},
		{"Many", sessionMany},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.run == nil {
				sessionFilters(t, newStore)
				return
			}
			c := &clock{}
			tc.run(t, newStore(t, c.Now), c)
		})
	}
}

// sessions wraps a store with helpers that fail the test.
type sessions struct {
	t   *testing.T
	st  ssoclient.SessionStore
	ctx context.Context
}

func (s sessions) save(ss ...*ssoclient.Session) {
	s.t.Helper()
	for _, x := range ss {
		if err := s.st.Save(s.ctx, x); err != nil {
			s.t.Fatalf("Save(%s): %v", x.ID, err)
		}
	}
}

func (s sessions) load(id string) *ssoclient.Session {
	s.t.Helper()
	got, err := s.st.Load(s.ctx, id)
	if err != nil {
		s.t.Fatalf("Load(%s): %v", id, err)
	}
	if got == nil || got.ID != id {
		s.t.Fatalf("Load(%s) returned %v with ID %q", id, got, idOf(got))
	}
	return got
}

func idOf(s *ssoclient.Session) string {
	if s == nil {
		return ""
	}
	return s.ID
}

// gone checks that Load of each id is ErrSessionNotFound.
func (s sessions) gone(ids ...string) {
	s.t.Helper()
	for _, id := range ids {
		if got, err := s.st.Load(s.ctx, id); !errors.Is(err, ssoclient.ErrSessionNotFound) {
			s.t.Errorf("Load(%s) = %v, %v; want ErrSessionNotFound", id, got, err)
		}
	}
}

func (s sessions) count(f ssoclient.SessionFilter) int {
	s.t.Helper()
	n, err := s.st.Count(s.ctx, f)
	if err != nil {
		s.t.Fatalf("Count(%s): %v", filterString(f), err)
	}
	return n
}

func (s sessions) wantCount(f ssoclient.SessionFilter, want int) {
	s.t.Helper()
	if n := s.count(f); n != want {
		s.t.Errorf("Count(%s) = %d, want %d", filterString(f), n, want)
	}
}

func (s sessions) deleteMatching(f ssoclient.SessionFilter) int {
	s.t.Helper()
	n, err := s.st.DeleteMatching(s.ctx, f)
	if err != nil {
		s.t.Fatalf("DeleteMatching(%s): %v", filterString(f), err)
	}
	return n
}

func (s sessions) delete(id string) {
	s.t.Helper()
	if err := s.st.Delete(s.ctx, id); err != nil {
		s.t.Fatalf("Delete(%s): %v", id, err)
	}
}

func use(t *testing.T, st ssoclient.SessionStore) sessions {
	return sessions{t: t, st: st, ctx: t.Context()}
}

// person makes a session of subject at issuer, valid for an hour.
func person(now time.Time, id, profile, user, issuer, subject, sid string) *ssoclient.Session {
	return &ssoclient.Session{
		ID:       id,
		Identity: &ssoclient.Identity{Issuer: issuer, Subject: subject, Email: subject + "@example.com"},
		Profile:  profile, UserID: user, SID: sid,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour),
	}
}

// filterString prints f for a failure message, long values clipped.
func filterString(f ssoclient.SessionFilter) string {
	var b strings.Builder
	for _, kv := range [][2]string{{"Profile", f.Profile}, {"UserID", f.UserID}, {"Issuer", f.Issuer}, {"Subject", f.Subject}, {"SID", f.SID}} {
		if kv[1] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		v := kv[1]
		if len(v) > 60 {
			v = v[:60] + "…"
		}
		fmt.Fprintf(&b, "%s: %q", kv[0], v)
	}
	return "{" + b.String() + "}"
}

// diffSession describes how got differs from want, without printing
// tokens.
func diffSession(want, got *ssoclient.Session) []string {
	if got == nil {
		return []string{"got no session"}
	}
	var d []string
	d = append(d, diffString("ID", want.ID, got.ID, false)...)
	d = append(d, diffString("Profile", want.Profile, got.Profile, false)...)
	d = append(d, diffString("UserID", want.UserID, got.UserID, false)...)
	d = append(d, diffString("SID", want.SID, got.SID, false)...)
	d = append(d, diffString("IDToken", want.IDToken(), got.IDToken(), true)...)
	d = append(d, diffTime("CreatedAt", want.CreatedAt, got.CreatedAt)...)
	d = append(d, diffTime("ExpiresAt", want.ExpiresAt, got.ExpiresAt)...)
	d = append(d, diffIdentity(want.Identity, got.Identity)...)
	switch w, g := want.Tokens, got.Tokens; {
	case w == nil && g == nil:
	case w == nil || g == nil:
		d = append(d, fmt.Sprintf("Tokens present = %t, want %t", g != nil, w != nil))
	default:
		d = append(d, diffString("Tokens.AccessToken", string(w.AccessToken), string(g.AccessToken), true)...)
		d = append(d, diffString("Tokens.RefreshToken", string(w.RefreshToken), string(g.RefreshToken), true)...)
		d = append(d, diffString("Tokens.TokenType", w.TokenType, g.TokenType, false)...)
		d = append(d, diffTime("Tokens.Expiry", w.Expiry, g.Expiry)...)
	}
	return d
}

func wantSession(t *testing.T, want, got *ssoclient.Session) {
	t.Helper()
	for _, d := range diffSession(want, got) {
		t.Error(d)
	}
}

func sessionRoundTrip(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	now := c.Now()
	full := &ssoclient.Session{
		ID:       "kq3jGx1mD0zJ2J7pN4kq9yQbH8bVvWwT5Zs0r2u1cXk",
		Identity: sampleIdentity(),
		Profile:  "acme-okta",
		UserID:   "user-42",
		SID:      "08a5019c-17e1-4977-8f42-65a12843ea02",
		Tokens: &ssoclient.Tokens{
			AccessToken:  "access-token-value",
			TokenType:    "Bearer",
			RefreshToken: "refresh-token-value",
			Expiry:       now.Add(time.Hour),
		},
		CreatedAt: now,
		ExpiresAt: now.Add(8 * time.Hour),
	}
	full.SetIDToken("eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl")
	// The ID token of a session the callback made: its payload is the
	// claims, and the session keeps it in parts.
	fromToken := &ssoclient.Session{
		ID:        "from-token",
		Identity:  sampleIdentity(),
		CreatedAt: now,
		ExpiresAt: now.Add(time.Hour),
	}
	fromToken.SetIDToken("eyJhbGciOiJSUzI1NiJ9." + base64.RawURLEncoding.EncodeToString([]byte(fromToken.Identity.Claims.JSON())) + ".c2lnbmF0dXJlLXNpZ25hdHVyZQ")
	// No tokens, no SID, no profile, no user: the fields stay empty.
	bare := &ssoclient.Session{
		ID:        "bare-session",
		Identity:  &ssoclient.Identity{Issuer: "https://idp.example.com", Subject: "bob"},
		CreatedAt: now,
		ExpiresAt: now.Add(time.Hour),
	}
	// Tokens without a refresh token or an expiry.
	short := &ssoclient.Session{
		ID:        "short-tokens",
		Identity:  &ssoclient.Identity{Issuer: "https://idp.example.com", Subject: "carol", Claims: mustSet(map[string]any{"sub": "carol"})},
		Tokens:    &ssoclient.Tokens{AccessToken: "at", TokenType: "Bearer"},
		CreatedAt: now,
		ExpiresAt: now.Add(time.Hour),
	}
	s.save(full, fromToken, bare, short)
	for _, want := range []*ssoclient.Session{full, fromToken, bare, short} {
		wantSession(t, want, s.load(want.ID))
	}
	if got := s.load(bare.ID); got.Tokens != nil {
		t.Errorf("a session saved without tokens loads with tokens")
	}
	// A loaded session is the same again.
	again := s.load(full.ID)
	wantSession(t, full, s.load(full.ID))
	wantSession(t, full, again)
}

func sessionLoadUnknown(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	s.gone("never-saved", "x")
	s.save(person(c.Now(), "known", "p", "u", "https://idp.example.com", "alice", ""))
	s.gone("Known", "known ", "know", "known\x00")
	s.load("known")
}

func sessionSaveReplaces(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	now := c.Now()
	const i1, i2 = "https://one.example.com", "https://two.example.com"
	old := person(now, "s1", "p-old", "u-old", i1, "alice", "sid-old")
	s.save(old, person(now, "other", "p-old", "u-old", i1, "alice", "sid-other"))
	s.wantCount(ssoclient.SessionFilter{Profile: "p-old"}, 2)

	repl := person(now, "s1", "p-new", "u-new", i2, "bob", "sid-new")
	repl.ExpiresAt = now.Add(3 * time.Hour)
	repl.SetIDToken("new-id-token")
	s.save(repl)
	wantSession(t, repl, s.load("s1"))

	// The old attributes no longer select it, the new ones do.
	for _, f := range []ssoclient.SessionFilter{
		{Profile: "p-old"}, {UserID: "u-old"}, {Issuer: i1, Subject: "alice"},
	} {
		s.wantCount(f, 1) // "other" only
	}
	s.wantCount(ssoclient.SessionFilter{Issuer: i1, SID: "sid-old"}, 0)
	for _, f := range []ssoclient.SessionFilter{
		{Profile: "p-new"}, {UserID: "u-new"}, {Issuer: i2, Subject: "bob"}, {Issuer: i2, SID: "sid-new"},
	} {
		s.wantCount(f, 1)
	}
	// Deleting by an old attribute spares the replaced session.
	if n := s.deleteMatching(ssoclient.SessionFilter{Issuer: i1, SID: "sid-old"}); n != 0 {
		t.Errorf("DeleteMatching by the replaced SID = %d, want 0", n)
	}
	if n := s.deleteMatching(ssoclient.SessionFilter{Profile: "p-old"}); n != 1 {
		t.Errorf("DeleteMatching by the replaced profile = %d, want 1 (the other session)", n)
	}
	wantSession(t, repl, s.load("s1"))
	s.gone("other")

	// Replacing with an earlier expiry shortens the session.
	shorter := person(now, "s1", "p-new", "u-new", i2, "bob", "sid-new")
	shorter.ExpiresAt = now.Add(time.Minute)
	s.save(shorter)
	wantSession(t, shorter, s.load("s1"))
	c.Advance(2 * time.Minute)
	s.gone("s1")
	s.wantCount(ssoclient.SessionFilter{Profile: "p-new"}, 0)
}

func sessionDelete(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	now := c.Now()
	a := person(now, "a", "p", "u", "https://idp.example.com", "alice", "sid-a")
	b := person(now, "b", "p", "u", "https://idp.example.com", "alice", "sid-b")
	s.save(a, b)
	s.delete("a")
	s.gone("a")
	wantSession(t, b, s.load("b"))
	s.wantCount(ssoclient.SessionFilter{UserID: "u"}, 1)
	s.wantCount(ssoclient.SessionFilter{Issuer: "https://idp.example.com", SID: "sid-a"}, 0)
	s.delete("a")           // again
	s.delete("never-there") // unknown
	if n := s.deleteMatching(ssoclient.SessionFilter{Profile: "p"}); n != 1 {
		t.Errorf("DeleteMatching after Delete = %d, want 1", n)
	}
	s.gone("b")
	// A deleted ID can be saved again.
	s.save(a)
	wantSession(t, a, s.load("a"))
	s.wantCount(ssoclient.SessionFilter{Issuer: "https://idp.example.com", SID: "sid-a"}, 1)
}

func sessionExpiresByClock(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	now := c.Now()
	soon := person(now, "soon", "p", "u", "https://idp.example.com", "alice", "sid-1")
	soon.ExpiresAt = now.Add(time.Minute)
	later := person(now, "later", "p", "u", "https://idp.example.com", "alice", "sid-2")
	s.save(soon, later)
	s.wantCount(ssoclient.SessionFilter{UserID: "u"}, 2)

	c.Advance(2 * time.Minute)
	s.gone("soon")
	wantSession(t, later, s.load("later"))
	for _, f := range []ssoclient.SessionFilter{
		{Profile: "p"}, {UserID: "u"}, {Issuer: "https://idp.example.com", Subject: "alice"},
	} {
		s.wantCount(f, 1)
	}
	s.wantCount(ssoclient.SessionFilter{Issuer: "https://idp.example.com", SID: "sid-1"}, 0)
	if n := s.deleteMatching(ssoclient.SessionFilter{UserID: "u"}); n != 1 {
		t.Errorf("DeleteMatching = %d, want 1: only unexpired sessions count", n)
	}
	s.gone("soon", "later")

	c.Advance(2 * time.Hour)
	s.gone("later")
}

func sessionExpiresInRealTime(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	now := c.Now()
	brief := person(now, "brief", "p", "u", "https://idp.example.com", "alice", "sid-1")
	brief.ExpiresAt = now.Add(realExpiry)
	stays := person(now, "stays", "p", "u2", "https://idp.example.com", "bob", "sid-2")
	s.save(brief, stays)
	wantSession(t, brief, s.load("brief"))
	f := ssoclient.SessionFilter{UserID: "u"}
	eventually(t, "a session still loads after its ExpiresAt", func() bool {
		_, err := st.Load(s.ctx, "brief")
		if err != nil && !errors.Is(err, ssoclient.ErrSessionNotFound) {
			t.Fatalf("Load: %v", err)
		}
		return err != nil
	})
	s.wantCount(f, 0)
	if n := s.deleteMatching(f); n != 0 {
		t.Errorf("DeleteMatching of an expired session = %d, want 0", n)
	}
	wantSession(t, stays, s.load("stays"))
	s.wantCount(ssoclient.SessionFilter{Profile: "p"}, 1)
}

func sessionSaveExpired(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	now := c.Now()
	dead := person(now, "dead", "p", "u", "https://idp.example.com", "alice", "sid")
	dead.ExpiresAt = now.Add(-time.Second)
	s.save(dead)
	s.gone("dead")
	s.wantCount(ssoclient.SessionFilter{UserID: "u"}, 0)

	// An expired session saved over a live one ends it.
	live := person(now, "live", "p", "u", "https://idp.example.com", "alice", "sid")
	s.save(live)
	s.load("live")
	ended := person(now, "live", "p", "u", "https://idp.example.com", "alice", "sid")
	ended.ExpiresAt = now.Add(-time.Second)
	s.save(ended)
	s.gone("live")
	s.wantCount(ssoclient.SessionFilter{UserID: "u"}, 0)
	if n := s.deleteMatching(ssoclient.SessionFilter{Profile: "p"}); n != 0 {
		t.Errorf("DeleteMatching = %d, want 0", n)
	}
}

// filterPopulation is the sessions the filter checks select from.
func filterPopulation(now time.Time) []*ssoclient.Session {
	const i1, i2 = "https://idp-one.example.com", "https://idp-two.example.com/tenant"
	expired := person(now, "x1", "acme", "u1", i1, "alice", "sidA")
	expired.ExpiresAt = now.Add(time.Minute) // the checks move the clock past it
	return []*ssoclient.Session{
		person(now, "a1", "acme", "u1", i1, "alice", "sidA"),
		person(now, "a2", "acme", "u1", i1, "alice", "sidB"), // a second browser
		person(now, "a3", "acme", "u1", i2, "alice", "sidA"), // same sub and sid, other issuer
		person(now, "b1", "beta", "u2", i1, "bob", "sidC"),
		person(now, "b2", "beta", "u2", i1, "bob", ""),    // no sid
		person(now, "c1", "", "u3", i2, "carol", "sidC"),  // no profile
		person(now, "d1", "acme", "", i1, "dave", "sidD"), // no user
		expired,
	}
}

func sessionFilters(t *testing.T, newStore func(t *testing.T, now func() time.Time) ssoclient.SessionStore) {
	const i1, i2 = "https://idp-one.example.com", "https://idp-two.example.com/tenant"
	type F = ssoclient.SessionFilter
	for _, tc := range []struct {
		name string
		f    F
		want []string
	}{
		{"profile", F{Profile: "acme"}, []string{"a1", "a2", "a3", "d1"}},
		{"other profile", F{Profile: "beta"}, []string{"b1", "b2"}},
		{"unknown profile", F{Profile: "gamma"}, nil},
		{"user", F{UserID: "u1"}, []string{"a1", "a2", "a3"}},
		{"user without profile", F{UserID: "u3"}, []string{"c1"}},
		{"issuer and subject", F{Issuer: i1, Subject: "alice"}, []string{"a1", "a2"}},
		{"subject at the other issuer", F{Issuer: i2, Subject: "alice"}, []string{"a3"}},
		{"subject unknown at issuer", F{Issuer: i2, Subject: "bob"}, nil},
		{"issuer and sid", F{Issuer: i1, SID: "sidA"}, []string{"a1"}},
		{"sid at one issuer only", F{Issuer: i1, SID: "sidC"}, []string{"b1"}},
		{"sid at the other issuer", F{Issuer: i2, SID: "sidC"}, []string{"c1"}},
		{"issuer, subject and sid", F{Issuer: i1, Subject: "alice", SID: "sidB"}, []string{"a2"}},
		{"sid of another subject", F{Issuer: i1, Subject: "bob", SID: "sidA"}, nil},
		{"profile and user", F{Profile: "acme", UserID: "u1"}, []string{"a1", "a2", "a3"}},
		{"profile and issuer", F{Profile: "acme", Issuer: i1}, []string{"a1", "a2", "d1"}},
		{"profile of another user", F{Profile: "beta", UserID: "u1"}, nil},
		{"user, issuer and sid", F{UserID: "u1", Issuer: i2, SID: "sidA"}, []string{"a3"}},
		{"profile, issuer and subject", F{Profile: "acme", Issuer: i1, Subject: "dave"}, []string{"d1"}},
		{"user at another issuer", F{UserID: "u2", Issuer: i2}, nil},
		{"issuer compared exactly", F{Issuer: i1 + "/", Subject: "alice"}, nil},
		{"subject compared exactly", F{Issuer: i1, Subject: "Alice"}, nil},
		{"everything", F{Profile: "beta", UserID: "u2", Issuer: i1, Subject: "bob", SID: "sidC"}, []string{"b1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{}
			s := use(t, newStore(t, c.Now))
			all := filterPopulation(c.Now())
			s.save(all...)
			c.Advance(2 * time.Minute) // x1 expires
			for _, x := range all {
				if !tc.f.Match(x) && slices.Contains(tc.want, x.ID) || tc.f.Match(x) && x.ID != "x1" && !slices.Contains(tc.want, x.ID) {
					t.Fatalf("the case is wrong about %s", x.ID) // a check of the table itself
				}
			}
			s.wantCount(tc.f, len(tc.want))
			if n := s.deleteMatching(tc.f); n != len(tc.want) {
				t.Errorf("DeleteMatching = %d, want %d", n, len(tc.want))
			}
			s.wantCount(tc.f, 0)
			s.gone(tc.want...)
			for _, x := range all {
				if x.ID != "x1" && !slices.Contains(tc.want, x.ID) {
					wantSession(t, x, s.load(x.ID))
				}
			}
			s.gone("x1")
		})
	}
}

func sessionInvalidFilters(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	all := filterPopulation(c.Now())
	s.save(all...)
	const i1 = "https://idp-one.example.com"
	for _, f := range []ssoclient.SessionFilter{
		{},
		{Issuer: i1},
		{Subject: "alice"},
		{SID: "sidA"},
		{Subject: "alice", SID: "sidA"},
		{Profile: "acme", Subject: "alice"},
		{UserID: "u1", SID: "sidA"},
	} {
		if f.Valid() {
			t.Fatalf("%s is Valid", filterString(f))
		}
		if n, err := st.Count(s.ctx, f); !errors.Is(err, ssoclient.ErrEmptyFilter) || n != 0 {
			t.Errorf("Count(%s) = %d, %v; want ErrEmptyFilter", filterString(f), n, err)
		}
		if n, err := st.DeleteMatching(s.ctx, f); !errors.Is(err, ssoclient.ErrEmptyFilter) || n != 0 {
			t.Errorf("DeleteMatching(%s) = %d, %v; want ErrEmptyFilter", filterString(f), n, err)
		}
	}
	for _, x := range all {
		wantSession(t, x, s.load(x.ID))
	}
	s.wantCount(ssoclient.SessionFilter{Profile: "acme"}, 5)
}

func sessionAwkwardValues(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	now := c.Now()
	long := "https://idp.example.com/" + strings.Repeat("tenant/", 600) // 4 KiB
	odd := person(now, "id:with:colons{and}braces*?[x] ü\n", "p:{1}*", "u *?[]\\", long, "sub:{x}*", "sid with spaces\t")
	// Two people whose issuer and subject run together the same way.
	left := person(now, "left", "p", "u-left", "https://x.example.com/a", "b:c", "s")
	right := person(now, "right", "p", "u-right", "https://x.example.com/a:b", "c", "s")
	empty := person(now, "empty-subject-elsewhere", "p", "u-left", "https://x.example.com/a:b:c", "", "")
	s.save(odd, left, right, empty)
	wantSession(t, odd, s.load(odd.ID))
	for _, f := range []ssoclient.SessionFilter{
		{Profile: odd.Profile}, {UserID: odd.UserID}, {Issuer: long, Subject: odd.Identity.Subject}, {Issuer: long, SID: odd.SID},
		{Issuer: "https://x.example.com/a", Subject: "b:c"}, {Issuer: "https://x.example.com/a:b", Subject: "c"},
		{Issuer: "https://x.example.com/a", SID: "s"}, {Issuer: "https://x.example.com/a:b", SID: "s"},
	} {
		s.wantCount(f, 1)
	}
	s.wantCount(ssoclient.SessionFilter{Profile: "p"}, 3)
	s.wantCount(ssoclient.SessionFilter{Issuer: long[:len(long)-1], Subject: odd.Identity.Subject}, 0)
	if n := s.deleteMatching(ssoclient.SessionFilter{Issuer: long, Subject: odd.Identity.Subject}); n != 1 {
		t.Errorf("DeleteMatching by a long issuer = %d, want 1", n)
	}
	s.gone(odd.ID)
	if n := s.deleteMatching(ssoclient.SessionFilter{Issuer: "https://x.example.com/a", Subject: "b:c"}); n != 1 {
		t.Errorf("DeleteMatching = %d, want 1", n)
	}
	s.gone("left")
	wantSession(t, right, s.load("right"))
	wantSession(t, empty, s.load(empty.ID))
}

func sessionConcurrent(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	now := c.Now()
	const n = 800
	id := func(i int) string { return fmt.Sprintf("crowd-%04d", i) }
	// Saves, Loads of what is saved, and Deletes of other sessions, at once.
	for i := range 100 {
		s.save(person(now, fmt.Sprintf("doomed-%03d", i), "doomed", "d", "https://idp.example.com", "dan", ""))
	}
	var loaded atomic.Int64
	err := parallel(n+100, racers, func(i int) error {
		if i >= n {
			return st.Delete(s.ctx, fmt.Sprintf("doomed-%03d", i-n))
		}
		x := person(now, id(i), "crowd", "crowd-user", "https://idp.example.com", "crowd-sub", fmt.Sprintf("sid-%d", i%7))
		if err := st.Save(s.ctx, x); err != nil {
			return err
		}
		got, err := st.Load(s.ctx, x.ID)
		if err != nil {
			return fmt.Errorf("Load right after Save: %w", err)
		}
		if d := diffSession(x, got); len(d) > 0 {
			return fmt.Errorf("Load right after Save: %v", d)
		}
		loaded.Add(1)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Load() != n {
		t.Fatalf("%d of %d sessions loaded right after their Save", loaded.Load(), n)
	}
	s.wantCount(ssoclient.SessionFilter{UserID: "crowd-user"}, n)
	s.wantCount(ssoclient.SessionFilter{Profile: "doomed"}, 0)
	sid3 := 0
	for i := range n {
		if i%7 == 3 {
			sid3++
		}
	}
	s.wantCount(ssoclient.SessionFilter{Issuer: "https://idp.example.com", SID: "sid-3"}, sid3)

	// Concurrent DeleteMatching calls count each session once between them.
	var total atomic.Int64
	err = parallel(racers, racers, func(i int) error {
		f := ssoclient.SessionFilter{UserID: "crowd-user"}
		if i%2 == 1 {
			f = ssoclient.SessionFilter{Issuer: "https://idp.example.com", Subject: "crowd-sub"}
		}
		k, err := st.DeleteMatching(s.ctx, f)
		total.Add(int64(k))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if total.Load() != n {
		t.Errorf("concurrent DeleteMatching calls counted %d sessions, want %d", total.Load(), n)
	}
	s.wantCount(ssoclient.SessionFilter{Profile: "crowd"}, 0)
	s.gone(id(0), id(n-1))
}

func sessionMany(t *testing.T, st ssoclient.SessionStore, c *clock) {
	s := use(t, st)
	now := c.Now()
	const iss = "https://idp.example.com"
	mk := func(i int) *ssoclient.Session {
		return person(now, fmt.Sprintf("many-%05d", i), fmt.Sprintf("p%d", i%4), fmt.Sprintf("u%d", i%100), iss, fmt.Sprintf("s%d", i%100), fmt.Sprintf("sid-%d", i))
	}
	if err := parallel(many, workers, func(i int) error { return st.Save(s.ctx, mk(i)) }); err != nil {
		t.Fatal(err)
	}
	s.wantCount(ssoclient.SessionFilter{Profile: "p0"}, many/4)
	s.wantCount(ssoclient.SessionFilter{UserID: "u7"}, many/100)
	s.wantCount(ssoclient.SessionFilter{Issuer: iss, Subject: "s7"}, many/100)
	s.wantCount(ssoclient.SessionFilter{Issuer: iss, SID: "sid-4242"}, 1)
	s.wantCount(ssoclient.SessionFilter{Profile: "p3", UserID: "u7"}, many/100)
	if n := s.deleteMatching(ssoclient.SessionFilter{Profile: "p1"}); n != many/4 {
		t.Errorf("DeleteMatching(p1) = %d, want %d", n, many/4)
	}
	s.wantCount(ssoclient.SessionFilter{Profile: "p1"}, 0)
	s.wantCount(ssoclient.SessionFilter{UserID: "u1"}, 0) // every u1 was in p1
	s.wantCount(ssoclient.SessionFilter{UserID: "u2"}, many/100)
	s.gone(mk(1).ID, mk(many-3).ID)
	wantSession(t, mk(many-1), s.load(mk(many-1).ID))
	if n := s.deleteMatching(ssoclient.SessionFilter{Issuer: iss, Subject: "s2"}); n != many/100 {
		t.Errorf("DeleteMatching(s2) = %d, want %d", n, many/100)
	}
	s.wantCount(ssoclient.SessionFilter{Profile: "p2"}, many/4-many/100)
}
