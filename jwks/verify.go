package jwks

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// b64 decodes JWS parts: base64url without padding (RFC 7515 §2), and
// strict, so that unused trailing bits must be zero and one token has one
// encoding. It does not refuse '\r' and '\n', which the base64 package
// skips; splitCompact does.
var b64 = base64.RawURLEncoding.Strict()

// pssOptions verifies PS256/384/512 with a salt as long as the hash, as
// RFC 7518 §3.5 requires; other salt lengths are refused.
var pssOptions = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}

// errUnknownKey means that the set has no key for the token's kid (or,
// without a kid, none that fits its alg): a refresh may find one.
var errUnknownKey = errors.New("unknown key")

// Verify checks that token is a compact JWS (RFC 7515 §7.1) whose
// algorithm is allowed and whose signature verifies with a key of the
// set, and returns its payload and header. The payload is not looked at:
// checking the claims of an ID token (iss, aud, exp, nonce, …) is the
// caller's job.
//
// The token's kid selects the keys with that kid; among them only those
// that fit the algorithm (kty, curve, "use", "key_ops" and the key's own
// "alg") are tried. A token without a kid is verified only when exactly
// one key of the set fits its algorithm; when several fit it is refused
// with ErrAmbiguousKey, not tried against each. When no key has the
// token's kid and exactly one key without a kid fits, that key is tried;
// if it does not verify the token, the kid counts as unknown.
//
// The first Verify of a remote set fetches it, and every caller waits for
// that one fetch, each until its own ctx is done. A kid that is not in
// the set triggers a refresh, rate-limited by Config.MinRefreshInterval,
// then one more look. Keys older than Config.TTL are refreshed in the
// background while they go on serving. A failed refresh keeps the keys
// already known; its error is returned only when the token's key is not
// among them.
//
// Verify does not read "jwk", "jku", "x5u" or "x5c" from the header: keys
// come from the set alone. It refuses tokens with a "crit" header, and
// neither the JWS JSON serialization nor unencoded payloads are
// supported. On error, payload is nil and h is the zero Header.
func (ks *KeySet) Verify(ctx context.Context, token string) (payload []byte, h Header, err error) {
	if len(token) > ks.maxToken {
		return nil, Header{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTokenTooLarge, len(token), ks.maxToken)
	}
	headerEnd, payloadEnd, err := splitCompact(token)
	if err != nil {
		return nil, Header{}, err
	}

	// The header is small: decode it on the stack.
	var hbuf [512]byte
	hb, err := decodeInto(hbuf[:], token[:headerEnd])
	if err != nil {
		return nil, Header{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	rh, err := parseHeader(hb)
	if err != nil {
		return nil, Header{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	switch {
	case !rh.hasAlg:
		return nil, Header{}, fmt.Errorf("%w: the header has no alg", ErrAlgorithm)
	case !ks.allowed.has(rh.alg):
		return nil, Header{}, fmt.Errorf("%w: %s", ErrAlgorithm, quoteShort(rh.algName))
	case rh.crit:
		return nil, Header{}, fmt.Errorf("%w: the header has crit", ErrUnsupportedHeader)
	}

	if payloadEnd == len(token)-1 {
		return nil, Header{}, fmt.Errorf("%w: empty signature", ErrMalformed)
	}
	payload, err = b64.DecodeString(token[headerEnd+1 : payloadEnd])
	if err != nil {
		return nil, Header{}, fmt.Errorf("%w: payload: %w", ErrMalformed, err)
	}
	var sbuf [512]byte // room for an RSA-4096 signature
	sig, err := decodeInto(sbuf[:], token[payloadEnd+1:])
	if err != nil {
		return nil, Header{}, fmt.Errorf("%w: signature: %w", ErrMalformed, err)
	}

	t := tokenToVerify{alg: rh.alg, kid: rh.kid, input: token[:payloadEnd], sig: sig}
	t.digest = digest(rh.alg, t.input, &t.digestBuf)
	k, err := ks.verify(ctx, &t)
	if err != nil {
		return nil, Header{}, err
	}

	h = Header{Algorithm: rh.alg.String(), Type: internType(rh.typ)}
	switch {
	case len(rh.kid) == 0:
	case k.hasKID && k.kid == string(rh.kid):
		h.KeyID = k.kid // no copy
	default:
		h.KeyID = string(rh.kid)
	}
	return payload, h, nil
}

// splitCompact finds the two dots of a compact JWS and checks that the
// three parts hold nothing but the base64url alphabet's kind of bytes the
// decoder would otherwise skip.
func splitCompact(token string) (headerEnd, payloadEnd int, err error) {
	headerEnd = strings.IndexByte(token, '.')
	if headerEnd < 0 {
		if strings.HasPrefix(strings.TrimSpace(token), "{") {
			return 0, 0, fmt.Errorf("%w: the JWS JSON serialization is not supported", ErrMalformed)
		}
		return 0, 0, fmt.Errorf("%w: not three dot-separated parts", ErrMalformed)
	}
	rest := strings.IndexByte(token[headerEnd+1:], '.')
	if rest < 0 {
		return 0, 0, fmt.Errorf("%w: not three dot-separated parts", ErrMalformed)
	}
	payloadEnd = headerEnd + 1 + rest
	if strings.IndexByte(token[payloadEnd+1:], '.') >= 0 {
		return 0, 0, fmt.Errorf("%w: more than three parts (an encrypted JWE?)", ErrMalformed)
	}
	if headerEnd == 0 {
		return 0, 0, fmt.Errorf("%w: empty header", ErrMalformed)
	}
	// The base64 package skips these; a token must not contain them.
	if strings.IndexByte(token, '\n') >= 0 || strings.IndexByte(token, '\r') >= 0 {
		return 0, 0, fmt.Errorf("%w: line break in the token", ErrMalformed)
	}
	return headerEnd, payloadEnd, nil
}

// decodeInto decodes s into buf when it fits, into a new slice otherwise.
func decodeInto(buf []byte, s string) ([]byte, error) {
	n := b64.DecodedLen(len(s))
	if n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := b64.Decode(buf[:n], []byte(s))
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// internType returns common "typ" values without allocating.
func internType(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "JWT":
		return "JWT"
	case "jwt":
		return "jwt"
	case "at+jwt":
		return "at+jwt"
	}
	return string(b)
}

// tokenToVerify is a token that parsed, with what key selection and
// signature checking need.
type tokenToVerify struct {
	alg       algorithm
	kid       []byte
	input     string // the JWS signing input: header "." payload
	sig       []byte
	digest    []byte // hash of input for alg, nil for EdDSA
	digestBuf [sha512.Size]byte
}

// digest hashes the signing input as alg requires, into buf.
func digest(alg algorithm, input string, buf *[sha512.Size]byte) []byte {
	switch alg.hash() {
	case crypto.SHA256:
		d := sha256.Sum256([]byte(input))
		return buf[:copy(buf[:], d[:])]
	case crypto.SHA384:
		d := sha512.Sum384([]byte(input))
		return buf[:copy(buf[:], d[:])]
	case crypto.SHA512:
		d := sha512.Sum512([]byte(input))
		return buf[:copy(buf[:], d[:])]
	}
	return nil
}

// verify finds the token's key in the current snapshot, fetching or
// refreshing the set as Verify describes, and checks the signature.
func (ks *KeySet) verify(ctx context.Context, t *tokenToVerify) (*key, error) {
	snap := ks.snap.Load()
	if snap == nil {
		var err error
		if snap, err = ks.coldLoad(ctx); err != nil {
			return nil, err
		}
	} else if ks.url != "" && ks.now().Sub(snap.fetched) >= ks.ttl {
		ks.refreshInBackground(ctx)
	}
	k, err := snap.verify(t)
	if !errors.Is(err, errUnknownKey) || ks.url == "" {
		return k, ks.keyError(err, t, nil)
	}

	// Someone may have refreshed since we loaded snap; otherwise refresh.
	fetchErr := ks.refreshForUnknownKey(ctx, snap)
	if cur := ks.snap.Load(); cur != snap {
		k, err = cur.verify(t)
	}
	return k, ks.keyError(err, t, fetchErr)
}

// keyError turns snapshot.verify's errUnknownKey into ErrKeyNotFound,
// carrying the failed refresh's error if there was one.
func (ks *KeySet) keyError(err error, t *tokenToVerify, fetchErr error) error {
	if !errors.Is(err, errUnknownKey) {
		return err
	}
	what := "no key fits " + t.alg.String()
	if len(t.kid) > 0 {
		what = "kid " + quoteShort(t.kid) + " is not in the set"
	}
	if fetchErr != nil {
		return fmt.Errorf("%w: %s (refresh: %w)", ErrKeyNotFound, what, fetchErr)
	}
	return fmt.Errorf("%w: %s", ErrKeyNotFound, what)
}

// verify selects the token's keys in s and checks the signature with
// each until one verifies. It returns errUnknownKey when a refresh might
// help.
func (s *snapshot) verify(t *tokenToVerify) (*key, error) {
	if len(t.kid) == 0 {
		switch s.fitCount[t.alg] {
		case 0:
			return nil, errUnknownKey
		case 1:
			return s.soleFit[t.alg].check(t)
		}
		return nil, fmt.Errorf("%w: %d keys fit %s", ErrAmbiguousKey, s.fitCount[t.alg], t.alg)
	}
	keys, ok := s.byKID[string(t.kid)]
	if !ok {
		// The kid is unknown. The one key without a kid may be the
		// token's; if it is not, the provider may have rotated to a key
		// this snapshot lacks, so a refresh may help either way.
		if k := s.soleNoKIDFit[t.alg]; k != nil && k.verifies(t) {
			return k, nil
		}
		return nil, errUnknownKey
	}
	fits := false
	for _, k := range keys {
		if !k.algs.has(t.alg) {
			continue
		}
		fits = true
		if k.verifies(t) {
			return k, nil
		}
	}
	if !fits {
		return nil, fmt.Errorf("%w: kid %s does not fit %s", ErrKeyNotFound, quoteShort(t.kid), t.alg)
	}
	return nil, t.signatureError()
}

func (k *key) check(t *tokenToVerify) (*key, error) {
	if k.verifies(t) {
		return k, nil
	}
	return nil, t.signatureError()
}

func (t *tokenToVerify) signatureError() error {
	if len(t.kid) == 0 {
		return fmt.Errorf("%w (%s, no kid)", ErrSignature, t.alg)
	}
	return fmt.Errorf("%w (%s, kid %s)", ErrSignature, t.alg, quoteShort(t.kid))
}

// verifies reports whether t's signature verifies with k under t.alg,
// which the caller has checked that k fits.
func (k *key) verifies(t *tokenToVerify) bool {
	switch t.alg {
	case algRS256, algRS384, algRS512:
		return k.rsa != nil && rsa.VerifyPKCS1v15(k.rsa, t.alg.hash(), t.digest, t.sig) == nil
	case algPS256, algPS384, algPS512:
		// VerifyPSS keeps its digest argument; a copy lets t's stay on
		// the stack.
		return k.rsa != nil && rsa.VerifyPSS(k.rsa, t.alg.hash(), bytes.Clone(t.digest), t.sig, pssOptions) == nil
	case algES256, algES384, algES512:
		if k.ec == nil || len(t.sig) != 2*k.ecSize {
			return false
		}
		var buf [2*(66+3) + 3]byte // room for P-521
		return ecdsa.VerifyASN1(k.ec, t.digest, ecdsaDER(buf[:0], t.sig[:k.ecSize], t.sig[k.ecSize:]))
	case algEdDSA:
		return k.ed != nil && len(t.sig) == ed25519.SignatureSize && ed25519.Verify(k.ed, []byte(t.input), t.sig)
	}
	return false
}

// ecdsaDER appends the ASN.1 DER form of the ECDSA signature (r, s)
// (SEQUENCE of two INTEGERs, RFC 3279 §2.2.3) that crypto/ecdsa reads,
// from the fixed-size big-endian halves of a JWS signature (RFC 7518
// §3.4). It avoids the big.Int allocations of ecdsa.Verify.
func ecdsaDER(b, r, s []byte) []byte {
	r, s = trimInt(r), trimInt(s)
	rl, sl := intLen(r), intLen(s)
	body := 2 + rl + 2 + sl
	b = append(b, 0x30)
	if body >= 0x80 {
		b = append(b, 0x81)
	}
	b = append(b, byte(body))
	b = appendInt(b, r, rl)
	return appendInt(b, s, sl)
}

// trimInt drops leading zero bytes, keeping at least one byte.
func trimInt(v []byte) []byte {
	for len(v) > 1 && v[0] == 0 {
		v = v[1:]
	}
	return v
}

// intLen is the DER content length of the unsigned integer v: one more
// when its top bit is set, so that it does not read as negative.
func intLen(v []byte) int {
	if v[0]&0x80 != 0 {
		return len(v) + 1
	}
	return len(v)
}

func appendInt(b, v []byte, n int) []byte {
	b = append(b, 0x02, byte(n))
	if n > len(v) {
		b = append(b, 0)
	}
	return append(b, v...)
}
