// Package randtoken makes unguessable tokens: state, nonce, PKCE verifiers,
// codes, session ids.
package randtoken

import (
	"crypto/rand"
	"encoding/base64"
)

// stackBytes is the most random bytes New and Fill take without a heap
// buffer: 3 tokens of 32 bytes, the three tokens of a sign-in.
const stackBytes = 96

// New returns n bytes from crypto/rand, base64url-encoded without padding.
// New(32) is a 256-bit token of 43 characters.
func New(n int) string {
	var t [1]string
	Fill(t[:], n)
	return t[0]
}

// Fill sets every element of dst to a token as New(n) makes it, with one
// read of crypto/rand and one allocation for all of them (the tokens
// share one string).
func Fill(dst []string, n int) {
	enc := base64.RawURLEncoding
	var rawBuf [stackBytes]byte
	var encBuf [160]byte // 3 × 43 characters
	raw, out := rawBuf[:0], encBuf[:0]
	if total := len(dst) * n; total <= len(rawBuf) {
		raw = rawBuf[:total]
	} else {
		raw = make([]byte, total)
	}
	if total := len(dst) * enc.EncodedLen(n); total <= len(encBuf) {
		out = encBuf[:total]
	} else {
		out = make([]byte, total)
	}
	_, _ = rand.Read(raw) // crypto/rand.Read never fails; it crashes the program instead.
	m := enc.EncodedLen(n)
	for i := range dst {
		enc.Encode(out[i*m:], raw[i*n:(i+1)*n])
	}
	s := string(out)
	for i := range dst {
		dst[i] = s[i*m : (i+1)*m]
	}
}
