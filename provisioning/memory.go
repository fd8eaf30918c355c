package provisioning

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// MemoryDirectory is a Directory in memory, for tests, examples and
// applications whose users need not survive a restart. Usernames and
// emails are unique and compared with ASCII letter case ignored (other
// characters must be identical, so no Unicode look-alike folds into an
// existing address); every check and write happens under one lock, so
// concurrent sign-ins of one person create one user. The zero value is
// not usable; call NewMemoryDirectory.
type MemoryDirectory struct {
	mu         sync.Mutex
	next       int
	users      map[string]User   // by ID
	byUsername map[string]string // folded username → ID
	byEmail    map[string]string // folded email → ID
	links      map[linkKey]Link
	userLinks  map[string][]linkKey // by user ID, in insertion order
}

type linkKey struct{ issuer, subject string }

// NewMemoryDirectory returns an empty MemoryDirectory. Users get the IDs
// "user-1", "user-2", … in order of creation.
func NewMemoryDirectory() *MemoryDirectory {
	return &MemoryDirectory{
		users:      map[string]User{},
		byUsername: map[string]string{},
		byEmail:    map[string]string{},
		links:      map[linkKey]Link{},
		userLinks:  map[string][]linkKey{},
	}
}

var _ Directory = (*MemoryDirectory)(nil)

// AddUser stores a user with no link, as an invitation or an account
// with a password does: the users a match-only profile lets in. u.ID is
// ignored and CreatedAt set when zero, as in CreateUser. It returns
// ErrConflict when the username or email is taken.
func (d *MemoryDirectory) AddUser(ctx context.Context, u User) (*User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkUser(u); err != nil {
		return nil, err
	}
	return d.storeUser(u), nil
}

// LinkedUser implements Directory.
func (d *MemoryDirectory) LinkedUser(ctx context.Context, issuer, subject string) (*User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	l, ok := d.links[linkKey{issuer, subject}]
	if !ok {
		return nil, ErrNotFound
	}
	u, ok := d.users[l.UserID]
	if !ok {
		return nil, ErrNotFound
	}
	return &u, nil
}

// UserByUsername implements Directory.
func (d *MemoryDirectory) UserByUsername(ctx context.Context, username string) (*User, error) {
	return d.lookup(d.byUsername, username)
}

// UserByEmail implements Directory.
func (d *MemoryDirectory) UserByEmail(ctx context.Context, email string) (*User, error) {
	return d.lookup(d.byEmail, email)
}

func (d *MemoryDirectory) lookup(index map[string]string, key string) (*User, error) {
	if key == "" {
		return nil, ErrNotFound
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	id, ok := index[asciiLower(key)]
	if !ok {
		return nil, ErrNotFound
	}
	u := d.users[id]
	return &u, nil
}

// CreateUser implements Directory. u.ID is ignored; CreatedAt is set to
// the current time when zero.
func (d *MemoryDirectory) CreateUser(ctx context.Context, u User, l Link) (*User, error) {
	if l.Issuer == "" || l.Subject == "" {
		return nil, errors.New("provisioning: CreateUser needs a link with an issuer and a subject")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.checkUser(u); err != nil {
		return nil, err
	}
	if _, ok := d.links[linkKey{l.Issuer, l.Subject}]; ok {
		return nil, fmt.Errorf("%w: the identity is linked already", ErrConflict)
	}
	nu := d.storeUser(u)
	l.UserID = nu.ID
	d.storeLink(l)
	return nu, nil
}

// AddLink implements Directory. It returns ErrNotFound when l.UserID is
// no user.
func (d *MemoryDirectory) AddLink(ctx context.Context, l Link) error {
	if l.Issuer == "" || l.Subject == "" {
		return errors.New("provisioning: AddLink needs a link with an issuer and a subject")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.users[l.UserID]; !ok {
		return fmt.Errorf("%w: no user %q", ErrNotFound, l.UserID)
	}
	if _, ok := d.links[linkKey{l.Issuer, l.Subject}]; ok {
		return fmt.Errorf("%w: the identity is linked already", ErrConflict)
	}
	d.storeLink(l)
	return nil
}

// Links implements Directory: oldest LinkedAt first, in order of linking
// among equal times. A user with no links, or no user, has none.
func (d *MemoryDirectory) Links(ctx context.Context, userID string) ([]Link, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	keys := d.userLinks[userID]
	out := make([]Link, 0, len(keys))
	for _, k := range keys {
		out = append(out, d.links[k])
	}
	slices.SortStableFunc(out, func(a, b Link) int { return a.LinkedAt.Compare(b.LinkedAt) })
	return out, nil
}

// RemoveLink implements Directory.
func (d *MemoryDirectory) RemoveLink(ctx context.Context, userID, issuer, subject string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := linkKey{issuer, subject}
	l, ok := d.links[k]
	if !ok || l.UserID != userID {
		return ErrNotFound
	}
	delete(d.links, k)
	d.userLinks[userID] = slices.DeleteFunc(d.userLinks[userID], func(x linkKey) bool { return x == k })
	return nil
}

// checkUser reports ErrConflict when u's username or email is taken.
// d.mu is held.
func (d *MemoryDirectory) checkUser(u User) error {
	if u.Username != "" {
		if _, ok := d.byUsername[asciiLower(u.Username)]; ok {
			return fmt.Errorf("%w: the username is taken", ErrConflict)
		}
	}
	if u.Email != "" {
		if _, ok := d.byEmail[asciiLower(u.Email)]; ok {
			return fmt.Errorf("%w: the email is taken", ErrConflict)
		}
	}
	return nil
}

// storeUser stores u, checked, under a new ID. d.mu is held.
func (d *MemoryDirectory) storeUser(u User) *User {
	d.next++
	u.ID = fmt.Sprintf("user-%d", d.next)
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	d.users[u.ID] = u
	if u.Username != "" {
		d.byUsername[asciiLower(u.Username)] = u.ID
	}
	if u.Email != "" {
		d.byEmail[asciiLower(u.Email)] = u.ID
	}
	return &u
}

// storeLink stores l, checked. d.mu is held.
func (d *MemoryDirectory) storeLink(l Link) {
	if l.LinkedAt.IsZero() {
		l.LinkedAt = time.Now()
	}
	k := linkKey{l.Issuer, l.Subject}
	d.links[k] = l
	d.userLinks[l.UserID] = append(d.userLinks[l.UserID], k)
}
