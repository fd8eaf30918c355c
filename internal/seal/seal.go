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
	overhead = HeaderLen + TagLen
)

const (
	// HeaderLen is the room SealInPlace needs before the plaintext: a
	// version byte, the key's id and the nonce.
	HeaderLen = 1 + idLen + nonceLen
	// TagLen is what SealInPlace adds after the plaintext.
	TagLen = 16
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
	buf := make([]byte, HeaderLen+len(plaintext), overhead+len(plaintext))
	copy(buf[HeaderLen:], plaintext)
	return base64.RawURLEncoding.EncodeToString(r.SealInPlace(buf, ad))
}

// SealInPlace is Seal without the base64 and without a copy: buf is
// HeaderLen bytes of room followed by the plaintext. The header is written
// into the room and the ciphertext over the plaintext, and the sealed
// value (HeaderLen + len(plaintext) + TagLen bytes) is returned, in buf's
// memory when its capacity has TagLen bytes to spare. Its base64url
// encoding is what Seal returns.
func (r *Ring) SealInPlace(buf, ad []byte) []byte {
	if len(buf) < HeaderLen {
		panic("seal: SealInPlace without room for the header")
	}
	k := r.keys[0]
	buf[0] = version
	copy(buf[1:], k.id[:])
	nonce := buf[1+idLen : HeaderLen]
	_, _ = rand.Read(nonce)
	// buf[HeaderLen:HeaderLen] as dst is the plaintext's own storage, the
	// in-place use crypto/cipher.AEAD allows.
	return k.aead.Seal(buf[:HeaderLen], nonce, buf[HeaderLen:], ad)
}

// Open reverses Seal. Any failure is ErrOpen.
func (r *Ring) Open(sealed string, ad []byte) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return nil, ErrOpen
	}
	return r.OpenInPlace(raw, ad)
}

// OpenInPlace is Open of a sealed value already base64url-decoded. It
// decrypts in place: the plaintext it returns is in raw's memory. Any
// failure is ErrOpen.
func (r *Ring) OpenInPlace(raw, ad []byte) ([]byte, error) {
	if len(raw) < overhead || raw[0] != version {
		return nil, ErrOpen
	}
	for _, k := range r.keys {
		if [idLen]byte(raw[1:1+idLen]) != k.id {
			continue
		}
		nonce, ciphertext := raw[1+idLen:HeaderLen], raw[HeaderLen:]
		pt, err := k.aead.Open(ciphertext[:0], nonce, ciphertext, ad)
		if err != nil {
			return nil, ErrOpen
		}
		return pt, nil
	}
	return nil, ErrOpen
}
