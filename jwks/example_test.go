package jwks_test

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/ssokit/ssokit/jwks"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// A relying party verifies an ID token with the keys at the provider's
// jwks_uri. Here the provider is ssotest's fake one, on loopback.
func Example() {
	idp, err := ssotest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer idp.Close()

	keys, err := jwks.New(jwks.Config{
		URL:        idp.Discovery()["jwks_uri"].(string),
		HTTPClient: idp.HTTPClient(),
		Algorithms: []string{"RS256", "ES256"},
		Timeout:    5 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}

	rawIDToken := idp.SignJWT(map[string]any{"iss": idp.Issuer(), "sub": "alice", "aud": "my-app"})
	payload, hdr, err := keys.Verify(context.Background(), rawIDToken)
	if err != nil {
		log.Fatal(err)
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		log.Fatal(err)
	}
	// The claims are the caller's to check (iss, aud, exp, nonce...).
	fmt.Println(hdr.Algorithm, hdr.Type, hdr.KeyID == idp.KeyID(), claims.Sub)

	// A token that names a key the provider does not publish.
	forged := "eyJhbGciOiJSUzI1NiIsImtpZCI6Im5vcGUifQ.e30.c2ln"
	_, _, err = keys.Verify(context.Background(), forged)
	fmt.Println(errors.Is(err, jwks.ErrKeyNotFound))
	// Output:
	// RS256 JWT true alice
	// true
}

// A static set verifies with keys given by configuration, and refuses
// what its allow-list does not name.
func ExampleNewStatic() {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)) // a fixed key, for the example only
	enc := base64.RawURLEncoding
	set := fmt.Sprintf(`{"keys":[{"kty":"OKP","crv":"Ed25519","kid":"k1","use":"sig","x":%q}]}`,
		enc.EncodeToString(priv.Public().(ed25519.PublicKey)))

	keys, err := jwks.NewStatic([]byte(set), []string{"EdDSA"})
	if err != nil {
		log.Fatal(err)
	}
	input := enc.EncodeToString([]byte(`{"alg":"EdDSA","kid":"k1"}`)) + "." + enc.EncodeToString([]byte(`{"sub":"bob"}`))
	token := input + "." + enc.EncodeToString(ed25519.Sign(priv, []byte(input)))

	payload, hdr, err := keys.Verify(context.Background(), token)
	fmt.Println(string(payload), hdr.Algorithm, hdr.KeyID, err)

	unsigned := enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString([]byte(`{"sub":"bob"}`)) + "."
	_, _, err = keys.Verify(context.Background(), unsigned)
	fmt.Println(errors.Is(err, jwks.ErrAlgorithm))
	// Output:
	// {"sub":"bob"} EdDSA k1 <nil>
	// true
}
