// Package directorytest is a conformance test for implementations of
// provisioning.Directory: every implementation runs the same checks, so
// the Provisioner's guarantees (one user per person, however many
// concurrent first sign-ins) hold over each of them.
//
//	func TestDirectory(t *testing.T) {
//		directorytest.Run(t, func(t *testing.T) provisioning.Directory {
//			return newEmptyStore(t)
//		})
//	}
//
// It is test support: it imports testing, and production code should not
// import it.
package directorytest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/provisioning"
)

// base is the time the checks' links are made at: whole seconds in UTC,
// which every store keeps exactly.
var base = time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)

const (
	issuerA = "https://idp-a.example.com"
	issuerB = "https://idp-b.example.com"
)

// Run runs the conformance checks as subtests of t. newDir returns a new,
// empty Directory for each subtest; it may register cleanups on the t it
// is given.
func Run(t *testing.T, newDir func(t *testing.T) provisioning.Directory) {
	t.Helper()
	t.Run("CreateAndLookup", func(t *testing.T) { testCreateAndLookup(t, newDir(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newDir(t)) })
	t.Run("EmptyUsernameAndEmailAreNotUnique", func(t *testing.T) { testEmptyNotUnique(t, newDir(t)) })
	t.Run("ConflictStoresNothing", func(t *testing.T) { testConflict(t, newDir(t)) })
	t.Run("AddLinkConflict", func(t *testing.T) { testAddLinkConflict(t, newDir(t)) })
	t.Run("LinksOldestFirst", func(t *testing.T) { testLinksOrder(t, newDir(t)) })
	t.Run("RemoveLink", func(t *testing.T) { testRemoveLink(t, newDir(t)) })
	t.Run("ConcurrentFirstSignIn", func(t *testing.T) { testConcurrentSameIdentity(t, newDir(t)) })
	t.Run("ConcurrentSameEmailManyIssuers", func(t *testing.T) { testConcurrentSameEmail(t, newDir(t)) })
	t.Run("ConcurrentSameEmailOneIssuer", func(t *testing.T) { testConcurrentSameEmailOneIssuer(t, newDir(t)) })
	t.Run("ConcurrentMatchOnly", func(t *testing.T) { testConcurrentMatchOnly(t, newDir(t)) })
	t.Run("LookAlikeNeverSignsIn", func(t *testing.T) { testLookAlike(t, newDir(t)) })
}

func link(issuer, subject string, at time.Time) provisioning.Link {
	return provisioning.Link{Issuer: issuer, Subject: subject, Profile: "p", Email: subject + "@example.com", LinkedAt: at}
}

func mustCreate(t *testing.T, d provisioning.Directory, u provisioning.User, l provisioning.Link) *provisioning.User {
	t.Helper()
	got, err := d.CreateUser(t.Context(), u, l)
	if err != nil {
		t.Fatalf("CreateUser(%+v, %+v): %v", u, l, err)
	}
	if got == nil || got.ID == "" {
		t.Fatalf("CreateUser(%+v) = %+v: want a user with an ID", u, got)
	}
	return got
}

// wantUser checks that a lookup found the user with ID id.
func wantUser(t *testing.T, what string, u *provisioning.User, err error, id string) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v; want user %q", what, err, id)
		return
	}
	if u == nil || u.ID != id {
		t.Errorf("%s = %+v; want user %q", what, u, id)
	}
}

func wantNotFound(t *testing.T, what string, u *provisioning.User, err error) {
	t.Helper()
	if !errors.Is(err, provisioning.ErrNotFound) {
		t.Errorf("%s = %+v, %v; want ErrNotFound", what, u, err)
	}
}

func testCreateAndLookup(t *testing.T, d provisioning.Directory) {
	ctx := t.Context()
	created := base.Add(-time.Hour)
	alice := mustCreate(t, d,
		provisioning.User{Username: "Alice", Email: "Alice@Example.com", Name: "Alice Liddell", CreatedAt: created},
		link(issuerA, "sub-alice", base))
	if alice.Username != "Alice" || alice.Email != "Alice@Example.com" || alice.Name != "Alice Liddell" {
		t.Errorf("CreateUser returned %+v: want the fields as given", alice)
	}
	if !alice.CreatedAt.Equal(created) {
		t.Errorf("CreatedAt = %v; want %v as given", alice.CreatedAt, created)
	}
	bob := mustCreate(t, d, provisioning.User{Username: "bob", Email: "bob@example.com"}, link(issuerA, "sub-bob", base))
	if bob.ID == alice.ID {
		t.Fatalf("two users got the same ID %q", bob.ID)
	}
	if bob.CreatedAt.IsZero() {
		t.Errorf("CreatedAt was not set for a user created without one")
	}

	// Each lookup, by the link (the ID) and by username and email in any
	// letter case.
	u, err := d.LinkedUser(ctx, issuerA, "sub-alice")
	wantUser(t, "LinkedUser(alice)", u, err, alice.ID)
	if err == nil && (u.Username != "Alice" || u.Email != "Alice@Example.com" || u.Name != "Alice Liddell") {
		t.Errorf("LinkedUser(alice) = %+v: want the stored fields", u)
	}
	u, err = d.LinkedUser(ctx, issuerA, "sub-bob")
	wantUser(t, "LinkedUser(bob)", u, err, bob.ID)
	for _, name := range []string{"Alice", "alice", "ALICE", "aLiCe"} {
		u, err := d.UserByUsername(ctx, name)
		wantUser(t, fmt.Sprintf("UserByUsername(%q)", name), u, err, alice.ID)
	}
	for _, email := range []string{"Alice@Example.com", "alice@example.com", "ALICE@EXAMPLE.COM"} {
		u, err := d.UserByEmail(ctx, email)
		wantUser(t, fmt.Sprintf("UserByEmail(%q)", email), u, err, alice.ID)
	}
	u, err = d.UserByEmail(ctx, "BOB@example.com")
	wantUser(t, "UserByEmail(BOB@example.com)", u, err, bob.ID)

	// The link was stored, with the new user's ID.
	links, err := d.Links(ctx, alice.ID)
	if err != nil {
		t.Fatalf("Links(alice): %v", err)
	}
	if len(links) != 1 {
		t.Fatalf("Links(alice) = %+v; want the one link", links)
	}
	l := links[0]
	if l.UserID != alice.ID || l.Issuer != issuerA || l.Subject != "sub-alice" || l.Profile != "p" ||
		l.Email != "sub-alice@example.com" || !l.LinkedAt.Equal(base) {
		t.Errorf("Links(alice) = %+v; want the link as given, with UserID %q", l, alice.ID)
	}
}

func testNotFound(t *testing.T, d provisioning.Directory) {
	ctx := t.Context()
	alice := mustCreate(t, d, provisioning.User{Username: "alice", Email: "alice@example.com"}, link(issuerA, "sub-alice", base))

	u, err := d.LinkedUser(ctx, issuerA, "sub-nobody")
	wantNotFound(t, "LinkedUser(unknown subject)", u, err)
	u, err = d.LinkedUser(ctx, issuerB, "sub-alice")
	wantNotFound(t, "LinkedUser(the subject at another issuer)", u, err)
	u, err = d.LinkedUser(ctx, issuerA+"/", "sub-alice")
	wantNotFound(t, "LinkedUser(issuer with a trailing slash)", u, err)
	u, err = d.LinkedUser(ctx, issuerA, "SUB-ALICE")
	wantNotFound(t, "LinkedUser(subject in other case: subjects are case-sensitive)", u, err)
	// Whole values only: never a prefix, a local part or a name at
	// another domain.
	for _, name := range []string{"bob", "alic", "alice2", "alice@example.com", ""} {
		u, err := d.UserByUsername(ctx, name)
		wantNotFound(t, fmt.Sprintf("UserByUsername(%q)", name), u, err)
	}
	for _, email := range []string{"bob@example.com", "alice", "alice@example.co", "alice@evil.example.com", "alice@example.com.evil.io", ""} {
		u, err := d.UserByEmail(ctx, email)
		wantNotFound(t, fmt.Sprintf("UserByEmail(%q)", email), u, err)
	}
	if err := d.RemoveLink(ctx, alice.ID, issuerA, "sub-nobody"); !errors.Is(err, provisioning.ErrNotFound) {
		t.Errorf("RemoveLink(unknown) = %v; want ErrNotFound", err)
	}
	links, err := d.Links(ctx, "no-such-user")
	if err == nil && len(links) != 0 {
		t.Errorf("Links(no such user) = %+v; want none", links)
	} else if err != nil && !errors.Is(err, provisioning.ErrNotFound) {
		t.Errorf("Links(no such user): %v; want no links or ErrNotFound", err)
	}
}

func testEmptyNotUnique(t *testing.T, d provisioning.Directory) {
	// "" means none: users without a username or an email do not collide.
	a := mustCreate(t, d, provisioning.User{Name: "A"}, link(issuerA, "a", base))
	b := mustCreate(t, d, provisioning.User{Name: "B"}, link(issuerA, "b", base))
	if a.ID == b.ID {
		t.Fatalf("two users got the same ID %q", a.ID)
	}
	if a.Username != "" || a.Email != "" {
		t.Errorf("CreateUser with no username or email = %+v", a)
	}
	u, err := d.UserByEmail(t.Context(), "")
	wantNotFound(t, `UserByEmail("")`, u, err)
}

func testConflict(t *testing.T, d provisioning.Directory) {
	ctx := t.Context()
	alice := mustCreate(t, d, provisioning.User{Username: "alice", Email: "alice@example.com"}, link(issuerA, "sub-alice", base))

	for _, tc := range []struct {
		name string
		u    provisioning.User
		l    provisioning.Link
	}{
		{"username", provisioning.User{Username: "ALICE", Email: "new1@example.com"}, link(issuerA, "new1", base)},
		{"email", provisioning.User{Username: "new2", Email: "Alice@EXAMPLE.com"}, link(issuerA, "new2", base)},
		{"link", provisioning.User{Username: "new3", Email: "new3@example.com"}, link(issuerA, "sub-alice", base)},
	} {
		got, err := d.CreateUser(ctx, tc.u, tc.l)
		if !errors.Is(err, provisioning.ErrConflict) {
			t.Errorf("CreateUser with a taken %s = %+v, %v; want ErrConflict", tc.name, got, err)
			continue
		}
		// Nothing stored: not the user's other fields, not the link.
		if tc.u.Username != "ALICE" {
			u, err := d.UserByUsername(ctx, tc.u.Username)
			wantNotFound(t, "after a conflict on the "+tc.name+", UserByUsername", u, err)
		}
		if tc.u.Email != "Alice@EXAMPLE.com" {
			u, err := d.UserByEmail(ctx, tc.u.Email)
			wantNotFound(t, "after a conflict on the "+tc.name+", UserByEmail", u, err)
		}
		u, err := d.LinkedUser(ctx, tc.l.Issuer, tc.l.Subject)
		if tc.l.Subject == "sub-alice" {
			wantUser(t, "after a conflict on the link, LinkedUser", u, err, alice.ID)
		} else {
			wantNotFound(t, "after a conflict on the "+tc.name+", LinkedUser", u, err)
		}
	}
	// Alice is untouched.
	links, err := d.Links(ctx, alice.ID)
	if err != nil || len(links) != 1 {
		t.Errorf("Links(alice) after conflicts = %+v, %v; want her one link", links, err)
	}
	u, err := d.UserByUsername(ctx, "alice")
	wantUser(t, "UserByUsername(alice) after conflicts", u, err, alice.ID)
}

func testAddLinkConflict(t *testing.T, d provisioning.Directory) {
	ctx := t.Context()
	alice := mustCreate(t, d, provisioning.User{Username: "alice"}, link(issuerA, "sub-alice", base))
	bob := mustCreate(t, d, provisioning.User{Username: "bob"}, link(issuerA, "sub-bob", base))

	l := link(issuerB, "sub-alice-b", base.Add(time.Minute))
	l.UserID = alice.ID
	if err := d.AddLink(ctx, l); err != nil {
		t.Fatalf("AddLink: %v", err)
	}
	u, err := d.LinkedUser(ctx, issuerB, "sub-alice-b")
	wantUser(t, "LinkedUser after AddLink", u, err, alice.ID)

	// The same identity again, to another user or to the same one.
	l.UserID = bob.ID
	if err := d.AddLink(ctx, l); !errors.Is(err, provisioning.ErrConflict) {
		t.Errorf("AddLink of an identity linked to another user = %v; want ErrConflict", err)
	}
	l.UserID = alice.ID
	if err := d.AddLink(ctx, l); !errors.Is(err, provisioning.ErrConflict) {
		t.Errorf("AddLink of an identity linked already = %v; want ErrConflict", err)
	}
	u, err = d.LinkedUser(ctx, issuerB, "sub-alice-b")
	wantUser(t, "LinkedUser after the refused AddLinks", u, err, alice.ID)
	if links, err := d.Links(ctx, bob.ID); err != nil || len(links) != 1 {
		t.Errorf("Links(bob) = %+v, %v; want only his own link", links, err)
	}
	if links, err := d.Links(ctx, alice.ID); err != nil || len(links) != 2 {
		t.Errorf("Links(alice) = %+v, %v; want two links", links, err)
	}
}

func testLinksOrder(t *testing.T, d provisioning.Directory) {
	ctx := t.Context()
	u := mustCreate(t, d, provisioning.User{Username: "alice"}, link(issuerA, "first", base))
	// Added out of time order: oldest first means by LinkedAt.
	for _, l := range []provisioning.Link{
		link(issuerB, "third", base.Add(2*time.Hour)),
		link("https://idp-c.example.com", "second", base.Add(time.Hour)),
		link("https://idp-d.example.com", "fourth", base.Add(3*time.Hour)),
	} {
		l.UserID = u.ID
		if err := d.AddLink(ctx, l); err != nil {
			t.Fatalf("AddLink(%s): %v", l.Subject, err)
		}
	}
	links, err := d.Links(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range links {
		got = append(got, l.Subject)
		if l.UserID != u.ID {
			t.Errorf("link %s has UserID %q; want %q", l.Subject, l.UserID, u.ID)
		}
	}
	if fmt.Sprint(got) != "[first second third fourth]" {
		t.Errorf("Links order = %v; want [first second third fourth] (oldest LinkedAt first)", got)
	}
}

func testRemoveLink(t *testing.T, d provisioning.Directory) {
	ctx := t.Context()
	alice := mustCreate(t, d, provisioning.User{Username: "alice"}, link(issuerA, "a1", base))
	bob := mustCreate(t, d, provisioning.User{Username: "bob"}, link(issuerA, "b1", base))
	l := link(issuerB, "a2", base.Add(time.Minute))
	l.UserID = alice.ID
	if err := d.AddLink(ctx, l); err != nil {
		t.Fatal(err)
	}

	// Not another user's link.
	if err := d.RemoveLink(ctx, bob.ID, issuerA, "a1"); !errors.Is(err, provisioning.ErrNotFound) {
		t.Errorf("RemoveLink of another user's link = %v; want ErrNotFound", err)
	}
	u, err := d.LinkedUser(ctx, issuerA, "a1")
	wantUser(t, "LinkedUser after refusing to remove it for another user", u, err, alice.ID)

	if err := d.RemoveLink(ctx, alice.ID, issuerA, "a1"); err != nil {
		t.Fatalf("RemoveLink: %v", err)
	}
	u, err = d.LinkedUser(ctx, issuerA, "a1")
	wantNotFound(t, "LinkedUser after RemoveLink", u, err)
	if err := d.RemoveLink(ctx, alice.ID, issuerA, "a1"); !errors.Is(err, provisioning.ErrNotFound) {
		t.Errorf("RemoveLink twice = %v; want ErrNotFound", err)
	}
	links, err := d.Links(ctx, alice.ID)
	if err != nil || len(links) != 1 || links[0].Subject != "a2" {
		t.Errorf("Links after RemoveLink = %+v, %v; want only a2", links, err)
	}
	// The user remains, and the identity can be linked again.
	u, err = d.UserByUsername(ctx, "alice")
	wantUser(t, "UserByUsername after RemoveLink", u, err, alice.ID)
	l = link(issuerA, "a1", base.Add(2*time.Minute))
	l.UserID = bob.ID
	if err := d.AddLink(ctx, l); err != nil {
		t.Errorf("AddLink of a removed identity to another user: %v", err)
	}
}

// concurrently runs n sign-ins at once, released together, and returns
// their results and errors in order.
func concurrently(t *testing.T, n int, signIn func(i int) (*provisioning.Result, error)) ([]*provisioning.Result, []error) {
	t.Helper()
	results := make([]*provisioning.Result, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = signIn(i)
		}()
	}
	close(start)
	wg.Wait()
	return results, errs
}

const goroutines = 50

// oneUser checks that the successful results are all one user, created
// exactly once, and returns its ID.
func oneUser(t *testing.T, results []*provisioning.Result, errs []error) string {
	t.Helper()
	created, id := 0, ""
	for i, r := range results {
		if errs[i] != nil {
			continue
		}
		if r.Created {
			created++
		}
		if id == "" {
			id = r.User.ID
		} else if r.User.ID != id {
			t.Fatalf("sign-ins returned users %q and %q; want one", id, r.User.ID)
		}
	}
	if created != 1 {
		t.Fatalf("%d sign-ins created a user; want exactly 1", created)
	}
	return id
}

func testConcurrentSameIdentity(t *testing.T, d provisioning.Directory) {
	p := &provisioning.Provisioner{Directory: d}
	id := &claims.Identity{Issuer: issuerA, Subject: "new-person", Email: "new@example.com", EmailVerified: true, Username: "new"}
	results, errs := concurrently(t, goroutines, func(int) (*provisioning.Result, error) {
		return p.SignIn(context.Background(), "p", provisioning.Policy{}, id)
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("sign-in %d: %v", i, err)
		}
	}
	uid := oneUser(t, results, errs)
	linked := 0
	for _, r := range results {
		if r.Linked {
			linked++
		}
	}
	if linked != 1 {
		t.Errorf("%d results say Linked; want 1 (the creation)", linked)
	}
	links, err := d.Links(t.Context(), uid)
	if err != nil || len(links) != 1 {
		t.Errorf("Links = %+v, %v; want one", links, err)
	}
	u, err := d.UserByEmail(t.Context(), "new@example.com")
	wantUser(t, "UserByEmail", u, err, uid)
}

func testConcurrentSameEmail(t *testing.T, d provisioning.Directory) {
	// One person with one verified address signs in at once through many
	// providers: one user, linked to each identity.
	p := &provisioning.Provisioner{Directory: d}
	results, errs := concurrently(t, goroutines, func(i int) (*provisioning.Result, error) {
		id := &claims.Identity{
			Issuer: fmt.Sprintf("https://idp-%d.example.com", i), Subject: "s",
			Email: "Same@Example.com", EmailVerified: true, Username: fmt.Sprintf("name-%d", i),
		}
		return p.SignIn(context.Background(), "p", provisioning.Policy{}, id)
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("sign-in %d: %v", i, err)
		}
	}
	uid := oneUser(t, results, errs)
	links, err := d.Links(t.Context(), uid)
	if err != nil || len(links) != goroutines {
		t.Errorf("Links = %d links, %v; want %d", len(links), err, goroutines)
	}
}

func testConcurrentSameEmailOneIssuer(t *testing.T, d provisioning.Directory) {
	// Many subjects at one issuer claim one verified address: the first
	// creates the user, and the provider says the others are other
	// people, so none of them gets the account.
	p := &provisioning.Provisioner{Directory: d}
	results, errs := concurrently(t, goroutines, func(i int) (*provisioning.Result, error) {
		id := &claims.Identity{Issuer: issuerA, Subject: fmt.Sprintf("sub-%d", i), Email: "same@example.com", EmailVerified: true}
		return p.SignIn(context.Background(), "p", provisioning.Policy{}, id)
	})
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, provisioning.ErrIdentityMismatch):
			t.Errorf("sign-in %d: %v; want success or ErrIdentityMismatch", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d sign-ins succeeded; want 1", ok)
	}
	uid := oneUser(t, results, errs)
	links, err := d.Links(t.Context(), uid)
	if err != nil || len(links) != 1 {
		t.Errorf("Links = %+v, %v; want one", links, err)
	}
}

func testConcurrentMatchOnly(t *testing.T, d provisioning.Directory) {
	// An invited user (here: one with a link elsewhere) signs in for the
	// first time through a match-only profile, many times at once.
	invited := mustCreate(t, d, provisioning.User{Username: "invited", Email: "invited@example.com"}, link(issuerB, "other", base))
	p := &provisioning.Provisioner{Directory: d}
	id := &claims.Identity{Issuer: issuerA, Subject: "inv", Email: "INVITED@example.com", EmailVerified: true}
	pol := provisioning.Policy{Mode: provisioning.ModeMatchOnly}
	results, errs := concurrently(t, goroutines, func(int) (*provisioning.Result, error) {
		return p.SignIn(context.Background(), "p", pol, id)
	})
	linked := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("sign-in %d: %v", i, errs[i])
		}
		if r.User.ID != invited.ID || r.Created {
			t.Fatalf("sign-in %d = %+v; want the invited user %q, not created", i, r, invited.ID)
		}
		if r.Linked {
			linked++
		}
	}
	if linked != 1 {
		t.Errorf("%d results say Linked; want 1", linked)
	}
	links, err := d.Links(t.Context(), invited.ID)
	if err != nil || len(links) != 2 {
		t.Errorf("Links = %+v, %v; want two", links, err)
	}
}

func testLookAlike(t *testing.T, d provisioning.Directory) {
	// The Kelvin sign K (U+212A) folds to k under Unicode case rules. A
	// store may fold so (SQL LOWER() does in many databases); whatever
	// it does, an address spelled with it must not sign in as kate.
	kate := mustCreate(t, d, provisioning.User{Username: "kate", Email: "kate@example.com"}, link(issuerB, "kate", base))
	p := &provisioning.Provisioner{Directory: d}
	// Match-only first: JIT may create a user with the look-alike address.
	for _, mode := range []provisioning.Mode{provisioning.ModeMatchOnly, provisioning.ModeJIT} {
		id := &claims.Identity{Issuer: issuerA, Subject: "look-alike-" + mode.String(), Email: "\u212Aate@example.com", EmailVerified: true, Username: "\u212Aate"}
		r, err := p.SignIn(t.Context(), "p", provisioning.Policy{Mode: mode}, id)
		if err == nil && r.User.ID == kate.ID {
			t.Errorf("%s: a Kelvin-sign look-alike signed in as kate", mode)
		}
		if mode == provisioning.ModeMatchOnly && err != provisioning.ErrProvisioningDisabled {
			t.Errorf("%s: %v; want ErrProvisioningDisabled", mode, err)
		}
	}
	links, err := d.Links(t.Context(), kate.ID)
	if err != nil || len(links) != 1 {
		t.Errorf("kate's links = %+v, %v; want only her own", links, err)
	}
}
