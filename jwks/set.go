package jwks

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// RSA modulus sizes accepted in a key set. Below 2048 bits a key is too
// weak (NIST SP 800-131A); above 8192 bits verifying costs more CPU than
// any provider's key needs, and a set is remote input.
const (
	minRSABits = 2048
	maxRSABits = 8192
)

// key is one usable public key of a set. It is immutable once built.
type key struct {
	kid    string
	hasKID bool
	algs   algSet // what it may verify: fits its type, its own "alg", the allow-list

	// Exactly one of these is set.
	rsa    *rsa.PublicKey
	ec     *ecdsa.PublicKey
	ecSize int // bytes of one coordinate (and of r and of s) for ec
	ed     ed25519.PublicKey
}

// snapshot is the parsed key set of one fetch. It is never modified after
// newSnapshot returns, so any number of goroutines read it without a lock.
type snapshot struct {
	keys    []*key            // usable keys, in document order
	byKID   map[string][]*key // keys that have a kid, by kid
	fetched time.Time         // when it was fetched; zero for a static set

	// Per algorithm: how many keys fit it, and the key when there is
	// only one; the same among the keys that have no kid.
	fitCount       [numAlgs]int
	soleFit        [numAlgs]*key
	noKIDFitCount  [numAlgs]int
	soleNoKIDFit   [numAlgs]*key
	skippedReasons []string // why entries were skipped, for errors and tests
}

func newSnapshot(keys []*key, skipped []string) *snapshot {
	s := &snapshot{keys: keys, byKID: make(map[string][]*key, len(keys)), skippedReasons: skipped}
	for _, k := range keys {
		if k.hasKID {
			s.byKID[k.kid] = append(s.byKID[k.kid], k)
		}
		for a := algRS256; a < numAlgs; a++ {
			if !k.algs.has(a) {
				continue
			}
			s.fitCount[a]++
			s.soleFit[a] = k
			if !k.hasKID {
				s.noKIDFitCount[a]++
				s.soleNoKIDFit[a] = k
			}
		}
	}
	for a := range numAlgs {
		if s.fitCount[a] != 1 {
			s.soleFit[a] = nil
		}
		if s.noKIDFitCount[a] != 1 {
			s.soleNoKIDFit[a] = nil
		}
	}
	return s
}

// Errors of a document refused whole.
var (
	// errNotKeySet reports a document that is not a JWK Set (RFC 7517 §5).
	errNotKeySet   = errors.New(`not a JWK Set: want a JSON object with a "keys" array`)
	errTooManyKeys = errors.New("too many keys in the set")
)

// parseSet parses a JWK Set document. Entries that cannot be used are
// skipped, not fatal: keys of a type this package does not know (a new
// post-quantum "AKP", say), symmetric keys, keys for encryption, keys
// that do not fit any allowed algorithm, RSA keys under 2048 bits, EC
// points off their curve, and entries that do not parse. A document that
// is not a JSON object with a "keys" array, that has more than maxKeys
// entries, or that leaves no usable key is an error.
//
// Member names match exactly, as RFC 7517 requires: "KEYS" is not
// "keys".
func parseSet(doc []byte, allowed algSet, maxKeys int) (*snapshot, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, fmt.Errorf("%w (%v)", errNotKeySet, err)
	}
	rawKeys, ok := top["keys"]
	if !ok || !bytes.HasPrefix(rawKeys, []byte("[")) {
		return nil, errNotKeySet
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(rawKeys, &entries); err != nil {
		return nil, fmt.Errorf("%w (%v)", errNotKeySet, err)
	}
	if len(entries) > maxKeys {
		return nil, fmt.Errorf("%w: %d, limit %d", errTooManyKeys, len(entries), maxKeys)
	}
	var keys []*key
	var skipped []string
	for i, e := range entries {
		k, err := parseKey(e, allowed)
		if err != nil {
			skipped = append(skipped, fmt.Sprintf("key %d: %v", i, err))
			continue
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		const shown = 3
		why := skipped
		if len(why) > shown {
			why = append(why[:shown:shown], fmt.Sprintf("and %d more", len(skipped)-shown))
		}
		if len(why) == 0 {
			return nil, fmt.Errorf("%w: the set is empty", ErrNoKeys)
		}
		return nil, fmt.Errorf("%w: %s", ErrNoKeys, strings.Join(why, "; "))
	}
	return newSnapshot(keys, skipped), nil
}

// jwkFields are the members of a JWK that select and restrict a key
// (RFC 7517 §4), read by exact name and type.
type jwkFields struct {
	kty, kid, use, alg, crv string
	hasKID, hasUse, hasAlg  bool
	keyOps                  []string
	hasKeyOps               bool
	members                 map[string]json.RawMessage // all of them
}

// publicMembers are the members that make up a public key of each type
// (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2). Only these are handed to jwx:
// private members are never parsed, and neither are certificates in
// "x5c", which are not used and whose parsing can fail for reasons that
// have nothing to do with the key.
var publicMembers = map[string][]string{
	"RSA": {"kty", "n", "e"},
	"EC":  {"kty", "crv", "x", "y"},
	"OKP": {"kty", "crv", "x"},
}

func readFields(raw json.RawMessage) (jwkFields, error) {
	var f jwkFields
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return f, errors.New("not a JSON object")
	}
	f.members = m
	str := func(name string, dst *string) (bool, error) {
		v, ok := m[name]
		if !ok {
			return false, nil
		}
		if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, dst) != nil {
			return true, fmt.Errorf("%q is not a string", name)
		}
		return true, nil
	}
	var err error
	if _, err = str("kty", &f.kty); err != nil {
		return f, err
	}
	if f.hasKID, err = str("kid", &f.kid); err != nil {
		return f, err
	}
	if f.hasUse, err = str("use", &f.use); err != nil {
		return f, err
	}
	if f.hasAlg, err = str("alg", &f.alg); err != nil {
		return f, err
	}
	if _, err = str("crv", &f.crv); err != nil {
		return f, err
	}
	if v, ok := m["key_ops"]; ok {
		f.hasKeyOps = true
		if len(v) == 0 || v[0] != '[' || json.Unmarshal(v, &f.keyOps) != nil {
			return f, errors.New(`"key_ops" is not an array of strings`)
		}
	}
	return f, nil
}

// parseKey turns one JWK into a usable public key, or says why not.
func parseKey(raw json.RawMessage, allowed algSet) (k *key, err error) {
	// jwx parses remote input here, in a fetch goroutine whose panic
	// would end the process: a panic skips the key instead. Its value is
	// left out of the error, which must not carry key material.
	defer func() {
		if r := recover(); r != nil {
			k, err = nil, errors.New("key parsing failed")
		}
	}()
	f, err := readFields(raw)
	if err != nil {
		return nil, err
	}
	kid := ""
	if f.hasKID {
		kid = fmt.Sprintf("kid %q: ", cut(f.kid))
	}
	if f.hasUse && f.use != "sig" {
		return nil, fmt.Errorf(`%s"use" is %q, not "sig"`, kid, cut(f.use))
	}
	if f.hasKeyOps && !slices.Contains(f.keyOps, "verify") {
		return nil, fmt.Errorf(`%s"key_ops" lacks "verify"`, kid)
	}
	var fit algSet
	switch f.kty {
	case "RSA":
		fit = rsaAlgs
	case "EC":
		if fit = curveAlgs[f.crv]; fit == 0 {
			return nil, fmt.Errorf("%sEC curve %q not supported", kid, cut(f.crv))
		}
	case "OKP":
		if f.crv != "Ed25519" {
			return nil, fmt.Errorf("%sOKP curve %q not supported", kid, cut(f.crv))
		}
		fit = ed25519Algs
	case "oct":
		return nil, fmt.Errorf("%ssymmetric key skipped", kid)
	default:
		return nil, fmt.Errorf("%skey type %q not supported", kid, cut(f.kty))
	}
	if f.hasAlg {
		a := parseAlg([]byte(f.alg))
		if !fit.has(a) {
			return nil, fmt.Errorf("%salg %q does not fit a %s key", kid, cut(f.alg), f.kty)
		}
		fit = setOf(a)
	}
	if fit &= allowed; fit == 0 {
		return nil, fmt.Errorf("%sno allowed algorithm fits this %s key", kid, f.kty)
	}

	pub, err := exportPublic(f.kty, f.members)
	if err != nil {
		return nil, fmt.Errorf("%s%w", kid, err)
	}
	k = &key{kid: f.kid, hasKID: f.hasKID && f.kid != "", algs: fit}
	switch p := pub.(type) {
	case *rsa.PublicKey:
		if f.kty != "RSA" {
			break
		}
		if err := checkRSA(p); err != nil {
			return nil, fmt.Errorf("%s%w", kid, err)
		}
		k.rsa = p
		return k, nil
	case *ecdsa.PublicKey:
		if f.kty != "EC" {
			break
		}
		ec, size, err := checkEC(p, f.crv)
		if err != nil {
			return nil, fmt.Errorf("%s%w", kid, err)
		}
		k.ec, k.ecSize = ec, size
		return k, nil
	case ed25519.PublicKey:
		if f.kty != "OKP" || len(p) != ed25519.PublicKeySize {
			break
		}
		k.ed = p
		return k, nil
	}
	return nil, fmt.Errorf("%skey material (%T) does not match kty %q", kid, pub, f.kty)
}

// exportPublic parses the public members of a JWK of type kty with jwx
// and returns the crypto public key. Private members, should a careless
// set publish them, are left out and never read.
func exportPublic(kty string, members map[string]json.RawMessage) (pub any, err error) {
	public := make(map[string]json.RawMessage, 4)
	for _, name := range publicMembers[kty] {
		v, ok := members[name]
		if !ok {
			return nil, fmt.Errorf("%s key without %q", kty, name)
		}
		public[name] = v
	}
	raw, err := json.Marshal(public)
	if err != nil {
		return nil, fmt.Errorf("re-encoding: %w", err)
	}
	jk, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	if err := jk.Validate(); err != nil {
		return nil, fmt.Errorf("invalid: %w", err)
	}
	if err := jwk.Export(jk, &pub); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return pub, nil
}

func checkRSA(p *rsa.PublicKey) error {
	switch bits := p.N.BitLen(); {
	case bits < minRSABits:
		return fmt.Errorf("RSA key of %d bits is too weak (minimum %d)", bits, minRSABits)
	case bits > maxRSABits:
		return fmt.Errorf("RSA key of %d bits is too large (maximum %d)", bits, maxRSABits)
	}
	// What crypto/rsa would refuse at every verification anyway.
	if p.N.Bit(0) == 0 || p.E < 3 || p.E&1 == 0 || p.E > 1<<31-1 {
		return errors.New("RSA key has an even modulus or an invalid exponent")
	}
	return nil
}

// checkEC returns the key re-parsed by crypto/ecdsa, which refuses points
// off the curve, and the size of its coordinates.
func checkEC(p *ecdsa.PublicKey, crv string) (*ecdsa.PublicKey, int, error) {
	var want elliptic.Curve
	switch crv {
	case "P-256":
		want = elliptic.P256()
	case "P-384":
		want = elliptic.P384()
	case "P-521":
		want = elliptic.P521()
	}
	if want == nil || p.Curve == nil || p.Curve.Params() != want.Params() {
		return nil, 0, fmt.Errorf("EC key is not on curve %q", cut(crv))
	}
	b, err := p.Bytes()
	if err != nil {
		return nil, 0, fmt.Errorf("EC point is invalid: %w", err)
	}
	ec, err := ecdsa.ParseUncompressedPublicKey(want, b)
	if err != nil {
		return nil, 0, fmt.Errorf("EC point is invalid: %w", err)
	}
	return ec, (want.Params().BitSize + 7) / 8, nil
}

// cut shortens a value from a key set for an error message.
func cut(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "…"
	}
	return s
}
