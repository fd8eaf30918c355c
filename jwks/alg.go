package jwks

import (
	"crypto"
	"fmt"
	"strings"
)

// algorithm is a JWS signature algorithm this package can verify
// (RFC 7518 §3.1, RFC 8037 §3.1). The zero value is no algorithm.
type algorithm uint8

const (
	algNone algorithm = iota
	algRS256
	algRS384
	algRS512
	algPS256
	algPS384
	algPS512
	algES256
	algES384
	algES512
	algEdDSA
	numAlgs
)

var algNames = [numAlgs]string{
	algRS256: "RS256", algRS384: "RS384", algRS512: "RS512",
	algPS256: "PS256", algPS384: "PS384", algPS512: "PS512",
	algES256: "ES256", algES384: "ES384", algES512: "ES512",
	algEdDSA: "EdDSA",
}

func (a algorithm) String() string {
	if a == algNone || a >= numAlgs {
		return "none"
	}
	return algNames[a]
}

// parseAlg maps a JWS "alg" value to an algorithm; algNone for anything
// not in the table above ("none", HMAC, and unknown names alike). The
// switch on string(b) does not allocate.
func parseAlg(b []byte) algorithm {
	switch string(b) {
	case "RS256":
		return algRS256
	case "RS384":
		return algRS384
	case "RS512":
		return algRS512
	case "PS256":
		return algPS256
	case "PS384":
		return algPS384
	case "PS512":
		return algPS512
	case "ES256":
		return algES256
	case "ES384":
		return algES384
	case "ES512":
		return algES512
	case "EdDSA":
		return algEdDSA
	}
	return algNone
}

// hash returns the digest of alg, or 0 for EdDSA, which hashes inside.
func (a algorithm) hash() crypto.Hash {
	switch a {
	case algRS256, algPS256, algES256:
		return crypto.SHA256
	case algRS384, algPS384, algES384:
		return crypto.SHA384
	case algRS512, algPS512, algES512:
		return crypto.SHA512
	}
	return 0
}

// algSet is a set of algorithms, one bit each.
type algSet uint16

func (s algSet) has(a algorithm) bool { return a != algNone && s&(1<<a) != 0 }

func setOf(as ...algorithm) algSet {
	var s algSet
	for _, a := range as {
		s |= 1 << a
	}
	return s
}

var (
	rsaAlgs      = setOf(algRS256, algRS384, algRS512, algPS256, algPS384, algPS512)
	defaultAlgs  = setOf(algRS256, algPS256, algES256)
	curveAlgs    = map[string]algSet{"P-256": setOf(algES256), "P-384": setOf(algES384), "P-521": setOf(algES512)}
	ed25519Algs  = setOf(algEdDSA)
	allKnownAlgs = rsaAlgs | setOf(algES256, algES384, algES512, algEdDSA)
)

// parseAllowList turns Config.Algorithms into a set; nil or empty means
// the default. It refuses "none", every HMAC algorithm and names it does
// not know, so that a typo cannot silently narrow or widen the list.
func parseAllowList(names []string) (algSet, error) {
	if len(names) == 0 {
		return defaultAlgs, nil
	}
	var s algSet
	for _, n := range names {
		a := parseAlg([]byte(n))
		if a == algNone {
			switch {
			case strings.EqualFold(n, "none"):
				return 0, fmt.Errorf("jwks: algorithm %q is never allowed: unsigned tokens prove nothing", n)
			case strings.HasPrefix(strings.ToUpper(n), "HS"):
				return 0, fmt.Errorf("jwks: algorithm %q is never allowed: a key set holds public keys, and HMAC with one would let anyone sign", n)
			}
			return 0, fmt.Errorf("jwks: unknown algorithm %q (allowed: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)", n)
		}
		s |= 1 << a
	}
	return s, nil
}
