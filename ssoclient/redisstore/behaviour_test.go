package redisstore_test

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/redisstore"
)

// session is a session of alice at one provider, through profile acme,
// with tokens.
func session(id string, expires time.Time) *ssoclient.Session {
	s := &ssoclient.Session{
		ID:       id,
		Identity: &ssoclient.Identity{Issuer: "https://idp.example.com", Subject: "alice", Email: "alice@example.com"},
		Profile:  "acme", UserID: "user-1", SID: "sid-1",
		Tokens:    &ssoclient.Tokens{AccessToken: "access-token-secret", RefreshToken: "refresh-token-secret", TokenType: "Bearer"},
		CreatedAt: time.Now(), ExpiresAt: expires,
	}
	s.SetIDToken("id-token-secret")
	return s
}

// expiresAt is when Redis will expire key (zero: never or no key).
func expiresAt(t *testing.T, c *redis.Client, key string) time.Time {
	t.Helper()
	ms, err := c.Do(context.Background(), "pexpiretime", key).Int64()
	if err != nil {
		t.Fatal(err)
	}
	if ms < 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// TestKeys checks the key layout: a session key under the prefix holding
// the storage form and expiring with the session, and four index sets
// whose names are bounded hashes, expiring no earlier than their latest
// session; a replay claim and a ticket expiring at their times.
func TestKeys(t *testing.T) {
	c := newClient(t)
	prefix := newPrefix(t, c)
	ctx := t.Context()
	st := redisstore.NewSessionStore(c, &redisstore.Options{Prefix: prefix})
	end := time.Now().Add(time.Hour).Truncate(time.Millisecond).Add(time.Millisecond / 2)
	s := session("the-session-id", end)
	s.Identity.Issuer = "https://idp.example.com/" + strings.Repeat("long/", 1000)
	if err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	keys := keysUnder(t, c, prefix)
	if len(keys) != 5 || !slices.Contains(keys, prefix+":s:the-session-id") {
		t.Fatalf("keys = %q; want the session and four index sets", keys)
	}
	for _, k := range keys {
		if at := expiresAt(t, c, k); !at.Equal(end.Truncate(time.Millisecond).Add(time.Millisecond)) {
			t.Errorf("%s expires at %s, want %s (the session's end, rounded up)", k, at, end)
		}
		if k == prefix+":s:the-session-id" {
			continue
		}
		if len(k) > len(prefix)+40 || strings.Contains(k, "alice") || strings.Contains(k, "the-session-id") {
			t.Errorf("index key %q is not a bounded hash", k)
		}
		if typ := c.Type(ctx, k).Val(); typ != "set" {
			t.Errorf("%s is a %s", k, typ)
		}
		if m := c.SMembers(ctx, k).Val(); !slices.Equal(m, []string{"the-session-id"}) {
			t.Errorf("%s holds %q", k, m)
		}
	}
	b, err := c.Get(ctx, prefix+":s:the-session-id").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	var back ssoclient.Session
	if err := back.UnmarshalBinary(b); err != nil || back.Tokens == nil || back.Tokens.RefreshToken != "refresh-token-secret" {
		t.Errorf("the session key does not hold the storage form: %v", err)
	}

	// A later session of the same user moves its sets' expiry, an earlier
	// one does not.
	later := session("later", end.Add(2*time.Hour))
	if err := st.Save(ctx, later); err != nil {
		t.Fatal(err)
	}
	earlier := session("earlier", end.Add(-30*time.Minute))
	if err := st.Save(ctx, earlier); err != nil {
		t.Fatal(err)
	}
	for _, k := range keysUnder(t, c, prefix) {
		if strings.Contains(k, ":s:") || slices.Equal(c.SMembers(ctx, k).Val(), []string{"the-session-id"}) {
			continue // the long issuer's sets
		}
		if at := expiresAt(t, c, k); at.Before(later.ExpiresAt) {
			t.Errorf("%s expires at %s, before its latest session (%s)", k, at, later.ExpiresAt)
		}
	}

	rc := redisstore.NewReplayCache(c, &redisstore.Options{Prefix: prefix})
	until := time.Now().Add(11 * time.Minute)
	if first, err := rc.Claim(ctx, "attempt-hash", until); err != nil || !first {
		t.Fatalf("Claim = %t, %v", first, err)
	}
	var claimKey string
	for _, k := range keysUnder(t, c, prefix) {
		if strings.HasPrefix(k, prefix+":r:") {
			claimKey = k
		}
	}
	if len(claimKey) != len(prefix)+3+32 {
		t.Errorf("the claim's key is %q, want a 128-bit hash under %s:r:", claimKey, prefix)
	}
	if at := expiresAt(t, c, claimKey); at.Before(until) || at.After(until.Add(time.Millisecond)) {
		t.Errorf("the claim expires at %s, want %s", at, until)
	}
	ts := redisstore.NewTicketStore(c, &redisstore.Options{Prefix: prefix})
	tk := &ssoclient.Ticket{App: "wiki", Identity: s.Identity, ExpiresAt: time.Now().Add(time.Minute)}
	if err := ts.Put(ctx, "ticket-hash", tk); err != nil {
		t.Fatal(err)
	}
	if at := expiresAt(t, c, prefix+":t:ticket-hash"); at.Before(tk.ExpiresAt) || at.After(tk.ExpiresAt.Add(time.Millisecond)) {
		t.Errorf("the ticket expires at %s, want %s", at, tk.ExpiresAt)
	}
}

// TestKeysGoInRealTime checks that Redis itself removes an ended session,
// its index sets, a claim and a ticket: nothing is left for a later Count
// to find.
func TestKeysGoInRealTime(t *testing.T) {
	c := newClient(t)
	prefix := newPrefix(t, c)
	ctx := t.Context()
	end := time.Now().Add(300 * time.Millisecond)
	// The clock is far behind: only Redis's own expiry can end these.
	past := func() time.Time { return time.Now().Add(-time.Hour) }
	opts := &redisstore.Options{Prefix: prefix, Now: past}
	if err := redisstore.NewSessionStore(c, opts).Save(ctx, session("brief", end)); err != nil {
		t.Fatal(err)
	}
	if _, err := redisstore.NewReplayCache(c, opts).Claim(ctx, "k", end); err != nil {
		t.Fatal(err)
	}
	if err := redisstore.NewTicketStore(c, opts).Put(ctx, "k", &ssoclient.Ticket{App: "wiki", ExpiresAt: end}); err != nil {
		t.Fatal(err)
	}
	if n := len(keysUnder(t, c, prefix)); n != 7 {
		t.Fatalf("%d keys, want 7", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		keys := keysUnder(t, c, prefix)
		if len(keys) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still there 10s after their end: %q", keys)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if time.Now().Before(end) {
		t.Errorf("the keys went before their end")
	}
}

// TestStaleIndexEntries checks that index entries whose session is gone
// are removed: by Count and DeleteMatching as they meet them, and by Save
// in the sets it adds to.
func TestStaleIndexEntries(t *testing.T) {
	c := newClient(t)
	prefix := newPrefix(t, c)
	ctx := t.Context()
	st := redisstore.NewSessionStore(c, &redisstore.Options{Prefix: prefix})
	for _, id := range []string{"a", "b", "c"} {
		if err := st.Save(ctx, session(id, time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	// Sessions that vanish without Delete (expiry, eviction, a FLUSH of
	// the session keys) leave their ids in the sets.
	c.Del(ctx, prefix+":s:a", prefix+":s:b")
	sets := func() map[string][]string {
		m := map[string][]string{}
		for _, k := range keysUnder(t, c, prefix) {
			if !strings.Contains(k, ":s:") {
				m[k] = c.SMembers(ctx, k).Val()
				slices.Sort(m[k])
			}
		}
		return m
	}
	if n, err := st.Count(ctx, ssoclient.SessionFilter{Profile: "acme"}); err != nil || n != 1 {
		t.Fatalf("Count = %d, %v; want 1", n, err)
	}
	for k, m := range sets() {
		if strings.HasPrefix(k, prefix+":ip:") && !slices.Equal(m, []string{"c"}) {
			t.Errorf("Count left the profile set holding %q", m)
		}
		if !strings.HasPrefix(k, prefix+":ip:") && !slices.Equal(m, []string{"a", "b", "c"}) {
			t.Errorf("%s holds %q; Count should only have cleaned the set it read", k, m)
		}
	}
	// Save takes up to two gone members out of each set it adds to.
	if err := st.Delete(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	for k, m := range sets() {
		if !slices.Equal(m, []string{"a", "b"}) {
			t.Errorf("after Delete, %s holds %q", k, m)
		}
	}
	if err := st.Save(ctx, session("d", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	for k, m := range sets() {
		if !slices.Equal(m, []string{"d"}) {
			t.Errorf("after Save, %s holds %q", k, m)
		}
	}
	// A replaced session leaves the sets it no longer belongs to when they
	// are read.
	if err := st.Save(ctx, session("c", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	moved := session("c", time.Now().Add(time.Hour))
	moved.Profile = "beta"
	if err := st.Save(ctx, moved); err != nil {
		t.Fatal(err)
	}
	if n, err := st.DeleteMatching(ctx, ssoclient.SessionFilter{Profile: "acme"}); err != nil || n != 1 {
		t.Fatalf("DeleteMatching(acme) = %d, %v; want 1 (d)", n, err)
	}
	if _, err := st.Load(ctx, "c"); err != nil {
		t.Fatalf("the moved session was deleted with its old profile: %v", err)
	}
	for k, m := range sets() {
		if strings.HasPrefix(k, prefix+":ip:") && !slices.Equal(m, []string{"c"}) {
			t.Errorf("%s holds %q; want only the moved session in its new profile's set", k, m)
		}
	}
}

// TestLoadIsOneGET counts the commands each call sends.
func TestLoadIsOneGET(t *testing.T) {
	c := newClient(t)
	prefix := newPrefix(t, c)
	ctx := t.Context()
	st := redisstore.NewSessionStore(c, &redisstore.Options{Prefix: prefix})
	if err := st.Save(ctx, session("s", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	h := &commandLog{}
	c.AddHook(h)
	for _, id := range []string{"s", "unknown"} {
		h.reset()
		_, _ = st.Load(ctx, id)
		if got := h.names(); !slices.Equal(got, []string{"get"}) {
			t.Errorf("Load(%s) sent %q, want one GET", id, got)
		}
	}
	h.reset()
	if _, err := redisstore.NewTicketStore(c, &redisstore.Options{Prefix: prefix}).Take(ctx, "t"); !errors.Is(err, ssoclient.ErrTicketNotFound) {
		t.Fatal(err)
	}
	if got := h.names(); !slices.Equal(got, []string{"getdel"}) {
		t.Errorf("Take sent %q, want one GETDEL", got)
	}
	h.reset()
	if _, err := redisstore.NewReplayCache(c, &redisstore.Options{Prefix: prefix}).Claim(ctx, "k", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := h.names(); !slices.Equal(got, []string{"set"}) {
		t.Errorf("Claim sent %q, want one SET", got)
	}
}

// commandLog is a go-redis hook that records command names.
type commandLog struct {
	mu  sync.Mutex
	log []string
}

func (h *commandLog) reset() { h.mu.Lock(); h.log = nil; h.mu.Unlock() }

func (h *commandLog) names() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.log)
}

func (h *commandLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *commandLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.mu.Lock()
		h.log = append(h.log, cmd.Name())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *commandLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.mu.Lock()
		for _, cmd := range cmds {
			h.log = append(h.log, cmd.Name())
		}
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

// TestCorruptValues checks that values this store did not write are
// errors or ignored, never a session.
func TestCorruptValues(t *testing.T) {
	c := newClient(t)
	prefix := newPrefix(t, c)
	ctx := t.Context()
	st := redisstore.NewSessionStore(c, &redisstore.Options{Prefix: prefix})
	if err := st.Save(ctx, session("good", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, session("bad", time.Now().Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	c.Set(ctx, prefix+":s:bad", "not a session", time.Hour)
	if s, err := st.Load(ctx, "bad"); err == nil || s != nil {
		t.Errorf("Load of garbage = %v, %v", s, err)
	}
	// A session stored under another id's key is not that id's session.
	good, _ := c.Get(ctx, prefix+":s:good").Result()
	c.Set(ctx, prefix+":s:copy", good, time.Hour)
	if _, err := st.Load(ctx, "copy"); !errors.Is(err, ssoclient.ErrSessionNotFound) {
		t.Errorf("Load of a session under another key: %v", err)
	}
	if n, err := st.Count(ctx, ssoclient.SessionFilter{UserID: "user-1"}); err != nil || n != 1 {
		t.Errorf("Count = %d, %v; want 1", n, err)
	}
	c.Set(ctx, prefix+":t:bad", "{}", time.Hour)
	if tk, err := redisstore.NewTicketStore(c, &redisstore.Options{Prefix: prefix}).Take(ctx, "bad"); err == nil || tk != nil {
		t.Errorf("Take of a foreign value = %v, %v", tk, err)
	}
}

// TestErrors checks that every failure wraps the cause (a canceled
// context, a server that does not answer) and names no session id or
// token.
func TestErrors(t *testing.T) {
	c := newClient(t)
	prefix := newPrefix(t, c)
	s := session("secret-session-id", time.Now().Add(time.Hour))
	opts := &redisstore.Options{Prefix: prefix}
	secrets := []string{s.ID, s.IDToken(), string(s.Tokens.AccessToken), string(s.Tokens.RefreshToken), "ticket-key-hash"}
	f := ssoclient.SessionFilter{UserID: s.UserID}

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	// Port 1 on loopback refuses connections.
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second, DialerRetries: 1, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { down.Close() })
	for _, tc := range []struct {
		name  string
		c     *redis.Client
		ctx   context.Context
		check func(error) bool
	}{
		{"canceled context", c, canceled, func(err error) bool { return errors.Is(err, context.Canceled) }},
		{"server down", down, context.Background(), func(err error) bool { var op *net.OpError; return errors.As(err, &op) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := redisstore.NewSessionStore(tc.c, opts)
			rc := redisstore.NewReplayCache(tc.c, opts)
			ts := redisstore.NewTicketStore(tc.c, opts)
			calls := map[string]func() error{
				"Save":           func() error { return st.Save(tc.ctx, s) },
				"Load":           func() error { _, err := st.Load(tc.ctx, s.ID); return err },
				"Delete":         func() error { return st.Delete(tc.ctx, s.ID) },
				"Count":          func() error { _, err := st.Count(tc.ctx, f); return err },
				"DeleteMatching": func() error { _, err := st.DeleteMatching(tc.ctx, f); return err },
				"Claim":          func() error { _, err := rc.Claim(tc.ctx, "ticket-key-hash", time.Now().Add(time.Minute)); return err },
				"Put": func() error {
					return ts.Put(tc.ctx, "ticket-key-hash", &ssoclient.Ticket{ExpiresAt: time.Now().Add(time.Minute)})
				},
				"Take": func() error { _, err := ts.Take(tc.ctx, "ticket-key-hash"); return err },
			}
			for name, call := range calls {
				err := call()
				if err == nil || !tc.check(err) {
					t.Errorf("%s: %v; want an error wrapping the cause", name, err)
					continue
				}
				if !strings.HasPrefix(err.Error(), "redisstore: ") {
					t.Errorf("%s: %q does not name the package", name, err)
				}
				for _, secret := range secrets {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("%s: %q names a secret", name, err)
					}
				}
			}
		})
	}
	if keys := keysUnder(t, c, prefix); len(keys) != 0 {
		t.Errorf("calls with a canceled context wrote %q", keys)
	}
}

// TestScriptCacheFlushed checks that the store works after Redis forgot
// its scripts (a restart, a failover, SCRIPT FLUSH): single scripts and
// DeleteMatching's pipelined ones load them again.
func TestScriptCacheFlushed(t *testing.T) {
	c := newClient(t)
	prefix := newPrefix(t, c)
	ctx := t.Context()
	st := redisstore.NewSessionStore(c, &redisstore.Options{Prefix: prefix})
	for _, id := range []string{"a", "b", "c"} {
		if err := st.Save(ctx, session(id, time.Now().Add(time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := st.DeleteMatching(ctx, ssoclient.SessionFilter{UserID: "user-1"}); err != nil || n != 3 {
		t.Fatalf("DeleteMatching after SCRIPT FLUSH = %d, %v; want 3", n, err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.Save(ctx, session("d", time.Now().Add(time.Hour))); err != nil {
		t.Fatalf("Save after SCRIPT FLUSH: %v", err)
	}
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "d"); err != nil {
		t.Fatalf("Delete after SCRIPT FLUSH: %v", err)
	}
	if keys := keysUnder(t, c, prefix); len(keys) != 0 {
		t.Errorf("left %q", keys)
	}
}
