package ssotest

import (
	"crypto"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"hash"
	"net/http"
	"time"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/randtoken"
)

type signingKey struct {
	kid     string
	alg     string
	priv    crypto.Signer
	expires time.Time // zero: published for as long as it signs or is kept
}

func newSigningKey(alg string) (*signingKey, error) {
	priv, err := jose.GenerateKey(alg)
	if err != nil {
		return nil, fmt.Errorf("ssotest: signing key: %w", err)
	}
	return &signingKey{kid: randtoken.New(9), alg: alg, priv: priv}, nil
}

// KeyID returns the kid of the key that signs now.
func (p *Provider) KeyID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.keys[0].kid
}

// RotateKeys makes a new signing key (same algorithm, new kid) and keeps the
// old one in the JWKS for grace; a zero grace drops it at once, so tokens it
// signed no longer verify. It returns the new kid.
func (p *Provider) RotateKeys(grace time.Duration) string {
	return p.RotateKeysAlg("", grace)
}

// RotateKeysAlg is RotateKeys with another algorithm for the new key ("" keeps
// the current one). It panics, for ease of use in tests, on an algorithm it
// cannot make a key for.
func (p *Provider) RotateKeysAlg(alg string, grace time.Duration) string {
	p.mu.Lock()
	if alg == "" {
		alg = p.keys[0].alg
	}
	p.mu.Unlock()
	k, err := newSigningKey(alg)
	if err != nil {
		panic(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	kept := []*signingKey{k}
	if grace > 0 {
		old := *p.keys[0]
		old.expires = now.Add(grace)
		kept = append(kept, &old)
	}
	for _, o := range p.keys[1:] {
		if grace > 0 && o.expires.After(now) {
			kept = append(kept, o)
		}
	}
	p.keys = kept
	return k.kid
}

// publishedKeys returns the keys in the JWKS now. Callers hold p.mu.
func (p *Provider) publishedKeys() []*signingKey {
	now := p.now()
	out := p.keys[:1:1]
	for _, k := range p.keys[1:] {
		if k.expires.After(now) {
			out = append(out, k)
		}
	}
	return out
}

func (p *Provider) handleJWKS(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	keys := p.publishedKeys()
	p.mu.Unlock()
	set := struct {
		Keys []map[string]any `json:"keys"`
	}{Keys: []map[string]any{}}
	for _, k := range keys {
		jwk, err := jose.PublicJWK(k.priv.Public(), k.kid, k.alg)
		if err != nil {
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		set.Keys = append(set.Keys, jwk)
	}
	if f := p.currentFaults(); f.ModifyJWKS != nil {
		if set.Keys = f.ModifyJWKS(set.Keys); set.Keys == nil {
			set.Keys = []map[string]any{}
		}
	}
	w.Header().Set("Cache-Control", "max-age=300")
	writeJSON(w, http.StatusOK, set)
}

// SignJWT signs claims with the provider's current key, as it signs ID
// tokens, and panics on failure, for ease of use in tests. Use it to make
// tokens by hand for a verifier.
func (p *Provider) SignJWT(claims map[string]any) string {
	tok, err := p.sign(map[string]any{"typ": "JWT"}, claims, Faults{})
	if err != nil {
		panic(err)
	}
	return tok
}

// sign signs claims with the current key, applying the signature faults.
func (p *Provider) sign(header, claims map[string]any, f Faults) (string, error) {
	p.mu.Lock()
	k := p.keys[0]
	p.mu.Unlock()
	header["kid"] = k.kid
	alg := k.alg
	if f.AlgNone {
		alg = "none"
		delete(header, "kid")
	}
	if len(f.HMACKey) > 0 {
		alg = "HS256"
	}
	if f.ModifyIDToken != nil {
		f.ModifyIDToken(header, claims)
		if a, ok := header["alg"].(string); ok && a != "" {
			alg = a
		}
		delete(header, "alg")
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("ssotest: claims: %w", err)
	}
	signer, keyAlg := k.priv, k.alg
	if f.SignWith != nil {
		signer, keyAlg = f.SignWith, alg
	}
	var tok string
	switch {
	case len(f.HMACKey) > 0:
		tok, err = signHMAC(f.HMACKey, alg, header, payload)
	case alg == keyAlg || alg == "none":
		tok, err = jose.Sign(signer, alg, header, payload)
	default:
		// A header that names another algorithm than the key's: sign with
		// the key's own and relabel, so the token claims alg but cannot
		// verify under it.
		tok, err = relabel(signer, keyAlg, alg, header, payload)
	}
	if err != nil {
		return "", err
	}
	if f.BadSignature {
		tok = corrupt(tok)
	}
	return tok, nil
}

func relabel(key crypto.Signer, keyAlg, alg string, header map[string]any, payload []byte) (string, error) {
	tok, err := jose.Sign(key, keyAlg, header, payload)
	if err != nil {
		return "", err
	}
	h := make(map[string]any, len(header))
	for n, v := range header {
		h[n] = v
	}
	h["alg"] = alg
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	_, rest, _ := cut(tok)
	return b64(hb) + "." + rest, nil
}

// signHMAC signs with an HMAC algorithm (RFC 7518 §3.2), which
// internal/jose rightly does not offer: only the HMACKey fault needs it.
func signHMAC(key []byte, alg string, header map[string]any, payload []byte) (string, error) {
	var h func() hash.Hash
	switch alg {
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		return "", fmt.Errorf("ssotest: HMACKey with alg %q", alg)
	}
	hdr := make(map[string]any, len(header)+1)
	for n, v := range header {
		hdr[n] = v
	}
	hdr["alg"] = alg
	hb, err := json.Marshal(hdr)
	if err != nil {
		return "", err
	}
	input := b64(hb) + "." + b64(payload)
	m := hmac.New(h, key)
	m.Write([]byte(input))
	return input + "." + b64(m.Sum(nil)), nil
}
