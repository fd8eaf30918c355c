package discovery

import (
	"net/url"
	"strings"
)

// Vendor names the product behind an issuer, for display: a badge or a
// logo next to an SSO profile. It is detected from the issuer's host name
// alone and changes nothing about how sign-in works. Its values are stable
// and may be stored.
type Vendor string

// The vendors [DetectVendor] recognises. [VendorOIDC] is every other
// provider, including those on a custom domain and products (Keycloak,
// Dex, …) whose host names say nothing.
const (
	VendorOIDC         Vendor = "oidc"
	VendorEntraID      Vendor = "entra_id"
	VendorGoogle       Vendor = "google"
	VendorOkta         Vendor = "okta"
	VendorAuth0        Vendor = "auth0"
	VendorPingOne      Vendor = "pingone"
	VendorPingIdentity Vendor = "ping_identity"
	VendorOneLogin     Vendor = "onelogin"
	VendorJumpCloud    Vendor = "jumpcloud"
	VendorCognito      Vendor = "amazon_cognito"
	VendorIBMVerify    Vendor = "ibm_security_verify"
	VendorOracleIDCS   Vendor = "oracle_idcs"
	VendorDuo          Vendor = "cisco_duo"
)

var vendorNames = map[Vendor]string{
	VendorOIDC:         "OIDC",
	VendorEntraID:      "Microsoft Entra ID",
	VendorGoogle:       "Google",
	VendorOkta:         "Okta",
	VendorAuth0:        "Auth0",
	VendorPingOne:      "PingOne",
	VendorPingIdentity: "Ping Identity",
	VendorOneLogin:     "OneLogin",
	VendorJumpCloud:    "JumpCloud",
	VendorCognito:      "Amazon Cognito",
	VendorIBMVerify:    "IBM Security Verify",
	VendorOracleIDCS:   "Oracle IDCS",
	VendorDuo:          "Cisco Duo",
}

// Name returns the vendor's display name, such as "Microsoft Entra ID";
// "OIDC" for [VendorOIDC] and for any value it does not know.
func (v Vendor) Name() string {
	if n, ok := vendorNames[v]; ok {
		return n
	}
	return vendorNames[VendorOIDC]
}

// vendorHosts maps host patterns to vendors. "*.d" matches any host
// strictly under the domain d; other patterns match exactly.
var vendorHosts = []struct {
	pattern string
	vendor  Vendor
}{
	{"login.microsoftonline.com", VendorEntraID},
	{"login.microsoftonline.us", VendorEntraID},         // US Government
	{"login.partner.microsoftonline.cn", VendorEntraID}, // China (21Vianet)
	{"sts.windows.net", VendorEntraID},                  // v1.0 issuers
	{"*.ciamlogin.com", VendorEntraID},                  // Entra External ID
	{"*.b2clogin.com", VendorEntraID},                   // Azure AD B2C
	{"accounts.google.com", VendorGoogle},
	{"*.okta.com", VendorOkta},
	{"*.oktapreview.com", VendorOkta},
	{"*.okta-emea.com", VendorOkta},
	{"*.okta-gov.com", VendorOkta},
	{"*.auth0.com", VendorAuth0},
	// PingOne's regions: North America, Europe, Canada, Asia-Pacific,
	// Australia and Singapore.
	{"*.pingone.com", VendorPingOne},
	{"*.pingone.eu", VendorPingOne},
	{"*.pingone.ca", VendorPingOne},
	{"*.pingone.asia", VendorPingOne},
	{"*.pingone.com.au", VendorPingOne},
	{"*.pingone.sg", VendorPingOne},
	{"*.pingidentity.com", VendorPingIdentity},
	{"*.onelogin.com", VendorOneLogin},
	{"*.jumpcloud.com", VendorJumpCloud},
	{"*.amazoncognito.com", VendorCognito},
	{"*.verify.ibm.com", VendorIBMVerify},
	{"*.appid.cloud.ibm.com", VendorIBMVerify}, // IBM App ID, badged as Verify in the admin guides
	{"*.ice.ibmcloud.com", VendorIBMVerify},    // its former name, IBM Cloud Identity
	{"*.identity.oraclecloud.com", VendorOracleIDCS},
	{"*.duosecurity.com", VendorDuo},
}

// DetectVendor returns the vendor whose host the issuer is on, or
// [VendorOIDC]. It accepts whatever [NormalizeIssuer] accepts and compares
// host names case-insensitively on label boundaries: "evilokta.com",
// "evil-okta.com" and "okta.com.evil.net" are not Okta. Hosts it knows:
//
//	Microsoft Entra ID   login.microsoftonline.com, login.microsoftonline.us,
//	                     login.partner.microsoftonline.cn, sts.windows.net,
//	                     *.ciamlogin.com, *.b2clogin.com
//	Google               accounts.google.com
//	Okta                 *.okta.com, *.oktapreview.com, *.okta-emea.com, *.okta-gov.com
//	Auth0                *.auth0.com
//	PingOne              *.pingone.com and its regions (.eu, .ca, .asia, .com.au, .sg)
//	Ping Identity        *.pingidentity.com
//	OneLogin             *.onelogin.com
//	JumpCloud            *.jumpcloud.com
//	Amazon Cognito       *.amazoncognito.com, cognito-idp.<region>.amazonaws.com
//	IBM Security Verify  *.verify.ibm.com, *.appid.cloud.ibm.com, *.ice.ibmcloud.com
//	Oracle IDCS          *.identity.oraclecloud.com
//	Cisco Duo            *.duosecurity.com
//
// Detection is for display only: anyone can name a host under a domain
// they own, and a vendor on a custom domain is not detected.
func DetectVendor(issuer string) Vendor {
	iss, err := NormalizeIssuer(issuer)
	if err != nil {
		return VendorOIDC
	}
	u, err := url.Parse(iss)
	if err != nil {
		return VendorOIDC
	}
	host := u.Hostname() // lowercase: NormalizeIssuer made it so
	for _, vh := range vendorHosts {
		if domain, ok := strings.CutPrefix(vh.pattern, "*."); ok {
			if strings.HasSuffix(host, "."+domain) {
				return vh.vendor
			}
		} else if host == vh.pattern {
			return vh.vendor
		}
	}
	// cognito-idp.<region>.amazonaws.com: exactly one label for the region.
	if rest, ok := strings.CutPrefix(host, "cognito-idp."); ok {
		if region, ok := strings.CutSuffix(rest, ".amazonaws.com"); ok && region != "" && !strings.Contains(region, ".") {
			return VendorCognito
		}
	}
	return VendorOIDC
}
