package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ssokit/ssokit/internal/safehttp"
)

// Report is what a "Test Connection" button shows: what was found at an
// issuer and what is wrong with it. It marshals to JSON for an admin UI.
// Fields are empty when Check could not get that far.
type Report struct {
	Input        string `json:"input"`                   // as given to Check
	Issuer       string `json:"issuer,omitempty"`        // normalised
	DiscoveryURL string `json:"discovery_url,omitempty"` // where the document was fetched
	Vendor       Vendor `json:"vendor"`                  // detected from the issuer's host
	VendorName   string `json:"vendor_name"`             // Vendor.Name()

	// What the discovery document says.
	DocumentIssuer           string   `json:"document_issuer,omitempty"`
	AuthorizationEndpoint    string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint            string   `json:"token_endpoint,omitempty"`
	UserinfoEndpoint         string   `json:"userinfo_endpoint,omitempty"`
	EndSessionEndpoint       string   `json:"end_session_endpoint,omitempty"`
	JWKSURI                  string   `json:"jwks_uri,omitempty"`
	SigningAlgorithms        []string `json:"signing_algorithms,omitempty"`          // id_token_signing_alg_values_supported
	TokenEndpointAuthMethods []string `json:"token_endpoint_auth_methods,omitempty"` // token_endpoint_auth_methods_supported
	Scopes                   []string `json:"scopes,omitempty"`                      // scopes_supported
	IssParameterSupported    bool     `json:"iss_parameter_supported"`               // RFC 9207
	PKCES256Supported        bool     `json:"pkce_s256_supported"`                   // code_challenge_methods_supported lists S256

	// What the key set at JWKSURI holds: all keys, and those for
	// signatures (use absent or "sig").
	JWKSKeys        int `json:"jwks_keys"`
	JWKSSigningKeys int `json:"jwks_signing_keys"`

	Problems []Problem `json:"problems"` // errors first; never nil
}

// OK reports whether r has no problem of severity [SeverityError]: sign-in
// with this issuer can work.
func (r *Report) OK() bool {
	return !slices.ContainsFunc(r.Problems, func(p Problem) bool { return p.Severity == SeverityError })
}

// Severity says whether a [Problem] stops sign-in.
type Severity string

// The severities.
const (
	// SeverityError: sign-in cannot work until it is fixed.
	SeverityError Severity = "error"
	// SeverityWarning: sign-in can work, perhaps with less (no single
	// sign-out, say); worth a look.
	SeverityWarning Severity = "warning"
)

// Problem is one finding of [Client.Check]. Code is stable and may be used
// to show other text; Message is for a person, in English, and says what
// to do.
//
// The codes, errors first:
//
//	issuer_invalid           the input is not an issuer URL or domain
//	discovery_timeout        the discovery document did not arrive in time
//	discovery_unreachable    it could not be fetched (network, HTTP status, size, redirect)
//	document_invalid         it is not a valid provider configuration
//	issuer_mismatch          it names another issuer
//	jwks_timeout             the key set did not arrive in time
//	jwks_unreachable         the key set could not be fetched
//	jwks_invalid             the key set is not a JWK Set
//	jwks_empty               the key set has no keys
//	jwks_no_signing_keys     the key set has no keys for signatures
//
// and warnings:
//
//	issuer_not_https         the issuer is http (loopback development only)
//	multi_tenant_issuer      a Microsoft Entra ID endpoint for every tenant
//	rs256_not_listed         no id_token_signing_alg_values_supported
//	pkce_s256_not_listed     code_challenge_methods_supported lacks S256
//	no_userinfo_endpoint     no userinfo_endpoint
//	no_end_session_endpoint  no end_session_endpoint (no sign-out at the provider)
type Problem struct {
	Severity Severity `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
}

// Problem codes; see [Problem].
const (
	codeIssuerInvalid        = "issuer_invalid"
	codeDiscoveryTimeout     = "discovery_timeout"
	codeDiscoveryUnreachable = "discovery_unreachable"
	codeDocumentInvalid      = "document_invalid"
	codeIssuerMismatch       = "issuer_mismatch"
	codeJWKSTimeout          = "jwks_timeout"
	codeJWKSUnreachable      = "jwks_unreachable"
	codeJWKSInvalid          = "jwks_invalid"
	codeJWKSEmpty            = "jwks_empty"
	codeJWKSNoSigningKeys    = "jwks_no_signing_keys"

	codeIssuerNotHTTPS = "issuer_not_https"
	codeMultiTenant    = "multi_tenant_issuer"
	codeRS256NotListed = "rs256_not_listed"
	codePKCENotListed  = "pkce_s256_not_listed"
	codeNoUserinfo     = "no_userinfo_endpoint"
	codeNoEndSession   = "no_end_session_endpoint"
)

func (r *Report) add(sev Severity, code, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Severity: sev, Code: code, Message: fmt.Sprintf(format, args...)})
}

// Check tests issuer (anything [NormalizeIssuer] accepts) the way an
// administrator's "Test Connection" button should: it fetches and
// validates the discovery document as [Client.Discover] does, then fetches
// the key set at jwks_uri and counts its keys, and reports all it found
// and everything wrong or worth a look. It neither reads nor fills the
// cache. It always returns a report, filled as far as it got; errors are
// in the report's Problems, not returned.
func (c *Client) Check(ctx context.Context, issuer string) *Report {
	if ctx == nil {
		ctx = context.Background()
	}
	r := &Report{Input: issuer, Vendor: VendorOIDC, VendorName: VendorOIDC.Name(), Problems: []Problem{}}
	c.check(ctx, r, issuer)
	r.sortProblems()
	return r
}

// check fills r, returning when it can get no further.
func (c *Client) check(ctx context.Context, r *Report, issuer string) {
	iss, err := NormalizeIssuer(issuer)
	if err != nil {
		r.add(SeverityError, codeIssuerInvalid,
			"%s. Enter the issuer URL or domain of your identity provider, for example your-org.okta.com or https://login.microsoftonline.com/<tenant-id>/v2.0.",
			capitalize(strings.TrimPrefix(err.Error(), "discovery: ")))
		return
	}
	r.Issuer, r.DiscoveryURL = iss, WellKnownURL(iss)
	r.Vendor = DetectVendor(iss)
	r.VendorName = r.Vendor.Name()
	if strings.HasPrefix(iss, "http://") {
		r.add(SeverityWarning, codeIssuerNotHTTPS,
			"The issuer uses http, which is allowed only for a provider on this machine, for development. Use https in production.")
	}

	body, err := safehttp.Get(ctx, c.httpClient, r.DiscoveryURL, c.limits)
	if err != nil {
		c.addFetchProblem(r, err, "the discovery document", r.DiscoveryURL, codeDiscoveryTimeout, codeDiscoveryUnreachable)
		return
	}
	m, err := decodeDocument(body, r.DiscoveryURL)
	if err != nil {
		r.add(SeverityError, codeDocumentInvalid,
			"%s. Check that the issuer is that of an OpenID Connect provider.", capitalize(strings.TrimPrefix(err.Error(), "discovery: ")))
		return
	}
	r.DocumentIssuer = m.Issuer
	r.AuthorizationEndpoint = m.AuthorizationEndpoint
	r.TokenEndpoint = m.TokenEndpoint
	r.UserinfoEndpoint = m.UserinfoEndpoint
	r.EndSessionEndpoint = m.EndSessionEndpoint
	r.JWKSURI = m.JWKSURI
	r.SigningAlgorithms = m.IDTokenSigningAlgValuesSupported
	r.TokenEndpointAuthMethods = m.TokenEndpointAuthMethodsSupported
	r.Scopes = m.ScopesSupported
	r.IssParameterSupported = m.AuthorizationResponseIssParameterSupported
	r.PKCES256Supported = slices.Contains(m.CodeChallengeMethodsSupported, "S256")

	for _, is := range validateDocument(m, iss) {
		switch is.code {
		case codeIssuerMismatch:
			r.add(SeverityError, is.code,
				"The discovery document at %s names the issuer %q, not %q, so ID tokens would not be accepted: %s.",
				safehttp.Redact(r.DiscoveryURL), m.Issuer, iss, mismatchAdvice(iss, m.Issuer))
		default:
			r.add(SeverityError, is.code,
				"The discovery document at %s is invalid: %s. The provider must fix its configuration, or the issuer is not an OpenID Connect provider.",
				safehttp.Redact(r.DiscoveryURL), is.detail)
		}
	}
	if m.Issuer != iss && issuerMatches(iss, m.Issuer) {
		r.add(SeverityWarning, codeMultiTenant,
			"%s is Microsoft Entra ID's endpoint for every tenant: people from any Entra organisation can sign in. Use your tenant ID instead of common or organizations, unless you mean to accept other organisations and restrict them by domain.", iss)
	}
	if m.IDTokenSigningAlgValuesSupported == nil {
		r.add(SeverityWarning, codeRS256NotListed,
			"The discovery document does not list id_token_signing_alg_values_supported. ssokit assumes RS256, which OpenID Connect requires; if sign-in fails with id_token_invalid, check the provider's token signing algorithm.")
	}
	if !r.PKCES256Supported {
		r.add(SeverityWarning, codePKCENotListed,
			"The discovery document does not list S256 in code_challenge_methods_supported. ssokit always sends a PKCE S256 challenge, which most providers accept anyway; if sign-in fails, enable PKCE for the application at the provider.")
	}
	if m.UserinfoEndpoint == "" {
		r.add(SeverityWarning, codeNoUserinfo,
			"The provider has no userinfo_endpoint, so claims missing from ID tokens cannot be fetched. Make sure ID tokens carry the email and name claims (scopes email and profile, or the provider's claim settings).")
	}
	if m.EndSessionEndpoint == "" {
		r.add(SeverityWarning, codeNoEndSession,
			"The provider has no end_session_endpoint: signing out ends the session in this application but not at the provider.")
	}

	if m.JWKSURI != "" {
		if _, err := safehttp.CheckURL(m.JWKSURI); err == nil {
			c.checkJWKS(ctx, r)
		}
	}
}

// sortProblems puts errors before warnings, each kind in the order found.
func (r *Report) sortProblems() {
	slices.SortStableFunc(r.Problems, func(a, b Problem) int {
		switch {
		case a.Severity == b.Severity:
			return 0
		case a.Severity == SeverityError:
			return -1
		case b.Severity == SeverityError:
			return 1
		}
		return 0
	})
}

// addFetchProblem reports in r the failed fetch of what, at url, with the
// code for a timeout or for any other failure.
func (c *Client) addFetchProblem(r *Report, err error, what, url, timeoutCode, unreachableCode string) {
	url = safehttp.Redact(url)
	lim := c.limits
	var se *safehttp.StatusError
	switch {
	case safehttp.IsTimeout(err):
		r.add(SeverityError, timeoutCode,
			"%s at %s did not arrive within %s. Check that the domain is correct and that this server can reach it (firewall, proxy or VPN).",
			capitalize(what), url, lim.Timeout)
	case errors.As(err, &se):
		r.add(SeverityError, unreachableCode,
			"%s answered HTTP %d instead of %s. Check that the issuer is correct and that the provider publishes it there.",
			url, se.StatusCode, what)
	case errors.Is(err, safehttp.ErrPrivateAddress):
		r.add(SeverityError, unreachableCode,
			"%s at %s resolves to a private or internal network address, which this application is set to refuse, so that an issuer cannot make it call inward. Use the provider's public address, or ask the application's operator to allow this internal provider.",
			capitalize(what), url)
	case errors.Is(err, safehttp.ErrTooManyRedirects):
		r.add(SeverityError, unreachableCode,
			"%s at %s redirects too many times. Check the issuer, and enter the address the provider finally answers at.",
			capitalize(what), url)
	case errors.Is(err, safehttp.ErrInsecureURL):
		r.add(SeverityError, unreachableCode,
			"%s at %s redirects to an address that is not https, which is refused. The provider must serve its configuration over https.",
			capitalize(what), url)
	case errors.Is(err, safehttp.ErrTooLarge):
		r.add(SeverityError, unreachableCode,
			"%s at %s is larger than %d bytes, which is not what an identity provider serves there. Check the issuer.",
			capitalize(what), url, lim.MaxBytes)
	default:
		r.add(SeverityError, unreachableCode,
			"Could not fetch %s: %v. Check that the domain is correct, reachable from this server and served over HTTPS.", what, err)
	}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// checkJWKS fetches the key set at r.JWKSURI and counts its keys.
func (c *Client) checkJWKS(ctx context.Context, r *Report) {
	url := safehttp.Redact(r.JWKSURI)
	body, err := safehttp.Get(ctx, c.httpClient, r.JWKSURI, c.limits)
	if err != nil {
		c.addFetchProblem(r, err, "the signing keys (jwks_uri)", r.JWKSURI, codeJWKSTimeout, codeJWKSUnreachable)
		return
	}
	var set struct {
		Keys []map[string]json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil || set.Keys == nil || slices.ContainsFunc(set.Keys, func(k map[string]json.RawMessage) bool { return k == nil }) {
		r.add(SeverityError, codeJWKSInvalid,
			"The signing keys at %s are not a JSON Web Key Set (an object with a \"keys\" list, RFC 7517 §5; it starts %q). Check the provider's jwks_uri.",
			url, excerpt(body))
		return
	}
	r.JWKSKeys = len(set.Keys)
	for _, k := range set.Keys {
		var use string
		if raw, ok := k["use"]; !ok || (json.Unmarshal(raw, &use) == nil && use == "sig") {
			r.JWKSSigningKeys++
		}
	}
	switch {
	case r.JWKSKeys == 0:
		r.add(SeverityError, codeJWKSEmpty,
			"The key set at %s has no keys, so no ID token can be verified. Create or activate a signing key at the provider.", url)
	case r.JWKSSigningKeys == 0:
		r.add(SeverityError, codeJWKSNoSigningKeys,
			"The key set at %s has %d keys but none for signatures (use \"sig\"), so no ID token can be verified. Create or activate a signing key at the provider.",
			url, r.JWKSKeys)
	}
}
