package provisioning

import (
	"context"
	"errors"
	"time"
)

// User is an account of the application, as the Directory knows it.
type User struct {
	// ID is the application's own identifier, assigned by
	// Directory.CreateUser.
	ID string `json:"id"`
	// Username is unique, compared case-insensitively ("" for none).
	Username string `json:"username,omitempty"`
	// Email is unique, compared case-insensitively ("" for none). A user
	// created by JIT provisioning gets the identity's email only when it
	// is verified.
	Email string `json:"email,omitempty"`
	Name  string `json:"name,omitempty"`
	// CreatedAt is set by CreateUser when zero.
	CreatedAt time.Time `json:"created_at"`
}

// Link ties an identity at a provider, (Issuer, Subject), to a user. An
// identity is linked to at most one user; a user may have many links.
type Link struct {
	UserID  string `json:"user_id"`
	Issuer  string `json:"issuer"`
	Subject string `json:"subject"`
	// Profile is the SSO profile the link was made through ("" for a
	// single-provider application).
	Profile string `json:"profile,omitempty"`
	// Email is the identity's email when it was linked, for a "connected
	// accounts" list; it is not used to match.
	Email    string    `json:"email,omitempty"`
	LinkedAt time.Time `json:"linked_at"`
}

// Errors a Directory returns.
var (
	// ErrNotFound: no such user or link.
	ErrNotFound = errors.New("provisioning: not found")
	// ErrConflict: a unique constraint refused the write (a username or
	// email already taken, an identity already linked). Directories must
	// enforce uniqueness in the store itself, so that two concurrent first
	// sign-ins of one person create one user.
	ErrConflict = errors.New("provisioning: already exists")
)

// Directory is the application's user store as provisioning needs it. The
// application implements it over its own tables, or uses
// NewMemoryDirectory or the SQL one in the nested module
// github.com/ssokit/ssokit/sqlstore. Implementations must be safe for
// concurrent use.
//
// Usernames and emails are compared ignoring the case of ASCII letters at
// least. A store that folds more (Unicode case folding, as LOWER() may)
// is safe to use: the Provisioner re-checks that the user found has the
// same value but for ASCII letter case before it links anything. Issuers
// and subjects are compared exactly. An empty username or email means
// none and is never unique. Package directorytest checks an
// implementation against this contract.
type Directory interface {
	// LinkedUser returns the user linked to (issuer, subject), or
	// ErrNotFound.
	LinkedUser(ctx context.Context, issuer, subject string) (*User, error)
	// UserByUsername returns the user with this username, compared
	// case-insensitively, or ErrNotFound.
	UserByUsername(ctx context.Context, username string) (*User, error)
	// UserByEmail returns the user with this email, compared
	// case-insensitively, or ErrNotFound.
	UserByEmail(ctx context.Context, email string) (*User, error)
	// CreateUser stores u with a new ID and, in the same transaction, the
	// link l to it (l.UserID is set to the new ID), and returns the user.
	// It returns ErrConflict, storing nothing, when u's username or email
	// is taken or (l.Issuer, l.Subject) is linked already: the link's
	// uniqueness is what keeps two concurrent first sign-ins of one person
	// from creating two users.
	CreateUser(ctx context.Context, u User, l Link) (*User, error)
	// AddLink stores l, or returns ErrConflict when (l.Issuer, l.Subject)
	// is linked already (to any user).
	AddLink(ctx context.Context, l Link) error
	// Links returns the user's links, oldest first.
	Links(ctx context.Context, userID string) ([]Link, error)
	// RemoveLink deletes the user's link to (issuer, subject), or returns
	// ErrNotFound.
	RemoveLink(ctx context.Context, userID, issuer, subject string) error
}
