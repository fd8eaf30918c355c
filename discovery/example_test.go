package discovery_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/ssokit/ssokit/discovery"
)

func ExampleNormalizeIssuer() {
	for _, in := range []string{
		"your-org.okta.com",
		"login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
		"https://acme.okta.com/oauth2/default/.well-known/openid-configuration",
		"http://acme.okta.com",
		"http://localhost:8080/realms/dev",
		"https://oauth.id.jumpcloud.com/",
		"ftp://idp.example.com",
	} {
		iss, err := discovery.NormalizeIssuer(in)
		if errors.Is(err, discovery.ErrInvalidIssuer) {
			fmt.Println("refused:", in)
			continue
		}
		fmt.Println(iss)
	}
	// Output:
	// https://your-org.okta.com
	// https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0
	// https://acme.okta.com/oauth2/default
	// https://acme.okta.com
	// http://localhost:8080/realms/dev
	// https://oauth.id.jumpcloud.com/
	// refused: ftp://idp.example.com
}

func ExampleWellKnownURL() {
	fmt.Println(discovery.WellKnownURL("https://oauth.id.jumpcloud.com/"))
	fmt.Println(discovery.WellKnownURL("https://login.microsoftonline.com/common/v2.0"))
	// Output:
	// https://oauth.id.jumpcloud.com/.well-known/openid-configuration
	// https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration
}

func ExampleDetectVendor() {
	for _, iss := range []string{
		"https://login.microsoftonline.com/common/v2.0",
		"acme.okta.com",
		"https://auth.pingone.eu/env/as",
		"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf",
		"https://keycloak.example.com/realms/acme",
		"https://okta.com.evil.net",
	} {
		v := discovery.DetectVendor(iss)
		fmt.Printf("%s (%s)\n", v.Name(), v)
	}
	// Output:
	// Microsoft Entra ID (entra_id)
	// Okta (okta)
	// PingOne (pingone)
	// Amazon Cognito (amazon_cognito)
	// OIDC (oidc)
	// OIDC (oidc)
}

// newProvider starts a minimal OpenID provider on loopback, which
// discovery allows over http for development.
func newProvider() *httptest.Server {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := srv.URL
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]any{
				"issuer":                                u,
				"authorization_endpoint":                u + "/authorize",
				"token_endpoint":                        u + "/token",
				"jwks_uri":                              u + "/jwks",
				"userinfo_endpoint":                     u + "/userinfo",
				"end_session_endpoint":                  u + "/logout",
				"response_types_supported":              []string{"code"},
				"id_token_signing_alg_values_supported": []string{"RS256"},
				"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "private_key_jwt"},
				"code_challenge_methods_supported":      []string{"S256"},
				"tenant_region_scope":                   "EU",
			})
		case "/jwks":
			w.Write([]byte(`{"keys":[{"kty":"RSA","kid":"1","use":"sig","n":"AQAB","e":"AQAB"}]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	return srv
}

func ExampleClient_Discover() {
	srv := newProvider()
	defer srv.Close()

	c := discovery.New(discovery.Config{}) // make one, share it
	meta, err := c.Discover(context.Background(), srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(meta.Issuer == srv.URL)
	fmt.Println(strings.TrimPrefix(meta.TokenEndpoint, srv.URL))
	fmt.Println(meta.TokenEndpointAuthMethodsSupported)

	// Fields Metadata does not have come from Decode.
	var ext struct {
		Region string `json:"tenant_region_scope"`
	}
	if err := meta.Decode(&ext); err == nil {
		fmt.Println(ext.Region)
	}
	// Output:
	// true
	// /token
	// [client_secret_basic private_key_jwt]
	// EU
}

func ExampleClient_Check() {
	srv := newProvider()
	defer srv.Close()

	r := discovery.New(discovery.Config{}).Check(context.Background(), srv.URL+"/.well-known/openid-configuration")
	fmt.Println("ok:", r.OK())
	fmt.Println("vendor:", r.VendorName)
	fmt.Println("keys:", r.JWKSKeys, "signing:", r.JWKSSigningKeys)
	fmt.Println("algorithms:", r.SigningAlgorithms)
	fmt.Println("PKCE S256:", r.PKCES256Supported)
	for _, p := range r.Problems {
		fmt.Println(p.Severity, p.Code)
	}
	// Output:
	// ok: true
	// vendor: OIDC
	// keys: 1 signing: 1
	// algorithms: [RS256]
	// PKCE S256: true
	// warning issuer_not_https
}

func ExampleMetadata_MatchesIssuer() {
	// Microsoft Entra ID's multi-tenant endpoint (…/common/v2.0 or
	// …/organizations/v2.0) publishes a template issuer; Discover accepts
	// it, and MatchesIssuer resolves it with each ID token's tid claim.
	meta := &discovery.Metadata{Issuer: "https://login.microsoftonline.com/{tenantid}/v2.0"}
	const tid = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	fmt.Println(meta.MatchesIssuer("https://login.microsoftonline.com/"+tid+"/v2.0", tid))
	fmt.Println(meta.MatchesIssuer("https://login.microsoftonline.com/"+tid+"/v2.0", "00000000-0000-0000-0000-000000000001"))
	fmt.Println(meta.MatchesIssuer("https://login.microsoftonline.com/contoso/v2.0", "contoso"))

	// Any other issuer must match exactly, trailing slash included.
	jc := &discovery.Metadata{Issuer: "https://oauth.id.jumpcloud.com/"}
	fmt.Println(jc.MatchesIssuer("https://oauth.id.jumpcloud.com/", ""))
	fmt.Println(jc.MatchesIssuer("https://oauth.id.jumpcloud.com", ""))
	// Output:
	// true
	// false
	// false
	// true
	// false
}
