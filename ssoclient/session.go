package ssoclient

import (
	"context"
	"errors"
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"github.com/ssokit/ssokit/claims"
)

// Identity is the signed-in person; see [claims.Identity].
type Identity = claims.Identity

// Session is a signed-in browser: who, through which provider, until
// when. Its ID is the session cookie's value.
type Session struct {
	ID       string
	Identity *Identity
	// Profile is the SSO profile the person signed in through ("" for a
	// Client with a single provider).
	Profile string
	// UserID is the application's user, when Config.Directory is set.
	UserID string
	// IDToken is the raw ID token, sent back to the provider as
	// id_token_hint at logout.
	IDToken   string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// LogValue logs the session without its ID or token.
func (s *Session) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.Any("identity", s.Identity), slog.String("profile", s.Profile), slog.Time("expires_at", s.ExpiresAt))
}

// ErrSessionNotFound is what a SessionStore returns for an unknown or
// expired session.
var ErrSessionNotFound = errors.New("ssoclient: session not found")

// SessionStore keeps sessions. Implementations must be safe for concurrent
// use; Load is on the path of every signed-in request, so it should be
// fast. Sessions handed to Save and returned by Load are not modified
// afterwards.
type SessionStore interface {
	// Save stores s until s.ExpiresAt.
	Save(ctx context.Context, s *Session) error
	// Load returns the session with this id, or ErrSessionNotFound when
	// there is none or it has expired.
	Load(ctx context.Context, id string) (*Session, error)
	// Delete removes the session; deleting an unknown id is not an error.
	Delete(ctx context.Context, id string) error
	// CountProfile counts the unexpired sessions created through a
	// profile.
	CountProfile(ctx context.Context, profile string) (int, error)
	// DeleteProfile removes every session created through a profile and
	// returns how many were unexpired.
	DeleteProfile(ctx context.Context, profile string) (int, error)
}

const sessionShards = 32

// MemorySessionStore is the default SessionStore: in memory, bounded, with
// expiry. It suits a single replica; replicas behind a load balancer need a
// shared store.
type MemorySessionStore struct {
	max    int // per shard
	now    func() time.Time
	seed   maphash.Seed
	shards [sessionShards]sessionShard
}

type sessionShard struct {
	mu sync.RWMutex // guards m
	m  map[string]*Session
	_  [40]byte // keeps shards on separate cache lines
}

// NewMemorySessionStore returns a store of up to max sessions (100,000
// when max <= 0). When full, expired sessions go first, then those closest
// to expiring. now is its clock (time.Now when nil).
func NewMemorySessionStore(max int, now func() time.Time) *MemorySessionStore {
	if max <= 0 {
		max = 100_000
	}
	if now == nil {
		now = time.Now
	}
	st := &MemorySessionStore{max: (max + sessionShards - 1) / sessionShards, now: now, seed: maphash.MakeSeed()}
	for i := range st.shards {
		st.shards[i].m = make(map[string]*Session)
	}
	return st
}

func (st *MemorySessionStore) shard(id string) *sessionShard {
	return &st.shards[maphash.String(st.seed, id)%sessionShards]
}

// Save implements SessionStore.
func (st *MemorySessionStore) Save(_ context.Context, s *Session) error {
	sh := st.shard(s.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m[s.ID]; !ok && len(sh.m) >= st.max {
		evictOne(sh.m, st.now(), sessionExpiry)
	}
	sh.m[s.ID] = s
	return nil
}

// evictOne makes room in a full map of entries that expire: every expired
// entry, or else the one closest to expiring. Callers hold the map's lock.
func evictOne[V any](m map[string]V, now time.Time, expires func(V) time.Time) {
	var soonest string
	var soonestAt time.Time
	removed := false
	for k, v := range m {
		at := expires(v)
		if !now.Before(at) {
			delete(m, k)
			removed = true
			continue
		}
		if soonest == "" || at.Before(soonestAt) {
			soonest, soonestAt = k, at
		}
	}
	if !removed && soonest != "" {
		delete(m, soonest)
	}
}

func sessionExpiry(s *Session) time.Time { return s.ExpiresAt }

// Load implements SessionStore.
func (st *MemorySessionStore) Load(_ context.Context, id string) (*Session, error) {
	sh := st.shard(id)
	sh.mu.RLock()
	s, ok := sh.m[id]
	sh.mu.RUnlock()
	if !ok || !st.now().Before(s.ExpiresAt) {
		return nil, ErrSessionNotFound
	}
	return s, nil
}

// Delete implements SessionStore.
func (st *MemorySessionStore) Delete(_ context.Context, id string) error {
	sh := st.shard(id)
	sh.mu.Lock()
	delete(sh.m, id)
	sh.mu.Unlock()
	return nil
}

// Len returns the number of sessions held, expired ones not yet evicted
// included.
func (st *MemorySessionStore) Len() int {
	n := 0
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}

// CountProfile implements SessionStore.
func (st *MemorySessionStore) CountProfile(_ context.Context, profile string) (int, error) {
	now := st.now()
	n := 0
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.RLock()
		for _, s := range sh.m {
			if s.Profile == profile && now.Before(s.ExpiresAt) {
				n++
			}
		}
		sh.mu.RUnlock()
	}
	return n, nil
}

// DeleteProfile implements SessionStore.
func (st *MemorySessionStore) DeleteProfile(_ context.Context, profile string) (int, error) {
	now := st.now()
	n := 0
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.Lock()
		for id, s := range sh.m {
			if s.Profile == profile {
				if now.Before(s.ExpiresAt) {
					n++
				}
				delete(sh.m, id)
			}
		}
		sh.mu.Unlock()
	}
	return n, nil
}
