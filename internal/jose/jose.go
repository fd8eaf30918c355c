// Package jose signs and verifies compact JWS with the standard library
// alone, and writes public keys as JWKs. It serves the fake provider, the
// client assertions of private_key_jwt and tests; verifying tokens from
// providers, with key selection and every policy check, is package jwks's
// job.
package jose

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

var b64 = base64.RawURLEncoding

// ErrSignature reports a signature that does not verify.
var ErrSignature = errors.New("signature does not verify")

// hashFor returns the hash of a JWS algorithm (RFC 7518 §3.1).
func hashFor(alg string) (crypto.Hash, bool) {
	switch alg {
	case "RS256", "PS256", "ES256":
		return crypto.SHA256, true
	case "RS384", "PS384", "ES384":
		return crypto.SHA384, true
	case "RS512", "PS512", "ES512":
		return crypto.SHA512, true
	}
	return 0, false
}

func digest(h crypto.Hash, data []byte) []byte {
	switch h {
	case crypto.SHA256:
		d := sha256.Sum256(data)
		return d[:]
	case crypto.SHA384:
		d := sha512.Sum384(data)
		return d[:]
	default:
		d := sha512.Sum512(data)
		return d[:]
	}
}

// Sign returns the compact JWS of payload under header, signed with key.
// The header's "alg" is set to alg. alg "none" yields an unsigned token
// (for tests of refusal). key is an *rsa.PrivateKey, *ecdsa.PrivateKey or
// ed25519.PrivateKey.
func Sign(key crypto.Signer, alg string, header map[string]any, payload []byte) (string, error) {
	h := make(map[string]any, len(header)+1)
	for k, v := range header {
		h[k] = v
	}
	h["alg"] = alg
	hb, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("jose: header: %w", err)
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(payload)
	if alg == "none" {
		return input + ".", nil
	}
	sig, err := SignInput(key, alg, []byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// SignJSON marshals claims and signs them with Sign.
func SignJSON(key crypto.Signer, alg string, header map[string]any, claims any) (string, error) {
	p, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jose: claims: %w", err)
	}
	return Sign(key, alg, header, p)
}

// SignInput signs a JWS signing input (base64url header "." base64url
// payload) and returns the raw signature. key may be any crypto.Signer of
// the right kind, a key held in a KMS or HSM included.
func SignInput(key crypto.Signer, alg string, input []byte) ([]byte, error) {
	if key == nil {
		return nil, errors.New("jose: no signing key")
	}
	pub := key.Public()
	if alg == "EdDSA" {
		if _, ok := pub.(ed25519.PublicKey); !ok {
			return nil, fmt.Errorf("jose: EdDSA needs an ed25519 key, have %T", pub)
		}
		return key.Sign(rand.Reader, input, crypto.Hash(0))
	}
	h, ok := hashFor(alg)
	if !ok {
		return nil, fmt.Errorf("jose: unsupported algorithm %q", alg)
	}
	d := digest(h, input)
	switch alg[0] {
	case 'R', 'P':
		if _, ok := pub.(*rsa.PublicKey); !ok {
			return nil, fmt.Errorf("jose: %s needs an RSA key, have %T", alg, pub)
		}
		var opts crypto.SignerOpts = h
		if alg[0] == 'P' {
			opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}
		}
		return key.Sign(rand.Reader, d, opts)
	default: // 'E'
		ec, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("jose: %s needs an EC key, have %T", alg, pub)
		}
		der, err := key.Sign(rand.Reader, d, h)
		if err != nil {
			return nil, fmt.Errorf("jose: %w", err)
		}
		var parsed struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(der, &parsed); err != nil {
			return nil, fmt.Errorf("jose: ECDSA signature: %w", err)
		}
		n := (ec.Curve.Params().BitSize + 7) / 8
		sig := make([]byte, 2*n)
		parsed.R.FillBytes(sig[:n])
		parsed.S.FillBytes(sig[n:])
		return sig, nil
	}
}

// VerifyInput checks sig over the signing input with pub under alg. It
// checks only the signature: the caller has already decided that alg is
// allowed and that pub is the right key for it.
func VerifyInput(pub crypto.PublicKey, alg string, input, sig []byte) error {
	if alg == "EdDSA" {
		k, ok := pub.(ed25519.PublicKey)
		if !ok || !ed25519.Verify(k, input, sig) {
			return ErrSignature
		}
		return nil
	}
	h, ok := hashFor(alg)
	if !ok {
		return fmt.Errorf("jose: unsupported algorithm %q", alg)
	}
	d := digest(h, input)
	switch alg[0] {
	case 'R':
		k, ok := pub.(*rsa.PublicKey)
		if !ok || rsa.VerifyPKCS1v15(k, h, d, sig) != nil {
			return ErrSignature
		}
	case 'P':
		k, ok := pub.(*rsa.PublicKey)
		if !ok || rsa.VerifyPSS(k, h, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) != nil {
			return ErrSignature
		}
	default: // 'E'
		k, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return ErrSignature
		}
		n := (k.Curve.Params().BitSize + 7) / 8
		if len(sig) != 2*n {
			return ErrSignature
		}
		r := new(big.Int).SetBytes(sig[:n])
		s := new(big.Int).SetBytes(sig[n:])
		if !ecdsa.Verify(k, d, r, s) {
			return ErrSignature
		}
	}
	return nil
}

// Parts splits a compact JWS and decodes its three parts. It does not
// verify anything.
func Parts(token string) (header, payload, sig []byte, input string, err error) {
	i := strings.IndexByte(token, '.')
	j := strings.LastIndexByte(token, '.')
	if i < 0 || i == j || strings.Count(token, ".") != 2 {
		return nil, nil, nil, "", errors.New("jose: not a compact JWS")
	}
	if header, err = b64.DecodeString(token[:i]); err != nil {
		return nil, nil, nil, "", fmt.Errorf("jose: header: %w", err)
	}
	if payload, err = b64.DecodeString(token[i+1 : j]); err != nil {
		return nil, nil, nil, "", fmt.Errorf("jose: payload: %w", err)
	}
	if sig, err = b64.DecodeString(token[j+1:]); err != nil {
		return nil, nil, nil, "", fmt.Errorf("jose: signature: %w", err)
	}
	return header, payload, sig, token[:j], nil
}

// PublicJWK returns the public JWK of pub with the given kid, alg and
// use "sig".
func PublicJWK(pub crypto.PublicKey, kid, alg string) (map[string]any, error) {
	m := map[string]any{"kid": kid, "use": "sig"}
	if alg != "" {
		m["alg"] = alg
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = b64.EncodeToString(k.N.Bytes())
		m["e"] = b64.EncodeToString(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		m["kty"] = "EC"
		m["crv"] = k.Curve.Params().Name
		n := (k.Curve.Params().BitSize + 7) / 8
		x, y := make([]byte, n), make([]byte, n)
		k.X.FillBytes(x)
		k.Y.FillBytes(y)
		m["x"] = b64.EncodeToString(x)
		m["y"] = b64.EncodeToString(y)
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = b64.EncodeToString(k)
	default:
		return nil, fmt.Errorf("jose: unsupported public key %T", pub)
	}
	return m, nil
}

// GenerateKey makes a fresh private key fit for alg: RSA 2048 for RS*/PS*,
// the matching curve for ES*, Ed25519 for EdDSA.
func GenerateKey(alg string) (crypto.Signer, error) {
	switch {
	case alg == "EdDSA":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	case strings.HasPrefix(alg, "RS"), strings.HasPrefix(alg, "PS"):
		return rsa.GenerateKey(rand.Reader, 2048)
	case alg == "ES256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case alg == "ES384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case alg == "ES512":
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	}
	return nil, fmt.Errorf("jose: unsupported algorithm %q", alg)
}

// HalfHash computes an OIDC at_hash or c_hash (OIDC Core §3.1.3.6): the
// base64url of the left half of the hash of value, with the hash of the
// ID token's alg. ok is false for an alg it does not know.
func HalfHash(alg, value string) (string, bool) {
	h, ok := hashFor(alg)
	if alg == "EdDSA" {
		h, ok = crypto.SHA512, true
	}
	if !ok {
		return "", false
	}
	d := digest(h, []byte(value))
	return b64.EncodeToString(d[:len(d)/2]), true
}
