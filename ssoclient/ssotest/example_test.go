package ssotest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// A provider started without a testing.T, as examples/basic does when no
// issuer is configured. In a test, ssotest.New(t) does the same and closes
// it when the test ends.
func Example() {
	idp, err := ssotest.Start(ssotest.WithLoginUser("alice"))
	if err != nil {
		panic(err)
	}
	defer idp.Close()

	resp, err := idp.HTTPClient().Get(idp.Issuer() + "/.well-known/openid-configuration")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var doc struct {
		Issuer        string `json:"issuer"`
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		panic(err)
	}
	fmt.Println(doc.Issuer == idp.Issuer(), doc.TokenEndpoint == idp.Issuer()+"/token")
	for _, u := range idp.Users() {
		fmt.Println(u.Subject, u.PreferredUsername)
	}
	// Output:
	// true true
	// alice alice
	// bob bob
	// Zp3bK9xQ-carol-pairwise carol@contoso.onmicrosoft.com
	// dave dave
}

// Faults make one thing go wrong at a time; SetFaults(Faults{}) heals the
// provider.
func ExampleProvider_SetFaults() {
	idp, err := ssotest.Start()
	if err != nil {
		panic(err)
	}
	defer idp.Close()

	idp.SetFaults(ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointJWKS: http.StatusServiceUnavailable}})
	resp, err := idp.HTTPClient().Get(idp.Issuer() + "/jwks")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)

	idp.SetFaults(ssotest.Faults{})
	resp, err = idp.HTTPClient().Get(idp.Issuer() + "/jwks")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, idp.Requests(ssotest.EndpointJWKS))
	// Output:
	// 503
	// 200 2
}

// RotateKeys replaces the signing key; with a grace period the old key stays
// in the JWKS so tokens it signed still verify.
func ExampleProvider_RotateKeys() {
	idp, err := ssotest.Start()
	if err != nil {
		panic(err)
	}
	defer idp.Close()

	old := idp.KeyID()
	next := idp.RotateKeys(10 * time.Minute)
	fmt.Println(old != next, idp.KeyID() == next)
	// Output: true true
}

// SignJWT signs any claims with the provider's current key, for tests of a
// verifier.
func ExampleProvider_SignJWT() {
	idp, err := ssotest.Start(ssotest.WithSigningAlg("ES256"))
	if err != nil {
		panic(err)
	}
	defer idp.Close()

	tok := idp.SignJWT(map[string]any{"iss": idp.Issuer(), "sub": "alice", "aud": "my-app"})
	fmt.Println(len(tok) > 0)
	// Output: true
}
