package jose

import (
	"crypto"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestSignVerifyRoundTrip(t *testing.T) {
	for _, alg := range []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			key, err := GenerateKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := SignJSON(key, alg, map[string]any{"kid": "k"}, map[string]any{"sub": "alice"})
			if err != nil {
				t.Fatal(err)
			}
			hb, pb, sig, input, err := Parts(tok)
			if err != nil {
				t.Fatal(err)
			}
			var h map[string]any
			if err := json.Unmarshal(hb, &h); err != nil || h["alg"] != alg || h["kid"] != "k" {
				t.Fatalf("header %s (%v)", hb, err)
			}
			if string(pb) != `{"sub":"alice"}` {
				t.Errorf("payload %s", pb)
			}
			if err := VerifyInput(key.Public(), alg, []byte(input), sig); err != nil {
				t.Fatalf("verify: %v", err)
			}
			// One changed byte of the signing input fails.
			bad := []byte(input)
			bad[len(bad)-1] ^= 1
			if err := VerifyInput(key.Public(), alg, bad, sig); !errors.Is(err, ErrSignature) {
				t.Errorf("tampered input verified: %v", err)
			}
			// Another key of the same kind fails.
			other, _ := GenerateKey(alg)
			if err := VerifyInput(other.Public(), alg, []byte(input), sig); !errors.Is(err, ErrSignature) {
				t.Errorf("another key verified: %v", err)
			}
			if _, err := PublicJWK(key.Public(), "k", alg); err != nil {
				t.Errorf("PublicJWK: %v", err)
			}
		})
	}
}

func TestVerifyRefusesMismatches(t *testing.T) {
	rsaKey, _ := GenerateKey("RS256")
	ecKey, _ := GenerateKey("ES256")
	tok, _ := SignJSON(rsaKey, "RS256", nil, map[string]any{})
	_, _, sig, input, _ := Parts(tok)
	for name, tc := range map[string]struct {
		pub crypto.PublicKey
		alg string
	}{
		"EC key for RS256":   {ecKey.Public(), "RS256"},
		"RSA key for ES256":  {rsaKey.Public(), "ES256"},
		"PS256 for PKCS1":    {rsaKey.Public(), "PS256"},
		"EdDSA with RSA key": {rsaKey.Public(), "EdDSA"},
		"HS256":              {rsaKey.Public(), "HS256"},
		"none":               {rsaKey.Public(), "none"},
	} {
		if err := VerifyInput(tc.pub, tc.alg, []byte(input), sig); err == nil {
			t.Errorf("%s: verified", name)
		}
	}
	ecTok, _ := SignJSON(ecKey, "ES256", nil, map[string]any{})
	_, _, ecSig, ecInput, _ := Parts(ecTok)
	if err := VerifyInput(ecKey.Public(), "ES256", []byte(ecInput), append(ecSig, 0)); err == nil {
		t.Errorf("an ES256 signature of the wrong length verified")
	}
}

func TestAlgNoneIsUnsigned(t *testing.T) {
	tok, err := Sign(nil, "none", nil, []byte(`{}`))
	if err != nil || !strings.HasSuffix(tok, ".") {
		t.Fatalf("%q %v", tok, err)
	}
}

func TestParts(t *testing.T) {
	for _, bad := range []string{"", "a", "a.b", "a.b.c.d", "!!.e30.", "e30.!!.", "e30.e30.!!"} {
		if _, _, _, _, err := Parts(bad); err == nil {
			t.Errorf("Parts(%q) accepted", bad)
		}
	}
}

func TestHalfHash(t *testing.T) {
	// OIDC Core §A.3 example: at_hash of this access token under RS256.
	got, ok := HalfHash("RS256", "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y")
	if !ok || got != "77QmUPtjPfzWtF2AnpK9RQ" {
		t.Errorf("HalfHash = %q, %v", got, ok)
	}
	if _, ok := HalfHash("HS999", "x"); ok {
		t.Errorf("unknown alg accepted")
	}
}
