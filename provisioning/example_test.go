package provisioning_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/provisioning"
)

func ExampleProvisioner_SignIn() {
	ctx := context.Background()
	dir := provisioning.NewMemoryDirectory()
	p := &provisioning.Provisioner{Directory: dir}
	pol := provisioning.Policy{AllowedDomains: []string{"acme.com"}}

	// The claims of a verified ID token, mapped with the profile's trust.
	verified, err := claims.ParseSet([]byte(`{"sub":"00u1","email":"alice@acme.com","email_verified":true,"preferred_username":"alice"}`))
	if err != nil {
		panic(err)
	}
	id, err := claims.Map("https://acme.okta.com", verified, claims.Mapping{}, pol.EmailTrust)
	if err != nil {
		panic(err)
	}

	r, err := p.SignIn(ctx, "okta", pol, id)
	fmt.Println(r.User.ID, r.User.Email, r.Created, r.Linked, err)

	// Later her address changes at the provider: the link still decides.
	id.Email = "alice.liddell@acme.com"
	r, err = p.SignIn(ctx, "okta", pol, id)
	fmt.Println(r.User.ID, r.Created, r.Linked, err)

	// Someone at another domain.
	_, err = p.SignIn(ctx, "okta", pol, &claims.Identity{Issuer: "https://acme.okta.com", Subject: "00u2", Email: "eve@evilacme.com", EmailVerified: true})
	fmt.Println(errors.Is(err, provisioning.ErrDomainNotAllowed))

	// A match-only profile lets in invited users only.
	if _, err := dir.AddUser(ctx, provisioning.User{Email: "bob@acme.com"}); err != nil {
		panic(err)
	}
	inviteOnly := provisioning.Policy{Mode: provisioning.ModeMatchOnly}
	r, err = p.SignIn(ctx, "okta", inviteOnly, &claims.Identity{Issuer: "https://acme.okta.com", Subject: "00u3", Email: "bob@acme.com", EmailVerified: true})
	fmt.Println(r.User.ID, r.Created, r.Linked, err)
	_, err = p.SignIn(ctx, "okta", inviteOnly, &claims.Identity{Issuer: "https://acme.okta.com", Subject: "00u4", Email: "carol@acme.com", EmailVerified: true})
	fmt.Println(err)
	// Output:
	// user-1 alice@acme.com true true <nil>
	// user-1 false false <nil>
	// true
	// user-2 false true <nil>
	// Automatic member provisioning is disabled for this SSO profile, please ask an admin to invite you first.
}

func ExampleProvisioner_Link() {
	ctx := context.Background()
	dir := provisioning.NewMemoryDirectory()
	p := &provisioning.Provisioner{Directory: dir}

	// Alice has an account with a password, and is signed in.
	alice, err := dir.AddUser(ctx, provisioning.User{Username: "alice", Email: "alice@acme.com"})
	if err != nil {
		panic(err)
	}
	// She connects her Google account from her security settings.
	google := &claims.Identity{Issuer: "https://accounts.google.com", Subject: "1098", Email: "alice@gmail.com", EmailVerified: true}
	l, err := p.Link(ctx, alice.ID, "google", provisioning.Policy{}, google)
	fmt.Println(l.UserID, l.Profile, l.Email, err)

	// Linking again changes nothing; nobody else can link it.
	_, err = p.Link(ctx, alice.ID, "google", provisioning.Policy{}, google)
	fmt.Println(err)
	bob, _ := dir.AddUser(ctx, provisioning.User{Username: "bob"})
	_, err = p.Link(ctx, bob.ID, "google", provisioning.Policy{}, google)
	fmt.Println(err)

	// Her connected accounts.
	links, _ := p.Connected(ctx, alice.ID)
	for _, l := range links {
		fmt.Println(l.Issuer, l.Email)
	}

	// Without a password, the only link cannot go.
	fmt.Println(p.Unlink(ctx, alice.ID, google.Issuer, google.Subject, false))
	fmt.Println(p.Unlink(ctx, alice.ID, google.Issuer, google.Subject, true))
	// Output:
	// user-1 google alice@gmail.com <nil>
	// <nil>
	// provisioning: this identity is already linked to another account
	// https://accounts.google.com alice@gmail.com
	// provisioning: this is your only way to sign in; set a password or link another provider before unlinking it
	// <nil>
}
