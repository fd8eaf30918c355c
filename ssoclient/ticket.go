package ssoclient

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Ticket is what a broker hands a relying app, by reference: the verified
// sign-in, bound to one app and one return URL, for a short time. The
// browser carries only a random value; a TicketStore keeps the Ticket under
// a hash of it.
type Ticket struct {
	// App is the relying app the ticket was issued to.
	App string
	// ReturnURL is the registered URL the browser was sent back to.
	ReturnURL string
	Identity  *Identity
	// Profile is the SSO profile signed in through ("" for a single
	// provider).
	Profile string
	// UserID is the broker's user, when Config.Directory is set.
	UserID string
	// AuthTime is when the person authenticated at the provider: the ID
	// token's auth_time, or the broker session's start.
	AuthTime  time.Time
	ExpiresAt time.Time
}

// ErrTicketNotFound is what a TicketStore's Take returns for a key it does
// not hold: never issued, already taken, or forgotten after expiry.
var ErrTicketNotFound = errors.New("ssoclient: ticket not found")

// TicketStore keeps broker tickets until they are redeemed. Implementations
// must be safe for concurrent use, and Take must be atomic: of concurrent
// Takes of one key, exactly one gets the ticket. A shared store (Redis
// GETDEL, a SQL DELETE … RETURNING) makes single use hold across replicas.
// Keys are hashes of the ticket values, never the values.
type TicketStore interface {
	// Put stores t under key until t.ExpiresAt.
	Put(ctx context.Context, key string, t *Ticket) error
	// Take removes and returns the ticket under key, or ErrTicketNotFound.
	// It may return a ticket past its ExpiresAt that it has not yet
	// forgotten; the Client checks the time itself.
	Take(ctx context.Context, key string) (*Ticket, error)
}

// MemoryTicketStore is the default TicketStore: in memory, bounded, with
// expiry. It suits a single replica.
type MemoryTicketStore struct {
	mu  sync.Mutex // guards m
	m   map[string]*Ticket
	max int
	now func() time.Time
}

// NewMemoryTicketStore returns a store of up to max tickets (100,000 when
// max <= 0). When full, expired tickets go first, then the one closest to
// expiring. now is its clock (time.Now when nil).
func NewMemoryTicketStore(max int, now func() time.Time) *MemoryTicketStore {
	if max <= 0 {
		max = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryTicketStore{m: make(map[string]*Ticket), max: max, now: now}
}

// Put implements TicketStore.
func (st *MemoryTicketStore) Put(_ context.Context, key string, t *Ticket) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.m[key]; !ok && len(st.m) >= st.max {
		evictOne(st.m, st.now(), func(t *Ticket) time.Time { return t.ExpiresAt })
	}
	st.m[key] = t
	return nil
}

// Take implements TicketStore.
func (st *MemoryTicketStore) Take(_ context.Context, key string) (*Ticket, error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	t, ok := st.m[key]
	if !ok {
		return nil, ErrTicketNotFound
	}
	delete(st.m, key)
	return t, nil
}

// Len returns the number of tickets held, expired ones not yet evicted
// included.
func (st *MemoryTicketStore) Len() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.m)
}
