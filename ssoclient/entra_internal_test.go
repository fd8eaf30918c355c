package ssoclient

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ssokit/ssokit/discovery"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// Entra's multi-tenant endpoints (…/common/v2.0, …/organizations/v2.0)
// publish the issuer template https://login.microsoftonline.com/{tenantid}/v2.0.
// A token's iss must then be the template filled with the token's own tid.
// The test points a Client at ssotest and gives its provider the metadata
// discovery returns for Entra's common endpoint, since a test cannot reach
// login.microsoftonline.com.
func TestEntraMultiTenantIssuer(t *testing.T) {
	idp := ssotest.New(t)
	c, err := New(context.Background(), Config{
		Issuer: idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL: "http://localhost/auth/sso/callback", HTTPClient: idp.HTTPClient(),
	})
	if err != nil {
		t.Fatal(err)
	}
	const template = "https://login.microsoftonline.com/{tenantid}/v2.0"
	c.prov.issuer = template
	c.prov.meta = &discovery.Metadata{Issuer: template}

	const tid = "9188040d-6c67-4c5b-b112-36a304b66dad"
	const other = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tenantIss := "https://login.microsoftonline.com/" + tid + "/v2.0"
	token := func(iss, tid string) string {
		now := time.Now().Unix()
		cl := map[string]any{
			"iss": iss, "sub": "s", "aud": ssotest.DefaultClientID, "iat": now, "exp": now + 300, "nonce": "n",
		}
		if tid != "" {
			cl["tid"] = tid
		}
		return idp.SignJWT(cl)
	}
	if _, err := c.VerifyIDToken(context.Background(), token(tenantIss, tid), "n"); err != nil {
		t.Fatalf("a token of tenant %s with its own tid: %v", tid, err)
	}
	for name, tok := range map[string]string{
		"tid of another tenant":   token(tenantIss, other),
		"no tid":                  token(tenantIss, ""),
		"tid not a GUID":          token("https://login.microsoftonline.com/evil/v2.0", "evil"),
		"the template itself":     token(template, tid),
		"another host":            token("https://evil.example/"+tid+"/v2.0", tid),
		"v1 issuer of the tenant": token("https://sts.windows.net/"+tid+"/", tid),
	} {
		_, err := c.VerifyIDToken(context.Background(), tok, "n")
		if !errors.Is(err, &Error{Code: CodeIssuerMismatch}) {
			t.Errorf("%s: got %v; want issuer_mismatch", name, err)
		}
	}

	// RFC 9207's iss in the authorization response: any tenant's issuer
	// fits the template; nothing else does.
	for iss, want := range map[string]bool{
		tenantIss: true,
		"https://login.microsoftonline.com/" + other + "/v2.0": true,
		template: false,
		"https://login.microsoftonline.com/common/v2.0":        false,
		"https://login.microsoftonline.com/" + tid + "/v2.0/x": false,
		"https://evil.example/" + tid + "/v2.0":                false,
	} {
		if got := c.matchesAuthorizationIssuer(c.prov, iss); got != want {
			t.Errorf("authorization response iss %q accepted = %v; want %v", iss, got, want)
		}
	}
}
