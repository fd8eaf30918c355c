package benchcompare

// Each library's ID-token verification as a relying party runs it after
// the code exchange: the signature with the provider's key, iss, aud, exp,
// and the nonce of the login attempt, with the claims decoded. Every row
// of BenchmarkVerify is one of these functions; compare_test.go proves each
// accepts the benchmark token and refuses bad ones.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/ssokit/ssokit/internal/benchkit"
	"github.com/ssokit/ssokit/ssoclient"
)

// verifyFunc verifies tok as an ID token of the login whose nonce is
// nonce and returns nil only if it is acceptable.
type verifyFunc func(tok, nonce string) error

// library is one row of BenchmarkVerify.
type library struct {
	name string
	// verifier returns the verification for alg's tokens. Most rows use
	// one verifier for every alg; jwx-jws is given alg's key and alg.
	verifier func(alg string) verifyFunc
}

// libraries builds every row against provider p, with warm key sets: a
// remote key set has fetched the JWKS before the first timed call.
func libraries(tb testing.TB, p *benchkit.Provider) []library {
	tb.Helper()
	ctx := context.Background()
	hc := benchkit.HTTPClient()
	warm := benchkit.Token("RS256", p.Issuer(), time.Now())
	same := func(v verifyFunc) func(string) verifyFunc { return func(string) verifyFunc { return v } }
	libs := []library{
		{"floor", same(floorVerifier(p))},
		{"ssokit", same(ssokitVerifier(tb, p, hc, warm))},
		{"go-oidc/static", same(goOIDCStaticVerifier(p))},
		{"go-oidc/remote", same(goOIDCRemoteVerifier(tb, ctx, p, hc, warm))},
		{"jwx-parse", same(jwxParseVerifier(tb, p))},
		{"jwx-jws", jwxJWSVerifier(tb, p)},
		{"golang-jwt", same(golangJWTVerifier(p))},
	}
	return libs
}

// floorVerifier is benchkit's standard-library floor, decoding the
// protocol claims.
func floorVerifier(p *benchkit.Provider) verifyFunc {
	f := benchkit.NewFloor(p.Issuer())
	return func(tok, nonce string) error {
		var cl benchkit.Claims
		return f.Verify(tok, nonce, &cl, &cl)
	}
}

// ssokitVerifier is ssoclient.Client.VerifyIDToken, the path ssokit's
// callback takes, on a Client made by New against p (discovery and the
// JWKS fetched, warmed by one verification).
func ssokitVerifier(tb testing.TB, p *benchkit.Provider, hc *http.Client, warm string) verifyFunc {
	tb.Helper()
	ctx := context.Background()
	c, err := ssoclient.New(ctx, ssoclient.Config{
		Issuer: p.Issuer(), ClientID: benchkit.ClientID, ClientSecret: ssoclient.Secret(benchkit.ClientSecret),
		RedirectURL: benchkit.RedirectURL, HTTPClient: hc,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := c.VerifyIDToken(ctx, warm, benchkit.Nonce); err != nil {
		tb.Fatal(err)
	}
	return func(tok, nonce string) error {
		_, err := c.VerifyIDToken(ctx, tok, nonce)
		return err
	}
}

// goOIDCClaims is what an application decodes with IDToken.Claims: the
// same protocol claims as the floor's.
type goOIDCClaims = benchkit.Claims

// goOIDCVerify is go-oidc as its documentation shows a relying party
// using it: Verify (signature, iss, aud, exp, nbf), Claims into a struct,
// and the nonce compared by the application (go-oidc leaves it to it).
func goOIDCVerify(v *oidc.IDTokenVerifier) verifyFunc {
	ctx := context.Background()
	return func(tok, nonce string) error {
		idt, err := v.Verify(ctx, tok)
		if err != nil {
			return err
		}
		var cl goOIDCClaims
		if err := idt.Claims(&cl); err != nil {
			return err
		}
		if idt.Nonce != nonce {
			return errors.New("go-oidc: nonce mismatch")
		}
		return nil
	}
}

var goOIDCConfig = &oidc.Config{ClientID: benchkit.ClientID, SupportedSigningAlgs: benchkit.Algs}

// goOIDCStaticVerifier uses a StaticKeySet of both public keys (go-oidc
// tries each in turn; the RSA key comes first, as in the JWKS).
func goOIDCStaticVerifier(p *benchkit.Provider) verifyFunc {
	k := benchkit.Keys()
	ks := &oidc.StaticKeySet{PublicKeys: []crypto.PublicKey{&k.RSA.PublicKey, &k.EC.PublicKey}}
	return goOIDCVerify(oidc.NewVerifier(p.Issuer(), ks, goOIDCConfig))
}

// goOIDCRemoteVerifier uses oidc.NewProvider (discovery) and its
// RemoteKeySet, warmed by one verification.
func goOIDCRemoteVerifier(tb testing.TB, ctx context.Context, p *benchkit.Provider, hc *http.Client, warm string) verifyFunc {
	tb.Helper()
	ctx = oidc.ClientContext(ctx, hc)
	prov, err := oidc.NewProvider(ctx, p.Issuer())
	if err != nil {
		tb.Fatal(err)
	}
	v := prov.VerifierContext(ctx, &oidc.Config{ClientID: benchkit.ClientID})
	if _, err := v.Verify(ctx, warm); err != nil {
		tb.Fatal(err)
	}
	return goOIDCVerify(v)
}

// jwxKeySet parses the provider's JWKS document as jwx's jwk.Set.
func jwxKeySet(tb testing.TB) jwk.Set {
	tb.Helper()
	set, err := jwk.Parse(benchkit.JWKS())
	if err != nil {
		tb.Fatal(err)
	}
	return set
}

// jwxParseVerifier is jwx's one-call path: jwt.Parse with the key set
// (key chosen by kid; the JWKS has no alg, so the algorithm is inferred
// from the key and checked against the header) and validation of iss,
// aud, exp/iat/nbf and the nonce claim.
func jwxParseVerifier(tb testing.TB, p *benchkit.Provider) verifyFunc {
	set := jwxKeySet(tb)
	keys := jwt.WithKeySet(set, jws.WithInferAlgorithmFromKey(true))
	iss, aud := jwt.WithIssuer(p.Issuer()), jwt.WithAudience(benchkit.ClientID)
	return func(tok, nonce string) error {
		_, err := jwt.Parse([]byte(tok), keys, jwt.WithValidate(true), iss, aud, jwt.WithClaimValue("nonce", nonce))
		return err
	}
}

// jwxJWSVerifier is jwx's low-level path: jws.Verify with the key already
// chosen and exported from the key set (a cache the application keeps),
// one json.Unmarshal into the floor's claims struct and the same
// iss/aud/exp/nonce comparisons as the floor.
func jwxJWSVerifier(tb testing.TB, p *benchkit.Provider) func(alg string) verifyFunc {
	tb.Helper()
	set := jwxKeySet(tb)
	iss := p.Issuer()
	return func(alg string) verifyFunc {
		_, kid := benchkit.PublicKey(alg)
		key, ok := set.LookupKeyID(kid)
		if !ok {
			tb.Fatalf("jwx: no key %q", kid)
		}
		var raw any
		switch alg {
		case "ES256":
			var ek ecdsa.PublicKey
			raw = &ek
		default:
			var rk rsa.PublicKey
			raw = &rk
		}
		if err := jwk.Export(key, raw); err != nil {
			tb.Fatal(err)
		}
		sa, ok := jwa.LookupSignatureAlgorithm(alg)
		if !ok {
			tb.Fatalf("jwx: alg %s", alg)
		}
		with := jws.WithKey(sa, raw)
		return func(tok, nonce string) error {
			payload, err := jws.Verify([]byte(tok), with)
			if err != nil {
				return err
			}
			var cl benchkit.Claims
			if err := json.Unmarshal(payload, &cl); err != nil {
				return err
			}
			return cl.Check(iss, benchkit.ClientID, nonce)
		}
	}
}

// golangJWTClaims is the struct golang-jwt decodes into: its registered
// claims (which it validates) and the OIDC ones beside them.
type golangJWTClaims struct {
	gojwt.RegisteredClaims
	Azp      string `json:"azp"`
	AuthTime int64  `json:"auth_time"`
	Nonce    string `json:"nonce"`
	AtHash   string `json:"at_hash"`
	Tid      string `json:"tid"`
}

// golangJWTVerifier is golang-jwt's ParseWithClaims on one Parser made
// once with the algorithms, issuer and audience and exp required; the key
// is chosen by kid from a map and the nonce compared by the application.
func golangJWTVerifier(p *benchkit.Provider) verifyFunc {
	k := benchkit.Keys()
	keys := map[string]any{benchkit.RSAKeyID: &k.RSA.PublicKey, benchkit.ECKeyID: &k.EC.PublicKey}
	keyFunc := func(t *gojwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := keys[kid]
		if !ok {
			return nil, fmt.Errorf("golang-jwt: unknown kid %q", kid)
		}
		return key, nil
	}
	parser := gojwt.NewParser(
		gojwt.WithValidMethods(slices.Clone(benchkit.Algs)),
		gojwt.WithIssuer(p.Issuer()), gojwt.WithAudience(benchkit.ClientID),
		gojwt.WithExpirationRequired(),
	)
	return func(tok, nonce string) error {
		var cl golangJWTClaims
		if _, err := parser.ParseWithClaims(tok, &cl, keyFunc); err != nil {
			return err
		}
		if cl.Nonce != nonce {
			return errors.New("golang-jwt: nonce mismatch")
		}
		return nil
	}
}
