package ssoclient

import (
	"context"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
)

// ReplayCache remembers which login attempts were used, so each callback
// works once. Implementations must be safe for concurrent use, and Claim
// must be atomic: of two concurrent claims of one key, exactly one is
// first. A shared store (Redis SET NX with expiry) makes single use hold
// across replicas.
type ReplayCache interface {
	// Claim records key as used until the given time and reports whether
	// this call was the first to claim it.
	Claim(ctx context.Context, key string, until time.Time) (first bool, err error)
}

// MemoryReplayCache is the default ReplayCache: an in-memory LRU. Beyond
// its size, the least recently claimed keys are forgotten first; a key is
// only worth replaying while its attempt cookie is alive (10 minutes), so
// the size should exceed the sign-ins of 10 minutes.
type MemoryReplayCache struct {
	mu  sync.Mutex // makes Claim's look-then-add atomic
	lru *lru.Cache[string, time.Time]
	now func() time.Time
}

// NewMemoryReplayCache returns a cache of up to size keys (100,000 when
// size <= 0). now is its clock (time.Now when nil).
func NewMemoryReplayCache(size int, now func() time.Time) *MemoryReplayCache {
	if size <= 0 {
		size = 100_000
	}
	if now == nil {
		now = time.Now
	}
	c, _ := lru.New[string, time.Time](size) // only fails for size <= 0
	return &MemoryReplayCache{lru: c, now: now}
}

// Claim implements ReplayCache.
func (m *MemoryReplayCache) Claim(_ context.Context, key string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if exp, ok := m.lru.Get(key); ok && m.now().Before(exp) {
		return false, nil
	}
	m.lru.Add(key, until)
	return true, nil
}
