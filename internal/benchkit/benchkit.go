// Package benchkit holds the fixtures that the benchmarks of issue 7 share:
// the keys, a realistic signed ID token, an in-process provider, the HTTP
// client and the standard-library floors (an ID-token verifier and a
// callback) that every other figure is divided by.
//
// ssoclient's benchmarks and the comparison with other Go OIDC libraries
// (the benchcompare module) measure the same token against the same floor,
// so their ratios can be set side by side. Nothing here is for production
// use.
package benchkit

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/randtoken"
)

// The relying party every benchmark token is issued to.
const (
	ClientID     = "bench-client-6cb04018"
	ClientSecret = "bench-secret-0123456789abcdef"
	RedirectURL  = "https://app.example.test/auth/sso/callback"
)

// Key IDs of the two keys in the JWKS and in the tokens' headers.
const (
	RSAKeyID = "rsa-2048"
	ECKeyID  = "ec-p256"
)

// Algs are the signature algorithms the benchmarks cover, in the order
// they run.
var Algs = []string{"RS256", "PS256", "ES256"}

// Nonce is the nonce of every token Token signs, as long as a real one
// (32 random bytes, base64url). It is fixed for the process.
var Nonce = randtoken.New(32)

// KeyPair is the provider's signing keys: RSA 2048 (RS256 and PS256) and
// P-256 (ES256).
type KeyPair struct {
	RSA *rsa.PrivateKey
	EC  *ecdsa.PrivateKey
}

// Keys returns the signing keys, generated once per process.
var Keys = sync.OnceValue(func() *KeyPair {
	k := &KeyPair{}
	var err error
	if k.RSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		panic(err)
	}
	if k.EC, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		panic(err)
	}
	return k
})

// PublicKey returns the public key that verifies alg's tokens and its kid.
func PublicKey(alg string) (crypto.PublicKey, string) {
	k := Keys()
	if alg == "ES256" {
		return &k.EC.PublicKey, ECKeyID
	}
	return &k.RSA.PublicKey, RSAKeyID
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// JWKS returns the provider's key set document: both public keys with
// their kid and use "sig", and no alg (the RSA key serves RS256 and PS256).
func JWKS() []byte {
	k := Keys()
	rk, ek := &k.RSA.PublicKey, &k.EC.PublicKey
	pad := func(b []byte, n int) []byte { return append(make([]byte, n-len(b)), b...) }
	doc, _ := json.Marshal(map[string]any{"keys": []map[string]any{
		{"kty": "RSA", "kid": RSAKeyID, "use": "sig", "n": b64(rk.N.Bytes()), "e": b64(big.NewInt(int64(rk.E)).Bytes())},
		{"kty": "EC", "kid": ECKeyID, "use": "sig", "crv": "P-256", "x": b64(pad(ek.X.Bytes(), 32)), "y": b64(pad(ek.Y.Bytes(), 32))},
	}})
	return doc
}

// Groups are the ten group IDs of the token's groups claim.
func Groups() []string {
	groups := make([]string, 10)
	for i := range groups {
		groups[i] = fmt.Sprintf("%08x-5d6a-4f6e-9a63-8d0c33e2d9d4", i*0x1f3a7)
	}
	return groups
}

// TokenClaims returns the claims of a realistic ID token issued by iss at
// now: 16 claims, groups of 10, valid for an hour, audience ClientID,
// nonce Nonce. Tests change a copy to make a token that must be refused.
func TokenClaims(iss string, now time.Time) map[string]any {
	return map[string]any{
		"iss": iss, "sub": "HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ", "aud": ClientID,
		"exp": now.Add(time.Hour).Unix(), "iat": now.Unix(), "auth_time": now.Unix(), "nonce": Nonce,
		"email": "abe.lincoln@example.com", "email_verified": true, "name": "Abe Lincoln",
		"given_name": "Abe", "family_name": "Lincoln", "preferred_username": "abe.lincoln@example.com",
		"locale": "en-US", "sid": "fqiBqXLPj0eQa82S-IYFAA", "groups": Groups(),
	}
}

// Token signs a realistic ID token (TokenClaims) with alg (RS256, PS256 or
// ES256) and a kid in its header.
func Token(alg, iss string, now time.Time) string {
	return Sign(alg, TokenClaims(iss, now))
}

// Sign signs claims as a JWS in compact form with alg and the kid of
// alg's key. It panics on an unknown alg.
func Sign(alg string, claims map[string]any) string {
	k := Keys()
	kid := RSAKeyID
	if alg == "ES256" {
		kid = ECKeyID
	}
	h, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "typ": "JWT"})
	p, err := json.Marshal(claims)
	if err != nil {
		panic(err)
	}
	input := b64(h) + "." + b64(p)
	d := sha256.Sum256([]byte(input))
	var sig []byte
	switch alg {
	case "RS256":
		sig, err = rsa.SignPKCS1v15(rand.Reader, k.RSA, crypto.SHA256, d[:])
	case "PS256":
		sig, err = rsa.SignPSS(rand.Reader, k.RSA, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256":
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k.EC, d[:])
		if err == nil {
			sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
		}
	default:
		err = fmt.Errorf("benchkit: unknown alg %q", alg)
	}
	if err != nil {
		panic(err)
	}
	return input + "." + b64(sig)
}

// Provider is an in-process OpenID provider: discovery, a static JWKS and
// a token endpoint that answers every request with one pre-signed token
// response, so the provider's side costs next to nothing and the relying
// party's shows. It counts the TCP connections it accepts.
type Provider struct {
	srv   *httptest.Server
	conns atomic.Int64
	resp  atomic.Pointer[[]byte] // the token response body
}

// NewProvider starts a Provider, closed when tb's test or benchmark ends.
// Its token endpoint has no token until SetToken.
func NewProvider(tb testing.TB) *Provider {
	tb.Helper()
	p := &Provider{}
	mux := http.NewServeMux()
	p.srv = httptest.NewUnstartedServer(mux)
	p.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			p.conns.Add(1)
		}
	}
	p.srv.Start()
	tb.Cleanup(p.srv.Close)
	iss := p.srv.URL
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"issuer": iss, "authorization_endpoint": iss + "/authorize", "token_endpoint": iss + "/token",
			"jwks_uri": iss + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256", "PS256", "ES256"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		})
	})
	jwks := JWKS()
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(jwks)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		body := p.resp.Load()
		if body == nil {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(*body)
	})
	return p
}

// Issuer is the provider's issuer: its base URL (http://127.0.0.1:port).
func (p *Provider) Issuer() string { return p.srv.URL }

// TokenURL is the token endpoint.
func (p *Provider) TokenURL() string { return p.srv.URL + "/token" }

// JWKSURL is the key set's URL.
func (p *Provider) JWKSURL() string { return p.srv.URL + "/jwks" }

// Conns is the number of TCP connections the provider has accepted.
func (p *Provider) Conns() int64 { return p.conns.Load() }

// SetToken makes the token endpoint answer with idToken (and a Bearer
// access token valid for an hour).
func (p *Provider) SetToken(idToken string) {
	body, _ := json.Marshal(map[string]any{
		"access_token": "at-" + strings.Repeat("x", 40), "token_type": "Bearer", "expires_in": 3600, "id_token": idToken,
	})
	p.resp.Store(&body)
}

// HTTPClient returns the HTTP client every relying party and floor in the
// benchmarks uses: the default transport with enough idle connections per
// host for every parallel goroutine, so that no login needs a new
// connection.
func HTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}

// Claims are the claims the floor verifier decodes and checks: the
// protocol claims ssoclient's VerifyIDToken decodes.
type Claims struct {
	Iss      string `json:"iss"`
	Sub      string `json:"sub"`
	Aud      string `json:"aud"`
	Azp      string `json:"azp"`
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Nbf      int64  `json:"nbf"`
	AuthTime int64  `json:"auth_time"`
	Nonce    string `json:"nonce"`
	AtHash   string `json:"at_hash"`
	Tid      string `json:"tid"`
}

// IdentityClaims adds to Claims what a callback turns into an identity.
type IdentityClaims struct {
	Claims
	Email             string   `json:"email"`
	EmailVerified     bool     `json:"email_verified"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Groups            []string `json:"groups"`
}

// Floor is the standard-library floor of ID-token verification:
// base64url decoding, json.Unmarshal of the header and of the claims into
// structs, a key chosen by kid from a map, crypto/rsa or crypto/ecdsa
// (ecdsa.Verify with big.Ints, the way most code turns a JWS signature
// into r and s), and the iss/aud/exp/nonce comparisons.
type Floor struct {
	iss, aud string
	keys     map[string]crypto.PublicKey
}

// NewFloor returns the floor verifier of tokens issued by iss to ClientID
// and signed with Keys.
func NewFloor(iss string) *Floor {
	k := Keys()
	return &Floor{iss: iss, aud: ClientID, keys: map[string]crypto.PublicKey{
		RSAKeyID: &k.RSA.PublicKey, ECKeyID: &k.EC.PublicKey,
	}}
}

// Verify verifies tok and decodes its claims into into, whose protocol
// claims cl must be (into is cl itself, or a struct embedding it such as
// *IdentityClaims), then checks iss, aud, exp and nonce.
func (f *Floor) Verify(tok, nonce string, cl *Claims, into any) error {
	i := strings.IndexByte(tok, '.')
	j := strings.LastIndexByte(tok, '.')
	if i < 0 || i == j {
		return errors.New("malformed")
	}
	enc := base64.RawURLEncoding
	hb, err := enc.DecodeString(tok[:i])
	if err != nil {
		return err
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}
	if err := json.Unmarshal(hb, &h); err != nil {
		return err
	}
	payload, err := enc.DecodeString(tok[i+1 : j])
	if err != nil {
		return err
	}
	sig, err := enc.DecodeString(tok[j+1:])
	if err != nil {
		return err
	}
	pub := f.keys[h.Kid]
	d := sha256.Sum256([]byte(tok[:j]))
	switch h.Alg {
	case "RS256":
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return errors.New("no RSA key for kid")
		}
		err = rsa.VerifyPKCS1v15(rk, crypto.SHA256, d[:], sig)
	case "PS256":
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return errors.New("no RSA key for kid")
		}
		err = rsa.VerifyPSS(rk, crypto.SHA256, d[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES256":
		ek, ok := pub.(*ecdsa.PublicKey)
		if !ok {
			return errors.New("no EC key for kid")
		}
		if len(sig) != 64 || !ecdsa.Verify(ek, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			err = errors.New("bad signature")
		}
	default:
		err = errors.New("alg")
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(payload, into); err != nil {
		return err
	}
	return cl.Check(f.iss, f.aud, nonce)
}

// Check is the floor's iss/aud/exp/nonce comparisons, also for the
// benchcompare rows whose library leaves them to the application.
func (cl *Claims) Check(iss, aud, nonce string) error {
	switch {
	case cl.Iss != iss:
		return errors.New("iss")
	case cl.Aud != aud:
		return errors.New("aud")
	case time.Now().Unix() >= cl.Exp:
		return errors.New("exp")
	case cl.Nonce != nonce:
		return errors.New("nonce")
	}
	return nil
}

// TokenResponse is the token endpoint's response as the floor callback
// decodes it.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	IDToken     string `json:"id_token"`
}

// FloorCallback is the standard-library floor of a callback: one token
// POST with net/http (authorization_code with a PKCE verifier,
// client_secret_post), one JSON decode of the response and the floor
// verifier with the identity claims decoded too.
type FloorCallback struct {
	hc       *http.Client
	tokenURL string
	form     string
	floor    *Floor
}

// NewFloorCallback returns the floor callback against p's token endpoint
// with hc. The form (code, verifier, client credentials) is encoded once.
func NewFloorCallback(p *Provider, hc *http.Client) *FloorCallback {
	return &FloorCallback{
		hc:       hc,
		tokenURL: p.TokenURL(),
		form:     CodeForm().Encode(),
		floor:    NewFloor(p.Issuer()),
	}
}

// CodeForm is the token request's form: the authorization code, the
// redirect URI, a PKCE verifier and client_secret_post credentials.
func CodeForm() url.Values {
	return url.Values{
		"grant_type": {"authorization_code"}, "code": {Code},
		"redirect_uri": {RedirectURL}, "code_verifier": {randtoken.New(32)},
		"client_id": {ClientID}, "client_secret": {ClientSecret},
	}
}

// Code is the authorization code the callbacks exchange.
const Code = "code-cccccccccccccccccccccccccccccccc"

// Login runs one floor callback and returns the verified identity claims.
func (c *FloorCallback) Login(cl *IdentityClaims) error {
	resp, err := c.hc.Post(c.tokenURL, "application/x-www-form-urlencoded", strings.NewReader(c.form))
	if err != nil {
		return err
	}
	var tr TokenResponse
	err = json.NewDecoder(resp.Body).Decode(&tr)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("token: %d %v", resp.StatusCode, err)
	}
	return c.floor.Verify(tr.IDToken, Nonce, &cl.Claims, cl)
}

// MeasureLogins times login b.N times, sequentially or with b.RunParallel,
// and reports logins/s and new-conns: the TCP connections p accepted
// during the timed run. login panics on failure (b.Fatal cannot be
// called from RunParallel's goroutines). Call it after the setup, with
// the connections already made that a warm relying party would have.
func MeasureLogins(b *testing.B, p *Provider, parallel bool, login func()) {
	conns := p.Conns()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	if parallel {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				login()
			}
		})
	} else {
		for i := 0; i < b.N; i++ {
			login()
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "logins/s")
	b.ReportMetric(float64(p.Conns()-conns), "new-conns")
}
