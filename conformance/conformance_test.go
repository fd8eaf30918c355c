package conformance_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// want is a case's expected outcome, one of three kinds:
//   - code set: the sign-in is refused with this code and status, the
//     browser is left at the callback, and no session exists;
//   - subject set: the browser ends signed in as subject, with status;
//   - neither: the browser ends signed out at path, with status.
type want struct {
	status  int
	code    ssoclient.Code
	subject string
	path    string
	// sessions is how many sessions other browsers hold after a refusal
	// (a case that signs in once before its refused step).
	sessions int
}

func refused(code ssoclient.Code) want { return want{status: http.StatusBadRequest, code: code} }

var (
	signedIn   = want{status: http.StatusOK, subject: "alice", path: "/"}
	idTokenBad = refused(ssoclient.CodeIDTokenInvalid)
)

// testCase is one conformance case: a provider misbehaving one way (opts
// at start, faults just before the browser acts), what the browser does
// (run; a whole sign-in by default), the outcome, and further checks.
type testCase struct {
	id     string
	opts   []ssotest.Option
	config func(*ssoclient.Config)
	faults func(r *rp) ssotest.Faults
	run    func(r *rp) result
	// atNew: the case is refused by ssoclient.New, before any Handler
	// exists; want's code and status are the *Error's.
	atNew bool
	want  want
	check func(t *testing.T, r *rp)
}

// f returns a constant faults function.
func f(x ssotest.Faults) func(*rp) ssotest.Faults { return func(*rp) ssotest.Faults { return x } }

// withIDToken edits the ID token before it is signed.
func withIDToken(edit func(header, claims map[string]any)) func(*rp) ssotest.Faults {
	return f(ssotest.Faults{ModifyIDToken: edit})
}

// privateKeyJWT registers the client with a public key and configures the
// application to authenticate with private_key_jwt.
var privateKeyJWT = struct {
	opt    ssotest.Option
	config func(*ssoclient.Config)
}{
	opt: ssotest.WithClient(ssotest.Client{
		ID: "pkjwt-client", AuthMethod: ssotest.AuthPrivateKeyJWT, PublicKey: clientKey().Public(), KeyID: "app-key-1",
	}),
	config: func(c *ssoclient.Config) {
		c.ClientID, c.ClientSecret, c.PrivateKey, c.KeyID = "pkjwt-client", "", clientKey(), "app-key-1"
	},
}

func cases() []testCase {
	return []testCase{
		// ---- Basic RP profile, response_type=code ----
		{
			id:   "rp-response_type-code",
			want: signedIn,
			check: func(t *testing.T, r *rp) {
				authz := r.idp.LastAuthorizeRequest()
				if authz.Get("response_type") != "code" || authz.Has("response_mode") {
					t.Errorf("authorization request %v", authz)
				}
				if !slices.Contains(strings.Fields(authz.Get("scope")), "openid") {
					t.Errorf("scope %q lacks openid", authz.Get("scope"))
				}
				if tr := r.idp.LastTokenRequest(); tr == nil || tr.Form.Get("grant_type") != "authorization_code" {
					t.Errorf("the code was not redeemed: %+v", tr)
				}
			},
		},
		{
			id:     "rp-scope-userinfo-claims",
			faults: f(ssotest.Faults{ThinIDToken: true}),
			want:   signedIn,
			check: func(t *testing.T, r *rp) {
				scope := strings.Fields(r.idp.LastAuthorizeRequest().Get("scope"))
				if !slices.Contains(scope, "profile") || !slices.Contains(scope, "email") {
					t.Errorf("scope %v does not ask for claims", scope)
				}
				if id := r.who(); id.Email != "alice@example.com" || id.Name != "Alice Example" || !id.EmailVerified {
					t.Errorf("userinfo claims not used: %+v", id)
				}
				if n := len(r.seen.to(hostOf(r.idp.Issuer()), "/userinfo")); n != 1 {
					t.Errorf("userinfo asked %d times", n)
				}
			},
		},
		{
			id:     "rp-nonce-invalid",
			faults: f(ssotest.Faults{Nonce: "a-nonce-this-sign-in-never-sent"}),
			want:   refused(ssoclient.CodeNonceMismatch),
		},
		{
			// OIDF requires a nonce only outside the code flow. ssokit
			// always sends one, even in the code flow, and requires it back
			// (see ssokit-nonce-missing).
			id:   "rp-nonce-unless-code-flow",
			want: signedIn,
			check: func(t *testing.T, r *rp) {
				authz := r.idp.LastAuthorizeRequest()
				nonce := authz.Get("nonce")
				if len(nonce) < 43 || nonce == authz.Get("state") {
					t.Errorf("nonce %q: not 256 random bits of its own", nonce)
				}
				if _, c := jwtParts(t, r.idToken()); c["nonce"] != nonce {
					t.Errorf("ID token nonce %v, sent %q", c["nonce"], nonce)
				}
			},
		},
		{
			id:     "ssokit-nonce-missing",
			faults: f(ssotest.Faults{OmitClaims: []string{"nonce"}}),
			want:   refused(ssoclient.CodeNonceMismatch),
		},
		{
			id:   "rp-token_endpoint-client_secret_basic",
			opts: []ssotest.Option{ssotest.WithClient(ssotest.Client{ID: "basic-client", Secret: "s3:cr/t %", AuthMethod: ssotest.AuthClientSecretBasic})},
			config: func(c *ssoclient.Config) {
				c.ClientID, c.ClientSecret, c.AuthMethod = "basic-client", "s3:cr/t %", ssoclient.AuthClientSecretBasic
			},
			want: signedIn,
			check: func(t *testing.T, r *rp) {
				tr := r.idp.LastTokenRequest()
				if tr.AuthMethod != ssotest.AuthClientSecretBasic || tr.Form.Has("client_secret") {
					t.Errorf("token request authenticated by %s, form %v", tr.AuthMethod, tr.Form)
				}
			},
		},
		{
			id:   "rp-token_endpoint-client_secret_post",
			opts: []ssotest.Option{ssotest.WithClient(ssotest.Client{ID: "post-client", Secret: "s", AuthMethod: ssotest.AuthClientSecretPost})},
			config: func(c *ssoclient.Config) {
				c.ClientID, c.ClientSecret, c.AuthMethod = "post-client", "s", ssoclient.AuthClientSecretPost
			},
			want: signedIn,
			check: func(t *testing.T, r *rp) {
				tr := r.idp.LastTokenRequest()
				if tr.AuthMethod != ssotest.AuthClientSecretPost || tr.Header.Get("Authorization") != "" {
					t.Errorf("token request authenticated by %s, Authorization %q", tr.AuthMethod, tr.Header.Get("Authorization"))
				}
			},
		},
		{
			id:     "rp-token_endpoint-private_key_jwt",
			opts:   []ssotest.Option{privateKeyJWT.opt},
			config: privateKeyJWT.config,
			want:   signedIn,
			check: func(t *testing.T, r *rp) {
				tr := r.idp.LastTokenRequest()
				if tr.AuthMethod != ssotest.AuthPrivateKeyJWT || tr.ClientID != "pkjwt-client" || tr.Form.Has("client_secret") {
					t.Errorf("token request %s for %s, form %v", tr.AuthMethod, tr.ClientID, tr.Form)
				}
			},
		},
		{
			// RFC 7523 §3 and OIDC Core §9, checked on two assertions.
			id:     "ssokit-private_key_jwt-assertion",
			opts:   []ssotest.Option{privateKeyJWT.opt},
			config: privateKeyJWT.config,
			run: func(r *rp) result {
				r.signIn()
				r.mu.Lock()
				r.lastIDToken = ""
				r.mu.Unlock()
				r.browser = newBrowser(r.idp)
				first := r.idp.LastTokenRequest()
				res := r.signIn()
				second := r.idp.LastTokenRequest()
				if first.AssertionClaims["jti"] == second.AssertionClaims["jti"] {
					r.t.Errorf("two assertions share the jti %v", first.AssertionClaims["jti"])
				}
				return res
			},
			want: signedIn,
			check: func(t *testing.T, r *rp) {
				tr := r.idp.LastTokenRequest()
				h, c := tr.AssertionHeader, tr.AssertionClaims
				if h["alg"] != "RS256" || h["kid"] != "app-key-1" {
					t.Errorf("assertion header %v", h)
				}
				if c["iss"] != "pkjwt-client" || c["sub"] != "pkjwt-client" || c["aud"] != r.idp.Discovery()["token_endpoint"] {
					t.Errorf("assertion iss %v sub %v aud %v", c["iss"], c["sub"], c["aud"])
				}
				exp, _ := c["exp"].(float64)
				iat, _ := c["iat"].(float64)
				if jti, _ := c["jti"].(string); len(jti) < 16 || exp <= iat || exp-iat > 300 {
					t.Errorf("assertion jti %q lives %v s", jti, exp-iat)
				}
			},
		},
		{
			id:     "ssokit-private_key_jwt-aud-issuer",
			opts:   []ssotest.Option{privateKeyJWT.opt},
			config: func(c *ssoclient.Config) { privateKeyJWT.config(c); c.AssertionAudience = ssoclient.AudienceIssuer },
			want:   signedIn,
			check: func(t *testing.T, r *rp) {
				if aud := r.idp.LastTokenRequest().AssertionClaims["aud"]; aud != r.idp.Issuer() {
					t.Errorf("assertion aud %v", aud)
				}
			},
		},
		{
			id:     "ssokit-private_key_jwt-refused",
			opts:   []ssotest.Option{ssotest.WithClient(ssotest.Client{ID: "pkjwt-client", AuthMethod: ssotest.AuthPrivateKeyJWT, PublicKey: forgerKey().key.Public()})},
			config: privateKeyJWT.config,
			want:   refused(ssoclient.CodeInvalidClient),
		},

		// ---- ID token ----
		{
			id:     "rp-id_token-aud",
			faults: f(ssotest.Faults{IDTokenAudience: []string{"another-client"}}),
			want:   idTokenBad,
		},
		{
			id:     "oidcc-client-test-missing-aud",
			faults: f(ssotest.Faults{OmitClaims: []string{"aud"}}),
			want:   idTokenBad,
		},
		{
			id:     "ssokit-id_token-aud-untrusted-extra",
			faults: f(ssotest.Faults{IDTokenAudience: []string{ssotest.DefaultClientID, "another-client"}}),
			want:   idTokenBad,
		},
		{
			id:     "ssokit-id_token-azp-other",
			faults: withIDToken(func(_, c map[string]any) { c["azp"] = "another-client" }),
			want:   idTokenBad,
		},
		{
			id:     "rp-id_token-iat",
			faults: f(ssotest.Faults{OmitClaims: []string{"iat"}}),
			want:   idTokenBad,
		},
		{
			id:     "ssokit-id_token-iat-future",
			faults: f(ssotest.Faults{TimeShift: time.Hour}),
			want:   idTokenBad,
		},
		{
			id:     "ssokit-id_token-exp-missing",
			faults: f(ssotest.Faults{OmitClaims: []string{"exp"}}),
			want:   idTokenBad,
		},
		{
			id:     "ssokit-id_token-expired",
			faults: f(ssotest.Faults{TimeShift: -2 * time.Hour}),
			want:   idTokenBad,
		},
		{
			id:     "rp-id_token-sub",
			faults: f(ssotest.Faults{OmitClaims: []string{"sub"}}),
			want:   idTokenBad,
		},
		{
			id:     "rp-id_token-issuer-mismatch",
			faults: f(ssotest.Faults{IDTokenIssuer: "https://op.evil.example"}),
			want:   refused(ssoclient.CodeIssuerMismatch),
		},
		{
			id: "rp-id_token-kid-absent-single-jwks",
			faults: f(ssotest.Faults{
				ModifyIDToken: func(h, _ map[string]any) { delete(h, "kid") },
				ModifyJWKS: func(keys []map[string]any) []map[string]any {
					delete(keys[0], "kid")
					return keys
				},
			}),
			want: signedIn,
			check: func(t *testing.T, r *rp) {
				if h, _ := jwtParts(t, r.idToken()); h["kid"] != nil {
					t.Errorf("the ID token has a kid: %v", h)
				}
			},
		},
		{
			// OIDF accepts either refusing or trying every key; ssokit
			// refuses: which key signed must never be a guess.
			id: "rp-id_token-kid-absent-multiple-jwks",
			faults: func(r *rp) ssotest.Faults {
				extra := otherKeyJWK(r.t, "RS256", "")
				return ssotest.Faults{
					ModifyIDToken: func(h, _ map[string]any) { delete(h, "kid") },
					ModifyJWKS: func(keys []map[string]any) []map[string]any {
						delete(keys[0], "kid")
						return append(keys, extra)
					},
				}
			},
			want: idTokenBad,
		},
		{
			// OIDF allows accepting an unsigned ID token from the token
			// endpoint; ssokit never accepts alg none.
			id:     "rp-id_token-sig-none",
			faults: f(ssotest.Faults{AlgNone: true}),
			want:   idTokenBad,
		},
		{id: "rp-id_token-sig-rs256", want: signedIn, check: wantAlg("RS256")},
		{id: "rp-id_token-sig-es256", opts: []ssotest.Option{ssotest.WithSigningAlg("ES256")}, want: signedIn, check: wantAlg("ES256")},
		{id: "ssokit-id_token-sig-ps256", opts: []ssotest.Option{ssotest.WithSigningAlg("PS256")}, want: signedIn, check: wantAlg("PS256")},
		{
			id:     "rp-id_token-bad-sig-rs256",
			faults: f(ssotest.Faults{BadSignature: true}),
			want:   idTokenBad,
		},
		{
			id:     "rp-id_token-bad-sig-es256",
			opts:   []ssotest.Option{ssotest.WithSigningAlg("ES256")},
			faults: f(ssotest.Faults{BadSignature: true}),
			want:   idTokenBad,
		},
		{
			// OIDF's rp-id_token-sig-hs256 expects an RP registered for
			// HS256 to accept it. ssokit allows asymmetric algorithms only,
			// so even a valid HMAC keyed with the client secret is refused.
			id:     "rp-id_token-sig-hs256",
			faults: f(ssotest.Faults{HMACKey: []byte(ssotest.DefaultClientSecret)}),
			want:   idTokenBad,
		},
		{
			id:     "rp-id_token-bad-sig-hs256",
			faults: f(ssotest.Faults{HMACKey: []byte("not-the-client-secret")}),
			want:   idTokenBad,
		},
		{
			// The algorithm-confusion attack: HS256 keyed with the
			// provider's public key, which anyone can fetch.
			id:     "ssokit-jws-hs256-public-key",
			faults: func(r *rp) ssotest.Faults { return ssotest.Faults{HMACKey: r.publishedKeyPEM()} },
			want:   idTokenBad,
		},
		{
			id:     "rp-id_token-bad-at_hash",
			faults: withIDToken(func(_, c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }),
			want:   idTokenBad,
		},
		{
			// In the code flow at_hash is optional (OIDC Core §3.1.3.6).
			id:     "oidcc-client-test-missing-athash",
			faults: f(ssotest.Faults{OmitClaims: []string{"at_hash"}}),
			want:   signedIn,
		},
		{
			id:     "ssokit-id_token-typ-at+jwt",
			faults: withIDToken(func(h, _ map[string]any) { h["typ"] = "at+jwt" }),
			want:   idTokenBad,
		},

		// ---- RFC 8725 (JWT BCP) and key selection ----
		{
			// A valid RS384 signature, but RS384 is not in the allow-list
			// (default RS256, PS256, ES256).
			id:   "ssokit-jws-alg-not-allowed",
			opts: []ssotest.Option{ssotest.WithSigningAlg("RS384")},
			want: idTokenBad,
		},
		{
			id:     "ssokit-jws-alg-header-mismatch",
			faults: withIDToken(func(h, _ map[string]any) { h["alg"] = "PS256" }),
			want:   idTokenBad,
		},
		{
			id: "ssokit-jws-crit-unknown",
			faults: withIDToken(func(h, _ map[string]any) {
				h["crit"] = []string{"urn:example:must-know"}
				h["urn:example:must-know"] = true
			}),
			want: idTokenBad,
		},
		{
			id:     "ssokit-jws-unpublished-key",
			faults: f(ssotest.Faults{SignWith: forgerKey().key}),
			want:   idTokenBad,
		},
		{
			id: "ssokit-jws-embedded-jwk",
			faults: f(ssotest.Faults{SignWith: forgerKey().key, ModifyIDToken: func(h, _ map[string]any) {
				h["kid"], h["jwk"] = forgerKey().kid, forgerKey().jwk
			}}),
			want: idTokenBad,
		},
		{
			id: "ssokit-jws-x5c",
			faults: f(ssotest.Faults{SignWith: forgerKey().key, ModifyIDToken: func(h, _ map[string]any) {
				h["kid"], h["x5c"] = forgerKey().kid, []string{base64.StdEncoding.EncodeToString(forgerKey().cert)}
			}}),
			want: idTokenBad,
		},
		{
			id: "ssokit-jws-jku",
			faults: func(r *rp) ssotest.Faults {
				e := r.elsewhere()
				e.jwks, _ = json.Marshal(map[string]any{"keys": []any{forgerKey().jwk}})
				return ssotest.Faults{SignWith: forgerKey().key, ModifyIDToken: func(h, _ map[string]any) {
					h["kid"], h["jku"] = forgerKey().kid, e.srv.URL+"/jwks"
				}}
			},
			want:  idTokenBad,
			check: neverFetchedElsewhere,
		},
		{
			id: "ssokit-jws-x5u",
			faults: func(r *rp) ssotest.Faults {
				e := r.elsewhere()
				e.cert = pemCert(forgerKey().cert)
				return ssotest.Faults{SignWith: forgerKey().key, ModifyIDToken: func(h, _ map[string]any) {
					h["kid"], h["x5u"] = forgerKey().kid, e.srv.URL+"/cert.pem"
				}}
			},
			want:  idTokenBad,
			check: neverFetchedElsewhere,
		},
		{
			// The signing key is marked for encryption; another key keeps
			// the set usable.
			id: "ssokit-jwk-use-enc",
			faults: func(r *rp) ssotest.Faults {
				other := otherKeyJWK(r.t, "ES256", "other-sig-key")
				return ssotest.Faults{ModifyJWKS: func(keys []map[string]any) []map[string]any {
					keys[0]["use"] = "enc"
					return append(keys, other)
				}}
			},
			want: idTokenBad,
		},
		{
			// The signing key is published for another algorithm.
			id: "ssokit-jwk-alg-mismatch",
			faults: func(r *rp) ssotest.Faults {
				other := otherKeyJWK(r.t, "ES256", "other-sig-key")
				return ssotest.Faults{ModifyJWKS: func(keys []map[string]any) []map[string]any {
					keys[0]["alg"] = "RS512"
					return append(keys, other)
				}}
			},
			want: idTokenBad,
		},
		{
			id: "oidcc-client-test-ignores-unparseable-key-in-jwks",
			faults: f(ssotest.Faults{ModifyJWKS: func(keys []map[string]any) []map[string]any {
				return append(keys,
					map[string]any{"kty": "AKP", "alg": "ML-DSA-NONEXISTENT", "kid": "pq-key", "pub": "AAAA"},
					map[string]any{"kty": "MADE-UP", "kid": "odd-key", "use": "sig"},
				)
			}}),
			want: signedIn,
		},

		// ---- UserInfo ----
		{
			id:     "rp-userinfo-bad-sub-claim",
			faults: f(ssotest.Faults{ThinIDToken: true, UserinfoSubject: "mallory"}),
			want:   refused(ssoclient.CodeUserinfoInvalid),
		},
		{
			id:     "rp-userinfo-bearer-header",
			faults: f(ssotest.Faults{ThinIDToken: true}),
			want:   signedIn,
			check: func(t *testing.T, r *rp) {
				reqs := r.seen.to(hostOf(r.idp.Issuer()), "/userinfo")
				if len(reqs) != 1 {
					t.Fatalf("%d userinfo requests", len(reqs))
				}
				req := reqs[0]
				tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
				if req.Method != http.MethodGet || !ok || len(tok) < 20 || req.URL.RawQuery != "" {
					t.Errorf("userinfo request %s %s, Authorization %q", req.Method, req.URL, req.Header.Get("Authorization"))
				}
			},
		},
		{
			id:     "rp-userinfo-sig",
			faults: f(ssotest.Faults{ThinIDToken: true, SignUserinfo: true}),
			want:   signedIn,
			check: func(t *testing.T, r *rp) {
				reqs := r.seen.to(hostOf(r.idp.Issuer()), "/userinfo")
				if len(reqs) != 1 || reqs[0].Response == nil || reqs[0].Response.Header.Get("Content-Type") != "application/jwt" {
					t.Fatalf("%d userinfo requests, none answered with a JWT", len(reqs))
				}
				if id := r.who(); id.Email != "alice@example.com" || id.Name != "Alice Example" {
					t.Errorf("signed userinfo not used as it should be: %+v", id)
				}
			},
		},
		{
			id:     "ssokit-userinfo-sig-aud-other",
			faults: f(ssotest.Faults{ThinIDToken: true, SignUserinfo: true, ModifyUserinfo: func(c map[string]any) { c["aud"] = "another-client" }}),
			want:   refused(ssoclient.CodeUserinfoInvalid),
		},
		{
			id:     "ssokit-userinfo-sig-iss-other",
			faults: f(ssotest.Faults{ThinIDToken: true, SignUserinfo: true, ModifyUserinfo: func(c map[string]any) { c["iss"] = "https://op.evil.example" }}),
			want:   refused(ssoclient.CodeUserinfoInvalid),
		},

		// ---- Claim types ----
		{
			// ssokit neither resolves nor trusts aggregated claims: the
			// source JWT is not verified and its claims are not used.
			id:     "rp-claims-aggregated",
			config: func(c *ssoclient.Config) { c.AlwaysFetchUserinfo = true },
			faults: func(r *rp) ssotest.Faults {
				src := r.idp.SignJWT(map[string]any{"iss": r.idp.Issuer(), "phone_number": "+1 555 0100", "address": map[string]any{"country": "US"}})
				return ssotest.Faults{ModifyUserinfo: func(c map[string]any) {
					c["_claim_names"] = map[string]any{"phone_number": "src1", "address": "src1"}
					c["_claim_sources"] = map[string]any{"src1": map[string]any{"JWT": src}}
				}}
			},
			want: signedIn,
			check: func(t *testing.T, r *rp) {
				c := r.who().Claims.Map()
				if c["_claim_sources"] == nil {
					t.Fatalf("the userinfo answer with aggregated claims was not read")
				}
				if c["phone_number"] != nil || c["address"] != nil {
					t.Errorf("aggregated claims were promoted: %v", c)
				}
			},
		},
		{
			// ssokit never calls a distributed claim's endpoint.
			id:     "rp-claims-distributed",
			config: func(c *ssoclient.Config) { c.AlwaysFetchUserinfo = true },
			faults: func(r *rp) ssotest.Faults {
				e := r.elsewhere()
				e.claim = []byte(r.idp.SignJWT(map[string]any{"iss": r.idp.Issuer(), "phone_number": "+1 555 0100"}))
				return ssotest.Faults{ModifyUserinfo: func(c map[string]any) {
					c["_claim_names"] = map[string]any{"phone_number": "src1"}
					c["_claim_sources"] = map[string]any{"src1": map[string]any{"endpoint": e.srv.URL + "/claims", "access_token": "ksj3n283dke"}}
				}}
			},
			want: signedIn,
			check: func(t *testing.T, r *rp) {
				neverFetchedElsewhere(t, r)
				c := r.who().Claims.Map()
				if c["_claim_sources"] == nil {
					t.Fatalf("the userinfo answer with distributed claims was not read")
				}
				if c["phone_number"] != nil {
					t.Errorf("a distributed claim was used: %v", c)
				}
			},
		},

		// ---- Config RP profile ----
		{
			// The endpoints discovery names, and only those, are used:
			// each carries a marker the provider's defaults lack.
			id: "rp-discovery-openid-configuration",
			opts: []ssotest.Option{ssotest.WithFaults(ssotest.Faults{ModifyDiscovery: func(d map[string]any) {
				for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint"} {
					d[k] = d[k].(string) + "?via=discovery"
				}
			}})},
			config: func(c *ssoclient.Config) { c.AlwaysFetchUserinfo = true },
			want:   signedIn,
			check: func(t *testing.T, r *rp) {
				if n := r.idp.Requests(ssotest.EndpointDiscovery); n != 1 {
					t.Errorf("discovery fetched %d times", n)
				}
				if r.sso.Issuer() != r.idp.Issuer() {
					t.Errorf("issuer %q", r.sso.Issuer())
				}
				if r.idp.LastAuthorizeRequest().Get("via") != "discovery" {
					t.Errorf("the authorization request did not use the discovered endpoint")
				}
				host := hostOf(r.idp.Issuer())
				for _, p := range []string{"/token", "/userinfo"} {
					reqs := r.seen.to(host, p)
					if len(reqs) != 1 || reqs[0].URL.Query().Get("via") != "discovery" {
						t.Errorf("%s: %d requests, not to the discovered endpoint", p, len(reqs))
					}
				}
			},
		},
		{
			id: "rp-discovery-jwks_uri-keys",
			opts: []ssotest.Option{ssotest.WithFaults(ssotest.Faults{ModifyDiscovery: func(d map[string]any) {
				d["jwks_uri"] = d["jwks_uri"].(string) + "?set=discovered"
			}})},
			want: signedIn,
			check: func(t *testing.T, r *rp) {
				reqs := r.seen.to(hostOf(r.idp.Issuer()), "/jwks")
				if len(reqs) != 1 || reqs[0].URL.Query().Get("set") != "discovered" {
					t.Errorf("%d JWKS requests, not to the discovered jwks_uri", len(reqs))
				}
			},
		},
		{
			id:    "rp-discovery-issuer-not-matching-config",
			opts:  []ssotest.Option{ssotest.WithFaults(ssotest.Faults{DiscoveryIssuer: "https://op.evil.example"})},
			atNew: true,
			want:  refused(ssoclient.CodeIssuerMismatch),
		},
		{
			id: "rp-key-rotation-op-sign-key",
			run: func(r *rp) result {
				if res := r.signIn(); res.status != http.StatusOK || r.who() == nil {
					r.t.Fatalf("first sign-in: %d %s", res.status, clip(res.body))
				}
				r.idp.RotateKeys(0)
				r.browser = newBrowser(r.idp)
				return r.signIn()
			},
			want:  signedIn,
			check: rotated,
		},
		{
			// Rotated between the authorization and the token request:
			// the ID token is the first thing the new key signs.
			id: "rp-key-rotation-op-sign-key-native",
			run: func(r *rp) result {
				if res := r.signIn(); res.status != http.StatusOK || r.who() == nil {
					r.t.Fatalf("first sign-in: %d %s", res.status, clip(res.body))
				}
				r.browser = newBrowser(r.idp)
				cb := r.callbackURL()
				r.idp.RotateKeys(0)
				return r.get(cb)
			},
			want:  signedIn,
			check: rotated,
		},

		// ---- RP-initiated logout ----
		{
			id:   "rp-init-logout",
			run:  signInThenLogout,
			want: want{status: http.StatusOK, path: "/"},
			check: func(t *testing.T, r *rp) {
				es := r.idp.LastEndSessionRequest()
				if es.Get("client_id") != ssotest.DefaultClientID || es.Get("post_logout_redirect_uri") != r.srv.URL+"/" || len(es.Get("state")) < 16 {
					t.Errorf("end_session request %v", es)
				}
				hint := es.Get("id_token_hint")
				if hint == "" || hint != r.idToken() {
					t.Errorf("id_token_hint is not the session's ID token")
				}
				if _, err := r.sso.VerifyIDToken(context.Background(), hint, ""); err != nil {
					t.Errorf("id_token_hint does not verify: %v", err)
				}
			},
		},
		{
			id:     "rp-init-logout-other-state",
			faults: f(ssotest.Faults{PostLogoutState: "a-state-ssokit-never-sent"}),
			run:    signInThenLogout,
			want:   want{status: http.StatusOK, path: "/"},
			check:  landedWithState("a-state-ssokit-never-sent"),
		},
		{
			id:     "rp-init-logout-no-state",
			faults: f(ssotest.Faults{OmitPostLogoutState: true}),
			run:    signInThenLogout,
			want:   want{status: http.StatusOK, path: "/"},
			check:  landedWithState(""),
		},

		// ---- RFC 9207, PKCE, state ----
		{
			id:     "ssokit-rfc9207-iss-missing",
			faults: f(ssotest.Faults{OmitIssParameter: true}),
			want:   refused(ssoclient.CodeIssuerMismatch),
		},
		{
			id:     "ssokit-rfc9207-iss-other-issuer",
			faults: f(ssotest.Faults{IssParameter: "https://op.evil.example"}),
			want:   refused(ssoclient.CodeIssuerMismatch),
		},
		{
			id: "ssokit-rfc9207-iss-not-advertised",
			opts: []ssotest.Option{ssotest.WithFaults(ssotest.Faults{OmitIssParameter: true, ModifyDiscovery: func(d map[string]any) {
				delete(d, "authorization_response_iss_parameter_supported")
			}})},
			want: signedIn,
		},
		{
			id: "ssokit-pkce-s256",
			// The provider lists plain too; ssokit still sends S256.
			want: signedIn,
			check: func(t *testing.T, r *rp) {
				authz, tr := r.idp.LastAuthorizeRequest(), r.idp.LastTokenRequest()
				verifier := tr.Form.Get("code_verifier")
				sum := sha256.Sum256([]byte(verifier))
				if authz.Get("code_challenge_method") != "S256" || authz.Get("code_challenge") != b64(sum[:]) || len(verifier) < 43 {
					t.Errorf("PKCE: method %q, challenge %q, verifier of %d characters",
						authz.Get("code_challenge_method"), authz.Get("code_challenge"), len(verifier))
				}
			},
		},
		{
			// A callback replayed with the attempt cookie it was issued
			// with, in another browser, after it succeeded once.
			id: "ssokit-state-replay",
			run: func(r *rp) result {
				cb := r.callbackURL()
				saved := r.browser.Jar.Cookies(r.srvURL())
				if res := r.get(cb); res.status != http.StatusOK {
					r.t.Fatalf("first callback: %d %s", res.status, clip(res.body))
				}
				r.browser = newBrowser(r.idp)
				r.browser.Jar.SetCookies(r.srvURL(), saved)
				return r.get(cb)
			},
			want: want{status: http.StatusBadRequest, code: ssoclient.CodeAttemptReplayed, sessions: 1},
		},
		{
			// Login CSRF: a callback from a sign-in this browser never
			// started.
			id: "ssokit-state-other-browser",
			run: func(r *rp) result {
				cb := r.callbackURL()
				r.browser = newBrowser(r.idp)
				return r.get(cb)
			},
			want: refused(ssoclient.CodeStateInvalid),
		},
	}
}

func wantAlg(alg string) func(*testing.T, *rp) {
	return func(t *testing.T, r *rp) {
		if h, _ := jwtParts(t, r.idToken()); h["alg"] != alg {
			t.Errorf("signed in with a %v ID token, want %s", h["alg"], alg)
		}
	}
}

func rotated(t *testing.T, r *rp) {
	if n := len(r.seen.to(hostOf(r.idp.Issuer()), "/jwks")); n != 2 {
		t.Errorf("JWKS fetched %d times, want 2 (cold, then for the new kid)", n)
	}
	if h, _ := jwtParts(t, r.idToken()); h["kid"] != r.idp.KeyID() {
		t.Errorf("the second ID token is not signed by the new key")
	}
}

func neverFetchedElsewhere(t *testing.T, r *rp) {
	if n := r.elsewhere().hits.Load(); n != 0 {
		t.Errorf("the relying party fetched a URL the token or claims named, %d times", n)
	}
}

func signInThenLogout(r *rp) result {
	if res := r.signIn(); res.status != http.StatusOK || r.who() == nil {
		r.t.Fatalf("sign-in: %d %s", res.status, clip(res.body))
	}
	res := r.logout()
	r.landed = res.url
	return res
}

// landedWithState checks the state the provider sent back to the
// post-logout page ("" for none): ssokit's page does not depend on it.
func landedWithState(state string) func(*testing.T, *rp) {
	return func(t *testing.T, r *rp) {
		if got, ok := r.landed.Query()["state"]; (state == "" && ok) || (state != "" && (len(got) != 1 || got[0] != state)) {
			t.Errorf("landed at %s, want state %q", r.landed, state)
		}
	}
}

func pemCert(der []byte) []byte {
	return []byte("-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END CERTIFICATE-----\n")
}

// TestConformance runs every case against its own provider and
// application.
func TestConformance(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range cases() {
		if seen[tc.id] {
			t.Fatalf("case id %s twice", tc.id)
		}
		seen[tc.id] = true
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			r := start(t, tc.opts, tc.config)
			if tc.atNew {
				var e *ssoclient.Error
				if !errors.As(r.newErr, &e) || e.Code != tc.want.code || e.Status != tc.want.status {
					t.Fatalf("New: %v; want code %s, status %d", r.newErr, tc.want.code, tc.want.status)
				}
				if r.sso != nil {
					t.Fatalf("New returned a Client with its error")
				}
				return
			}
			if r.newErr != nil {
				t.Fatalf("New: %v", r.newErr)
			}
			if tc.faults != nil {
				r.idp.SetFaults(tc.faults(r))
			}
			run := tc.run
			if run == nil {
				run = (*rp).signIn
			}
			res := run(r)
			checkOutcome(t, r, res, tc.want)
			if tc.check != nil && !t.Failed() {
				tc.check(t, r)
			}
		})
	}
}

func checkOutcome(t *testing.T, r *rp, res result, w want) {
	t.Helper()
	switch {
	case w.code != "":
		var body struct {
			Error string `json:"error"`
		}
		_ = json.Unmarshal([]byte(res.body), &body)
		if res.status != w.status || body.Error != string(w.code) || res.url.Path != "/auth/sso/callback" {
			t.Fatalf("got %d %q at %s (%s); want %d %s at the callback", res.status, body.Error, res.url.Path, clip(res.body), w.status, w.code)
		}
		if id := r.who(); id != nil {
			t.Fatalf("the refused sign-in left %q signed in", id.Subject)
		}
		if n := r.sessions.Len(); n != w.sessions {
			t.Fatalf("%d sessions stored, want %d: the refused sign-in stored one", n, w.sessions)
		}
	case w.subject != "":
		if res.status != w.status || res.url.Path != w.path {
			t.Fatalf("got %d at %s (%s); want %d at %s", res.status, res.url.Path, clip(res.body), w.status, w.path)
		}
		if id := r.who(); id == nil || id.Subject != w.subject || id.Issuer != r.idp.Issuer() {
			t.Fatalf("signed in as %+v; want %s", id, w.subject)
		}
	default:
		if res.status != w.status || res.url.Host != r.srvURL().Host || res.url.Path != w.path {
			t.Fatalf("got %d at %s (%s); want %d at %s", res.status, res.url, clip(res.body), w.status, w.path)
		}
		if id := r.who(); id != nil {
			t.Fatalf("%q is still signed in", id.Subject)
		}
		if n := r.sessions.Len(); n != 0 {
			t.Fatalf("%d sessions remain", n)
		}
	}
}
