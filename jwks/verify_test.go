package jwks

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var allAlgs = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// testSet is the static set most Verify cases run against.
func testSet(t testing.TB, algs []string) *KeySet {
	t.Helper()
	f := keys(t)
	doc := setJSON(
		jwkOf(&f.rsaA.PublicKey, "rsa-a", map[string]any{"use": "sig"}),
		jwkOf(&f.p256A.PublicKey, "p256-a", nil),
		jwkOf(&f.p384.PublicKey, "p384", map[string]any{"alg": "ES384"}),
		jwkOf(&f.p521.PublicKey, "p521", map[string]any{"key_ops": []string{"verify"}}),
		jwkOf(f.edA.Public(), "ed-a", nil),
		// Two keys share a kid: both are tried.
		jwkOf(&f.rsaB.PublicKey, "dup", nil),
		jwkOf(&f.rsaA.PublicKey, "dup", nil),
		// Keys that exist but may not verify what is asked of them.
		jwkOf(&f.rsaA.PublicKey, "rsa-384-only", map[string]any{"alg": "RS384"}),
		jwkOf(&f.rsaA.PublicKey, "rsa-enc", map[string]any{"use": "enc"}),
		jwkOf(&f.rsaA.PublicKey, "rsa-sign-op", map[string]any{"key_ops": []string{"sign"}}),
		jwkOf(&f.rsaB.PublicKey, "rsa-rs256-only", map[string]any{"alg": "RS256", "use": "sig"}),
		// Entries the set skips.
		jwkOf(&f.rsaWeak.PublicKey, "weak", nil),
		map[string]any{"kty": "oct", "kid": "hmac", "k": enc.EncodeToString([]byte("a shared secret of some length")), "alg": "HS256"},
		map[string]any{"kty": "AKP", "kid": "pq", "alg": "ML-DSA-44", "pub": "AAAA"},
	)
	ks, err := NewStatic(doc, algs)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

type verifyCase struct {
	name    string
	tok     func(f *fixtures) tokenSpec
	algs    []string // the allow-list; nil: every algorithm
	want    error    // nil: verifies
	wantHdr Header   // checked when want is nil
}

func (c verifyCase) run(t *testing.T) {
	t.Helper()
	f := keys(t)
	algs := c.algs
	if algs == nil {
		algs = allAlgs
	}
	ks := testSet(t, algs)
	s := c.tok(f)
	payload, hdr, err := ks.Verify(context.Background(), s.String())
	if c.want != nil {
		if !errors.Is(err, c.want) {
			t.Fatalf("Verify error = %v, want %v", err, c.want)
		}
		if payload != nil || hdr != (Header{}) {
			t.Errorf("Verify returned payload %q and header %+v with an error", payload, hdr)
		}
		if testing.Verbose() {
			t.Logf("%v", err)
		}
		if !strings.HasPrefix(err.Error(), "jwks: ") {
			t.Errorf("error %q lacks the jwks: prefix", err)
		}
		// Errors never carry the token, any part of it, or key material.
		tok := s.String()
		parts := append(strings.Split(tok, "."), tok)
		for _, p := range parts {
			if len(p) >= 16 && strings.Contains(err.Error(), p[:16]) {
				t.Errorf("error %q contains part of the token", err)
			}
		}
		for _, n := range []string{enc.EncodeToString(f.rsaA.N.Bytes()), enc.EncodeToString(f.rsaB.N.Bytes())} {
			if strings.Contains(err.Error(), n[:16]) {
				t.Errorf("error %q contains key material", err)
			}
		}
		if len(err.Error()) > 400 {
			t.Errorf("error is %d bytes long", len(err.Error()))
		}
		return
	}
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if diff := cmp.Diff(s.payload, string(payload)); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(c.wantHdr, hdr); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
}

// valid is the token the refusal cases change one thing of.
func valid(f *fixtures) tokenSpec { return spec("RS256", "rsa-a", f.rsaA) }

// with returns valid changed by mod.
func with(mod func(f *fixtures, s *tokenSpec)) func(f *fixtures) tokenSpec {
	return func(f *fixtures) tokenSpec {
		s := valid(f)
		s.header = map[string]any{"alg": "RS256", "kid": "rsa-a", "typ": "JWT"}
		s.signAlg = "RS256" // whatever the header comes to say
		mod(f, &s)
		return s
	}
}

func TestVerifyAccepts(t *testing.T) {
	hdr := func(alg, kid string) Header { return Header{Algorithm: alg, KeyID: kid, Type: "JWT"} }
	cases := []verifyCase{
		{name: "RS256", tok: valid, wantHdr: hdr("RS256", "rsa-a")},
		{name: "RS384", tok: func(f *fixtures) tokenSpec { return spec("RS384", "rsa-a", f.rsaA) }, wantHdr: hdr("RS384", "rsa-a")},
		{name: "RS512", tok: func(f *fixtures) tokenSpec { return spec("RS512", "rsa-a", f.rsaA) }, wantHdr: hdr("RS512", "rsa-a")},
		{name: "PS256", tok: func(f *fixtures) tokenSpec { return spec("PS256", "rsa-a", f.rsaA) }, wantHdr: hdr("PS256", "rsa-a")},
		{name: "PS384", tok: func(f *fixtures) tokenSpec { return spec("PS384", "rsa-a", f.rsaA) }, wantHdr: hdr("PS384", "rsa-a")},
		{name: "PS512", tok: func(f *fixtures) tokenSpec { return spec("PS512", "rsa-a", f.rsaA) }, wantHdr: hdr("PS512", "rsa-a")},
		{name: "ES256", tok: func(f *fixtures) tokenSpec { return spec("ES256", "p256-a", f.p256A) }, wantHdr: hdr("ES256", "p256-a")},
		{name: "ES384", tok: func(f *fixtures) tokenSpec { return spec("ES384", "p384", f.p384) }, wantHdr: hdr("ES384", "p384")},
		{name: "ES512", tok: func(f *fixtures) tokenSpec { return spec("ES512", "p521", f.p521) }, wantHdr: hdr("ES512", "p521")},
		{name: "EdDSA", tok: func(f *fixtures) tokenSpec { return spec("EdDSA", "ed-a", f.edA) }, wantHdr: hdr("EdDSA", "ed-a")},
		{name: "the second of two keys with the same kid", tok: func(f *fixtures) tokenSpec { return spec("RS256", "dup", f.rsaA) }, wantHdr: hdr("RS256", "dup")},
		{name: "the first of two keys with the same kid", tok: func(f *fixtures) tokenSpec { return spec("RS256", "dup", f.rsaB) }, wantHdr: hdr("RS256", "dup")},
		{name: "a key's own alg", tok: func(f *fixtures) tokenSpec { return spec("RS384", "rsa-384-only", f.rsaA) }, wantHdr: hdr("RS384", "rsa-384-only")},
		{name: "a key with alg RS256 and use sig", tok: func(f *fixtures) tokenSpec { return spec("RS256", "rsa-rs256-only", f.rsaB) }, wantHdr: hdr("RS256", "rsa-rs256-only")},
		{name: "an Entra-style key without alg, PS256", tok: func(f *fixtures) tokenSpec { return spec("PS256", "rsa-a", f.rsaA) }, wantHdr: hdr("PS256", "rsa-a")},
		{name: "no kid, one key fits", tok: func(f *fixtures) tokenSpec { return spec("EdDSA", "", f.edA) }, wantHdr: Header{Algorithm: "EdDSA", Type: "JWT"}},
		{name: "no typ", tok: with(func(f *fixtures, s *tokenSpec) { delete(s.header, "typ") }), wantHdr: Header{Algorithm: "RS256", KeyID: "rsa-a"}},
		{name: "other typ returned as is", tok: with(func(f *fixtures, s *tokenSpec) { s.header["typ"] = "logout+jwt" }), wantHdr: Header{Algorithm: "RS256", KeyID: "rsa-a", Type: "logout+jwt"}},
		{name: "unknown header members ignored", tok: with(func(f *fixtures, s *tokenSpec) {
			s.header["x-extra"] = map[string]any{"nested": []any{1.5e3, true, nil, "s"}}
		}), wantHdr: hdr("RS256", "rsa-a")},
		{name: "escaped kid", tok: with(func(f *fixtures, s *tokenSpec) {
			s.rawHdr = `{"alg":"RS256","kid":"rsa\u002Da","typ":"JWT"}`
		}), wantHdr: hdr("RS256", "rsa-a")},
		{name: "whitespace in the header JSON", tok: with(func(f *fixtures, s *tokenSpec) {
			s.rawHdr = " {\n\t\"alg\" : \"RS256\" ,\r\n \"kid\":\"rsa-a\", \"typ\":\"JWT\" } \n"
		}), wantHdr: hdr("RS256", "rsa-a")},
		{name: "empty payload", tok: with(func(f *fixtures, s *tokenSpec) { s.payload = "" }), wantHdr: hdr("RS256", "rsa-a")},
		{name: "large token under the limit", tok: with(func(f *fixtures, s *tokenSpec) {
			s.payload = `{"pad":"` + strings.Repeat("x", 40<<10) + `"}`
		}), wantHdr: hdr("RS256", "rsa-a")},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func TestVerifyRefuses(t *testing.T) {
	cases := []verifyCase{
		// Rule 1: compact serialization only, strict base64url, size cap.
		{name: "token too large", tok: with(func(f *fixtures, s *tokenSpec) {
			s.payload = `{"pad":"` + strings.Repeat("x", 64<<10) + `"}`
		}), want: ErrTokenTooLarge},
		{name: "too large and not a token at all", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(string) string { return strings.Repeat("{", 64<<10+1) }
		}), want: ErrTokenTooLarge},
		{name: "JSON serialization", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string {
				p := strings.Split(tok, ".")
				return `{"protected":"` + p[0] + `","payload":"` + p[1] + `","signature":"` + p[2] + `"}`
			}
		}), want: ErrMalformed},
		{name: "two parts", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string { return tok[:strings.LastIndexByte(tok, '.')] }
		}), want: ErrMalformed},
		{name: "four parts", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string { return tok + ".AAAA" }
		}), want: ErrMalformed},
		{name: "five parts (JWE)", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string { return tok + ".AAAA.AAAA" }
		}), want: ErrMalformed},
		{name: "empty header", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string { return tok[strings.IndexByte(tok, '.'):] }
		}), want: ErrMalformed},
		{name: "empty signature", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string { return tok[:strings.LastIndexByte(tok, '.')+1] }
		}), want: ErrMalformed},
		{name: "padding", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string { return tok + "==" }
		}), want: ErrMalformed},
		{name: "line break in the signature", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string { return tok[:len(tok)-4] + "\n" + tok[len(tok)-4:] }
		}), want: ErrMalformed},
		{name: "carriage return in the payload", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string { i := strings.IndexByte(tok, '.') + 4; return tok[:i] + "\r" + tok[i:] }
		}), want: ErrMalformed},
		{name: "space in the header", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string { return tok[:4] + " " + tok[4:] }
		}), want: ErrMalformed},
		{name: "standard base64 alphabet", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string { i := strings.LastIndexByte(tok, '.') + 1; return tok[:i] + "+" + tok[i+1:] }
		}), want: ErrMalformed},
		{name: "non-zero trailing bits", tok: with(func(f *fixtures, s *tokenSpec) {
			// A 256-byte signature is 342 characters; the last carries 4
			// unused bits, which strict decoding requires to be zero.
			s.compact = func(tok string) string {
				const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
				last := strings.IndexByte(alphabet, tok[len(tok)-1])
				return tok[:len(tok)-1] + string(alphabet[last|0x0f])
			}
		}), want: ErrMalformed},

		// Rule 2: the header.
		{name: "header is an array", tok: with(func(f *fixtures, s *tokenSpec) { s.rawHdr = `["RS256"]` }), want: ErrMalformed},
		{name: "header is a string", tok: with(func(f *fixtures, s *tokenSpec) { s.rawHdr = `"RS256"` }), want: ErrMalformed},
		{name: "header is not JSON", tok: with(func(f *fixtures, s *tokenSpec) { s.rawHdr = `{alg:RS256}` }), want: ErrMalformed},
		{name: "header with trailing data", tok: with(func(f *fixtures, s *tokenSpec) { s.rawHdr = `{"alg":"RS256","kid":"rsa-a"}{}` }), want: ErrMalformed},
		{name: "header with invalid UTF-8", tok: with(func(f *fixtures, s *tokenSpec) { s.rawHdr = "{\"alg\":\"RS256\",\"kid\":\"rsa-a\",\"x\":\"\xff\"}" }), want: ErrMalformed},
		{name: "header with a lone surrogate", tok: with(func(f *fixtures, s *tokenSpec) { s.rawHdr = `{"alg":"RS256","kid":"rsa-a\ud800"}` }), want: ErrMalformed},
		{name: "duplicate alg", tok: with(func(f *fixtures, s *tokenSpec) { s.rawHdr = `{"alg":"RS256","kid":"rsa-a","alg":"RS256"}` }), want: ErrMalformed},
		{name: "duplicate alg, escaped", tok: with(func(f *fixtures, s *tokenSpec) { s.rawHdr = `{"alg":"RS256","kid":"rsa-a","\u0061lg":"none"}` }), want: ErrMalformed},
		{name: "duplicate kid", tok: with(func(f *fixtures, s *tokenSpec) { s.rawHdr = `{"alg":"RS256","kid":"rsa-a","kid":"p256-a"}` }), want: ErrMalformed},
		{name: "alg is a number", tok: with(func(f *fixtures, s *tokenSpec) { s.header["alg"] = 256 }), want: ErrMalformed},
		{name: "alg is null", tok: with(func(f *fixtures, s *tokenSpec) { s.header["alg"] = nil; s.rawHdr = `{"alg":null,"kid":"rsa-a"}` }), want: ErrMalformed},
		{name: "kid is a number", tok: with(func(f *fixtures, s *tokenSpec) { s.header["kid"] = 7 }), want: ErrMalformed},
		{name: "kid is an array", tok: with(func(f *fixtures, s *tokenSpec) { s.header["kid"] = []string{"rsa-a"} }), want: ErrMalformed},
		{name: "typ is an object", tok: with(func(f *fixtures, s *tokenSpec) { s.header["typ"] = map[string]any{} }), want: ErrMalformed},
		{name: "header nests too deep", tok: with(func(f *fixtures, s *tokenSpec) {
			s.rawHdr = `{"alg":"RS256","kid":"rsa-a","x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
		}), want: ErrMalformed},
		{name: "no alg", tok: with(func(f *fixtures, s *tokenSpec) { delete(s.header, "alg"); s.signAlg = "RS256" }), want: ErrAlgorithm},
		{name: "ALG is not alg", tok: with(func(f *fixtures, s *tokenSpec) { s.rawHdr = `{"ALG":"RS256","kid":"rsa-a"}`; s.signAlg = "RS256" }), want: ErrAlgorithm},
		{name: "alg none", tok: with(func(f *fixtures, s *tokenSpec) { s.header["alg"] = "none"; s.signAlg = "RS256" }), want: ErrAlgorithm},
		{name: "alg none, unsigned", tok: with(func(f *fixtures, s *tokenSpec) { s.header["alg"] = "none"; s.signer = nil }), want: ErrAlgorithm},
		{name: "alg NONE", tok: with(func(f *fixtures, s *tokenSpec) { s.header["alg"] = "NONE"; s.signAlg = "RS256" }), want: ErrAlgorithm},
		{name: "HS256 with the RSA public key as secret", tok: with(func(f *fixtures, s *tokenSpec) {
			s.header["alg"] = "HS256"
			der, err := x509.MarshalPKIXPublicKey(&f.rsaA.PublicKey)
			if err != nil {
				panic(err)
			}
			s.signer = nil
			s.sig = func(input []byte) []byte { return hmacSHA256(der, input) }
		}), want: ErrAlgorithm},
		{name: "HS256 with the JWK as secret", tok: with(func(f *fixtures, s *tokenSpec) {
			s.header["alg"] = "HS256"
			secret, _ := json.Marshal(jwkOf(&f.rsaA.PublicKey, "rsa-a", nil))
			s.signer = nil
			s.sig = func(input []byte) []byte { return hmacSHA256(secret, input) }
		}), want: ErrAlgorithm},
		{name: "alg outside the allow-list", algs: []string{"RS256"}, tok: func(f *fixtures) tokenSpec { return spec("PS256", "rsa-a", f.rsaA) }, want: ErrAlgorithm},
		{name: "unknown alg", tok: with(func(f *fixtures, s *tokenSpec) { s.header["alg"] = "RS1"; s.signAlg = "RS256" }), want: ErrAlgorithm},
		{name: "crit", tok: with(func(f *fixtures, s *tokenSpec) { s.header["crit"] = []string{"exp"}; s.header["exp"] = 1 }), want: ErrUnsupportedHeader},
		{name: "crit empty", tok: with(func(f *fixtures, s *tokenSpec) { s.header["crit"] = []string{} }), want: ErrUnsupportedHeader},
		{name: "unencoded payload (b64 false)", tok: with(func(f *fixtures, s *tokenSpec) { s.header["crit"] = []string{"b64"}; s.header["b64"] = false }), want: ErrUnsupportedHeader},
		{name: "embedded jwk, its own kid", tok: with(func(f *fixtures, s *tokenSpec) {
			s.header["jwk"] = jwkOf(&f.rsaB.PublicKey, "attacker", nil)
			s.header["kid"] = "attacker"
			s.signer = f.rsaB
		}), want: ErrKeyNotFound},
		{name: "embedded jwk, a real kid", tok: with(func(f *fixtures, s *tokenSpec) {
			s.header["jwk"] = jwkOf(&f.rsaB.PublicKey, "rsa-a", nil)
			s.signer = f.rsaB
		}), want: ErrSignature},
		{name: "embedded jwk, no kid", tok: with(func(f *fixtures, s *tokenSpec) {
			s.header["jwk"] = jwkOf(f.edB.Public(), "", nil)
			s.header["alg"] = "EdDSA"
			delete(s.header, "kid")
			s.signer, s.signAlg = f.edB, "EdDSA"
		}), want: ErrSignature},
		{name: "jku, x5u and x5c", tok: with(func(f *fixtures, s *tokenSpec) {
			s.header["jku"] = "https://attacker.example/jwks"
			s.header["x5u"] = "https://attacker.example/cert"
			s.header["x5c"] = []string{"MIIB"}
			s.signer = f.rsaB
		}), want: ErrSignature},

		// Rule 3: key selection.
		{name: "unknown kid", tok: with(func(f *fixtures, s *tokenSpec) { s.header["kid"] = "nope" }), want: ErrKeyNotFound},
		{name: "kid of a key of another type", tok: func(f *fixtures) tokenSpec { return spec("ES256", "rsa-a", f.p256A) }, want: ErrKeyNotFound},
		{name: "kid of a key on another curve", tok: func(f *fixtures) tokenSpec { return spec("ES384", "p256-a", f.p384) }, want: ErrKeyNotFound},
		{name: "kid of a key with another alg", tok: func(f *fixtures) tokenSpec { return spec("RS256", "rsa-384-only", f.rsaA) }, want: ErrKeyNotFound},
		{name: "PS256 token, kid of a key with alg RS256", tok: func(f *fixtures) tokenSpec { return spec("PS256", "rsa-rs256-only", f.rsaB) }, want: ErrKeyNotFound},
		{name: "kid of a 1024-bit RSA key", tok: func(f *fixtures) tokenSpec { return spec("RS256", "weak", f.rsaWeak) }, want: ErrKeyNotFound},
		{name: "kid of a symmetric key, RS256", tok: func(f *fixtures) tokenSpec { return spec("RS256", "hmac", f.rsaA) }, want: ErrKeyNotFound},
		{name: "kid of a symmetric key, HS256 with its secret", tok: with(func(f *fixtures, s *tokenSpec) {
			s.header["alg"], s.header["kid"] = "HS256", "hmac"
			s.signer = nil
			s.sig = func(input []byte) []byte { return hmacSHA256([]byte("a shared secret of some length"), input) }
		}), want: ErrAlgorithm},
		{name: "kid of a post-quantum key", tok: func(f *fixtures) tokenSpec { return spec("RS256", "pq", f.rsaA) }, want: ErrKeyNotFound},
		{name: "kid of an encryption key", tok: func(f *fixtures) tokenSpec { return spec("RS256", "rsa-enc", f.rsaA) }, want: ErrKeyNotFound},
		{name: "kid of a key without verify in key_ops", tok: func(f *fixtures) tokenSpec { return spec("RS256", "rsa-sign-op", f.rsaA) }, want: ErrKeyNotFound},
		{name: "no kid, several keys fit", tok: with(func(f *fixtures, s *tokenSpec) { delete(s.header, "kid") }), want: ErrAmbiguousKey},
		{name: "empty kid, several keys fit", tok: with(func(f *fixtures, s *tokenSpec) { s.header["kid"] = "" }), want: ErrAmbiguousKey},

		// Rule 6: signatures.
		{name: "payload changed", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string {
				p := strings.Split(tok, ".")
				return p[0] + "." + enc.EncodeToString([]byte(`{"sub":"mallory"}`)) + "." + p[2]
			}
		}), want: ErrSignature},
		{name: "header changed", tok: with(func(f *fixtures, s *tokenSpec) {
			s.compact = func(tok string) string {
				p := strings.Split(tok, ".")
				return enc.EncodeToString([]byte(`{"alg":"RS256","kid":"rsa-a"}`)) + "." + p[1] + "." + p[2]
			}
		}), want: ErrSignature},
		{name: "signature bit flipped", tok: with(func(f *fixtures, s *tokenSpec) {
			s.sig = func(input []byte) []byte { b := signInput(f.rsaA, "RS256", input); b[10] ^= 1; return b }
		}), want: ErrSignature},
		{name: "signature one byte short", tok: with(func(f *fixtures, s *tokenSpec) {
			s.sig = func(input []byte) []byte { return signInput(f.rsaA, "RS256", input)[1:] }
		}), want: ErrSignature},
		{name: "RS256 signed by another RSA key", tok: with(func(f *fixtures, s *tokenSpec) { s.signer = f.rsaB }), want: ErrSignature},
		{name: "RS256 token with a PS256 signature", tok: with(func(f *fixtures, s *tokenSpec) { s.signAlg = "PS256" }), want: ErrSignature},
		{name: "PS256 token with an RS256 signature", tok: func(f *fixtures) tokenSpec {
			s := spec("PS256", "rsa-a", f.rsaA)
			s.signAlg = "RS256"
			return s
		}, want: ErrSignature},
		{name: "PS256 with a salt shorter than the hash", tok: func(f *fixtures) tokenSpec {
			s := spec("PS256", "rsa-a", nil)
			s.sig = func(input []byte) []byte {
				d := sha256.Sum256(input)
				b, err := rsa.SignPSS(rand.Reader, f.rsaA, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: 16})
				if err != nil {
					panic(err)
				}
				return b
			}
			return s
		}, want: ErrSignature},
		{name: "PS256 with the longest salt", tok: func(f *fixtures) tokenSpec {
			s := spec("PS256", "rsa-a", nil)
			s.sig = func(input []byte) []byte {
				d := sha256.Sum256(input)
				b, err := rsa.SignPSS(rand.Reader, f.rsaA, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
				if err != nil {
					panic(err)
				}
				return b
			}
			return s
		}, want: ErrSignature},
		{name: "ES256 signed by another P-256 key", tok: func(f *fixtures) tokenSpec { return spec("ES256", "p256-a", f.p256B) }, want: ErrSignature},
		{name: "ES256 with a DER signature", tok: func(f *fixtures) tokenSpec {
			s := spec("ES256", "p256-a", nil)
			s.sig = func(input []byte) []byte {
				d := sha256.Sum256(input)
				b, err := ecdsa.SignASN1(rand.Reader, f.p256A, d[:])
				if err != nil {
					panic(err)
				}
				return b
			}
			return s
		}, want: ErrSignature},
		{name: "ES256 with r and s zero", tok: func(f *fixtures) tokenSpec {
			s := spec("ES256", "p256-a", nil)
			s.sig = func([]byte) []byte { return make([]byte, 64) }
			return s
		}, want: ErrSignature},
		{name: "ES256 with r and s all ones", tok: func(f *fixtures) tokenSpec {
			s := spec("ES256", "p256-a", nil)
			s.sig = func([]byte) []byte { return []byte(strings.Repeat("\xff", 64)) }
			return s
		}, want: ErrSignature},
		{name: "ES256 signature with a leading zero byte", tok: func(f *fixtures) tokenSpec {
			s := spec("ES256", "p256-a", nil)
			s.sig = func(input []byte) []byte { return append([]byte{0}, signInput(f.p256A, "ES256", input)...) }
			return s
		}, want: ErrSignature},
		{name: "ES256 signature one byte short", tok: func(f *fixtures) tokenSpec {
			s := spec("ES256", "p256-a", nil)
			s.sig = func(input []byte) []byte { return signInput(f.p256A, "ES256", input)[1:] }
			return s
		}, want: ErrSignature},
		{name: "EdDSA signed by another key", tok: func(f *fixtures) tokenSpec { return spec("EdDSA", "ed-a", f.edB) }, want: ErrSignature},
		{name: "EdDSA signature truncated", tok: func(f *fixtures) tokenSpec {
			s := spec("EdDSA", "ed-a", nil)
			s.sig = func(input []byte) []byte { return signInput(f.edA, "EdDSA", input)[:63] }
			return s
		}, want: ErrSignature},
		{name: "neither key with the shared kid", tok: func(f *fixtures) tokenSpec {
			s := spec("RS256", "dup", nil)
			s.signer = f.rsaC
			return s
		}, want: ErrSignature},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

// TestVerifyKidlessKey covers a set whose keys have no kid.
func TestVerifyKidlessKey(t *testing.T) {
	f := keys(t)
	ks, err := NewStatic(setJSON(
		jwkOf(&f.rsaA.PublicKey, "", nil),
		jwkOf(&f.p256A.PublicKey, "p256-a", nil),
		jwkOf(&f.p256B.PublicKey, "p256-b", nil),
	), nil)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		tok  tokenSpec
		want error
	}{
		{"unknown kid, the one kid-less key fits", spec("RS256", "rotated-away", f.rsaA), nil},
		{"no kid, the one RSA key fits", spec("RS256", "", f.rsaA), nil},
		{"no kid, one PS256 key fits", spec("PS256", "", f.rsaA), nil},
		{"unknown kid, the kid-less key does not verify", spec("RS256", "rotated-away", f.rsaB), ErrKeyNotFound},
		{"no kid, the one RSA key does not verify", spec("RS256", "", f.rsaB), ErrSignature},
		{"unknown kid, no kid-less key fits", spec("ES256", "rotated-away", f.p256A), ErrKeyNotFound},
		{"no kid, two EC keys fit", spec("ES256", "", f.p256A), ErrAmbiguousKey},
		{"no kid, no key fits", spec("EdDSA", "", f.edA), ErrAlgorithm}, // EdDSA is not in the default list
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ks.Verify(context.Background(), c.tok.String())
			if !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Fatalf("Verify error = %v, want %v", err, c.want)
			}
		})
	}
}

func TestVerifyNoKeyFitsWithoutKid(t *testing.T) {
	f := keys(t)
	ks, err := NewStatic(setJSON(jwkOf(&f.rsaA.PublicKey, "rsa-a", nil)), []string{"RS256", "ES256"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ks.Verify(context.Background(), spec("ES256", "", f.p256A).String())
	if !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Verify error = %v, want ErrKeyNotFound", err)
	}
}

func TestVerifyDoesNotPanicOnOddInput(t *testing.T) {
	ks := testSet(t, allAlgs)
	for _, tok := range []string{
		"", ".", "..", "...", "a.b.c", "e30.e30.e30", "e30..AA", ".e30.AA", "\x00.\x00.\x00",
		enc.EncodeToString([]byte(`{"alg":"ES512","kid":"p521"}`)) + ".e30." + strings.Repeat("A", 176),
		enc.EncodeToString([]byte(`{"alg":"RS256","kid":"rsa-a"}`)) + ".e30." + strings.Repeat("A", 2000),
		enc.EncodeToString([]byte(`{"alg":"EdDSA","kid":"ed-a"}`)) + ".e30.AA",
	} {
		if _, _, err := ks.Verify(context.Background(), tok); err == nil {
			t.Errorf("Verify(%q) succeeded", tok)
		}
	}
}

func TestHeaderAllocations(t *testing.T) {
	b := []byte(`{"alg":"RS256","kid":"abc","typ":"JWT","x5t":"zzz","jwk":{"kty":"RSA","n":"x","e":"AQAB"}}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := parseHeader(b); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("parseHeader allocates %v times, want 0", allocs)
	}
}

func TestECDSADER(t *testing.T) {
	f := keys(t)
	for _, k := range []*ecdsa.PrivateKey{f.p256A, f.p384, f.p521} {
		n := (k.Curve.Params().BitSize + 7) / 8
		for i := range 50 {
			d := sha256.Sum256([]byte{byte(i)})
			der, err := ecdsa.SignASN1(rand.Reader, k, d[:])
			if err != nil {
				t.Fatal(err)
			}
			r, s, err := parseDER(der)
			if err != nil {
				t.Fatal(err)
			}
			raw := make([]byte, 2*n)
			r.FillBytes(raw[:n])
			s.FillBytes(raw[n:])
			got := ecdsaDER(nil, raw[:n], raw[n:])
			if diff := cmp.Diff(der, got); diff != "" {
				t.Fatalf("%s: DER (-want +got):\n%s", k.Curve.Params().Name, diff)
			}
		}
	}
	// Zero and high-bit integers.
	if diff := cmp.Diff([]byte{0x30, 0x07, 0x02, 0x01, 0x00, 0x02, 0x02, 0x00, 0x80}, ecdsaDER(nil, []byte{0, 0}, []byte{0, 0x80})); diff != "" {
		t.Errorf("DER (-want +got):\n%s", diff)
	}
}

func parseDER(der []byte) (r, s *big.Int, err error) {
	var sig struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(der, &sig); err != nil {
		return nil, nil, err
	}
	return sig.R, sig.S, nil
}
