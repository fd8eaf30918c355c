package jwks

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

var enc = base64.RawURLEncoding

// fixtures are the keys of the tests, generated once per test binary:
// RSA keys are slow to make.
type fixtures struct {
	rsaA, rsaB, rsaC *rsa.PrivateKey
	rsaWeak          *rsa.PrivateKey // 1024 bits
	p256A, p256B     *ecdsa.PrivateKey
	p384, p521       *ecdsa.PrivateKey
	edA, edB         ed25519.PrivateKey
}

var (
	fixturesOnce sync.Once
	fix          fixtures
)

func keys(t testing.TB) *fixtures {
	t.Helper()
	fixturesOnce.Do(func() {
		must := func(err error) {
			if err != nil {
				panic(err)
			}
		}
		var err error
		fix.rsaA, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		fix.rsaB, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		fix.rsaC, err = rsa.GenerateKey(rand.Reader, 2048)
		must(err)
		fix.rsaWeak, err = rsa.GenerateKey(rand.Reader, 1024)
		must(err)
		fix.p256A, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		fix.p256B, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		must(err)
		fix.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		must(err)
		fix.p521, err = ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		must(err)
		_, fix.edA, err = ed25519.GenerateKey(rand.Reader)
		must(err)
		_, fix.edB, err = ed25519.GenerateKey(rand.Reader)
		must(err)
	})
	return &fix
}

// jwkOf writes the public JWK of pub by hand, with kid (omitted when
// empty) and extra members, which may override any other.
func jwkOf(pub crypto.PublicKey, kid string, extra map[string]any) map[string]any {
	m := map[string]any{}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		m["kty"] = "RSA"
		m["n"] = enc.EncodeToString(k.N.Bytes())
		m["e"] = enc.EncodeToString(big.NewInt(int64(k.E)).Bytes())
	case *ecdsa.PublicKey:
		m["kty"] = "EC"
		m["crv"] = k.Curve.Params().Name
		n := (k.Curve.Params().BitSize + 7) / 8
		b, err := k.Bytes()
		if err != nil {
			panic(err)
		}
		m["x"] = enc.EncodeToString(b[1 : 1+n])
		m["y"] = enc.EncodeToString(b[1+n:])
	case ed25519.PublicKey:
		m["kty"] = "OKP"
		m["crv"] = "Ed25519"
		m["x"] = enc.EncodeToString(k)
	default:
		panic("jwkOf: unsupported key")
	}
	if kid != "" {
		m["kid"] = kid
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
			continue
		}
		m[k] = v
	}
	return m
}

// setJSON is the JWK Set document of keys.
func setJSON(keys ...map[string]any) []byte {
	if keys == nil {
		keys = []map[string]any{}
	}
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		panic(err)
	}
	return b
}

// signInput signs a JWS signing input with priv under alg, by hand with
// the standard library.
func signInput(priv crypto.Signer, alg string, input []byte) []byte {
	hashOf := map[byte]crypto.Hash{'2': crypto.SHA256, '3': crypto.SHA384, '5': crypto.SHA512}
	if alg == "EdDSA" {
		return ed25519.Sign(priv.(ed25519.PrivateKey), input)
	}
	h := hashOf[alg[2]]
	hh := h.New()
	hh.Write(input)
	d := hh.Sum(nil)
	var sig []byte
	var err error
	switch alg[:2] {
	case "RS":
		sig, err = rsa.SignPKCS1v15(rand.Reader, priv.(*rsa.PrivateKey), h, d)
	case "PS":
		sig, err = rsa.SignPSS(rand.Reader, priv.(*rsa.PrivateKey), h, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case "ES":
		k := priv.(*ecdsa.PrivateKey)
		var r, s *big.Int
		r, s, err = ecdsa.Sign(rand.Reader, k, d)
		n := (k.Curve.Params().BitSize + 7) / 8
		sig = make([]byte, 2*n)
		r.FillBytes(sig[:n])
		s.FillBytes(sig[n:])
	default:
		panic("signInput: unsupported alg " + alg)
	}
	if err != nil {
		panic(err)
	}
	return sig
}

// hmacSHA256 is how an attacker signs "HS256" with a public key as secret.
func hmacSHA256(secret, input []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(input)
	return m.Sum(nil)
}

// tokenSpec describes a compact JWS to build. Tests start from a valid
// one and change one thing.
type tokenSpec struct {
	header  map[string]any // the JOSE header; marshalled unless rawHeader is set
	rawHdr  string         // the header JSON, verbatim
	payload string         // the payload, verbatim
	signer  crypto.Signer  // signs with signAlg; nil leaves the signature empty
	signAlg string         // default: the header's alg
	sig     func(input []byte) []byte
	compact func(string) string // a last change to the compact form
}

func (s tokenSpec) String() string {
	hdr := []byte(s.rawHdr)
	if s.rawHdr == "" {
		var err error
		if hdr, err = json.Marshal(s.header); err != nil {
			panic(err)
		}
	}
	input := enc.EncodeToString(hdr) + "." + enc.EncodeToString([]byte(s.payload))
	var sig []byte
	switch {
	case s.sig != nil:
		sig = s.sig([]byte(input))
	case s.signer != nil:
		alg := s.signAlg
		if alg == "" {
			alg, _ = s.header["alg"].(string)
		}
		sig = signInput(s.signer, alg, []byte(input))
	}
	tok := input + "." + enc.EncodeToString(sig)
	if s.compact != nil {
		tok = s.compact(tok)
	}
	return tok
}

const testClaims = `{"iss":"https://idp.example","sub":"alice","aud":"app","exp":2000000000}`

// spec returns a valid token spec: alg signed by signer, with kid.
func spec(alg, kid string, signer crypto.Signer) tokenSpec {
	h := map[string]any{"alg": alg, "typ": "JWT"}
	if kid != "" {
		h["kid"] = kid
	}
	return tokenSpec{header: h, payload: testClaims, signer: signer}
}

// jwksServer is an httptest server of a JWK Set document that counts
// requests and can change its answer.
type jwksServer struct {
	*httptest.Server
	requests atomic.Int64

	mu      sync.Mutex // guards body, status, hold
	body    []byte
	status  int
	hold    chan struct{} // when not nil, requests wait for it to close
	started chan struct{} // receives a value as each request starts, if not nil
}

func newJWKSServer(t testing.TB, body []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{body: body, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		if r.Method != http.MethodGet {
			t.Errorf("method %s, want GET", r.Method)
		}
		s.mu.Lock()
		body, status, hold, started := s.body, s.status, s.hold, s.started
		s.mu.Unlock()
		if started != nil {
			started <- struct{}{}
		}
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(body []byte, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.body, s.status = body, status
}

// setHold makes requests wait until the returned function is called.
func (s *jwksServer) setHold() (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	s.hold = ch
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.hold = nil
			s.mu.Unlock()
			close(ch)
		})
	}
}

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu sync.Mutex // guards t
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// digestOf is used by the benchmarks' floor.
func digestOf(h crypto.Hash, b []byte) []byte {
	switch h {
	case crypto.SHA384:
		d := sha512.Sum384(b)
		return d[:]
	case crypto.SHA512:
		d := sha512.Sum512(b)
		return d[:]
	}
	d := sha256.Sum256(b)
	return d[:]
}
