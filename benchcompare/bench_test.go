package benchcompare

import (
	"fmt"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/benchkit"
)

// BenchmarkVerify is ID-token verification of benchkit's realistic token
// (16 claims, groups of 10, a kid; RSA 2048 or P-256) by each library,
// after the floor, so one run has every ratio. Rows: floor, ssokit,
// go-oidc/static, go-oidc/remote, jwx-parse, jwx-jws, golang-jwt (see
// libs_test.go for what each includes).
func BenchmarkVerify(b *testing.B) {
	p := benchkit.NewProvider(b)
	libs := libraries(b, p)
	for _, alg := range benchkit.Algs {
		tok := benchkit.Token(alg, p.Issuer(), time.Now())
		for _, lib := range libs {
			verify := lib.verifier(alg)
			b.Run(alg+"/"+lib.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if err := verify(tok, benchkit.Nonce); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCallback is a whole callback against benchkit's provider (its
// token endpoint answers one pre-signed RS256 token response): floor is
// one POST with net/http, one decode and the floor verifier; go-oidc is
// x/oauth2's Exchange, go-oidc's Verify, Claims into the identity struct
// and the nonce check. Sequential and with RunParallel; logins/s and the
// TCP connections the provider accepted during the timed run are
// reported. ssokit's own callback row is in ssoclient's BenchmarkCallback,
// beside the same floor.
func BenchmarkCallback(b *testing.B) {
	floor := func(b *testing.B, parallel bool) {
		p := benchkit.NewProvider(b)
		p.SetToken(benchkit.Token("RS256", p.Issuer(), time.Now()))
		cb := benchkit.NewFloorCallback(p, benchkit.HTTPClient())
		login := func() {
			var cl benchkit.IdentityClaims
			if err := cb.Login(&cl); err != nil {
				panic(err)
			}
		}
		login() // the connection a warm relying party already has
		benchkit.MeasureLogins(b, p, parallel, login)
	}
	goOIDC := func(b *testing.B, parallel bool) {
		p := benchkit.NewProvider(b)
		p.SetToken(benchkit.Token("RS256", p.Issuer(), time.Now()))
		cb := newGoOIDCCallback(b, p)
		login := func() {
			var cl benchkit.IdentityClaims
			if err := cb.login(&cl, benchkit.Nonce); err != nil {
				panic(fmt.Sprint("go-oidc callback: ", err))
			}
		}
		login() // discovery and the JWKS are fetched; the key set is warm
		benchkit.MeasureLogins(b, p, parallel, login)
	}
	b.Run("floor", func(b *testing.B) { floor(b, false) })
	b.Run("go-oidc+x-oauth2", func(b *testing.B) { goOIDC(b, false) })
	b.Run("floor/parallel", func(b *testing.B) { floor(b, true) })
	b.Run("go-oidc+x-oauth2/parallel", func(b *testing.B) { goOIDC(b, true) })
}
