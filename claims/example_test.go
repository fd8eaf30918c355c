package claims_test

import (
	"fmt"

	"github.com/ssokit/ssokit/claims"
)

func ExampleMap() {
	c, err := claims.ParseSet([]byte(`{
		"sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
		"oid": "00000000-0000-0000-66f3-3332eca7ea81",
		"preferred_username": "carol@contoso.com",
		"name": "Carol"
	}`))
	if err != nil {
		panic(err)
	}
	id, err := claims.Map("https://login.microsoftonline.com/9122040d-6c67-4c5b-b112-36a304b66dad/v2.0", c, claims.Mapping{}, claims.TrustEmailClaim)
	if err != nil {
		panic(err)
	}
	fmt.Println(id.Subject)
	fmt.Println(id.Email, id.EmailVerified)
	// Output:
	// 00000000-0000-0000-66f3-3332eca7ea81
	// carol@contoso.com false
}

func ExampleMapping() {
	c, err := claims.ParseSet([]byte(`{"sub":"u1","mail":"dev@example.com","realm_access":{"roles":["admin","dev"]}}`))
	if err != nil {
		panic(err)
	}
	m := claims.Mapping{Email: "mail", Groups: "realm_access.roles"}
	id, err := claims.Map("https://keycloak.example.com/realms/acme", c, m, claims.TrustProvider)
	if err != nil {
		panic(err)
	}
	fmt.Println(id.Email, id.EmailVerified, id.Groups)
	// Output: dev@example.com true [admin dev]
}

func ExampleVerified() {
	c, _ := claims.ParseSet([]byte(`{"email_verified":"false"}`))
	fmt.Println(claims.Verified(c, "email_verified"))
	// Output: false true
}

func ExampleSet() {
	c, err := claims.ParseSet([]byte(`{"sub":"u1","hd":"example.com","realm_access":{"roles":["admin"]},"amr":["pwd","mfa"]}`))
	if err != nil {
		panic(err)
	}
	hd, _ := c.Lookup("hd")
	roles, _ := c.Lookup("realm_access.roles")
	var extra struct {
		AMR []string `json:"amr"`
	}
	if err := c.Decode(&extra); err != nil {
		panic(err)
	}
	fmt.Println(hd, roles, extra.AMR)
	// Output: example.com [admin] [pwd mfa]
}

func ExampleSet_Without() {
	c, err := claims.ParseSet([]byte(`{"sub":"u1","nonce":"n-0S6_WzA2Mj","email":"dev@example.com"}`))
	if err != nil {
		panic(err)
	}
	shown := c.Without("nonce")
	_, hasNonce := shown.Lookup("nonce")
	fmt.Println(shown.JSON(), hasNonce)
	fmt.Printf("%v\n", shown)
	// Output:
	// {"sub":"u1","email":"dev@example.com"} false
	// {"sub":"u1","email":"dev@example.com"}
}
