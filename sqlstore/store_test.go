package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/provisioning"
	"github.com/ssokit/ssokit/provisioning/directorytest"
)

// A backend opens a new, empty Store for one test.
type backend struct {
	name string
	open func(t *testing.T) *Store
}

var backends = []backend{
	{"SQLite", openTestSQLite},
	{"Postgres", openTestPostgres},
}

// forEach runs f once per backend, as subtests.
func forEach(t *testing.T, f func(t *testing.T, open func(t *testing.T) *Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { f(t, b.open) })
	}
}

// openTestSQLite opens a Store in a new database file under t.TempDir().
func openTestSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "ssokit.db"))
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// postgresDSN returns SSOKIT_POSTGRES_DSN. Without it the test is skipped
// with the way to run it, or, when CI is set, fails: CI must never pass
// by skipping the PostgreSQL tests.
func postgresDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("SSOKIT_POSTGRES_DSN")
	if dsn != "" {
		return dsn
	}
	const how = `SSOKIT_POSTGRES_DSN is not set. To run the PostgreSQL tests:
	apt-get install -y postgresql        # or your system's package
	pg_ctlcluster 15 main start          # or: pg_ctl -D DATADIR start
	su postgres -c "psql -c \"CREATE ROLE ssokit LOGIN PASSWORD 'ssokit'\""
	su postgres -c "createdb -O ssokit ssokit"
	export SSOKIT_POSTGRES_DSN='postgres://ssokit:ssokit@127.0.0.1:5432/ssokit?sslmode=disable'
(.ci/run does all of this.)`
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but the PostgreSQL tests cannot run: %s", how)
	}
	t.Skip(how)
	return ""
}

// openTestDB opens the PostgreSQL database of SSOKIT_POSTGRES_DSN.
func openTestDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", postgresDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.PingContext(t.Context()); err != nil {
		t.Fatalf("connecting to SSOKIT_POSTGRES_DSN: %v", err)
	}
	return db
}

// testPrefix returns a table prefix of its own for one test, and drops the
// tables it names when the test ends, so runs never collide.
func testPrefix(t *testing.T, db *sql.DB) string {
	t.Helper()
	prefix := "t" + newID()[:16] + "_"
	t.Cleanup(func() {
		for _, table := range []string{"links", "users", "profiles"} {
			if _, err := db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+prefix+table); err != nil {
				t.Errorf("dropping %s%s: %v", prefix, table, err)
			}
		}
	})
	return prefix
}

// openTestPostgres opens a Store on tables of the test's own.
func openTestPostgres(t *testing.T) *Store {
	t.Helper()
	db := openTestDB(t)
	s, err := Open(t.Context(), db, Postgres, WithPrefix(testPrefix(t, db)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// TestDirectoryConformance runs the checks every provisioning.Directory
// must pass, the Provisioner's concurrent sign-ins among them.
func TestDirectoryConformance(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		directorytest.Run(t, func(t *testing.T) provisioning.Directory { return open(t).Directory() })
	})
}

func TestOpenIsIdempotentAndKeepsData(t *testing.T) {
	ctx := t.Context()
	check := func(t *testing.T, reopen func() *Store) {
		s := reopen()
		u, err := s.Directory().CreateUser(ctx, provisioning.User{Username: "alice"}, provisioning.Link{Issuer: "https://i", Subject: "s"})
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			s2 := reopen()
			got, err := s2.Directory().LinkedUser(ctx, "https://i", "s")
			if err != nil || got.ID != u.ID {
				t.Fatalf("after reopening, LinkedUser = %+v, %v; want %q", got, err, u.ID)
			}
		}
	}
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "db")
		check(t, func() *Store {
			s, err := OpenSQLite(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("Postgres", func(t *testing.T) {
		db := openTestDB(t)
		prefix := testPrefix(t, db)
		check(t, func() *Store {
			s, err := Open(ctx, db, Postgres, WithPrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			return s
		})
	})
}

// TestConcurrentOpen: many processes starting at once all create (or
// find) the schema.
func TestConcurrentOpen(t *testing.T) {
	run := func(t *testing.T, open func() (*Store, error)) {
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() {
				s, err := open()
				if err == nil {
					_, err = s.Profiles().List(context.Background())
				}
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	t.Run("SQLite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "db")
		run(t, func() (*Store, error) {
			s, err := OpenSQLite(context.Background(), path)
			if err == nil {
				t.Cleanup(func() { s.Close() })
			}
			return s, err
		})
	})
	t.Run("Postgres", func(t *testing.T) {
		db := openTestDB(t)
		prefix := testPrefix(t, db)
		run(t, func() (*Store, error) { return Open(context.Background(), db, Postgres, WithPrefix(prefix)) })
	})
}

func TestPrefix(t *testing.T) {
	ctx := t.Context()
	check := func(t *testing.T, db *sql.DB, d Dialect, tables func(prefix string) []string, prefixA, prefixB string) {
		a, err := Open(ctx, db, d, WithPrefix(prefixA))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Open(ctx, db, d, WithPrefix(prefixB))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{prefixA, prefixB} {
			if got := tables(p); fmt.Sprint(got) != "[links profiles users]" {
				t.Errorf("tables named %q… = %v; want links, profiles and users", p, got)
			}
		}
		// The same username and identity in each: separate stores.
		for _, s := range []*Store{a, b} {
			if _, err := s.Directory().CreateUser(ctx, provisioning.User{Username: "alice"}, provisioning.Link{Issuer: "https://i", Subject: "s"}); err != nil {
				t.Fatalf("CreateUser in one prefix's tables: %v", err)
			}
		}
	}
	t.Run("SQLite", func(t *testing.T) {
		s := openTestSQLite(t) // the default prefix
		db := s.db
		tables := func(prefix string) []string { return sqliteTables(t, db, prefix) }
		if got := tables(DefaultPrefix); fmt.Sprint(got) != "[links profiles users]" {
			t.Errorf("default tables = %v", got)
		}
		check(t, db, SQLite, tables, "app1_", "App2")
	})
	t.Run("Postgres", func(t *testing.T) {
		db := openTestDB(t)
		pa, pb := testPrefix(t, db), testPrefix(t, db)
		tables := func(prefix string) []string {
			rows, err := db.QueryContext(ctx, `SELECT substr(tablename, $1) FROM pg_tables
				WHERE schemaname = current_schema() AND starts_with(tablename, $2) ORDER BY 1`, len(prefix)+1, prefix)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var out []string
			for rows.Next() {
				var n string
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				out = append(out, n)
			}
			return out
		}
		check(t, db, Postgres, tables, pa, pb)
	})
}

func sqliteTables(t *testing.T, db *sql.DB, prefix string) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		if rest, ok := strings.CutPrefix(n, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}

func TestOpenRefuses(t *testing.T) {
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, p := range []string{"1abc_", "a-b_", "x; DROP TABLE users; --", "a.b_", strings.Repeat("a", 33), "é_"} {
		if _, err := Open(t.Context(), db, SQLite, WithPrefix(p)); err == nil {
			t.Errorf("Open with prefix %q succeeded; want an error", p)
		}
	}
	if got := sqliteTables(t, db, ""); len(got) != 0 {
		t.Errorf("refused Opens created tables %v", got)
	}
	if _, err := Open(t.Context(), db, Dialect(0)); err == nil {
		t.Error("Open with the zero Dialect succeeded")
	}
	if _, err := OpenSQLite(t.Context(), ""); err == nil {
		t.Error(`OpenSQLite("") succeeded`)
	}
}

// TestOpenSQLiteSettings checks what OpenSQLite promises of each
// connection.
func TestOpenSQLiteSettings(t *testing.T) {
	s := openTestSQLite(t)
	ctx := t.Context()
	// Several connections at once, so the settings are seen on more than
	// the first.
	var conns []*sql.Conn
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		var fk, busy int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy < 1000 {
			t.Errorf("connection %d: journal_mode %q, foreign_keys %d, busy_timeout %d; want wal, 1, ≥1000", i, mode, fk, busy)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// TestOpenSQLiteMemory: ":memory:" is one database, not one per
// connection.
func TestOpenSQLiteMemory(t *testing.T) {
	s, err := OpenSQLite(t.Context(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			_, err := s.Directory().CreateUser(context.Background(), provisioning.User{Username: fmt.Sprint("u", i)},
				provisioning.Link{Issuer: "https://i", Subject: fmt.Sprint(i)})
			if err != nil {
				t.Errorf("CreateUser %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i := range 20 {
		if _, err := s.Directory().LinkedUser(t.Context(), "https://i", fmt.Sprint(i)); err != nil {
			t.Errorf("LinkedUser %d: %v", i, err)
		}
	}
}

// TestCloseOwnership: Close closes what OpenSQLite opened and leaves a
// caller's *sql.DB open.
func TestCloseOwnership(t *testing.T) {
	s := openTestSQLite(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Ping(); err == nil {
		t.Error("the database OpenSQLite opened is still open after Close")
	}

	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err = Open(t.Context(), db, SQLite)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("Close closed the caller's database: %v", err)
	}
}

type sqlStateError string

func (e sqlStateError) Error() string    { return "driver error " + string(e) }
func (e sqlStateError) SQLState() string { return string(e) }

// TestConstraintDetection covers the drivers this package does not open
// with: any error with a SQLSTATE, and SQLite's messages.
func TestConstraintDetection(t *testing.T) {
	for _, tc := range []struct {
		err             error
		unique, foreign bool
	}{
		{fmt.Errorf("wrapped: %w", sqlStateError("23505")), true, false},
		{sqlStateError("23503"), false, true},
		{sqlStateError("23502"), false, false}, // not null
		{errors.New("UNIQUE constraint failed: users.email_key"), true, false},
		{errors.New("PRIMARY KEY constraint failed"), true, false},
		{errors.New("FOREIGN KEY constraint failed"), false, true},
		{errors.New("database is locked"), false, false},
		{context.DeadlineExceeded, false, false},
	} {
		if got := isUniqueViolation(tc.err); got != tc.unique {
			t.Errorf("isUniqueViolation(%v) = %v", tc.err, got)
		}
		if got := isForeignKeyViolation(tc.err); got != tc.foreign {
			t.Errorf("isForeignKeyViolation(%v) = %v", tc.err, got)
		}
	}
}
