package discovery

import "testing"

func TestDetectVendor(t *testing.T) {
	tests := []struct {
		issuer string
		want   Vendor
	}{
		{"https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", VendorEntraID},
		{"login.microsoftonline.com/common/v2.0", VendorEntraID},
		{"https://LOGIN.MicrosoftOnline.com/x/v2.0", VendorEntraID},
		{"https://accounts.google.com", VendorGoogle},
		{"accounts.google.com", VendorGoogle},
		{"https://acme.okta.com", VendorOkta},
		{"https://acme.okta.com/oauth2/default", VendorOkta},
		{"https://ACME.OKTA.COM", VendorOkta},
		{"https://acme.oktapreview.com", VendorOkta},
		{"https://acme.okta.com/.well-known/openid-configuration", VendorOkta},
		{"https://acme.auth0.com/", VendorAuth0},
		{"your-tenant.us.auth0.com", VendorAuth0},
		{"https://auth.pingone.com/0a7af83d-4ed9-4d1a-8b3c-2a0a6f6e2d1c/as", VendorPingOne},
		{"https://auth.pingone.eu/env/as", VendorPingOne},
		{"https://auth.pingone.ca/env/as", VendorPingOne},
		{"https://auth.pingone.asia/env/as", VendorPingOne},
		{"https://auth.pingone.com.au/env/as", VendorPingOne},
		{"https://auth.pingone.sg/env/as", VendorPingOne},
		{"https://sso.pingidentity.com", VendorPingIdentity},
		{"https://acme.onelogin.com/oidc/2", VendorOneLogin},
		{"https://oauth.id.jumpcloud.com/", VendorJumpCloud},
		{"https://acme.auth.us-east-1.amazoncognito.com", VendorCognito},
		{"https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf", VendorCognito},
		{"https://acme.ice.ibmcloud.com/oidc/endpoint/default", VendorIBMVerify},
		{"https://us-south.appid.cloud.ibm.com/oauth/v4/tenant", VendorIBMVerify},
		{"https://login.microsoftonline.us/tenant/v2.0", VendorEntraID},
		{"https://login.partner.microsoftonline.cn/tenant/v2.0", VendorEntraID},
		{"https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/", VendorEntraID},
		{"https://acme.ciamlogin.com/tenant/v2.0", VendorEntraID},
		{"https://acme.b2clogin.com/tenant/b2c_1_signin/v2.0", VendorEntraID},
		{"https://acme.okta-emea.com", VendorOkta},
		{"https://acme.okta-gov.com", VendorOkta},
		{"https://acme.verify.ibm.com/oidc/endpoint/default", VendorIBMVerify},
		{"https://idcs-123.identity.oraclecloud.com", VendorOracleIDCS},
		{"https://sso-abc.duosecurity.com/oidc/x", VendorDuo},

		// Generic.
		{"https://keycloak.example.com/realms/acme", VendorOIDC},
		{"https://auth.acme.com", VendorOIDC}, // Okta on a custom domain
		{"http://127.0.0.1:5556/dex", VendorOIDC},
		{"", VendorOIDC},
		{"ftp://acme.okta.com", VendorOIDC},
		{"https://user@acme.okta.com", VendorOIDC},

		// Look-alikes: not on a label boundary, or the vendor's domain
		// used as a subdomain of another.
		{"https://evil-okta.com", VendorOIDC},
		{"https://evilokta.com", VendorOIDC},
		{"https://acme.evilokta.com", VendorOIDC},
		{"https://acme.okta-emea.com.evil.net", VendorOIDC},
		{"https://evilsts.windows.net", VendorOIDC},
		{"https://appid.cloud.ibm.com.evil.net/oauth/v4/x", VendorOIDC},
		{"https://b2clogin.com", VendorOIDC},
		{"https://okta.com.evil.net", VendorOIDC},
		{"https://acme.okta.com.evil.net", VendorOIDC},
		{"https://acmeokta.com", VendorOIDC},
		{"https://okta.com", VendorOIDC},
		{"https://notlogin.microsoftonline.com", VendorOIDC},
		{"https://login.microsoftonline.com.evil.net", VendorOIDC},
		{"https://accounts.google.com.evil.net", VendorOIDC},
		{"https://evilaccounts.google.com", VendorOIDC},
		{"https://auth.pingone.evil", VendorOIDC},
		{"https://auth.pingone.xyz", VendorOIDC},
		{"https://auth.notpingone.com", VendorOIDC},
		{"https://pingone.com", VendorOIDC},
		{"https://cognito-idp.amazonaws.com", VendorOIDC},
		{"https://cognito-idp.a.b.amazonaws.com", VendorOIDC},
		{"https://cognito-idp.eu-west-1.amazonaws.com.evil.net", VendorOIDC},
		{"https://xcognito-idp.eu-west-1.amazonaws.com", VendorOIDC},
		{"https://verify.ibm.com", VendorOIDC},
		{"https://acme.ibm.com", VendorOIDC},
		{"https://acme.auth0.com.evil.net", VendorOIDC},
	}
	for _, tt := range tests {
		if got := DetectVendor(tt.issuer); got != tt.want {
			t.Errorf("DetectVendor(%q) = %q, want %q", tt.issuer, got, tt.want)
		}
	}
}

func TestVendorName(t *testing.T) {
	tests := []struct {
		v    Vendor
		want string
	}{
		{VendorEntraID, "Microsoft Entra ID"},
		{VendorGoogle, "Google"},
		{VendorOkta, "Okta"},
		{VendorAuth0, "Auth0"},
		{VendorPingOne, "PingOne"},
		{VendorPingIdentity, "Ping Identity"},
		{VendorOneLogin, "OneLogin"},
		{VendorJumpCloud, "JumpCloud"},
		{VendorCognito, "Amazon Cognito"},
		{VendorIBMVerify, "IBM Security Verify"},
		{VendorOracleIDCS, "Oracle IDCS"},
		{VendorDuo, "Cisco Duo"},
		{VendorOIDC, "OIDC"},
		{"", "OIDC"},
		{"keycloak", "OIDC"},
	}
	for _, tt := range tests {
		if got := tt.v.Name(); got != tt.want {
			t.Errorf("Vendor(%q).Name() = %q, want %q", tt.v, got, tt.want)
		}
	}
	// Every vendor DetectVendor can return has its own name.
	for _, vh := range vendorHosts {
		if vh.vendor.Name() == "OIDC" {
			t.Errorf("%s has no name", vh.vendor)
		}
	}
}
