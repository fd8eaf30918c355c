package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ssokit/ssokit/provisioning"
	"github.com/ssokit/ssokit/ssoclient"
)

var t0 = time.Date(2025, 6, 7, 8, 9, 10, 0, time.UTC)

func mustCreate(t *testing.T, d *Directory, u provisioning.User, issuer, subject string) *provisioning.User {
	t.Helper()
	got, err := d.CreateUser(t.Context(), u, provisioning.Link{Issuer: issuer, Subject: subject, LinkedAt: t0})
	if err != nil {
		t.Fatalf("CreateUser(%+v): %v", u, err)
	}
	return got
}

func TestIDsAreRandom(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		d := open(t).Directory()
		hex := regexp.MustCompile(`^[0-9a-f]{32}$`)
		seen := map[string]bool{}
		for i := range 20 {
			u := mustCreate(t, d, provisioning.User{ID: "chosen-by-caller"}, "https://i", fmt.Sprint(i))
			if !hex.MatchString(u.ID) || seen[u.ID] {
				t.Fatalf("ID %q: want 128 random bits in hex, new each time", u.ID)
			}
			seen[u.ID] = true
		}
	})
}

// TestTimesAsStored: CreatedAt and LinkedAt come back as stored, to the
// microsecond, and what CreateUser returns is what a lookup reads.
func TestTimesAsStored(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		d := open(t).Directory()
		ctx := t.Context()
		at := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("X", -5*3600))
		u, err := d.CreateUser(ctx, provisioning.User{Username: "a", CreatedAt: at}, provisioning.Link{Issuer: "https://i", Subject: "s"})
		if err != nil {
			t.Fatal(err)
		}
		want := at.Truncate(time.Microsecond)
		if !u.CreatedAt.Equal(want) {
			t.Errorf("CreateUser returned CreatedAt %v; want %v", u.CreatedAt, want)
		}
		got, err := d.UserByUsername(ctx, "A")
		if err != nil {
			t.Fatal(err)
		}
		if *got != *u {
			t.Errorf("UserByUsername = %+v; want what CreateUser returned, %+v", got, u)
		}
		links, err := d.Links(ctx, u.ID)
		if err != nil || len(links) != 1 || !links[0].LinkedAt.Equal(want) {
			t.Errorf("Links = %+v, %v; want one, LinkedAt defaulting to CreatedAt %v", links, err, want)
		}

		// Zero times are set to now.
		before := time.Now().Add(-time.Second)
		v, err := d.CreateUser(ctx, provisioning.User{Username: "b"}, provisioning.Link{Issuer: "https://i", Subject: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if v.CreatedAt.Before(before) || v.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("CreatedAt = %v; want now", v.CreatedAt)
		}
	})
}

// TestFoldingIsASCIIOnly: letter case is ignored for ASCII only, as in
// MemoryDirectory, so a look-alike (the Kelvin sign, a dotted capital I)
// never reaches another user's account.
func TestFoldingIsASCIIOnly(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		d := open(t).Directory()
		ctx := t.Context()
		kevin := mustCreate(t, d, provisioning.User{Username: "kevin", Email: "kevin@example.com"}, "https://i", "k")
		kelvin := mustCreate(t, d, provisioning.User{Username: "\u212Aevin", Email: "\u212Aevin@example.com"}, "https://i", "kelvin")
		if kevin.ID == kelvin.ID {
			t.Fatal("one ID for two users")
		}
		mustCreate(t, d, provisioning.User{Email: "\u0130nfo@example.com"}, "https://i", "I-dot")
		mustCreate(t, d, provisioning.User{Email: "info@example.com"}, "https://i", "i")
		for email, want := range map[string]string{"KEVIN@EXAMPLE.COM": kevin.ID, "\u212AEVIN@EXAMPLE.COM": kelvin.ID} {
			u, err := d.UserByEmail(ctx, email)
			if err != nil || u.ID != want {
				t.Errorf("UserByEmail(%q) = %+v, %v; want %q", email, u, err, want)
			}
		}
		if u, err := d.UserByEmail(ctx, "\u0131nfo@example.com"); !errors.Is(err, provisioning.ErrNotFound) {
			t.Errorf("UserByEmail(dotless i) = %+v, %v; want ErrNotFound", u, err)
		}
	})
}

func TestConflictErrors(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		d := open(t).Directory()
		mustCreate(t, d, provisioning.User{Username: "alice", Email: "alice@example.com"}, "https://i", "a")
		_, err := d.CreateUser(t.Context(), provisioning.User{Email: "ALICE@example.com"}, provisioning.Link{Issuer: "https://i", Subject: "b"})
		if !errors.Is(err, provisioning.ErrConflict) || !strings.HasPrefix(err.Error(), "sqlstore: ") {
			t.Fatalf("CreateUser with a taken email = %v; want a sqlstore error wrapping ErrConflict", err)
		}
		// The database's error stays reachable for logs.
		if pe, ok := errors.AsType[*pgconn.PgError](err); ok && pe.Code != "23505" {
			t.Errorf("PostgreSQL error %s; want 23505", pe.Code)
		}
		if _, err := d.AddUser(t.Context(), provisioning.User{Username: "Alice"}); !errors.Is(err, provisioning.ErrConflict) {
			t.Errorf("AddUser with a taken username = %v; want ErrConflict", err)
		}
	})
}

// TestAddUser: an invited user has no link, is found by username and
// email, and a later CreateUser for them conflicts.
func TestAddUser(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		d := open(t).Directory()
		ctx := t.Context()
		u, err := d.AddUser(ctx, provisioning.User{Username: "inv", Email: "inv@example.com", Name: "Invited", CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		if links, err := d.Links(ctx, u.ID); err != nil || len(links) != 0 {
			t.Errorf("Links(invited) = %+v, %v; want none", links, err)
		}
		got, err := d.UserByEmail(ctx, "INV@example.com")
		if err != nil || *got != *u {
			t.Errorf("UserByEmail = %+v, %v; want %+v", got, err, u)
		}
		if err := d.AddLink(ctx, provisioning.Link{UserID: u.ID, Issuer: "https://i", Subject: "s"}); err != nil {
			t.Errorf("AddLink to the invited user: %v", err)
		}
	})
}

func TestAddLinkUnknownUser(t *testing.T) {
	check := func(t *testing.T, d *Directory) {
		err := d.AddLink(t.Context(), provisioning.Link{UserID: "nobody", Issuer: "https://i", Subject: "s"})
		if !errors.Is(err, provisioning.ErrNotFound) {
			t.Errorf("AddLink to no user = %v; want ErrNotFound", err)
		}
		if u, err := d.LinkedUser(t.Context(), "https://i", "s"); !errors.Is(err, provisioning.ErrNotFound) {
			t.Errorf("LinkedUser after the refused AddLink = %+v, %v; want ErrNotFound", u, err)
		}
	}
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) { check(t, open(t).Directory()) })
	// A caller's SQLite connection without PRAGMA foreign_keys: the
	// statement still refuses.
	t.Run("SQLiteWithoutForeignKeys", func(t *testing.T) {
		db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		s, err := Open(t.Context(), db, SQLite)
		if err != nil {
			t.Fatal(err)
		}
		check(t, s.Directory())
	})
}

func TestLinksSameTimeInInsertionOrder(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		d := open(t).Directory()
		u := mustCreate(t, d, provisioning.User{Username: "a"}, "https://z", "0")
		want := []string{"0"}
		for _, sub := range []string{"c", "a", "b", "1"} {
			if err := d.AddLink(t.Context(), provisioning.Link{UserID: u.ID, Issuer: "https://z", Subject: sub, LinkedAt: t0}); err != nil {
				t.Fatal(err)
			}
			want = append(want, sub)
		}
		links, err := d.Links(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range links {
			got = append(got, l.Subject)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Links with one LinkedAt = %v; want insertion order %v", got, want)
		}
	})
}

// TestConcurrentCreateUser: 50 first sign-ins of one identity at once,
// straight at the Directory: one user, 49 ErrConflict, nothing else (no
// SQLITE_BUSY, no serialization failure); and 50 different people at
// once all get in.
func TestConcurrentCreateUser(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		d := open(t).Directory()
		const n = 50
		run := func(f func(i int) (*provisioning.User, error)) ([]*provisioning.User, []error) {
			users, errs := make([]*provisioning.User, n), make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { <-start; users[i], errs[i] = f(i) })
			}
			close(start)
			wg.Wait()
			return users, errs
		}

		users, errs := run(func(i int) (*provisioning.User, error) {
			return d.CreateUser(context.Background(), provisioning.User{Username: fmt.Sprint("same-", i)},
				provisioning.Link{Issuer: "https://i", Subject: "same"})
		})
		var winner *provisioning.User
		for i, err := range errs {
			switch {
			case err == nil && winner == nil:
				winner = users[i]
			case err == nil:
				t.Fatalf("two users created for one identity: %q and %q", winner.ID, users[i].ID)
			case !errors.Is(err, provisioning.ErrConflict):
				t.Errorf("CreateUser %d: %v; want success or ErrConflict", i, err)
			}
		}
		if winner == nil {
			t.Fatal("no CreateUser succeeded")
		}
		if u, err := d.LinkedUser(t.Context(), "https://i", "same"); err != nil || u.ID != winner.ID {
			t.Errorf("LinkedUser = %+v, %v; want %q", u, err, winner.ID)
		}
		for i := range n {
			name := fmt.Sprint("same-", i)
			u, err := d.UserByUsername(t.Context(), name)
			if name == winner.Username {
				if err != nil {
					t.Errorf("the winner %s is missing: %v", name, err)
				}
			} else if !errors.Is(err, provisioning.ErrNotFound) {
				t.Errorf("a losing CreateUser stored its user %s: %+v, %v", name, u, err)
			}
		}

		_, errs = run(func(i int) (*provisioning.User, error) {
			return d.CreateUser(context.Background(), provisioning.User{Username: fmt.Sprint("p", i), Email: fmt.Sprint("p", i, "@example.com")},
				provisioning.Link{Issuer: "https://i", Subject: fmt.Sprint("p", i)})
		})
		if err := errors.Join(errs...); err != nil {
			t.Errorf("50 different users at once: %v", err)
		}
		for i := range n {
			if _, err := d.LinkedUser(t.Context(), "https://i", fmt.Sprint("p", i)); err != nil {
				t.Errorf("LinkedUser(p%d): %v", i, err)
			}
		}
	})
}

// TestCanceledContext: a canceled lookup is an error, never "not found".
func TestCanceledContext(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		s := open(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := s.Directory().UserByEmail(ctx, "a@example.com"); err == nil || errors.Is(err, provisioning.ErrNotFound) {
			t.Errorf("UserByEmail with a canceled context = %v; want the context's error", err)
		}
		if _, err := s.Profiles().Get(ctx, "p"); err == nil || errors.Is(err, ssoclient.ErrProfileNotFound) {
			t.Errorf("Get with a canceled context = %v; want the context's error", err)
		}
	})
}
