package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
)

// RunTicketStore checks a TicketStore against the contract of
// [ssoclient.TicketStore]. newStore returns an empty store of its own for
// each subtest, using now as its clock where it can.
//
// A ticket past its ExpiresAt may be forgotten or returned by Take (the
// Client checks the time itself); the suite accepts either, but a ticket
// returned must be the one stored.
func RunTicketStore(t *testing.T, newStore func(t *testing.T, now func() time.Time) ssoclient.TicketStore) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, st ssoclient.TicketStore, c *clock)
	}{
		{"RoundTrip", ticketRoundTrip},
		{"TakeUnknown", ticketTakeUnknown},
		{"PutReplaces", ticketPutReplaces},
		{"ConcurrentTakes", ticketConcurrentTakes},
		{"Expired", ticketExpired},
		{"Many", ticketMany},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{}
			tc.run(t, newStore(t, c.Now), c)
		})
	}
}

func sampleTicket(now time.Time, app string) *ssoclient.Ticket {
	return &ssoclient.Ticket{
		App:       app,
		ReturnURL: "https://" + app + ".example.com/sso/return?x=1",
		Identity:  sampleIdentity(),
		Profile:   "acme-okta",
		UserID:    "user-42",
		AuthTime:  now.Add(-time.Minute),
		ExpiresAt: now.Add(time.Minute),
	}
}

func diffTicket(want, got *ssoclient.Ticket) []string {
	if got == nil {
		return []string{"got no ticket"}
	}
	var d []string
	d = append(d, diffString("App", want.App, got.App, false)...)
	d = append(d, diffString("ReturnURL", want.ReturnURL, got.ReturnURL, false)...)
	d = append(d, diffString("Profile", want.Profile, got.Profile, false)...)
	d = append(d, diffString("UserID", want.UserID, got.UserID, false)...)
	d = append(d, diffTime("AuthTime", want.AuthTime, got.AuthTime)...)
	d = append(d, diffTime("ExpiresAt", want.ExpiresAt, got.ExpiresAt)...)
	d = append(d, diffIdentity(want.Identity, got.Identity)...)
	return d
}

func put(t *testing.T, ctx context.Context, st ssoclient.TicketStore, key string, tk *ssoclient.Ticket) {
	t.Helper()
	if err := st.Put(ctx, key, tk); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func take(t *testing.T, ctx context.Context, st ssoclient.TicketStore, key string, want *ssoclient.Ticket) {
	t.Helper()
	got, err := st.Take(ctx, key)
	if err != nil {
		t.Fatalf("Take(%q): %v", key, err)
	}
	for _, d := range diffTicket(want, got) {
		t.Errorf("Take(%q): %s", key, d)
	}
}

func taken(t *testing.T, ctx context.Context, st ssoclient.TicketStore, key string) {
	t.Helper()
	if got, err := st.Take(ctx, key); !errors.Is(err, ssoclient.ErrTicketNotFound) || got != nil {
		t.Errorf("Take(%q) = %v, %v; want nil, ErrTicketNotFound", key, got, err)
	}
}

func ticketRoundTrip(t *testing.T, st ssoclient.TicketStore, c *clock) {
	ctx := t.Context()
	now := c.Now()
	full := sampleTicket(now, "wiki")
	bare := &ssoclient.Ticket{App: "crm", ReturnURL: "https://crm.example.com/", Identity: &ssoclient.Identity{Issuer: "https://idp.example.com", Subject: "bob"}, ExpiresAt: now.Add(time.Minute)}
	put(t, ctx, st, "key-full", full)
	put(t, ctx, st, "key-bare", bare)
	take(t, ctx, st, "key-bare", bare)
	take(t, ctx, st, "key-full", full)
	taken(t, ctx, st, "key-full")
	taken(t, ctx, st, "key-bare")
}

func ticketTakeUnknown(t *testing.T, st ssoclient.TicketStore, c *clock) {
	ctx := t.Context()
	taken(t, ctx, st, "never-put")
	tk := sampleTicket(c.Now(), "wiki")
	put(t, ctx, st, "K", tk)
	taken(t, ctx, st, "k")
	taken(t, ctx, st, "K ")
	taken(t, ctx, st, "")
	take(t, ctx, st, "K", tk)
}

func ticketPutReplaces(t *testing.T, st ssoclient.TicketStore, c *clock) {
	ctx := t.Context()
	now := c.Now()
	put(t, ctx, st, "k", sampleTicket(now, "wiki"))
	second := sampleTicket(now, "crm")
	second.ExpiresAt = now.Add(2 * time.Minute)
	put(t, ctx, st, "k", second)
	take(t, ctx, st, "k", second)
	taken(t, ctx, st, "k")
}

func ticketConcurrentTakes(t *testing.T, st ssoclient.TicketStore, c *clock) {
	ctx := t.Context()
	now := c.Now()
	for k := range 20 {
		key := fmt.Sprintf("race-%d", k)
		want := sampleTicket(now, fmt.Sprintf("app-%d", k))
		put(t, ctx, st, key, want)
		var got atomic.Int64
		err := parallel(racers, racers, func(int) error {
			tk, err := st.Take(ctx, key)
			switch {
			case errors.Is(err, ssoclient.ErrTicketNotFound):
				return nil
			case err != nil:
				return err
			}
			if d := diffTicket(want, tk); len(d) > 0 {
				return fmt.Errorf("Take: %v", d)
			}
			got.Add(1)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Load() != 1 {
			t.Fatalf("%d of %d concurrent Takes of one ticket got it, want 1", got.Load(), racers)
		}
	}
}

func ticketExpired(t *testing.T, st ssoclient.TicketStore, c *clock) {
	ctx := t.Context()
	now := c.Now()
	soon := sampleTicket(now, "wiki")
	put(t, ctx, st, "soon", soon)
	dead := sampleTicket(now, "crm")
	dead.ExpiresAt = now.Add(-time.Second)
	put(t, ctx, st, "dead", dead)
	c.Advance(2 * time.Minute)
	for key, want := range map[string]*ssoclient.Ticket{"soon": soon, "dead": dead} {
		got, err := st.Take(ctx, key)
		if errors.Is(err, ssoclient.ErrTicketNotFound) {
			continue
		}
		if err != nil {
			t.Fatalf("Take(%q) of an expired ticket: %v", key, err)
		}
		for _, d := range diffTicket(want, got) {
			t.Errorf("Take(%q) of an expired ticket: %s", key, d)
		}
		taken(t, ctx, st, key)
	}
}

func ticketMany(t *testing.T, st ssoclient.TicketStore, c *clock) {
	ctx := t.Context()
	now := c.Now()
	mk := func(i int) *ssoclient.Ticket {
		tk := sampleTicket(now, fmt.Sprintf("app-%d", i%10))
		tk.UserID = fmt.Sprintf("user-%d", i)
		return tk
	}
	key := func(i int) string { return fmt.Sprintf("many-%05d", i) }
	if err := parallel(many, workers, func(i int) error { return st.Put(ctx, key(i), mk(i)) }); err != nil {
		t.Fatal(err)
	}
	err := parallel(many, workers, func(i int) error {
		got, err := st.Take(ctx, key(i))
		if err != nil {
			return fmt.Errorf("Take(%s): %w", key(i), err)
		}
		if d := diffTicket(mk(i), got); len(d) > 0 {
			return fmt.Errorf("Take(%s): %v", key(i), d)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = parallel(many, workers, func(i int) error {
		if _, err := st.Take(ctx, key(i)); !errors.Is(err, ssoclient.ErrTicketNotFound) {
			return fmt.Errorf("second Take(%s): %v", key(i), err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
