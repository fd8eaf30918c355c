package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ssokit/ssokit/provisioning"
)

// Directory is the Store's provisioning.Directory: users and their links
// to identities at providers. Usernames and emails are unique and
// compared with ASCII letter case ignored, as in
// provisioning.MemoryDirectory: other characters must be identical, so no
// Unicode look-alike (the Kelvin sign for a K) folds into an existing
// address.
type Directory struct{ s *Store }

var _ provisioning.Directory = (*Directory)(nil)

// fold is the case-insensitive form of a username or email, as stored in
// username_key and email_key; NULL for none.
func fold(s string) any { return nullIfEmpty(asciiLower(s)) }

// asciiLower lower-cases the ASCII letters of s and leaves every other
// byte as it is.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func (d *Directory) user(ctx context.Context, query string, args ...any) (*provisioning.User, error) {
	var u provisioning.User
	err := d.s.db.QueryRowContext(ctx, query, args...).Scan(&u.ID, &u.Username, &u.Email, &u.Name, dbTime{&u.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, provisioning.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading a user: %w", err)
	}
	return &u, nil
}

// LinkedUser implements provisioning.Directory.
func (d *Directory) LinkedUser(ctx context.Context, issuer, subject string) (*provisioning.User, error) {
	return d.user(ctx, d.s.q.linkedUser, issuer, subject)
}

// UserByUsername implements provisioning.Directory.
func (d *Directory) UserByUsername(ctx context.Context, username string) (*provisioning.User, error) {
	if username == "" {
		return nil, provisioning.ErrNotFound
	}
	return d.user(ctx, d.s.q.userByUsername, asciiLower(username))
}

// UserByEmail implements provisioning.Directory.
func (d *Directory) UserByEmail(ctx context.Context, email string) (*provisioning.User, error) {
	if email == "" {
		return nil, provisioning.ErrNotFound
	}
	return d.user(ctx, d.s.q.userByEmail, asciiLower(email))
}

// AddUser stores a user with no link, as an invitation or an account with
// a password does: the users a match-only profile lets in. u.ID is ignored
// and CreatedAt set when zero, as in CreateUser. It returns ErrConflict
// when the username or email is taken.
func (d *Directory) AddUser(ctx context.Context, u provisioning.User) (*provisioning.User, error) {
	return d.create(ctx, u, nil)
}

// CreateUser implements provisioning.Directory: the user and the link are
// inserted in one transaction, and the tables' unique constraints decide
// conflicts, so of two concurrent first sign-ins one commits and the other
// gets ErrConflict.
func (d *Directory) CreateUser(ctx context.Context, u provisioning.User, l provisioning.Link) (*provisioning.User, error) {
	return d.create(ctx, u, &l)
}

// create inserts u under a new ID and, when l is not nil, l linked to it,
// in one transaction.
func (d *Directory) create(ctx context.Context, u provisioning.User, l *provisioning.Link) (*provisioning.User, error) {
	u.ID = newID()
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	// Stored to the microsecond (PostgreSQL's precision), and returned
	// as stored.
	u.CreatedAt = u.CreatedAt.UTC().Truncate(time.Microsecond)

	tx, err := d.s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: creating a user: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, d.s.q.insertUser, u.ID, u.Username, u.Email, u.Name,
		fold(u.Username), fold(u.Email), d.s.timeArg(u.CreatedAt)); err != nil {
		return nil, d.conflict("creating a user", err)
	}
	if l != nil {
		if l.LinkedAt.IsZero() {
			l.LinkedAt = u.CreatedAt
		}
		if _, err := tx.ExecContext(ctx, d.s.q.insertLink, u.ID, l.Issuer, l.Subject, l.Profile, l.Email,
			d.s.timeArg(l.LinkedAt)); err != nil {
			return nil, d.conflict("linking a new user", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, d.conflict("creating a user", err)
	}
	return &u, nil
}

// conflict wraps err, as ErrConflict when a unique constraint refused the
// write.
func (d *Directory) conflict(what string, err error) error {
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlstore: %s: %w: %w", what, provisioning.ErrConflict, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", what, err)
}

// AddLink implements provisioning.Directory. Linking to a user that does
// not exist is ErrNotFound.
func (d *Directory) AddLink(ctx context.Context, l provisioning.Link) error {
	if l.LinkedAt.IsZero() {
		l.LinkedAt = time.Now()
	}
	res, err := d.s.db.ExecContext(ctx, d.s.q.addLink, l.Issuer, l.Subject, l.Profile, l.Email,
		d.s.timeArg(l.LinkedAt), l.UserID)
	if err != nil {
		if isForeignKeyViolation(err) {
			// The user was deleted between the check and the insert.
			return fmt.Errorf("sqlstore: linking user %q: %w", l.UserID, provisioning.ErrNotFound)
		}
		return d.conflict("linking a user", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: linking a user: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: linking user %q: %w", l.UserID, provisioning.ErrNotFound)
	}
	return nil
}

// Links implements provisioning.Directory: oldest first, and in the order
// they were made when two have the same time. A user without links, or no
// such user, has none.
func (d *Directory) Links(ctx context.Context, userID string) ([]provisioning.Link, error) {
	rows, err := d.s.db.QueryContext(ctx, d.s.q.links, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing links: %w", err)
	}
	defer rows.Close()
	var out []provisioning.Link
	for rows.Next() {
		var l provisioning.Link
		if err := rows.Scan(&l.UserID, &l.Issuer, &l.Subject, &l.Profile, &l.Email, dbTime{&l.LinkedAt}); err != nil {
			return nil, fmt.Errorf("sqlstore: listing links: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing links: %w", err)
	}
	return out, nil
}

// RemoveLink implements provisioning.Directory.
func (d *Directory) RemoveLink(ctx context.Context, userID, issuer, subject string) error {
	res, err := d.s.db.ExecContext(ctx, d.s.q.removeLink, userID, issuer, subject)
	if err != nil {
		return fmt.Errorf("sqlstore: removing a link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: removing a link: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: removing a link: %w", provisioning.ErrNotFound)
	}
	return nil
}
