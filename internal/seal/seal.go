// Package seal encrypts and authenticates small values (login attempts,
// cookies) with AES-256-GCM under a ring of keys: the first key seals,
// every key opens, so keys can be rotated without breaking values in
// flight.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// MinSecretLen is the shortest secret a ring accepts.
const MinSecretLen = 32

const (
	version  = 1
	idLen    = 4
	nonceLen = 12
	overhead = 1 + idLen + nonceLen + 16
)

// ErrOpen reports a value that is not one this ring sealed: tampered,
// truncated, sealed under another key or for another purpose.
var ErrOpen = errors.New("sealed value does not open")

type key struct {
	id   [idLen]byte
	aead cipher.AEAD
}

// Ring seals under its first key and opens under any. It is safe for
// concurrent use.
type Ring struct {
	keys []key
}

// NewRing derives one AES-256 key from each secret (HKDF-SHA256 with the
// given purpose as info, so rings for different purposes never open each
// other's values). Each secret must be at least MinSecretLen bytes.
func NewRing(purpose string, secrets ...string) (*Ring, error) {
	if len(secrets) == 0 {
		return nil, errors.New("seal: no secret")
	}
	r := &Ring{}
	for i, s := range secrets {
		if len(s) < MinSecretLen {
			return nil, fmt.Errorf("seal: secret %d is %d bytes, need at least %d", i, len(s), MinSecretLen)
		}
		raw, err := hkdf.Key(sha256.New, []byte(s), nil, "ssokit seal v1 "+purpose, 32)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		sum := sha256.Sum256(raw)
		var k key
		copy(k.id[:], sum[:idLen])
		k.aead = aead
		r.keys = append(r.keys, k)
	}
	return r, nil
}

// RandomSecret returns a fresh 256-bit secret, for a ring that lives only
// as long as the process.
func RandomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return string(b)
}

// Seal encrypts plaintext bound to ad (associated data, for example a
// cookie's name) and returns it base64url-encoded.
func (r *Ring) Seal(plaintext, ad []byte) string {
	k := r.keys[0]
	out := make([]byte, 1+idLen+nonceLen, overhead+len(plaintext))
	out[0] = version
	copy(out[1:], k.id[:])
	_, _ = rand.Read(out[1+idLen:])
	nonce := out[1+idLen : 1+idLen+nonceLen]
	out = k.aead.Seal(out, nonce, plaintext, ad)
	return base64.RawURLEncoding.EncodeToString(out)
}

// Open reverses Seal. Any failure is ErrOpen.
func (r *Ring) Open(sealed string, ad []byte) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < overhead || raw[0] != version {
		return nil, ErrOpen
	}
	for _, k := range r.keys {
		if [idLen]byte(raw[1:1+idLen]) != k.id {
			continue
		}
		nonce := raw[1+idLen : 1+idLen+nonceLen]
		pt, err := k.aead.Open(nil, nonce, raw[1+idLen+nonceLen:], ad)
		if err != nil {
			return nil, ErrOpen
		}
		return pt, nil
	}
	return nil, ErrOpen
}
