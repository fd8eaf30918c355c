// Package sqlstore keeps ssokit's users, links and SSO profiles in a SQL
// database through database/sql: a [provisioning.Directory] and an
// [ssoclient.ProfileStore] over SQLite or PostgreSQL.
//
// It is a module of its own, github.com/ssokit/ssokit/sqlstore, so that
// its drivers (modernc.org/sqlite, pure Go, and github.com/jackc/pgx/v5)
// stay out of the core module.
//
//	store, err := sqlstore.OpenSQLite(ctx, "ssokit.db")
//	// or sqlstore.OpenPostgres(ctx, "postgres://…"),
//	// or sqlstore.Open(ctx, db, sqlstore.Postgres) with a *sql.DB of yours
//	…
//	dir := store.Directory()    // a provisioning.Directory
//	profiles := store.Profiles() // an ssoclient.ProfileStore
//
// # Schema
//
// Open creates three tables when they are missing (CREATE TABLE IF NOT
// EXISTS, so it runs on every start), named with a prefix, "ssokit_" by
// default (see [WithPrefix]):
//
//	ssokit_users     id, username, email, name, created_at,
//	                 username_key UNIQUE, email_key UNIQUE
//	ssokit_links     seq, user_id → users(id), issuer, subject, profile,
//	                 email, linked_at, UNIQUE (issuer, subject)
//	ssokit_profiles  id PRIMARY KEY, data (the profile's public JSON),
//	                 sealed_secret, sealed_private_key, updated_at
//
// username_key and email_key hold the username and email with ASCII
// letters lower-cased, or NULL when there is none, so uniqueness ignores
// letter case and users without an email never collide. The unique
// constraints, not checks in Go, refuse a second user for one identity:
// of two concurrent first sign-ins of one person, one commits and the
// other gets [provisioning.ErrConflict], whatever the number of
// processes. CreateUser writes the user and its link in one transaction.
//
// Times are stored to the microsecond. Profiles keep only what the
// ProfileStore contract gives them: the public JSON of the Profile (which
// never includes Profile.ClientSecret or PrivateKeyPEM) and the sealed
// secret and key as bytes; Put is one upsert statement, so a reader sees
// the old profile or the new one.
//
// # SQLite
//
// [OpenSQLite] turns on write-ahead logging, foreign keys and a busy
// timeout, and begins transactions with the write lock, so concurrent
// writers queue instead of failing with SQLITE_BUSY. A *sql.DB of your own
// given to [Open] needs a busy timeout for the same reason.
package sqlstore
