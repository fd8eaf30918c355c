package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	// The drivers OpenSQLite and OpenPostgres use: "sqlite" and "pgx".
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"
)

// Dialect is the SQL dialect of the database a Store writes to.
type Dialect int

const (
	// SQLite is SQLite 3.24 or later (upsert), through any driver;
	// OpenSQLite uses modernc.org/sqlite.
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL 10 or later, through any driver; OpenPostgres
	// uses github.com/jackc/pgx/v5/stdlib.
	Postgres
)

// String returns "sqlite" or "postgres".
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

// DefaultPrefix starts the name of every table and index a Store creates.
const DefaultPrefix = "ssokit_"

// Option changes how Open sets a Store up.
type Option func(*options)

type options struct {
	prefix string
}

// WithPrefix names the tables prefix+"users", prefix+"links" and
// prefix+"profiles" instead of using DefaultPrefix. The prefix is letters,
// digits and underscores, starting with a letter or underscore, at most 32
// characters; it may be "".
func WithPrefix(prefix string) Option {
	return func(o *options) { o.prefix = prefix }
}

var prefixRE = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]{0,31})?$`)

// Store keeps a provisioning.Directory and an ssoclient.ProfileStore in
// three tables of one database. It is safe for concurrent use.
type Store struct {
	db      *sql.DB
	dialect Dialect
	q       queries
	ownsDB  bool

	dir      *Directory
	profiles *ProfileStore
}

// Open creates the Store's tables in db when they do not exist yet (it is
// safe to call on every start, and from many processes at once) and returns
// the Store. db stays the caller's: Close does not close it.
//
// With SQLite, give db a busy timeout (PRAGMA busy_timeout) and foreign
// keys on, or use OpenSQLite, which does; without a busy timeout,
// concurrent writers fail with SQLITE_BUSY instead of waiting their turn.
func Open(ctx context.Context, db *sql.DB, dialect Dialect, opts ...Option) (*Store, error) {
	o := options{prefix: DefaultPrefix}
	for _, opt := range opts {
		opt(&o)
	}
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", dialect)
	}
	if !prefixRE.MatchString(o.prefix) {
		return nil, fmt.Errorf("sqlstore: table prefix %q is not letters, digits and underscores (at most 32, not starting with a digit)", o.prefix)
	}
	s := &Store{db: db, dialect: dialect, q: buildQueries(dialect, o.prefix)}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	s.dir = &Directory{s: s}
	s.profiles = &ProfileStore{s: s}
	return s, nil
}

// OpenSQLite opens (creating it when missing) the SQLite database file at
// path with modernc.org/sqlite, a pure-Go driver: write-ahead logging,
// foreign keys on, a 10-second busy timeout and transactions that take the
// write lock when they begin, so concurrent writers wait for one another
// rather than fail. ":memory:" is a private in-memory database on a single
// connection. Close closes the database.
func OpenSQLite(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlstore: empty SQLite path")
	}
	memory := path == ":memory:"
	params := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"
	if !memory {
		params += "&_pragma=journal_mode(wal)&_pragma=synchronous(normal)"
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	db, err := sql.Open("sqlite", "file:"+esc.Replace(path)+"?"+params)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	if memory {
		// Every connection to ":memory:" is a database of its own.
		db.SetMaxOpenConns(1)
	}
	return openOwned(ctx, db, SQLite, opts)
}

// OpenPostgres connects to PostgreSQL with github.com/jackc/pgx/v5/stdlib;
// dsn is a URL (postgres://user:password@host:5432/db?sslmode=disable) or
// key=value pairs. Close closes the connection pool.
func OpenPostgres(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: %w", err)
	}
	return openOwned(ctx, db, Postgres, opts)
}

func openOwned(ctx context.Context, db *sql.DB, d Dialect, opts []Option) (*Store, error) {
	s, err := Open(ctx, db, d, opts...)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.ownsDB = true
	return s, nil
}

// Close closes the database when OpenSQLite or OpenPostgres opened it, and
// does nothing for a Store made by Open.
func (s *Store) Close() error {
	if s.ownsDB {
		return s.db.Close()
	}
	return nil
}

// Directory returns the Store's users and links, a
// provisioning.Directory.
func (s *Store) Directory() *Directory { return s.dir }

// Profiles returns the Store's SSO profiles, an ssoclient.ProfileStore.
func (s *Store) Profiles() *ProfileStore { return s.profiles }

// migrate creates the schema in one transaction. On PostgreSQL an advisory
// lock keeps concurrent CREATE TABLE IF NOT EXISTS from racing on the
// catalog; SQLite's write lock does the same there.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlstore: creating the schema: %w", err)
	}
	defer tx.Rollback()
	if s.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7305546338245541218)`); err != nil {
			return fmt.Errorf("sqlstore: creating the schema: %w", err)
		}
	}
	for _, stmt := range s.q.schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("sqlstore: creating the schema: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlstore: creating the schema: %w", err)
	}
	return nil
}

// queries are the statements of one dialect and prefix, written with ?
// placeholders and rewritten to $n for PostgreSQL.
type queries struct {
	prefix string
	schema []string

	userByUsername, userByEmail, linkedUser string
	insertUser, insertLink, addLink         string
	links, removeLink                       string

	getProfile, listProfiles, putProfile, deleteProfile string
}

func buildQueries(d Dialect, prefix string) queries {
	users, links, profiles := prefix+"users", prefix+"links", prefix+"profiles"
	// Column types that differ. Times are TIMESTAMPTZ in PostgreSQL and
	// RFC 3339 text in UTC (which sorts as time does) in SQLite.
	idType, textType, tsType, blobType, seqCol := "TEXT", "TEXT", "TEXT", "BLOB", "seq INTEGER PRIMARY KEY"
	if d == Postgres {
		// COLLATE "C" orders IDs byte by byte, as Go compares strings,
		// whatever the database's locale.
		idType, tsType, blobType = `TEXT COLLATE "C"`, "TIMESTAMPTZ", "BYTEA"
		seqCol = "seq BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
	}
	userCols := "u.id, u.username, u.email, u.name, u.created_at"
	q := queries{
		prefix: prefix,
		schema: []string{
			// username_key and email_key are the username and email with
			// ASCII letters lower-cased (in Go, the same in both
			// databases, where PostgreSQL's lower() would follow the
			// locale), NULL when there is none, so that users without an
			// email do not collide.
			`CREATE TABLE IF NOT EXISTS ` + users + ` (
				id ` + idType + ` PRIMARY KEY,
				username ` + textType + ` NOT NULL DEFAULT '',
				email ` + textType + ` NOT NULL DEFAULT '',
				name ` + textType + ` NOT NULL DEFAULT '',
				username_key ` + textType + ` UNIQUE,
				email_key ` + textType + ` UNIQUE,
				created_at ` + tsType + ` NOT NULL
			)`,
			`CREATE TABLE IF NOT EXISTS ` + links + ` (
				` + seqCol + `,
				user_id ` + idType + ` NOT NULL REFERENCES ` + users + ` (id) ON DELETE CASCADE,
				issuer ` + textType + ` NOT NULL,
				subject ` + textType + ` NOT NULL,
				profile ` + textType + ` NOT NULL DEFAULT '',
				email ` + textType + ` NOT NULL DEFAULT '',
				linked_at ` + tsType + ` NOT NULL,
				UNIQUE (issuer, subject)
			)`,
			`CREATE INDEX IF NOT EXISTS ` + links + `_user_id ON ` + links + ` (user_id, linked_at)`,
			// data is the profile's JSON as text in both databases (not
			// JSONB, which refuses a \u0000 that a display name may hold
			// and which SQLite would not match); query it with data::jsonb.
			`CREATE TABLE IF NOT EXISTS ` + profiles + ` (
				id ` + idType + ` PRIMARY KEY,
				data ` + textType + ` NOT NULL,
				sealed_secret ` + blobType + `,
				sealed_private_key ` + blobType + `,
				updated_at ` + tsType + ` NOT NULL
			)`,
		},
		userByUsername: `SELECT ` + userCols + ` FROM ` + users + ` u WHERE u.username_key = ?`,
		userByEmail:    `SELECT ` + userCols + ` FROM ` + users + ` u WHERE u.email_key = ?`,
		linkedUser: `SELECT ` + userCols + ` FROM ` + users + ` u JOIN ` + links + ` l ON l.user_id = u.id
			WHERE l.issuer = ? AND l.subject = ?`,
		insertUser: `INSERT INTO ` + users + ` (id, username, email, name, username_key, email_key, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
		insertLink: `INSERT INTO ` + links + ` (user_id, issuer, subject, profile, email, linked_at)
			VALUES (?, ?, ?, ?, ?, ?)`,
		// The user's existence is checked by the statement itself, so
		// that a link never points nowhere even where foreign keys are
		// off (a SQLite connection without PRAGMA foreign_keys).
		addLink: `INSERT INTO ` + links + ` (user_id, issuer, subject, profile, email, linked_at)
			SELECT id, ?, ?, ?, ?, ? FROM ` + users + ` WHERE id = ?`,
		links: `SELECT user_id, issuer, subject, profile, email, linked_at FROM ` + links + `
			WHERE user_id = ? ORDER BY linked_at, seq`,
		removeLink: `DELETE FROM ` + links + ` WHERE user_id = ? AND issuer = ? AND subject = ?`,

		getProfile:   `SELECT data, sealed_secret, sealed_private_key FROM ` + profiles + ` WHERE id = ?`,
		listProfiles: `SELECT data, sealed_secret, sealed_private_key FROM ` + profiles + ` ORDER BY id`,
		// One statement: readers see the old row or the new one.
		putProfile: `INSERT INTO ` + profiles + ` (id, data, sealed_secret, sealed_private_key, updated_at)
			VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET data = excluded.data, sealed_secret = excluded.sealed_secret,
				sealed_private_key = excluded.sealed_private_key, updated_at = excluded.updated_at`,
		deleteProfile: `DELETE FROM ` + profiles + ` WHERE id = ?`,
	}
	if d == Postgres {
		for _, p := range []*string{
			&q.userByUsername, &q.userByEmail, &q.linkedUser,
			&q.insertUser, &q.insertLink, &q.addLink, &q.links, &q.removeLink,
			&q.getProfile, &q.listProfiles, &q.putProfile, &q.deleteProfile,
		} {
			*p = dollarPlaceholders(*p)
		}
	}
	return q
}

// dollarPlaceholders rewrites ? to $1, $2, … (the statements above have no
// ? in literals).
func dollarPlaceholders(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// timeArg is t as the dialect stores it: TIMESTAMPTZ keeps microseconds,
// and SQLite gets the same precision as text so both databases return the
// same time.
func (s *Store) timeArg(t time.Time) any {
	t = t.UTC().Truncate(time.Microsecond)
	if s.dialect == Postgres {
		return t
	}
	return t.Format(sqliteTimeFormat)
}

const sqliteTimeFormat = "2006-01-02T15:04:05.000000Z07:00"

// dbTime scans a time stored by timeArg, whichever form the driver returns
// it in.
type dbTime struct{ t *time.Time }

func (d dbTime) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		*d.t = v.UTC()
		return nil
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	}
	return fmt.Errorf("sqlstore: cannot read a time from %T", v)
}

func (d dbTime) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("sqlstore: %w", err)
	}
	*d.t = t.UTC()
	return nil
}

// newID returns 128 random bits, hex-encoded.
func newID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand panics instead)
	return hex.EncodeToString(b[:])
}

// nullIfEmpty is nil (SQL NULL) for "" and s otherwise.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
