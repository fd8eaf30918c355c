package benchcompare

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/benchkit"
)

// TestEveryLibraryAcceptsTheToken: every row of BenchmarkVerify accepts
// the benchmark token, so each measures a successful verification.
func TestEveryLibraryAcceptsTheToken(t *testing.T) {
	p := benchkit.NewProvider(t)
	libs := libraries(t, p)
	for _, alg := range benchkit.Algs {
		tok := benchkit.Token(alg, p.Issuer(), time.Now())
		for _, lib := range libs {
			if err := lib.verifier(alg)(tok, benchkit.Nonce); err != nil {
				t.Errorf("%s %s: %v", alg, lib.name, err)
			}
		}
	}
}

// flipSignatureBit flips one bit in the middle of tok's signature.
func flipSignatureBit(tok string) string {
	j := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[j+1:])
	if err != nil {
		panic(err)
	}
	sig[len(sig)/2] ^= 0x01
	return tok[:j+1] + base64.RawURLEncoding.EncodeToString(sig)
}

// swapPayload puts other's payload under tok's header and signature.
func swapPayload(tok, other string) string {
	a, b := strings.Split(tok, "."), strings.Split(other, ".")
	return a[0] + "." + b[1] + "." + a[2]
}

// TestEveryLibraryRejectsATamperedToken: every row refuses a tampered
// signature or payload, and a validly signed token from another issuer,
// for another audience, expired, or of another login (nonce), so none of
// them is measured skipping a check the floor makes.
func TestEveryLibraryRejectsATamperedToken(t *testing.T) {
	p := benchkit.NewProvider(t)
	libs := libraries(t, p)
	now := time.Now()
	with := func(alg string, change func(map[string]any)) string {
		cl := benchkit.TokenClaims(p.Issuer(), now)
		change(cl)
		return benchkit.Sign(alg, cl)
	}
	for _, alg := range benchkit.Algs {
		good := benchkit.Token(alg, p.Issuer(), now)
		cases := []struct{ name, tok, nonce string }{
			{"tampered signature", flipSignatureBit(good), benchkit.Nonce},
			{"tampered payload", swapPayload(good, with(alg, func(c map[string]any) { c["email"] = "mallory@example.com" })), benchkit.Nonce},
			{"wrong iss", with(alg, func(c map[string]any) { c["iss"] = "https://evil.example.test" }), benchkit.Nonce},
			{"wrong aud", with(alg, func(c map[string]any) { c["aud"] = "another-client" }), benchkit.Nonce},
			{"expired", with(alg, func(c map[string]any) {
				c["iat"], c["auth_time"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix()
				c["exp"] = now.Add(-time.Hour).Unix()
			}), benchkit.Nonce},
			{"wrong nonce", good, "nonce-of-another-login"},
		}
		for _, lib := range libs {
			verify := lib.verifier(alg)
			for _, c := range cases {
				if err := verify(c.tok, c.nonce); err == nil {
					t.Errorf("%s %s: accepted a bad token (%s)", alg, lib.name, c.name)
				}
			}
		}
	}
}

// TestCallbacks: the go-oidc + x/oauth2 callback and the floor's sign in
// with the provider's token, over one reused connection, and refuse a
// token response whose ID token is of another login or another issuer.
func TestCallbacks(t *testing.T) {
	p := benchkit.NewProvider(t)
	p.SetToken(benchkit.Token("RS256", p.Issuer(), time.Now()))
	floor := benchkit.NewFloorCallback(p, benchkit.HTTPClient())
	goOIDC := newGoOIDCCallback(t, p)

	for i := range 3 {
		var fc, gc benchkit.IdentityClaims
		if err := floor.Login(&fc); err != nil {
			t.Fatalf("floor login %d: %v", i, err)
		}
		if err := goOIDC.login(&gc, benchkit.Nonce); err != nil {
			t.Fatalf("go-oidc login %d: %v", i, err)
		}
		if gc.Email != "abe.lincoln@example.com" || len(gc.Groups) != 10 || gc.Iss != p.Issuer() {
			t.Errorf("go-oidc identity claims %+v", gc)
		}
		if fc.Email != gc.Email || fc.Sub != gc.Sub || len(fc.Groups) != len(gc.Groups) {
			t.Errorf("floor %+v and go-oidc %+v decode different identities", fc, gc)
		}
	}
	// One connection each for the floor's client and go-oidc's (which
	// also carried discovery and the JWKS).
	if n := p.Conns(); n != 2 {
		t.Errorf("%d TCP connections for 6 sequential logins of two clients, want 2", n)
	}

	var cl benchkit.IdentityClaims
	if err := goOIDC.login(&cl, "nonce-of-another-login"); err == nil {
		t.Error("go-oidc callback accepted the ID token of another login")
	}
	p.SetToken(benchkit.Token("RS256", "https://evil.example.test", time.Now()))
	if err := goOIDC.login(&cl, benchkit.Nonce); err == nil {
		t.Error("go-oidc callback accepted an ID token from another issuer")
	}
	if err := floor.Login(&cl); err == nil {
		t.Error("floor callback accepted an ID token from another issuer")
	}
}
