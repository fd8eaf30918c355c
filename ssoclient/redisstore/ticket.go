package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
	"github.com/ssokit/ssokit/ssoclient"
)

// TicketStore is an [ssoclient.TicketStore] in Redis: a broker ticket
// issued by one replica is redeemed once, at any replica that uses the
// same Redis and prefix. Safe for concurrent use.
type TicketStore struct {
	settings
}

var _ ssoclient.TicketStore = (*TicketStore)(nil)

// NewTicketStore returns a TicketStore on c.
func NewTicketStore(c redis.UniversalClient, opts *Options) *TicketStore {
	return &TicketStore{newSettings(c, opts)}
}

// ticketRecord is a ticket's storage form.
type ticketRecord struct {
	V      int               `json:"v"`
	Ticket *ssoclient.Ticket `json:"ticket"`
}

// Put implements [ssoclient.TicketStore]: one SET with PXAT at
// t.ExpiresAt. A ticket that has already expired is not stored, and
// removes one stored under key.
func (ts *TicketStore) Put(ctx context.Context, key string, t *ssoclient.Ticket) error {
	if t == nil {
		return errors.New("redisstore: put ticket: no ticket")
	}
	k := ts.prefix + ":t:" + key
	if !ts.now().Before(t.ExpiresAt) {
		if err := ts.c.Del(ctx, k).Err(); err != nil {
			return wrap("put ticket", err)
		}
		return nil
	}
	data, err := json.Marshal(ticketRecord{V: 1, Ticket: t})
	if err != nil {
		return wrap("put ticket", err)
	}
	if err := ts.c.Do(ctx, "set", k, data, "pxat", unixMilliCeil(t.ExpiresAt)).Err(); err != nil {
		return wrap("put ticket", err)
	}
	return nil
}

// Take implements [ssoclient.TicketStore] with one GETDEL (Redis 6.2 or
// later): of concurrent Takes of one key, at any replicas, one gets the
// ticket.
func (ts *TicketStore) Take(ctx context.Context, key string) (*ssoclient.Ticket, error) {
	b, err := ts.c.GetDel(ctx, ts.prefix+":t:"+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ssoclient.ErrTicketNotFound
	}
	if err != nil {
		return nil, wrap("take ticket", err)
	}
	var r ticketRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, wrap("take ticket", err)
	}
	if r.V != 1 || r.Ticket == nil {
		return nil, fmt.Errorf("redisstore: take ticket: unknown record version %d", r.V)
	}
	return r.Ticket, nil
}
