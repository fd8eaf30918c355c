// Package discovery finds out how to talk to an OpenID provider: it turns
// what an administrator pastes into an issuer, fetches and validates the
// provider's configuration (OpenID Connect Discovery 1.0), caches it, names
// the vendor for display, and runs the checks behind a "Test Connection"
// button.
//
// The primary names are:
//
//   - [NormalizeIssuer] and [WellKnownURL], for issuers;
//   - [Client], made by [New] from a [Config], with [Client.Discover],
//     [Client.Invalidate] and [Client.Check];
//   - [Metadata], a provider's configuration, and [Metadata.MatchesIssuer];
//   - [DetectVendor] and [Vendor];
//   - [Report] and [Problem], what Check finds.
//
// # Issuers
//
// Administrators paste many forms of the same thing: "your-org.okta.com",
// "https://your-org.okta.com", or
// "https://your-org.okta.com/.well-known/openid-configuration".
// [NormalizeIssuer] accepts all of them and returns one issuer URL, which
// ID tokens must carry exactly. It keeps the path as given, because its
// case and a trailing slash matter: JumpCloud's issuer is
// "https://oauth.id.jumpcloud.com/", with the slash. It requires https, but
// lets http through for loopback hosts, so a provider on the developer's
// machine works.
//
// # Discovery
//
// [Client.Discover] fetches [WellKnownURL] of the issuer with the limits
// every such fetch needs (a timeout, a size limit, a cap on redirects,
// https only) and checks the document: the issuer it names, the endpoints
// a sign-in needs, the code flow and RS256. The document's issuer must
// equal the normalised issuer exactly, trailing slash included: ID tokens
// will carry it, and a provider whose issuer is "https://x/" does not
// issue tokens for "https://x". The one exception is Microsoft Entra ID's
// multi-tenant endpoints (common/v2.0 and organizations/v2.0), whose
// document names a template with {tenantid} in it; compare an ID token's
// issuer with [Metadata.MatchesIssuer], which fills in the token's tid.
// When the issuers differ, the error says what to enter instead.
//
// Every error wraps exactly one of [ErrInvalidIssuer], [ErrFetch],
// [ErrInvalidDocument] and [ErrIssuerMismatch]; fetch errors also wrap
// their cause, so errors.Is(err, context.DeadlineExceeded) reports a
// timeout. Errors name the URL fetched but never a query, user info or a
// password, and do not quote more than the start of a bad response.
//
// # Caching
//
// A [Client] caches each issuer's [Metadata] for Config.TTL (10 minutes by
// default) in a least-recently-used cache of Config.MaxEntries issuers.
// Concurrent calls for an issuer not in the cache share one fetch: a
// thousand sign-ins that start together cost one request to the provider.
// The fetch does not stop when the caller that started it gives up; each
// caller stops waiting when its own context ends. With Config.StaleIfError
// set, an expired document stays in use for a while when the provider
// fails to serve a new one. [Client.Invalidate] drops an issuer, for when a
// profile's issuer changes.
//
// Caching is wrong when the document must be current, as for a "Test
// Connection" button: [Client.Check] bypasses the cache.
//
// # Vendors
//
// [DetectVendor] names the product behind an issuer from its host name
// (login.microsoftonline.com is Microsoft Entra ID, *.okta.com is Okta, and
// so on) for a badge or a logo. It is for display only and does not change
// how sign-in works. Providers on custom domains, and products like
// Keycloak whose hosts say nothing, are [VendorOIDC].
//
// # Test Connection
//
// [Client.Check] returns a [Report]: the issuer, the discovery URL, the
// vendor, the endpoints, the signing algorithms, the token endpoint
// authentication methods and scopes the provider supports, whether it
// supports PKCE S256 and RFC 9207's iss parameter, how many keys its key
// set holds, and a list of [Problem]s, each with a stable code and a
// message that says what to do. The report marshals to JSON for an admin
// UI.
//
// # What is not checked
//
// Discover does not fetch the key set, nor call any endpoint but the
// discovery document's: a document can be valid and its provider still
// broken (Check fetches the keys). It does not check revocation_endpoint
// or introspection_endpoint, and it keeps only the fields [Metadata] has;
// [Metadata.Decode] reads the others.
package discovery
