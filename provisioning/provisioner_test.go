package provisioning_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/provisioning"
)

const (
	okta  = "https://acme.okta.com"
	entra = "https://login.microsoftonline.com/tenant/v2.0"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newProvisioner() (*provisioning.Provisioner, *provisioning.MemoryDirectory) {
	d := provisioning.NewMemoryDirectory()
	return &provisioning.Provisioner{Directory: d, Now: func() time.Time { return now }}, d
}

// ident is a mapped identity; verified is EmailVerified as claims.Map set
// it under the profile's trust mode.
func ident(issuer, subject, email string, verified bool, username string) *claims.Identity {
	return &claims.Identity{Issuer: issuer, Subject: subject, Email: email, EmailVerified: verified, Username: username, Name: "Name of " + subject}
}

func addUser(t *testing.T, d *provisioning.MemoryDirectory, username, email string) *provisioning.User {
	t.Helper()
	u, err := d.AddUser(t.Context(), provisioning.User{Username: username, Email: email})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func signIn(t *testing.T, p *provisioning.Provisioner, pol provisioning.Policy, id *claims.Identity) *provisioning.Result {
	t.Helper()
	r, err := p.SignIn(t.Context(), "prof", pol, id)
	if err != nil {
		t.Fatalf("SignIn(%s %s %q): %v", id.Issuer, id.Subject, id.Email, err)
	}
	return r
}

func wantResult(t *testing.T, r *provisioning.Result, userID string, created, linked bool) {
	t.Helper()
	if userID != "" && r.User.ID != userID {
		t.Errorf("signed in as %q; want %q", r.User.ID, userID)
	}
	if r.Created != created || r.Linked != linked {
		t.Errorf("Created, Linked = %v, %v; want %v, %v", r.Created, r.Linked, created, linked)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("err = %v; want %v", err, target)
	}
}

func TestSignInDomains(t *testing.T) {
	pol := provisioning.Policy{AllowedDomains: []string{"acme.com"}}
	for _, tc := range []struct {
		email    string
		verified bool
		ok       bool
	}{
		{"alice@acme.com", true, true},
		{"Bob@ACME.com", true, true},
		{"carol@acme.com", false, false},
		{"", false, false},
		{"dave@evilacme.com", true, false},
		{"erin@acme.com.evil.io", true, false},
		{"frank@eu.acme.com", true, false},
		{"gina@acme.com.", true, false},
		{"\u212Aate@\u212Aacme.com", true, false},
	} {
		p, d := newProvisioner()
		_, err := p.SignIn(t.Context(), "prof", pol, ident(okta, "s", tc.email, tc.verified, ""))
		if tc.ok {
			if err != nil {
				t.Errorf("%q verified=%v: %v; want signed in", tc.email, tc.verified, err)
			}
			continue
		}
		if !errors.Is(err, provisioning.ErrDomainNotAllowed) {
			t.Errorf("%q verified=%v: err = %v; want ErrDomainNotAllowed", tc.email, tc.verified, err)
		}
		if u, err := d.LinkedUser(t.Context(), okta, "s"); err == nil {
			t.Errorf("%q refused but user %+v was created", tc.email, u)
		}
	}

	// The check applies to linked identities too: a person whose address
	// moved to another domain at the provider is refused.
	p, _ := newProvisioner()
	signIn(t, p, pol, ident(okta, "s", "alice@acme.com", true, ""))
	_, err := p.SignIn(t.Context(), "prof", pol, ident(okta, "s", "alice@other.com", true, ""))
	wantErr(t, err, provisioning.ErrDomainNotAllowed)
	if err != nil && !strings.Contains(err.Error(), "other.com") {
		t.Errorf("error %q does not name the refused domain", err)
	}
}

func TestSignInJITCreates(t *testing.T) {
	p, d := newProvisioner()
	r := signIn(t, p, provisioning.Policy{}, ident(okta, "s1", "Alice@Acme.com", true, "alice"))
	wantResult(t, r, "", true, true)
	want := provisioning.User{ID: r.User.ID, Username: "alice", Email: "Alice@Acme.com", Name: "Name of s1", CreatedAt: now}
	if *r.User != want {
		t.Errorf("created %+v; want %+v", *r.User, want)
	}
	links, err := p.Connected(t.Context(), r.User.ID)
	if err != nil || len(links) != 1 {
		t.Fatalf("Connected = %+v, %v", links, err)
	}
	wantLink := provisioning.Link{UserID: r.User.ID, Issuer: okta, Subject: "s1", Profile: "prof", Email: "Alice@Acme.com", LinkedAt: now}
	if links[0] != wantLink {
		t.Errorf("link %+v; want %+v", links[0], wantLink)
	}

	// Unverified email: the user is created without it.
	r = signIn(t, p, provisioning.Policy{}, ident(okta, "s2", "bob@acme.com", false, "bob"))
	wantResult(t, r, "", true, true)
	if r.User.Email != "" || r.User.Username != "bob" {
		t.Errorf("created %+v; want username bob and no email", r.User)
	}
	if _, err := d.UserByEmail(t.Context(), "bob@acme.com"); !errors.Is(err, provisioning.ErrNotFound) {
		t.Errorf("an unverified email was stored on the user: %v", err)
	}
}

func TestSignInJITMatchesVerifiedEmail(t *testing.T) {
	p, d := newProvisioner()
	alice := addUser(t, d, "alice", "alice@acme.com")
	r := signIn(t, p, provisioning.Policy{}, ident(okta, "s1", "ALICE@acme.com", true, "a.liddell"))
	wantResult(t, r, alice.ID, false, true)
	if u, err := d.LinkedUser(t.Context(), okta, "s1"); err != nil || u.ID != alice.ID {
		t.Errorf("LinkedUser = %+v, %v; want alice", u, err)
	}
	// Next time the link is followed.
	r = signIn(t, p, provisioning.Policy{}, ident(okta, "s1", "alice@acme.com", true, ""))
	wantResult(t, r, alice.ID, false, false)
}

func TestSignInJITDoesNotMatchUsername(t *testing.T) {
	// preferred_username is neither stable nor verified at many providers:
	// in JIT mode it never hands over an existing account.
	p, d := newProvisioner()
	alice := addUser(t, d, "alice", "alice@acme.com")
	r := signIn(t, p, provisioning.Policy{}, ident(okta, "s1", "mallory@evil.io", true, "alice"))
	wantResult(t, r, "", true, true)
	if r.User.ID == alice.ID {
		t.Fatal("signed in as alice by username")
	}
	// The username is taken, so the new user has none (rather than the
	// sign-in failing).
	if r.User.Username != "" || r.User.Email != "mallory@evil.io" {
		t.Errorf("created %+v; want no username, email mallory@evil.io", r.User)
	}
	if u, _ := d.UserByUsername(t.Context(), "alice"); u.ID != alice.ID {
		t.Errorf("username alice now belongs to %q", u.ID)
	}
	// And with no verified email at all.
	r = signIn(t, p, provisioning.Policy{}, ident(okta, "s2", "", false, "ALICE"))
	wantResult(t, r, "", true, true)
	if r.User.ID == alice.ID || r.User.Username != "" || r.User.Email != "" {
		t.Errorf("created %+v; want a new user with no username or email", r.User)
	}
}

func TestUnverifiedEmailNeverMatches(t *testing.T) {
	for _, mode := range []provisioning.Mode{provisioning.ModeJIT, provisioning.ModeMatchOnly} {
		p, d := newProvisioner()
		alice := addUser(t, d, "alice", "alice@acme.com")
		r, err := p.SignIn(t.Context(), "prof", provisioning.Policy{Mode: mode}, ident(okta, "s1", "alice@acme.com", false, ""))
		switch mode {
		case provisioning.ModeJIT:
			if err != nil {
				t.Fatalf("JIT: %v", err)
			}
			if r.User.ID == alice.ID {
				t.Error("JIT: an unverified email signed in as the existing user")
			}
			wantResult(t, r, "", true, true)
		case provisioning.ModeMatchOnly:
			if err != provisioning.ErrProvisioningDisabled {
				t.Errorf("match-only: %v, %+v; want ErrProvisioningDisabled", err, r)
			}
		}
		if links, _ := d.Links(t.Context(), alice.ID); len(links) != 0 {
			t.Errorf("%s: alice was linked: %+v", mode, links)
		}
	}
}

func TestEmailTrustModes(t *testing.T) {
	// The same provider claims under each trust mode, mapped as ssoclient
	// does, against an existing user with that address.
	for _, tc := range []struct {
		trust    claims.EmailTrust
		verified string // email_verified claim, "" for none
		match    bool   // signs in as the existing user
		mapErr   error
	}{
		{claims.TrustEmailClaim, `true`, true, nil},
		{claims.TrustEmailClaim, `"true"`, true, nil},
		{claims.TrustEmailClaim, ``, false, nil},
		{claims.TrustEmailClaim, `false`, false, claims.ErrEmailNotVerified},
		{claims.TrustProvider, `true`, true, nil},
		{claims.TrustProvider, ``, true, nil},
		{claims.TrustProvider, `false`, true, nil},
		{claims.TrustNever, `true`, false, nil},
		{claims.TrustNever, ``, false, nil},
	} {
		name := fmt.Sprintf("%s/email_verified=%s", tc.trust, tc.verified)
		c := map[string]any{"sub": "s1", "email": "alice@acme.com"}
		switch tc.verified {
		case "true":
			c["email_verified"] = true
		case "false":
			c["email_verified"] = false
		case `"true"`:
			c["email_verified"] = "true"
		}
		pol := provisioning.Policy{EmailTrust: tc.trust}
		set, err := claims.SetOf(c)
		if err != nil {
			t.Fatal(err)
		}
		id, err := claims.Map(okta, set, claims.Mapping{}, pol.EmailTrust)
		if tc.mapErr != nil {
			if !errors.Is(err, tc.mapErr) {
				t.Errorf("%s: Map = %v; want %v", name, err, tc.mapErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: Map: %v", name, err)
		}
		for _, mode := range []provisioning.Mode{provisioning.ModeJIT, provisioning.ModeMatchOnly} {
			pol.Mode = mode
			p, d := newProvisioner()
			alice := addUser(t, d, "alice", "alice@acme.com")
			r, err := p.SignIn(t.Context(), "prof", pol, id)
			switch {
			case tc.match:
				if err != nil || r.User.ID != alice.ID {
					t.Errorf("%s %s: %+v, %v; want alice", name, mode, r, err)
				}
			case mode == provisioning.ModeJIT:
				if err != nil || r.User.ID == alice.ID || !r.Created || r.User.Email != "" {
					t.Errorf("%s %s: %+v, %v; want a new user without the email", name, mode, r, err)
				}
			default:
				if err != provisioning.ErrProvisioningDisabled {
					t.Errorf("%s %s: %+v, %v; want ErrProvisioningDisabled", name, mode, r, err)
				}
			}
			// With AllowedDomains, only a verified email passes.
			pol.AllowedDomains = []string{"acme.com"}
			_, err = p.SignIn(t.Context(), "prof", pol, ident(okta, "other", id.Email, id.EmailVerified, ""))
			if !tc.match && !errors.Is(err, provisioning.ErrDomainNotAllowed) {
				t.Errorf("%s %s with AllowedDomains: %v; want ErrDomainNotAllowed", name, mode, err)
			}
			pol.AllowedDomains = nil
		}
	}
}

func TestSignInMatchOnly(t *testing.T) {
	matchOnly := provisioning.Policy{Mode: provisioning.ModeMatchOnly}
	p, d := newProvisioner()
	alice := addUser(t, d, "Alice", "")
	bob := addUser(t, d, "", "bob@acme.com")
	carol := addUser(t, d, "carol", "carol@acme.com")

	// By the whole username (preferred_username → userName), any case.
	r := signIn(t, p, matchOnly, ident(okta, "a", "", false, "alice"))
	wantResult(t, r, alice.ID, false, true)
	// By the whole verified email.
	r = signIn(t, p, matchOnly, ident(okta, "b", "Bob@Acme.com", true, ""))
	wantResult(t, r, bob.ID, false, true)
	// Both naming the same user.
	r = signIn(t, p, matchOnly, ident(okta, "c", "carol@acme.com", true, "carol"))
	wantResult(t, r, carol.ID, false, true)
	// Then the link, whatever the claims say now.
	r = signIn(t, p, matchOnly, ident(okta, "a", "", false, "someone-else"))
	wantResult(t, r, alice.ID, false, false)

	refused := []*claims.Identity{
		ident(okta, "x1", "", false, "alice@acme.com"), // a name at a domain is not the name
		ident(okta, "x2", "", false, "alic"),           // not a prefix
		ident(okta, "x3", "", false, "carol@acme.com"), // the username is not the email
		ident(okta, "x4", "bob@acme.com", false, ""),   // unverified
		ident(okta, "x5", "bob@acme.com.evil.io", true, ""),
		ident(okta, "x6", "BOB@evil.io", true, "bob"),    // local part
		ident(okta, "x7", "dave@acme.com", true, "dave"), // nobody
		ident(okta, "x8", "", false, ""),                 // nothing to match
	}
	for _, id := range refused {
		r, err := p.SignIn(t.Context(), "prof", matchOnly, id)
		if err != provisioning.ErrProvisioningDisabled {
			t.Errorf("match-only %q/%q: %+v, %v; want ErrProvisioningDisabled", id.Username, id.Email, r, err)
		}
	}
	const msg = "Automatic member provisioning is disabled for this SSO profile, please ask an admin to invite you first."
	if provisioning.ErrProvisioningDisabled.Error() != msg {
		t.Errorf("message %q; want seed 003's %q", provisioning.ErrProvisioningDisabled, msg)
	}
	if _, err := d.UserByEmail(t.Context(), "dave@acme.com"); !errors.Is(err, provisioning.ErrNotFound) {
		t.Error("match-only created a user")
	}

	// A username naming one user and an email naming another: refused.
	_, err := p.SignIn(t.Context(), "prof", matchOnly, ident(entra, "y", "bob@acme.com", true, "carol"))
	wantErr(t, err, provisioning.ErrConflict)
}

func TestLinkFollowedAfterEmailChange(t *testing.T) {
	p, d := newProvisioner()
	first := signIn(t, p, provisioning.Policy{}, ident(okta, "s1", "alice@acme.com", true, "alice"))
	bob := addUser(t, d, "bob", "bob@acme.com")

	for _, email := range []string{"alice.liddell@acme.com", "bob@acme.com", ""} {
		r := signIn(t, p, provisioning.Policy{}, ident(okta, "s1", email, email != "", "renamed"))
		wantResult(t, r, first.User.ID, false, false)
	}
	if _, err := d.UserByEmail(t.Context(), "alice.liddell@acme.com"); !errors.Is(err, provisioning.ErrNotFound) {
		t.Error("a changed email created a second account")
	}
	if links, _ := d.Links(t.Context(), bob.ID); len(links) != 0 {
		t.Errorf("bob got links: %+v", links)
	}
}

func TestSignInIdentityMismatch(t *testing.T) {
	// Alice's account is linked to subject s1 at Okta. Somebody else at
	// Okta (subject s2) now has her address: a recycled mailbox. They do
	// not get her account, in either mode.
	for _, mode := range []provisioning.Mode{provisioning.ModeJIT, provisioning.ModeMatchOnly} {
		pol := provisioning.Policy{Mode: mode}
		p, d := newProvisioner()
		alice := signIn(t, p, provisioning.Policy{}, ident(okta, "s1", "alice@acme.com", true, "alice"))
		_, err := p.SignIn(t.Context(), "prof", pol, ident(okta, "s2", "alice@acme.com", true, ""))
		wantErr(t, err, provisioning.ErrIdentityMismatch)
		_, err = p.SignIn(t.Context(), "prof", pol, ident(okta, "s3", "", false, "alice"))
		if mode == provisioning.ModeMatchOnly {
			wantErr(t, err, provisioning.ErrIdentityMismatch)
		}
		// The same person at another provider is linked.
		r := signIn(t, p, pol, ident(entra, "oid-1", "alice@acme.com", true, ""))
		wantResult(t, r, alice.User.ID, false, true)
		// And Alice can link the other Okta identity herself.
		if _, err := p.Link(t.Context(), alice.User.ID, "prof", pol, ident(okta, "s2", "alice@acme.com", true, "")); err != nil {
			t.Errorf("Link: %v", err)
		}
		if links, _ := d.Links(t.Context(), alice.User.ID); len(links) != 3 {
			t.Errorf("%s: links %+v; want 3", mode, links)
		}
	}
}

// foldingDirectory compares emails with Unicode case folding, as a SQL
// store using LOWER() or a case-insensitive collation may.
type foldingDirectory struct {
	*provisioning.MemoryDirectory
	users []*provisioning.User
}

func (d *foldingDirectory) UserByEmail(ctx context.Context, email string) (*provisioning.User, error) {
	for _, u := range d.users {
		if strings.EqualFold(u.Email, email) {
			return u, nil
		}
	}
	return d.MemoryDirectory.UserByEmail(ctx, email)
}

func (d *foldingDirectory) UserByUsername(ctx context.Context, name string) (*provisioning.User, error) {
	for _, u := range d.users {
		if strings.EqualFold(u.Username, name) {
			return u, nil
		}
	}
	return d.MemoryDirectory.UserByUsername(ctx, name)
}

func TestSignInLookAlikeNeverMatches(t *testing.T) {
	// The Kelvin sign K folds to k under Unicode rules: a directory that
	// folds so must not hand kate's account to "Kate" with the Kelvin
	// sign, verified at some provider.
	mem := provisioning.NewMemoryDirectory()
	kate, err := mem.AddUser(t.Context(), provisioning.User{Username: "kate", Email: "kate@acme.com"})
	if err != nil {
		t.Fatal(err)
	}
	d := &foldingDirectory{MemoryDirectory: mem, users: []*provisioning.User{kate}}
	p := &provisioning.Provisioner{Directory: d}
	for _, mode := range []provisioning.Mode{provisioning.ModeJIT, provisioning.ModeMatchOnly} {
		for i, id := range []*claims.Identity{
			ident(okta, fmt.Sprint("k1", mode), "\u212Aate@acme.com", true, ""),
			ident(okta, fmt.Sprint("k2", mode), "", false, "\u212Aate"),
		} {
			r, err := p.SignIn(t.Context(), "prof", provisioning.Policy{Mode: mode}, id)
			if err == nil && r.User.ID == kate.ID {
				t.Errorf("%s #%d: a look-alike signed in as kate", mode, i)
			}
			if mode == provisioning.ModeMatchOnly && err != provisioning.ErrProvisioningDisabled {
				t.Errorf("%s #%d: %v; want ErrProvisioningDisabled", mode, i, err)
			}
		}
	}
	if links, _ := d.Links(t.Context(), kate.ID); len(links) != 0 {
		t.Errorf("kate got links: %+v", links)
	}
}

func TestLink(t *testing.T) {
	p, d := newProvisioner()
	alice := addUser(t, d, "alice", "alice@acme.com")
	bob := addUser(t, d, "bob", "bob@acme.com")
	pol := provisioning.Policy{AllowedDomains: []string{"acme.com"}, Mode: provisioning.ModeMatchOnly}

	id := ident(okta, "a-okta", "alice@acme.com", true, "")
	l, err := p.Link(t.Context(), alice.ID, "okta", pol, id)
	if err != nil {
		t.Fatalf("Link: %v", err)
	}
	want := provisioning.Link{UserID: alice.ID, Issuer: okta, Subject: "a-okta", Profile: "okta", Email: "alice@acme.com", LinkedAt: now}
	if *l != want {
		t.Errorf("Link = %+v; want %+v", *l, want)
	}

	// Idempotent: the existing link, unchanged, and no second one.
	later := &provisioning.Provisioner{Directory: d, Now: func() time.Time { return now.Add(time.Hour) }}
	l, err = later.Link(t.Context(), alice.ID, "other-profile", pol, id)
	if err != nil || *l != want {
		t.Errorf("Link again = %+v, %v; want %+v", l, err, want)
	}
	// Refused for another user, whose links are unchanged.
	_, err = p.Link(t.Context(), bob.ID, "okta", pol, ident(okta, "a-okta", "bob@acme.com", true, ""))
	wantErr(t, err, provisioning.ErrLinkedToAnotherUser)
	// The policy applies.
	_, err = p.Link(t.Context(), bob.ID, "okta", pol, ident(okta, "b-okta", "bob@gmail.com", true, ""))
	wantErr(t, err, provisioning.ErrDomainNotAllowed)
	_, err = p.Link(t.Context(), bob.ID, "okta", pol, ident(okta, "b-okta", "bob@acme.com", false, ""))
	wantErr(t, err, provisioning.ErrDomainNotAllowed)
	if links, _ := p.Connected(t.Context(), bob.ID); len(links) != 0 {
		t.Errorf("bob's links: %+v; want none", links)
	}

	// A linked identity signs in as its user, even in match-only mode and
	// with an email that names nobody.
	r := signIn(t, p, pol, ident(okta, "a-okta", "alice@acme.com", true, ""))
	wantResult(t, r, alice.ID, false, false)

	// Connected lists links oldest first.
	if _, err := later.Link(t.Context(), alice.ID, "entra", provisioning.Policy{}, ident(entra, "a-entra", "", false, "")); err != nil {
		t.Fatal(err)
	}
	links, err := p.Connected(t.Context(), alice.ID)
	if err != nil || len(links) != 2 || links[0].Subject != "a-okta" || links[1].Subject != "a-entra" || links[1].Profile != "entra" {
		t.Errorf("Connected = %+v, %v", links, err)
	}

	_, err = p.Link(t.Context(), "", "okta", pol, id)
	if err == nil {
		t.Error("Link with no user ID succeeded")
	}
	_, err = p.Link(t.Context(), "no-such-user", "okta", provisioning.Policy{}, ident(okta, "z", "", false, ""))
	wantErr(t, err, provisioning.ErrNotFound)
}

func TestUnlink(t *testing.T) {
	p, d := newProvisioner()
	u := signIn(t, p, provisioning.Policy{}, ident(okta, "s1", "alice@acme.com", true, "")).User
	if _, err := p.Link(t.Context(), u.ID, "entra", provisioning.Policy{}, ident(entra, "s2", "", false, "")); err != nil {
		t.Fatal(err)
	}
	other := signIn(t, p, provisioning.Policy{}, ident(okta, "o1", "", false, "")).User

	wantErr(t, p.Unlink(t.Context(), u.ID, okta, "nope", false), provisioning.ErrNotFound)
	wantErr(t, p.Unlink(t.Context(), other.ID, okta, "s1", true), provisioning.ErrNotFound)
	wantErr(t, p.Unlink(t.Context(), u.ID, okta, "o1", true), provisioning.ErrNotFound)

	// Two links: one may go without a password.
	if err := p.Unlink(t.Context(), u.ID, okta, "s1", false); err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	if _, err := d.LinkedUser(t.Context(), okta, "s1"); !errors.Is(err, provisioning.ErrNotFound) {
		t.Errorf("link still there: %v", err)
	}
	// The last one only with a password.
	wantErr(t, p.Unlink(t.Context(), u.ID, entra, "s2", false), provisioning.ErrLastSignInMethod)
	if links, _ := p.Connected(t.Context(), u.ID); len(links) != 1 {
		t.Fatalf("the refused unlink removed the link: %+v", links)
	}
	if err := p.Unlink(t.Context(), u.ID, entra, "s2", true); err != nil {
		t.Fatalf("Unlink with a password: %v", err)
	}
	if links, _ := p.Connected(t.Context(), u.ID); len(links) != 0 {
		t.Errorf("links left: %+v", links)
	}
}

// barrierDirectory holds each Links call until two are waiting (or a
// short time has passed), so that two unlinks that are not serialised
// both read the links before either removes one.
type barrierDirectory struct {
	*provisioning.MemoryDirectory
	mu      sync.Mutex
	waiting int
	release chan struct{}
}

func (d *barrierDirectory) Links(ctx context.Context, userID string) ([]provisioning.Link, error) {
	links, err := d.MemoryDirectory.Links(ctx, userID)
	d.mu.Lock()
	d.waiting++
	if d.waiting == 2 {
		close(d.release)
	}
	d.mu.Unlock()
	select {
	case <-d.release:
	case <-time.After(50 * time.Millisecond):
	}
	return links, err
}

func TestConcurrentUnlinkKeepsOneMethod(t *testing.T) {
	for round := range 5 {
		d := &barrierDirectory{MemoryDirectory: provisioning.NewMemoryDirectory(), release: make(chan struct{})}
		p := &provisioning.Provisioner{Directory: d}
		u := signIn(t, p, provisioning.Policy{}, ident(okta, "s1", "", false, "")).User
		if _, err := p.Link(t.Context(), u.ID, "", provisioning.Policy{}, ident(entra, "s2", "", false, "")); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, iss := range []string{okta, entra} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = p.Unlink(context.Background(), u.ID, iss, fmt.Sprint("s", i+1), false)
			}()
		}
		wg.Wait()
		refused := 0
		for _, err := range errs {
			if errors.Is(err, provisioning.ErrLastSignInMethod) {
				refused++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if links, _ := p.Connected(t.Context(), u.ID); refused != 1 || len(links) != 1 {
			t.Fatalf("round %d: %d refused, %d links left; want 1 and 1", round, refused, len(links))
		}
	}
}

func TestConcurrentLink(t *testing.T) {
	p, d := newProvisioner()
	var users []*provisioning.User
	for i := range 10 {
		users = append(users, addUser(t, d, fmt.Sprint("u", i), ""))
	}
	id := ident(okta, "contested", "", false, "")
	var wg sync.WaitGroup
	errs := make([]error, 50)
	owners := make([]string, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			uid := users[i%len(users)].ID
			if _, err := p.Link(context.Background(), uid, "", provisioning.Policy{}, id); err != nil {
				errs[i] = err
				return
			}
			owners[i] = uid
		}()
	}
	wg.Wait()
	winner, _ := d.LinkedUser(t.Context(), okta, "contested")
	for i, err := range errs {
		switch {
		case err == nil && owners[i] != winner.ID:
			t.Errorf("Link for %s succeeded but %s owns the identity", owners[i], winner.ID)
		case err != nil && !errors.Is(err, provisioning.ErrLinkedToAnotherUser):
			t.Errorf("Link: %v", err)
		}
	}
	total := 0
	for _, u := range users {
		links, _ := d.Links(t.Context(), u.ID)
		total += len(links)
	}
	if total != 1 {
		t.Errorf("%d links stored; want 1", total)
	}
}

// failingDirectory fails every call with errBroken.
type failingDirectory struct{}

var errBroken = errors.New("database is on fire")

func (failingDirectory) LinkedUser(context.Context, string, string) (*provisioning.User, error) {
	return nil, errBroken
}
func (failingDirectory) UserByUsername(context.Context, string) (*provisioning.User, error) {
	return nil, errBroken
}
func (failingDirectory) UserByEmail(context.Context, string) (*provisioning.User, error) {
	return nil, errBroken
}
func (failingDirectory) CreateUser(context.Context, provisioning.User, provisioning.Link) (*provisioning.User, error) {
	return nil, errBroken
}
func (failingDirectory) AddLink(context.Context, provisioning.Link) error { return errBroken }
func (failingDirectory) Links(context.Context, string) ([]provisioning.Link, error) {
	return nil, errBroken
}
func (failingDirectory) RemoveLink(context.Context, string, string, string) error { return errBroken }

// failOne passes calls to a MemoryDirectory except the named one.
type failOne struct {
	*provisioning.MemoryDirectory
	method string
}

func (d failOne) UserByEmail(ctx context.Context, e string) (*provisioning.User, error) {
	if d.method == "UserByEmail" {
		return nil, errBroken
	}
	return d.MemoryDirectory.UserByEmail(ctx, e)
}
func (d failOne) UserByUsername(ctx context.Context, n string) (*provisioning.User, error) {
	if d.method == "UserByUsername" {
		return nil, errBroken
	}
	return d.MemoryDirectory.UserByUsername(ctx, n)
}
func (d failOne) CreateUser(ctx context.Context, u provisioning.User, l provisioning.Link) (*provisioning.User, error) {
	if d.method == "CreateUser" {
		return nil, errBroken
	}
	return d.MemoryDirectory.CreateUser(ctx, u, l)
}
func (d failOne) AddLink(ctx context.Context, l provisioning.Link) error {
	if d.method == "AddLink" {
		return errBroken
	}
	return d.MemoryDirectory.AddLink(ctx, l)
}
func (d failOne) Links(ctx context.Context, id string) ([]provisioning.Link, error) {
	if d.method == "Links" {
		return nil, errBroken
	}
	return d.MemoryDirectory.Links(ctx, id)
}
func (d failOne) RemoveLink(ctx context.Context, id, iss, sub string) error {
	if d.method == "RemoveLink" {
		return errBroken
	}
	return d.MemoryDirectory.RemoveLink(ctx, id, iss, sub)
}

func TestDirectoryErrorsPassThrough(t *testing.T) {
	ctx := t.Context()
	id := ident(okta, "s", "alice@acme.com", true, "alice")
	p := &provisioning.Provisioner{Directory: failingDirectory{}}
	_, err := p.SignIn(ctx, "", provisioning.Policy{}, id)
	wantErr(t, err, errBroken)
	_, err = p.Link(ctx, "u", "", provisioning.Policy{}, id)
	wantErr(t, err, errBroken)
	wantErr(t, p.Unlink(ctx, "u", okta, "s", true), errBroken)
	_, err = p.Connected(ctx, "u")
	wantErr(t, err, errBroken)

	// Each method failing at the step that needs it.
	for _, tc := range []struct {
		method string
		mode   provisioning.Mode
		setup  func(d *provisioning.MemoryDirectory)
		call   func(p *provisioning.Provisioner) error
	}{
		{"UserByEmail", provisioning.ModeJIT, nil, nil},
		{"UserByUsername", provisioning.ModeMatchOnly, nil, nil},
		{"CreateUser", provisioning.ModeJIT, nil, nil},
		{"Links", provisioning.ModeJIT, func(d *provisioning.MemoryDirectory) { d.AddUser(ctx, provisioning.User{Email: "alice@acme.com"}) }, nil},
		{"AddLink", provisioning.ModeJIT, func(d *provisioning.MemoryDirectory) { d.AddUser(ctx, provisioning.User{Email: "alice@acme.com"}) }, nil},
		{"UserByUsername", provisioning.ModeJIT, func(d *provisioning.MemoryDirectory) { d.AddUser(ctx, provisioning.User{Username: "alice"}) }, nil},
		{"RemoveLink", provisioning.ModeJIT, nil, func(p *provisioning.Provisioner) error {
			r, err := p.SignIn(ctx, "", provisioning.Policy{}, id)
			if err != nil {
				return err
			}
			return p.Unlink(ctx, r.User.ID, okta, "s", true)
		}},
		{"Links", provisioning.ModeJIT, nil, func(p *provisioning.Provisioner) error {
			_, err := p.Link(ctx, "user-1", "", provisioning.Policy{}, id)
			if err != nil {
				return err
			}
			_, err = p.Link(ctx, "user-1", "", provisioning.Policy{}, id)
			return err
		}},
	} {
		mem := provisioning.NewMemoryDirectory()
		mem.AddUser(ctx, provisioning.User{}) // user-1, for Link
		if tc.setup != nil {
			tc.setup(mem)
		}
		p := &provisioning.Provisioner{Directory: failOne{mem, tc.method}}
		var err error
		if tc.call != nil {
			err = tc.call(p)
		} else {
			_, err = p.SignIn(ctx, "", provisioning.Policy{Mode: tc.mode}, id)
		}
		if !errors.Is(err, errBroken) {
			t.Errorf("%s failing (%s): err = %v; want it wrapped", tc.method, tc.mode, err)
		}
	}
}

func TestBadInput(t *testing.T) {
	ctx := t.Context()
	p, _ := newProvisioner()
	for _, id := range []*claims.Identity{nil, {Issuer: okta}, {Subject: "s"}} {
		if _, err := p.SignIn(ctx, "", provisioning.Policy{}, id); err == nil {
			t.Errorf("SignIn(%+v) succeeded", id)
		}
		if _, err := p.Link(ctx, "user-1", "", provisioning.Policy{}, id); err == nil {
			t.Errorf("Link(%+v) succeeded", id)
		}
	}
	id := ident(okta, "s", "", false, "")
	if _, err := p.SignIn(ctx, "", provisioning.Policy{Mode: 9}, id); err == nil {
		t.Error("SignIn with an invalid policy succeeded")
	}
	if _, err := p.SignIn(ctx, "", provisioning.Policy{AllowedDomains: []string{"*.acme.com"}}, id); err == nil || errors.Is(err, provisioning.ErrDomainNotAllowed) {
		t.Errorf("SignIn with a wildcard domain: %v; want a policy error", err)
	}
	empty := &provisioning.Provisioner{}
	if _, err := empty.SignIn(ctx, "", provisioning.Policy{}, id); err == nil {
		t.Error("SignIn without a Directory succeeded")
	}
	if err := empty.Unlink(ctx, "u", okta, "s", true); err == nil {
		t.Error("Unlink without a Directory succeeded")
	}
	if _, err := empty.Connected(ctx, "u"); err == nil {
		t.Error("Connected without a Directory succeeded")
	}
}
