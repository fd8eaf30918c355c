package discovery

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ssokit/ssokit/internal/safehttp"
)

// Metadata is an OpenID provider's configuration, from its discovery
// document (OpenID Connect Discovery 1.0 §3, with RFC 8414, RFC 7009,
// RFC 7662 and RFC 9207 fields). It marshals back to a discovery document.
//
// A Metadata returned by [Client.Discover] is shared by every caller that
// asks for the same issuer until its cache entry expires: treat it,
// including its slices, as read-only.
type Metadata struct {
	// Issuer is the issuer as the document states it, which is what ID
	// tokens carry. For a Microsoft Entra ID multi-tenant endpoint it is the
	// template "https://login.microsoftonline.com/{tenantid}/v2.0"; compare
	// token issuers with [Metadata.MatchesIssuer], not with ==.
	Issuer string `json:"issuer"`

	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	UserinfoEndpoint      string `json:"userinfo_endpoint,omitempty"`
	EndSessionEndpoint    string `json:"end_session_endpoint,omitempty"`
	// RevocationEndpoint and IntrospectionEndpoint are kept as the
	// document states them. Unlike the endpoints above, they are not
	// checked for https: check them before use.
	RevocationEndpoint    string `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint string `json:"introspection_endpoint,omitempty"`

	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported,omitempty"`
	ResponseModesSupported                     []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported,omitempty"`
	SubjectTypesSupported                      []string `json:"subject_types_supported,omitempty"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgValuesSupported []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	ClaimsSupported                            []string `json:"claims_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`

	// AuthorizationResponseIssParameterSupported says the provider sends
	// the iss parameter in authorization responses (RFC 9207).
	AuthorizationResponseIssParameterSupported bool `json:"authorization_response_iss_parameter_supported,omitempty"`

	raw []byte // the document as fetched; nil for a Metadata built by hand
}

// Decode unmarshals the whole discovery document into v, for fields
// Metadata does not keep (a provider's own extensions, say). For a Metadata
// not made by this package it decodes the fields Metadata has.
func (m *Metadata) Decode(v any) error {
	raw := m.raw
	if raw == nil {
		var err error
		if raw, err = json.Marshal(m); err != nil {
			return fmt.Errorf("discovery: encoding metadata: %w", err)
		}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("discovery: decoding metadata: %w", err)
	}
	return nil
}

// Microsoft Entra ID's multi-tenant endpoints ("common" and
// "organizations") publish one document for every tenant, whose issuer is
// a template with the literal {tenantid} in it.
const (
	entraHost     = "login.microsoftonline.com"
	entraTemplate = "https://" + entraHost + "/{tenantid}/v2.0"
	tenantIDField = "{tenantid}"
)

// MatchesIssuer reports whether iss, an ID token's issuer, is this
// provider's. It is iss == m.Issuer, except when m.Issuer is Microsoft Entra
// ID's multi-tenant template: then iss must equal the template with
// {tenantid} replaced by tid, the token's tid claim, which must be a
// well-formed GUID. tid is ignored otherwise. A nil Metadata matches
// nothing.
//
// A multi-tenant issuer lets users of every Entra tenant sign in; decide
// which tenants to accept elsewhere (by tid or by email domain).
func (m *Metadata) MatchesIssuer(iss, tid string) bool {
	if m == nil || iss == "" {
		return false
	}
	if m.Issuer != entraTemplate {
		return iss == m.Issuer
	}
	return isGUID(tid) && iss == strings.Replace(entraTemplate, tenantIDField, tid, 1)
}

// isGUID reports whether s has the form
// xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx in hex digits.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// Microsoft Entra ID's multi-tenant v2.0 endpoints, whose documents name
// entraTemplate.
var entraMultiTenant = []string{
	"https://" + entraHost + "/common/v2.0",
	"https://" + entraHost + "/organizations/v2.0",
}

// issuerMatches reports whether a document fetched for the normalised
// issuer may name docIssuer: only if the two are equal, byte for byte, or
// if issuer is one of Entra's multi-tenant v2.0 endpoints and docIssuer
// its {tenantid} template (see [Client.Discover]).
func issuerMatches(issuer, docIssuer string) bool {
	if docIssuer == issuer {
		return true
	}
	return docIssuer == entraTemplate && slices.Contains(entraMultiTenant, issuer)
}

// mismatchAdvice tells an administrator what to do about a document for
// the normalised issuer that names docIssuer instead.
func mismatchAdvice(issuer, docIssuer string) string {
	entra := strings.HasPrefix(issuer, "https://"+entraHost+"/")
	switch {
	case strings.TrimSuffix(docIssuer, "/") == strings.TrimSuffix(issuer, "/"):
		return fmt.Sprintf("they differ only by a trailing slash, which ID tokens must match exactly: enter %q as the issuer", docIssuer)
	case entra && strings.HasPrefix(docIssuer, "https://sts.windows.net/"):
		return "this is Microsoft Entra ID's v1.0 endpoint: add /v2.0 to the issuer, as in https://login.microsoftonline.com/<tenant-id>/v2.0"
	case entra && docIssuer == entraTemplate:
		return "for Microsoft Entra ID enter https://login.microsoftonline.com/<tenant-id>/v2.0, or .../common/v2.0 or .../organizations/v2.0 for every tenant"
	}
	return "check the issuer you entered; if the document's issuer is your provider's, enter that instead"
}

// issue is one thing wrong with a discovery document.
type issue struct {
	code   string // the Problem code Check reports
	detail string // what is wrong, for a person
	err    error  // wraps ErrInvalidDocument or ErrIssuerMismatch
}

// parseDocument decodes and validates the document fetched for the
// normalised issuer, returning the first thing wrong with it.
func parseDocument(body []byte, issuer string) (*Metadata, error) {
	m, err := decodeDocument(body, WellKnownURL(issuer))
	if err != nil {
		return nil, err
	}
	if issues := validateDocument(m, issuer); len(issues) > 0 {
		return nil, issues[0].err
	}
	return m, nil
}

const (
	// excerptLen bounds the part of a bad body quoted in an error.
	excerptLen = 40
	// maxStringLen and maxListLen bound the fields of a document, as
	// JSON: URLs, and lists such as claims_supported. Real documents'
	// fields are well under them.
	maxStringLen = 2 << 10
	maxListLen   = 32 << 10
)

// decodeDocument reads body as a JSON object and picks out Metadata's
// fields by their exact names. It checks types, not values.
func decodeDocument(body []byte, docURL string) (*Metadata, error) {
	where := safehttp.Redact(docURL)
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fmt.Errorf("%w: %s is JSON but not an object", ErrInvalidDocument, where)
		}
		return nil, fmt.Errorf("%w: %s is not JSON (it starts %q): %w", ErrInvalidDocument, where, excerpt(body), err)
	}
	if obj == nil {
		return nil, fmt.Errorf("%w: %s is JSON null, not an object", ErrInvalidDocument, where)
	}
	m := &Metadata{raw: bytes.Clone(body)}
	fields := []struct {
		name string
		dst  any
	}{
		{"issuer", &m.Issuer},
		{"authorization_endpoint", &m.AuthorizationEndpoint},
		{"token_endpoint", &m.TokenEndpoint},
		{"jwks_uri", &m.JWKSURI},
		{"userinfo_endpoint", &m.UserinfoEndpoint},
		{"end_session_endpoint", &m.EndSessionEndpoint},
		{"revocation_endpoint", &m.RevocationEndpoint},
		{"introspection_endpoint", &m.IntrospectionEndpoint},
		{"scopes_supported", &m.ScopesSupported},
		{"response_types_supported", &m.ResponseTypesSupported},
		{"response_modes_supported", &m.ResponseModesSupported},
		{"grant_types_supported", &m.GrantTypesSupported},
		{"subject_types_supported", &m.SubjectTypesSupported},
		{"id_token_signing_alg_values_supported", &m.IDTokenSigningAlgValuesSupported},
		{"token_endpoint_auth_methods_supported", &m.TokenEndpointAuthMethodsSupported},
		{"token_endpoint_auth_signing_alg_values_supported", &m.TokenEndpointAuthSigningAlgValuesSupported},
		{"claims_supported", &m.ClaimsSupported},
		{"code_challenge_methods_supported", &m.CodeChallengeMethodsSupported},
		{"authorization_response_iss_parameter_supported", &m.AuthorizationResponseIssParameterSupported},
	}
	known := make(map[string]bool, len(fields))
	for _, f := range fields {
		known[f.name] = true
	}
	// Decoders disagree on which of two values for a name wins: refuse
	// the ambiguity rather than pick one.
	if name := duplicateField(body, known); name != "" {
		return nil, fmt.Errorf("%w: %s: %s appears more than once", ErrInvalidDocument, where, name)
	}
	for _, f := range fields {
		raw, ok := obj[f.name]
		if !ok {
			continue
		}
		// Values go into errors and reports: keep them short.
		limit := maxListLen
		if _, ok := f.dst.(*string); ok {
			limit = maxStringLen
		}
		if len(raw) > limit {
			return nil, fmt.Errorf("%w: %s: %s is longer than %d bytes", ErrInvalidDocument, where, f.name, limit)
		}
		if err := json.Unmarshal(raw, f.dst); err != nil {
			var want string
			switch f.dst.(type) {
			case *string:
				want = "a string"
			case *[]string:
				want = "a list of strings"
			case *bool:
				want = "true or false"
			}
			return nil, fmt.Errorf("%w: %s: %s is not %s", ErrInvalidDocument, where, f.name, want)
		}
	}
	return m, nil
}

// duplicateField returns the first name in known that body, a valid JSON
// object, has more than once, or "".
func duplicateField(body []byte, known map[string]bool) string {
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // the opening brace
		return ""
	}
	seen := make(map[string]bool)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		name, _ := tok.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return ""
		}
		if known[name] {
			if seen[name] {
				return name
			}
			seen[name] = true
		}
	}
	return ""
}

// excerpt returns the start of body, short and valid UTF-8, for quoting.
func excerpt(body []byte) string {
	if len(body) > excerptLen {
		body = body[:excerptLen]
		for len(body) > 0 && !utf8.Valid(body) {
			body = body[:len(body)-1]
		}
		return strings.ToValidUTF8(string(body), "\uFFFD") + "…"
	}
	return strings.ToValidUTF8(string(body), "\uFFFD")
}

// validateDocument checks a decoded document against the normalised issuer
// it was fetched for and returns everything wrong with it, issuer first.
func validateDocument(m *Metadata, issuer string) []issue {
	where := safehttp.Redact(WellKnownURL(issuer))
	var issues []issue
	invalid := func(format string, args ...any) {
		detail := fmt.Sprintf(format, args...)
		err := fmt.Errorf("%w: %s: %s", ErrInvalidDocument, where, detail)
		issues = append(issues, issue{code: codeDocumentInvalid, detail: detail, err: err})
	}
	switch {
	case m.Issuer == "":
		invalid("issuer is missing")
	case !issuerMatches(issuer, m.Issuer):
		detail := fmt.Sprintf("the document names issuer %q, not %q; %s", m.Issuer, issuer, mismatchAdvice(issuer, m.Issuer))
		err := fmt.Errorf("%w: %s: %s", ErrIssuerMismatch, where, detail)
		issues = append(issues, issue{code: codeIssuerMismatch, detail: detail, err: err})
	}
	for _, e := range []struct {
		name, value string
		required    bool
	}{
		{"authorization_endpoint", m.AuthorizationEndpoint, true},
		{"token_endpoint", m.TokenEndpoint, true},
		{"jwks_uri", m.JWKSURI, true},
		{"userinfo_endpoint", m.UserinfoEndpoint, false},
		{"end_session_endpoint", m.EndSessionEndpoint, false},
	} {
		switch {
		case e.value == "" && e.required:
			invalid("%s is missing", e.name)
		case e.value != "":
			if _, err := safehttp.CheckURL(e.value); err != nil {
				detail := fmt.Sprintf("%s: %v", e.name, err)
				err = fmt.Errorf("%w: %s: %s: %w", ErrInvalidDocument, where, e.name, err)
				issues = append(issues, issue{code: codeDocumentInvalid, detail: detail, err: err})
			}
		}
	}
	if m.ResponseTypesSupported != nil && !slices.Contains(m.ResponseTypesSupported, "code") {
		invalid("response_types_supported does not list \"code\": the provider does not offer the authorization code flow")
	}
	if m.IDTokenSigningAlgValuesSupported != nil && !slices.Contains(m.IDTokenSigningAlgValuesSupported, "RS256") {
		invalid("id_token_signing_alg_values_supported does not list RS256, which OpenID Connect Discovery 1.0 §3 requires")
	}
	return issues
}
