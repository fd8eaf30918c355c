package jwks

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// keyInfo is what a test compares of a parsed key.
type keyInfo struct {
	KID  string
	Type string
	Algs []string
}

func infoOf(s *snapshot) []keyInfo {
	var out []keyInfo
	for _, k := range s.keys {
		ki := keyInfo{KID: k.kid}
		switch {
		case k.rsa != nil:
			ki.Type = fmt.Sprintf("RSA-%d", k.rsa.N.BitLen())
		case k.ec != nil:
			ki.Type = k.ec.Curve.Params().Name
		case k.ed != nil:
			ki.Type = "Ed25519"
		}
		for a := algRS256; a < numAlgs; a++ {
			if k.algs.has(a) {
				ki.Algs = append(ki.Algs, a.String())
			}
		}
		out = append(out, ki)
	}
	return out
}

func TestParseSet(t *testing.T) {
	f := keys(t)
	rsaA := func(kid string, extra map[string]any) map[string]any { return jwkOf(&f.rsaA.PublicKey, kid, extra) }
	good := rsaA("good", nil)
	goodInfo := keyInfo{KID: "good", Type: "RSA-2048", Algs: []string{"RS256", "PS256"}}
	offCurve := jwkOf(&f.p256A.PublicKey, "off-curve", nil)
	{
		b, _ := f.p256A.PublicKey.Bytes()
		y := new(big.Int).SetBytes(b[33:])
		y.Add(y, big.NewInt(1))
		offCurve["y"] = enc.EncodeToString(y.FillBytes(make([]byte, 32)))
	}
	private := rsaA("private", map[string]any{
		"d":  enc.EncodeToString(f.rsaA.D.Bytes()),
		"p":  enc.EncodeToString(f.rsaA.Primes[0].Bytes()),
		"q":  enc.EncodeToString(f.rsaA.Primes[1].Bytes()),
		"dp": enc.EncodeToString(f.rsaA.Precomputed.Dp.Bytes()),
		"dq": enc.EncodeToString(f.rsaA.Precomputed.Dq.Bytes()),
		"qi": enc.EncodeToString(f.rsaA.Precomputed.Qinv.Bytes()),
	})
	tooMany := make([]map[string]any, 101)
	for i := range tooMany {
		tooMany[i] = rsaA(fmt.Sprint(i), nil)
	}

	cases := []struct {
		name    string
		doc     []byte
		algs    []string // nil: the default
		want    []keyInfo
		wantErr error
	}{
		{name: "one RSA key without alg fits every allowed RSA algorithm", doc: setJSON(good), want: []keyInfo{goodInfo}},
		{name: "Entra-style key with x5c and issuer", doc: setJSON(rsaA("entra", map[string]any{
			"use": "sig", "x5t": "abc", "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0",
			"x5c": []string{"MIIC/TCCAeWgAwIBAgIIaBl2"},
		})), want: []keyInfo{{KID: "entra", Type: "RSA-2048", Algs: []string{"RS256", "PS256"}}}},
		{name: "every key type", algs: allAlgs, doc: setJSON(
			rsaA("rsa", map[string]any{"alg": "PS384"}),
			jwkOf(&f.p256A.PublicKey, "p256", nil),
			jwkOf(&f.p384.PublicKey, "p384", nil),
			jwkOf(&f.p521.PublicKey, "p521", nil),
			jwkOf(f.edA.Public(), "ed", nil),
		), want: []keyInfo{
			{KID: "rsa", Type: "RSA-2048", Algs: []string{"PS384"}},
			{KID: "p256", Type: "P-256", Algs: []string{"ES256"}},
			{KID: "p384", Type: "P-384", Algs: []string{"ES384"}},
			{KID: "p521", Type: "P-521", Algs: []string{"ES512"}},
			{KID: "ed", Type: "Ed25519", Algs: []string{"EdDSA"}},
		}},
		{name: "members of the set other than keys are ignored", doc: []byte(`{"x":1,"keys":` + string(setJSON(good))[8:]), want: []keyInfo{goodInfo}},
		{name: "private members are dropped", doc: setJSON(private), want: []keyInfo{{KID: "private", Type: "RSA-2048", Algs: []string{"RS256", "PS256"}}}},
		{name: "key_ops with verify", doc: setJSON(rsaA("ops", map[string]any{"key_ops": []string{"sign", "verify"}})), want: []keyInfo{{KID: "ops", Type: "RSA-2048", Algs: []string{"RS256", "PS256"}}}},

		// Entries skipped, the rest used.
		{name: "post-quantum AKP skipped", doc: setJSON(map[string]any{"kty": "AKP", "alg": "ML-DSA-65", "kid": "pq", "pub": "AAAA"}, good), want: []keyInfo{goodInfo}},
		{name: "unknown kty skipped", doc: setJSON(map[string]any{"kty": "XYZ", "kid": "x"}, good), want: []keyInfo{goodInfo}},
		{name: "lower-case kty skipped", doc: setJSON(rsaA("lower", map[string]any{"kty": "rsa"}), good), want: []keyInfo{goodInfo}},
		{name: "missing kty skipped", doc: setJSON(rsaA("none", map[string]any{"kty": nil}), good), want: []keyInfo{goodInfo}},
		{name: "symmetric key skipped", doc: setJSON(map[string]any{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0", "alg": "HS256"}, good), want: []keyInfo{goodInfo}},
		{name: "RSA-1024 skipped", doc: setJSON(jwkOf(&f.rsaWeak.PublicKey, "weak", nil), good), want: []keyInfo{goodInfo}},
		{name: "broken modulus skipped", doc: setJSON(rsaA("broken", map[string]any{"n": "!!!"}), good), want: []keyInfo{goodInfo}},
		{name: "missing exponent skipped", doc: setJSON(rsaA("no-e", map[string]any{"e": nil}), good), want: []keyInfo{goodInfo}},
		{name: "even exponent skipped", doc: setJSON(rsaA("even-e", map[string]any{"e": "AQAA"}), good), want: []keyInfo{goodInfo}},
		{name: "EC point off the curve skipped", algs: allAlgs, doc: setJSON(offCurve, good), want: []keyInfo{{KID: "good", Type: "RSA-2048", Algs: []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}}}},
		{name: "EC key under another curve's name skipped", algs: allAlgs, doc: setJSON(jwkOf(&f.p384.PublicKey, "liar", map[string]any{"crv": "P-256"}), jwkOf(&f.p256A.PublicKey, "p256", nil)), want: []keyInfo{{KID: "p256", Type: "P-256", Algs: []string{"ES256"}}}},
		{name: "secp256k1 skipped", algs: allAlgs, doc: setJSON(jwkOf(&f.p256A.PublicKey, "k1", map[string]any{"crv": "secp256k1"}), jwkOf(f.edA.Public(), "ed", nil)), want: []keyInfo{{KID: "ed", Type: "Ed25519", Algs: []string{"EdDSA"}}}},
		{name: "X25519 skipped", algs: allAlgs, doc: setJSON(jwkOf(f.edA.Public(), "x", map[string]any{"crv": "X25519"}), jwkOf(f.edA.Public(), "ed", nil)), want: []keyInfo{{KID: "ed", Type: "Ed25519", Algs: []string{"EdDSA"}}}},
		{name: "encryption key skipped", doc: setJSON(rsaA("enc", map[string]any{"use": "enc"}), good), want: []keyInfo{goodInfo}},
		{name: "key_ops without verify skipped", doc: setJSON(rsaA("enc", map[string]any{"key_ops": []string{"encrypt"}}), good), want: []keyInfo{goodInfo}},
		{name: "key_ops not an array skipped", doc: setJSON(rsaA("enc", map[string]any{"key_ops": "verify"}), good), want: []keyInfo{goodInfo}},
		{name: "encryption alg skipped", doc: setJSON(rsaA("oaep", map[string]any{"alg": "RSA-OAEP"}), good), want: []keyInfo{goodInfo}},
		{name: "alg of another key type skipped", doc: setJSON(rsaA("es", map[string]any{"alg": "ES256"}), good), want: []keyInfo{goodInfo}},
		{name: "alg outside the allow-list skipped", doc: setJSON(rsaA("rs512", map[string]any{"alg": "RS512"}), good), want: []keyInfo{goodInfo}},
		{name: "kid not a string skipped", doc: setJSON(rsaA("", map[string]any{"kid": 5}), good), want: []keyInfo{goodInfo}},
		{name: "use not a string skipped", doc: setJSON(rsaA("u", map[string]any{"use": true}), good), want: []keyInfo{goodInfo}},
		{name: "entry not an object skipped", doc: []byte(`{"keys":[1,"x",null,[],` + string(mustJSON(good)) + `]}`), want: []keyInfo{goodInfo}},

		// Documents refused whole.
		{name: "not JSON", doc: []byte(`<html>`), wantErr: errNotKeySet},
		{name: "an array", doc: []byte(`[` + string(mustJSON(good)) + `]`), wantErr: errNotKeySet},
		{name: "null", doc: []byte(`null`), wantErr: errNotKeySet},
		{name: "a single JWK", doc: mustJSON(good), wantErr: errNotKeySet},
		{name: "no keys member", doc: []byte(`{}`), wantErr: errNotKeySet},
		{name: "KEYS is not keys", doc: []byte(`{"KEYS":[` + string(mustJSON(good)) + `]}`), wantErr: errNotKeySet},
		{name: "keys null", doc: []byte(`{"keys":null}`), wantErr: errNotKeySet},
		{name: "keys an object", doc: []byte(`{"keys":{}}`), wantErr: errNotKeySet},
		{name: "trailing data", doc: append(setJSON(good), "{}"...), wantErr: errNotKeySet},
		{name: "empty set", doc: setJSON(), wantErr: ErrNoKeys},
		{name: "no usable key", doc: setJSON(jwkOf(&f.rsaWeak.PublicKey, "weak", nil), map[string]any{"kty": "oct", "k": "AA"}), wantErr: ErrNoKeys},
		{name: "no key for the allowed algorithms", algs: []string{"ES256"}, doc: setJSON(good), wantErr: ErrNoKeys},
		{name: "more keys than MaxKeys", doc: setJSON(tooMany...), wantErr: errTooManyKeys},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			allowed, err := parseAllowList(c.algs)
			if err != nil {
				t.Fatal(err)
			}
			snap, err := parseSet(c.doc, allowed, defaultMaxKeys)
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Fatalf("parseSet error = %v, want %v", err, c.wantErr)
				}
				// NewStatic refuses the same document.
				if _, err := NewStatic(c.doc, c.algs); err == nil || !strings.HasPrefix(err.Error(), "jwks: ") {
					t.Errorf("NewStatic error = %v, want one prefixed jwks:", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseSet: %v", err)
			}
			if diff := cmp.Diff(c.want, infoOf(snap)); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
		})
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// TestParseSetKeepsOnlyPublicMaterial checks that a key published with
// its private half verifies as its public key and holds nothing more.
func TestParseSetKeepsOnlyPublicMaterial(t *testing.T) {
	f := keys(t)
	m := jwkOf(&f.p256A.PublicKey, "p", map[string]any{"d": enc.EncodeToString(f.p256A.D.Bytes())})
	snap, err := parseSet(setJSON(m), defaultAlgs, defaultMaxKeys)
	if err != nil {
		t.Fatal(err)
	}
	k := snap.keys[0]
	if k.ec == nil || !k.ec.Equal(&f.p256A.PublicKey) {
		t.Fatalf("key %+v is not the public key", k)
	}
	var _ *ecdsa.PublicKey = k.ec // the type holds no private scalar
	if k.ec.Curve != elliptic.P256() {
		t.Errorf("curve %v", k.ec.Curve.Params().Name)
	}
}

func TestNewConfig(t *testing.T) {
	cases := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"https", Config{URL: "https://idp.example/keys"}, true},
		{"http to loopback", Config{URL: "http://127.0.0.1:8080/keys"}, true},
		{"every algorithm", Config{URL: "https://idp.example/keys", Algorithms: allAlgs}, true},
		{"http to a remote host", Config{URL: "http://idp.example/keys"}, false},
		{"no URL", Config{}, false},
		{"relative URL", Config{URL: "/keys"}, false},
		{"none", Config{URL: "https://idp.example/keys", Algorithms: []string{"RS256", "none"}}, false},
		{"HS256", Config{URL: "https://idp.example/keys", Algorithms: []string{"HS256"}}, false},
		{"hs512", Config{URL: "https://idp.example/keys", Algorithms: []string{"hs512"}}, false},
		{"unknown algorithm", Config{URL: "https://idp.example/keys", Algorithms: []string{"rs256"}}, false},
		{"negative timeout", Config{URL: "https://idp.example/keys", Timeout: -1}, false},
		{"negative MaxKeys", Config{URL: "https://idp.example/keys", MaxKeys: -1}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ks, err := New(c.cfg)
			if c.ok != (err == nil) {
				t.Fatalf("New error = %v, want ok=%v", err, c.ok)
			}
			if err != nil && !strings.HasPrefix(err.Error(), "jwks: ") {
				t.Errorf("error %q lacks the jwks: prefix", err)
			}
			if err == nil && ks.snap.Load() != nil {
				t.Errorf("New fetched")
			}
		})
	}
	if _, err := NewStatic(setJSON(jwkOf(&keys(t).rsaA.PublicKey, "k", nil)), []string{"none"}); err == nil {
		t.Errorf("NewStatic accepted alg none")
	}
}

// TestParseSetErrorsCarryNoKeyMaterial: the reasons a refused set gives
// name its entries, never their key material, public or private.
func TestParseSetErrorsCarryNoKeyMaterial(t *testing.T) {
	f := keys(t)
	n := enc.EncodeToString(f.rsaWeak.N.Bytes())
	d := enc.EncodeToString(f.rsaA.D.Bytes())
	b, _ := f.p256A.PublicKey.Bytes()
	x := enc.EncodeToString(b[1:33])
	doc := setJSON(
		jwkOf(&f.rsaWeak.PublicKey, "weak", map[string]any{"d": d}),
		jwkOf(&f.rsaA.PublicKey, "bad-n", map[string]any{"n": n + "!", "d": d}),
		jwkOf(&f.p256A.PublicKey, "bad-y", map[string]any{"y": x + "!", "d": d}),
		jwkOf(&f.p256A.PublicKey, "off-curve", map[string]any{"y": x}),
		map[string]any{"kty": "oct", "k": d},
		map[string]any{"kty": "AKP", "pub": n},
	)
	_, err := parseSet(doc, allKnownAlgs, defaultMaxKeys)
	if !errors.Is(err, ErrNoKeys) {
		t.Fatalf("parseSet error = %v, want ErrNoKeys", err)
	}
	if _, err2 := NewStatic(doc, allAlgs); !errors.Is(err2, ErrNoKeys) {
		t.Fatalf("NewStatic error = %v, want ErrNoKeys", err2)
	}
	for _, secret := range []string{n[:16], d[:16], x[:16], n[len(n)-16:], x[len(x)-16:]} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q carries key material", err)
		}
	}
	for _, kid := range []string{"weak", "bad-n", "bad-y"} {
		if !strings.Contains(err.Error(), kid) {
			t.Errorf("error %q does not name key %q", err, kid)
		}
	}
}
