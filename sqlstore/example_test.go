package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/ssokit/ssokit/provisioning"
	"github.com/ssokit/ssokit/sqlstore"
	"github.com/ssokit/ssokit/ssoclient"
)

func Example() {
	ctx := context.Background()
	dirPath, err := os.MkdirTemp("", "sqlstore-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dirPath)

	store, err := sqlstore.OpenSQLite(ctx, filepath.Join(dirPath, "ssokit.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()

	// Users and their links, for provisioning.Provisioner{Directory: dir}.
	dir := store.Directory()
	alice, err := dir.CreateUser(ctx,
		provisioning.User{Username: "alice", Email: "Alice@Example.com", Name: "Alice"},
		provisioning.Link{Issuer: "https://idp.example.com", Subject: "248289761001"})
	if err != nil {
		log.Fatal(err)
	}
	u, err := dir.LinkedUser(ctx, "https://idp.example.com", "248289761001")
	fmt.Println(u.ID == alice.ID, u.Name, err)
	u, _ = dir.UserByEmail(ctx, "alice@example.com")
	fmt.Println(u.Username)

	// The same identity again: the unique constraint refuses it.
	_, err = dir.CreateUser(ctx, provisioning.User{Username: "alice2"},
		provisioning.Link{Issuer: "https://idp.example.com", Subject: "248289761001"})
	fmt.Println(errors.Is(err, provisioning.ErrConflict))

	// SSO profiles, for ssoclient's ProfileStore.
	profiles := store.Profiles()
	err = profiles.Put(ctx, &ssoclient.StoredProfile{
		Profile:      ssoclient.Profile{ID: "acme", DisplayName: "Acme Okta", Issuer: "https://acme.okta.com", ClientID: "0oa1", Enabled: true},
		SealedSecret: []byte("sealed by the Client"),
	})
	if err != nil {
		log.Fatal(err)
	}
	p, err := profiles.Get(ctx, "acme")
	fmt.Println(p.DisplayName, string(p.SealedSecret), err)
	fmt.Println(errors.Is(profiles.Delete(ctx, "nope"), ssoclient.ErrProfileNotFound))
	// Output:
	// true Alice <nil>
	// alice
	// true
	// Acme Okta sealed by the Client <nil>
	// true
}
