// Package randtoken makes unguessable tokens: state, nonce, PKCE verifiers,
// codes, session ids.
package randtoken

import (
	"crypto/rand"
	"encoding/base64"
)

// New returns n bytes from crypto/rand, base64url-encoded without padding.
// New(32) is a 256-bit token of 43 characters.
func New(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails; it crashes the program instead.
	return base64.RawURLEncoding.EncodeToString(b)
}
