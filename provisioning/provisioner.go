package provisioning

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ssokit/ssokit/claims"
)

// Errors the Provisioner returns. Each is returned as is or wrapped, so
// test with errors.Is. Their messages are written for the person signing
// in.
var (
	// ErrDomainNotAllowed: the policy has AllowedDomains and the
	// identity's email is not at one of them, or is missing, or is not
	// verified.
	ErrDomainNotAllowed = errors.New("provisioning: your email address is not at a domain allowed to sign in through this SSO profile")
	// ErrProvisioningDisabled: the policy is match-only and the identity
	// matches no existing user. SignIn returns it unwrapped; its message
	// is the one seed 003's product shows.
	ErrProvisioningDisabled = errors.New("Automatic member provisioning is disabled for this SSO profile, please ask an admin to invite you first.")
	// ErrLinkedToAnotherUser: Link was asked to link an identity that is
	// linked to a different user already.
	ErrLinkedToAnotherUser = errors.New("provisioning: this identity is already linked to another account")
	// ErrLastSignInMethod: Unlink would leave the user with no link and no
	// password, so with no way to sign in.
	ErrLastSignInMethod = errors.New("provisioning: this is your only way to sign in; set a password or link another provider before unlinking it")
	// ErrIdentityMismatch: SignIn matched an existing user by email (or
	// username) but that user is already linked to a different subject at
	// the same issuer. The provider says this is another person who now
	// has the address (a recycled mailbox, a re-created account or
	// domain), so the account is not handed over; an administrator, or
	// the user signed in another way, can link the new identity with
	// Link.
	ErrIdentityMismatch = errors.New("provisioning: this account is already linked to a different identity at your provider; please ask an admin")
)

// Provisioner turns verified identities into the application's users
// through a Directory, under a profile's Policy. It is safe for concurrent
// use; do not copy it after first use.
type Provisioner struct {
	// Directory is the application's user store. Required.
	Directory Directory
	// Now returns the current time for CreatedAt and LinkedAt; default
	// time.Now.
	Now func() time.Time

	// unlinkMu serialises Unlink, so that two concurrent unlinks of a
	// user's last two links cannot both pass the last-method check (in
	// this process; see Unlink).
	unlinkMu sync.Mutex
}

// Result is what SignIn did.
type Result struct {
	// User is the signed-in user.
	User *User
	// Created is true when the user was created now (JIT provisioning).
	Created bool
	// Linked is true when a new link to the identity was made now: at
	// creation, or when an existing user was matched for the first time.
	// It is false when the sign-in followed an existing link.
	Linked bool
}

// maxRounds bounds SignIn's and Link's retries after a conflict with a
// concurrent write. Each conflict means another writer won, so the next
// round normally finds what it stored; more rounds only happen when the
// store keeps changing or is inconsistent.
const maxRounds = 4

// SignIn decides who a verified identity is, under profile's policy:
//
//  1. The domain check: with AllowedDomains set, the email must be
//     verified and at an allowed domain (Policy.AllowsEmail), or
//     ErrDomainNotAllowed. It applies to every sign-in, linked or not.
//  2. An identity linked already signs in as its user: the link, not the
//     email, decides, so a changed email at the provider neither creates
//     a second account nor moves the identity to another one.
//  3. Otherwise an existing user is matched and linked: in match-only
//     mode by the whole username (preferred_username against userName,
//     seed 001) or the whole verified email; in JIT mode by the whole
//     verified email only. An unverified email never matches. If the user
//     found is linked to another subject at the same issuer,
//     ErrIdentityMismatch. If the username and the email match two
//     different users, an error wrapping ErrConflict.
//  4. Otherwise, in match-only mode, ErrProvisioningDisabled; in JIT mode
//     the user is created with the identity's username, name and verified
//     email (an unverified email is not stored), linked in the same
//     Directory.CreateUser call. When the username alone is taken by
//     another user, the user is created without a username rather than
//     refused (the username was not used to match; the application may
//     let the user choose one).
//
// id must come from claims.Map called with pol.EmailTrust: SignIn trusts
// id.EmailVerified as it is. Errors from the Directory are returned
// wrapped.
func (p *Provisioner) SignIn(ctx context.Context, profile string, pol Policy, id *claims.Identity) (*Result, error) {
	if err := p.check(pol, id); err != nil {
		return nil, err
	}
	if !pol.AllowsEmail(id.Email, id.EmailVerified) {
		return nil, domainError(id)
	}
	var conflict error
	withoutUsername := false
	for range maxRounds {
		u, err := p.Directory.LinkedUser(ctx, id.Issuer, id.Subject)
		if err == nil {
			return &Result{User: u}, nil
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("provisioning: looking up the linked user: %w", err)
		}

		u, err = p.match(ctx, pol, id)
		if err != nil {
			return nil, err
		}
		if u != nil {
			if err := p.checkIssuerLinks(ctx, u, id); err != nil {
				return nil, err
			}
			err := p.Directory.AddLink(ctx, p.newLink(u.ID, profile, id))
			if err == nil {
				return &Result{User: u, Linked: true}, nil
			}
			if !errors.Is(err, ErrConflict) {
				return nil, fmt.Errorf("provisioning: linking the identity: %w", err)
			}
			// A concurrent sign-in of the same identity linked it; the
			// next round follows that link.
			conflict = err
			continue
		}

		if pol.Mode == ModeMatchOnly {
			return nil, ErrProvisioningDisabled
		}
		nu := User{Name: id.Name, CreatedAt: p.now()}
		if !withoutUsername {
			nu.Username = id.Username
		}
		if id.EmailVerified {
			nu.Email = id.Email
		}
		created, err := p.Directory.CreateUser(ctx, nu, p.newLink("", profile, id))
		if err == nil {
			return &Result{User: created, Created: true, Linked: true}, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("provisioning: creating the user: %w", err)
		}
		conflict = err
		// The conflict is the link or the email, stored by a concurrent
		// sign-in (the next round finds them), or the username, which
		// belongs to somebody else: then create without one.
		if nu.Username != "" {
			_, err := p.Directory.UserByUsername(ctx, nu.Username)
			switch {
			case err == nil:
				withoutUsername = true
			case !errors.Is(err, ErrNotFound):
				return nil, fmt.Errorf("provisioning: looking up the username: %w", err)
			}
		}
	}
	return nil, fmt.Errorf("provisioning: the sign-in kept conflicting with other changes to the directory: %w", conflict)
}

// match finds the existing user an unlinked identity may be linked to, or
// returns nil.
func (p *Provisioner) match(ctx context.Context, pol Policy, id *claims.Identity) (*User, error) {
	var byEmail, byName *User
	if id.EmailVerified && id.Email != "" {
		u, err := p.Directory.UserByEmail(ctx, id.Email)
		switch {
		case err == nil:
			// The whole address, ASCII case aside: a Directory whose
			// comparison folds more (Unicode) must not make a look-alike
			// address match.
			if sameFold(u.Email, id.Email) {
				byEmail = u
			}
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("provisioning: looking up the user by email: %w", err)
		}
	}
	if pol.Mode == ModeMatchOnly && id.Username != "" {
		u, err := p.Directory.UserByUsername(ctx, id.Username)
		switch {
		case err == nil:
			if sameFold(u.Username, id.Username) {
				byName = u
			}
		case !errors.Is(err, ErrNotFound):
			return nil, fmt.Errorf("provisioning: looking up the user by username: %w", err)
		}
	}
	if byEmail != nil && byName != nil && byEmail.ID != byName.ID {
		return nil, fmt.Errorf("%w: the username and the email match two different users; an admin must link the identity", ErrConflict)
	}
	if byName != nil {
		return byName, nil
	}
	return byEmail, nil
}

// checkIssuerLinks refuses to link id to u when u is linked to another
// subject at id's issuer.
func (p *Provisioner) checkIssuerLinks(ctx context.Context, u *User, id *claims.Identity) error {
	links, err := p.Directory.Links(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("provisioning: listing the user's links: %w", err)
	}
	for _, l := range links {
		if l.Issuer == id.Issuer && l.Subject != id.Subject {
			return ErrIdentityMismatch
		}
	}
	return nil
}

// Link links the identity id to the signed-in user userID ("connect an
// account", seed 002). The profile's policy applies: with AllowedDomains
// set, id's email must be verified and at an allowed domain
// (ErrDomainNotAllowed); the mode does not matter, since no user is
// created. It is idempotent: an identity linked to userID already returns
// its existing link. An identity linked to another user is refused with
// ErrLinkedToAnotherUser; unlinking it there is that user's business.
//
// The caller must have authenticated both userID (the session) and id (a
// sign-in at the provider started by that session), and must map claims
// with pol.EmailTrust.
func (p *Provisioner) Link(ctx context.Context, userID, profile string, pol Policy, id *claims.Identity) (*Link, error) {
	if err := p.check(pol, id); err != nil {
		return nil, err
	}
	if userID == "" {
		return nil, errors.New("provisioning: Link needs the signed-in user's ID")
	}
	if !pol.AllowsEmail(id.Email, id.EmailVerified) {
		return nil, domainError(id)
	}
	var conflict error
	for range maxRounds {
		u, err := p.Directory.LinkedUser(ctx, id.Issuer, id.Subject)
		if err == nil {
			if u.ID != userID {
				return nil, ErrLinkedToAnotherUser
			}
			return p.existingLink(ctx, userID, id)
		}
		if !errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("provisioning: looking up the linked user: %w", err)
		}
		l := p.newLink(userID, profile, id)
		err = p.Directory.AddLink(ctx, l)
		if err == nil {
			return &l, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, fmt.Errorf("provisioning: linking the identity: %w", err)
		}
		conflict = err // linked concurrently: the next round sees to whom
	}
	return nil, fmt.Errorf("provisioning: linking kept conflicting with other changes to the directory: %w", conflict)
}

// existingLink returns userID's link to id.
func (p *Provisioner) existingLink(ctx context.Context, userID string, id *claims.Identity) (*Link, error) {
	links, err := p.Directory.Links(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("provisioning: listing the user's links: %w", err)
	}
	for _, l := range links {
		if l.Issuer == id.Issuer && l.Subject == id.Subject {
			return &l, nil
		}
	}
	return nil, fmt.Errorf("provisioning: the directory links the identity to user %q but does not list the link", userID)
}

// Unlink removes the user's link to (issuer, subject), unless it is the
// user's only link and hasPassword is false (the application says whether
// the user has another way to sign in): then ErrLastSignInMethod. A link
// the user does not have is an error wrapping ErrNotFound.
//
// Unlinks are serialised within this Provisioner, so two concurrent
// requests cannot remove a user's last two links; applications running
// several replicas that need the same guarantee across them must
// serialise per user themselves (the Directory interface has no
// conditional delete).
func (p *Provisioner) Unlink(ctx context.Context, userID, issuer, subject string, hasPassword bool) error {
	if p == nil || p.Directory == nil {
		return errors.New("provisioning: Provisioner has no Directory")
	}
	p.unlinkMu.Lock()
	defer p.unlinkMu.Unlock()
	links, err := p.Directory.Links(ctx, userID)
	if err != nil {
		return fmt.Errorf("provisioning: listing the user's links: %w", err)
	}
	found := false
	for _, l := range links {
		if l.Issuer == issuer && l.Subject == subject {
			found = true
			break
		}
	}
	if !found {
		return fmt.Errorf("%w: the user has no such linked identity", ErrNotFound)
	}
	if len(links) == 1 && !hasPassword {
		return ErrLastSignInMethod
	}
	if err := p.Directory.RemoveLink(ctx, userID, issuer, subject); err != nil {
		return fmt.Errorf("provisioning: removing the link: %w", err)
	}
	return nil
}

// Connected returns the user's linked identities, oldest first, for a
// "connected accounts" page: each with its issuer, the profile it was
// linked through, the email it had then, and when.
func (p *Provisioner) Connected(ctx context.Context, userID string) ([]Link, error) {
	if p == nil || p.Directory == nil {
		return nil, errors.New("provisioning: Provisioner has no Directory")
	}
	links, err := p.Directory.Links(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("provisioning: listing the user's links: %w", err)
	}
	return links, nil
}

// check refuses what no decision can be made on.
func (p *Provisioner) check(pol Policy, id *claims.Identity) error {
	if p == nil || p.Directory == nil {
		return errors.New("provisioning: Provisioner has no Directory")
	}
	if err := pol.Validate(); err != nil {
		return err
	}
	if id == nil || id.Issuer == "" || id.Subject == "" {
		return errors.New("provisioning: the identity has no issuer or subject")
	}
	return nil
}

func (p *Provisioner) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// newLink is the link of id to userID made now. Its Email is for display
// only, verified or not.
func (p *Provisioner) newLink(userID, profile string, id *claims.Identity) Link {
	return Link{
		UserID:   userID,
		Issuer:   id.Issuer,
		Subject:  id.Subject,
		Profile:  profile,
		Email:    id.Email,
		LinkedAt: p.now(),
	}
}

// domainError says why the domain check refused id, without repeating the
// whole address.
func domainError(id *claims.Identity) error {
	switch {
	case id.Email == "":
		return fmt.Errorf("%w (the provider sent no email address)", ErrDomainNotAllowed)
	case !id.EmailVerified:
		return fmt.Errorf("%w (the provider did not verify the email address)", ErrDomainNotAllowed)
	}
	return fmt.Errorf("%w (%s)", ErrDomainNotAllowed, emailDomain(id.Email))
}
