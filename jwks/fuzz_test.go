package jwks

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"
)

// The seed corpus of each target runs in ordinary go test; fuzz with
//
//	go test -run=^$ -fuzz=FuzzVerify -fuzztime=60s ./jwks/

// sentinels are the errors every refusal wraps at least one of.
var sentinels = []error{ErrTokenTooLarge, ErrMalformed, ErrAlgorithm, ErrUnsupportedHeader, ErrKeyNotFound, ErrAmbiguousKey, ErrSignature, ErrFetch, ErrNoKeys}

func wrapsSentinel(err error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// FuzzVerify runs arbitrary tokens through Verify on the static set of
// the Verify tests. It checks that Verify never panics, that a refusal is
// a clean typed error without the token in it, and that an acceptance is
// one the standard library confirms: a signature that verifies, with one
// of the set's keys, under the header's algorithm.
func FuzzVerify(f *testing.F) {
	fx := keys(f)
	ks := testSet(f, allAlgs)
	for _, s := range []tokenSpec{
		spec("RS256", "rsa-a", fx.rsaA), spec("RS384", "rsa-384-only", fx.rsaA), spec("PS256", "rsa-a", fx.rsaA),
		spec("PS512", "dup", fx.rsaB), spec("ES256", "p256-a", fx.p256A), spec("ES384", "p384", fx.p384),
		spec("ES512", "p521", fx.p521), spec("EdDSA", "ed-a", fx.edA), spec("EdDSA", "", fx.edA),
		spec("RS256", "", fx.rsaA), spec("RS256", "nope", fx.rsaA), spec("ES256", "rsa-a", fx.p256A),
		spec("RS256", "rsa-enc", fx.rsaA), spec("HS256", "hmac", nil), spec("none", "rsa-a", nil),
	} {
		f.Add(s.String())
	}
	withHeader := func(h string) string {
		return enc.EncodeToString([]byte(h)) + "." + enc.EncodeToString([]byte(testClaims)) + ".AAAA"
	}
	for _, h := range []string{
		`{"alg":"RS256","kid":"rsa-a","crit":["exp"]}`, `{"alg":"RS256","kid":"rsa\u002da","jwk":{"kty":"RSA"}}`,
		`{"alg":"RS256","alg":"none"}`, `{"alg":"RS256","kid":"\ud800"}`, `{"alg":"ES256","x":[[[[{"a":-1.5e+3}]]]]}`,
		` {"alg" : "EdDSA"} `, `{"alg":"RS256","kid":7}`, `[]`, `{`, `{"alg":"RS256","kid":"rsa-a"}x`,
	} {
		f.Add(withHeader(h))
	}
	f.Add("")
	f.Add("..")
	f.Add(`{"protected":"e30","payload":"e30","signature":"AA"}`)
	f.Add("e30.e30.e30.e30.e30")

	pubs := []crypto.PublicKey{&fx.rsaA.PublicKey, &fx.rsaB.PublicKey, &fx.p256A.PublicKey, &fx.p384.PublicKey, &fx.p521.PublicKey, fx.edA.Public()}
	f.Fuzz(func(t *testing.T, token string) {
		payload, h, err := ks.Verify(context.Background(), token)
		if err != nil {
			if payload != nil || h != (Header{}) {
				t.Fatalf("refusal %v with payload %q and header %+v", err, payload, h)
			}
			msg := err.Error()
			if !wrapsSentinel(err) || !strings.HasPrefix(msg, "jwks: ") {
				t.Fatalf("error %q is not a jwks sentinel", msg)
			}
			if len(msg) > 400 {
				t.Fatalf("error of %d bytes", len(msg))
			}
			for _, p := range strings.Split(token, ".") {
				if len(p) >= 24 && strings.Contains(msg, p) {
					t.Fatalf("error %q contains part of the token", msg)
				}
			}
			return
		}
		// Accepted: the standard library must agree.
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token of %d parts", len(parts))
		}
		var hdr struct{ Alg, Kid, Typ string }
		hb, err1 := enc.Strict().DecodeString(parts[0])
		pb, err2 := enc.Strict().DecodeString(parts[1])
		sig, err3 := enc.Strict().DecodeString(parts[2])
		if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &hdr) != nil {
			t.Fatalf("accepted a token that does not decode: %v %v %v", err1, err2, err3)
		}
		if !bytes.Equal(pb, payload) || hdr.Alg != h.Algorithm || hdr.Kid != h.KeyID || hdr.Typ != h.Type {
			t.Fatalf("accepted with payload %q header %+v; the token has %q %+v", payload, h, pb, hdr)
		}
		input := []byte(parts[0] + "." + parts[1])
		for _, pub := range pubs {
			if refVerify(h.Algorithm, pub, input, sig) {
				return
			}
		}
		t.Fatalf("accepted a %s token no key of the set verifies", h.Algorithm)
	})
}

// refVerify is a plain standard-library JWS signature check.
func refVerify(alg string, pub crypto.PublicKey, input, sig []byte) bool {
	if alg == "EdDSA" {
		k, ok := pub.(ed25519.PublicKey)
		return ok && ed25519.Verify(k, input, sig)
	}
	h := map[byte]crypto.Hash{'2': crypto.SHA256, '3': crypto.SHA384, '5': crypto.SHA512}[alg[len(alg)-3]]
	d := digestOf(h, input)
	switch alg[:2] {
	case "RS":
		k, ok := pub.(*rsa.PublicKey)
		return ok && rsa.VerifyPKCS1v15(k, h, d, sig) == nil
	case "PS":
		k, ok := pub.(*rsa.PublicKey)
		return ok && rsa.VerifyPSS(k, h, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
	case "ES":
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return false
		}
		n := (k.Curve.Params().BitSize + 7) / 8
		return len(sig) == 2*n && ecdsa.Verify(k, d, new(big.Int).SetBytes(sig[:n]), new(big.Int).SetBytes(sig[n:]))
	}
	return false
}

// FuzzParseHeader checks the hand-written JOSE header parser against
// encoding/json: whatever it accepts is a valid JSON object whose "alg",
// "kid" and "typ" encoding/json reads the same, and it never panics.
func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		`{"alg":"RS256","kid":"abc","typ":"JWT"}`, `{"alg":"RS256","kid":"a\u00e9\ud83d\ude00","x":{"y":[1,2.5e-3,true,false,null]}}`,
		`{"alg":"RS256","alg":"RS256"}`, `{"\u0061lg":"none","alg":"RS256"}`, ` { } `, `{"crit":["b64"],"b64":false}`,
		`{"kid":"\ud800"}`, "{\"kid\":\"\xff\"}", `{"a":-0.0e+0}`, `{"a":01}`, `[]`, `{"a":1,}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := parseHeader(b)
		if err != nil {
			return
		}
		if !json.Valid(b) || !utf8.Valid(b) {
			t.Fatalf("parseHeader accepted %q, which is not valid JSON", b)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil || m == nil {
			t.Fatalf("parseHeader accepted %q, which is not a JSON object: %v", b, err)
		}
		str := func(name string) (string, bool) {
			raw, ok := m[name]
			if !ok {
				return "", false
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				t.Fatalf("parseHeader accepted %q whose %s is not a string", b, name)
			}
			return s, true
		}
		alg, hasAlg := str("alg")
		kid, _ := str("kid")
		typ, _ := str("typ")
		_, crit := m["crit"]
		if hasAlg != h.hasAlg || (hasAlg && alg != string(h.algName)) || kid != string(h.kid) || typ != string(h.typ) || crit != h.crit {
			t.Fatalf("parseHeader(%q) = %+v; encoding/json reads alg %q kid %q typ %q crit %v", b, h, alg, kid, typ, crit)
		}
		if h.alg != algNone && h.alg.String() != alg {
			t.Fatalf("alg %q parsed as %v", alg, h.alg)
		}
	})
}

// FuzzParseSet runs arbitrary documents through the JWK Set parser. It
// checks that parsing never panics, that a refused document fails with
// one of the errors of a refused document, and that every key kept is a
// whole public key that fits only allowed algorithms of its type.
func FuzzParseSet(f *testing.F) {
	fx := keys(f)
	rsaA := jwkOf(&fx.rsaA.PublicKey, "rsa", map[string]any{"use": "sig", "x5c": []string{"MIIC"}, "issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"})
	for _, doc := range [][]byte{
		setJSON(rsaA),
		setJSON(jwkOf(&fx.rsaB.PublicKey, "ps", map[string]any{"alg": "PS256"}), jwkOf(&fx.p256A.PublicKey, "ec", nil),
			jwkOf(&fx.p384.PublicKey, "", nil), jwkOf(&fx.p521.PublicKey, "p521", map[string]any{"key_ops": []string{"verify"}}),
			jwkOf(fx.edA.Public(), "ed", nil)),
		setJSON(map[string]any{"kty": "AKP", "alg": "ML-DSA-65", "kid": "pq", "pub": "AAAA"}, rsaA),
		setJSON(map[string]any{"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}, jwkOf(&fx.rsaWeak.PublicKey, "weak", nil)),
		setJSON(jwkOf(&fx.rsaA.PublicKey, "enc", map[string]any{"use": "enc"}), jwkOf(&fx.rsaA.PublicKey, "bad-n", map[string]any{"n": "!!"})),
		setJSON(jwkOf(&fx.p256A.PublicKey, "liar", map[string]any{"crv": "P-384"}), jwkOf(fx.edA.Public(), "x", map[string]any{"crv": "X25519"})),
		[]byte(`{"keys":[1,"x",null,[],{}]}`), []byte(`{"keys":{}}`), []byte(`[]`), []byte(`{"keys":[]}`), []byte(``),
		[]byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"},{"kty":"EC","crv":"P-256","x":"AA","y":"AA"},{"kty":"OKP","crv":"Ed25519","x":"AA"}]}`),
	} {
		f.Add(doc)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		for _, allowed := range []algSet{defaultAlgs, allKnownAlgs} {
			snap, err := parseSet(doc, allowed, defaultMaxKeys)
			if err != nil {
				if !errors.Is(err, ErrNoKeys) && !errors.Is(err, errNotKeySet) && !errors.Is(err, errTooManyKeys) {
					t.Fatalf("parseSet error %v is none of a refused document's", err)
				}
				if len(err.Error()) > 2000 {
					t.Fatalf("error of %d bytes", len(err.Error()))
				}
				continue
			}
			if len(snap.keys) == 0 {
				t.Fatal("parseSet returned a snapshot without keys")
			}
			for _, k := range snap.keys {
				checkKey(t, k, allowed)
			}
			for a := algRS256; a < numAlgs; a++ {
				n := 0
				for _, k := range snap.keys {
					if k.algs.has(a) {
						n++
					}
				}
				if n != snap.fitCount[a] || (n == 1) != (snap.soleFit[a] != nil) {
					t.Fatalf("%v: %d keys fit, snapshot says %d", a, n, snap.fitCount[a])
				}
			}
		}
		_, errStatic := NewStatic(doc, nil)
		_, errParse := parseSet(doc, defaultAlgs, defaultMaxKeys)
		if (errStatic == nil) != (errParse == nil) {
			t.Fatalf("NewStatic error %v, parseSet error %v", errStatic, errParse)
		}
	})
}

func checkKey(t *testing.T, k *key, allowed algSet) {
	t.Helper()
	if k.algs == 0 || k.algs&^allowed != 0 {
		t.Fatalf("key %q fits algorithms %b, allowed %b", k.kid, k.algs, allowed)
	}
	set := 0
	var fit algSet
	if k.rsa != nil {
		set++
		fit = rsaAlgs
		if b := k.rsa.N.BitLen(); b < minRSABits || b > maxRSABits || k.rsa.E < 3 || k.rsa.E%2 == 0 {
			t.Fatalf("key %q: RSA %d bits, e %d", k.kid, b, k.rsa.E)
		}
	}
	if k.ec != nil {
		set++
		fit = curveAlgs[k.ec.Curve.Params().Name]
		if _, err := k.ec.ECDH(); err != nil || 2*k.ecSize != len(mustBytes(t, k.ec))-1 {
			t.Fatalf("key %q: EC point invalid (%v) or size %d wrong", k.kid, err, k.ecSize)
		}
	}
	if k.ed != nil {
		set++
		fit = ed25519Algs
		if len(k.ed) != ed25519.PublicKeySize {
			t.Fatalf("key %q: Ed25519 key of %d bytes", k.kid, len(k.ed))
		}
	}
	if set != 1 || k.algs&^fit != 0 {
		t.Fatalf("key %q: %d key types, algorithms %b beyond %b", k.kid, set, k.algs, fit)
	}
}

func mustBytes(t *testing.T, k *ecdsa.PublicKey) []byte {
	b, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
