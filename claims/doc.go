// Package claims turns the verified claims of an ID token (and userinfo)
// into an [Identity]: who the person is, by what stable subject, with which
// email, username, name and groups.
//
// It knows the ways real providers differ:
//
//   - The stable subject is sub, except at Microsoft Entra ID, where sub
//     differs per application and oid is the person; [Mapping.Subject]
//     chooses another claim for any provider.
//   - Entra ID may leave out email and put the user principal name, which
//     looks like an email, in preferred_username; [Map] then uses it as the
//     email, unverified.
//   - email_verified arrives as a boolean or as the strings "true" and
//     "false"; [Verified] reads both.
//   - Claim names differ; [Mapping] renames each field, and a dotted name
//     reaches into nested objects.
//
// # Trusting emails
//
// [EmailTrust] says how far an email is trusted. The default,
// [TrustEmailClaim], refuses a sign-in whose email_verified is false, as
// products that match users by email must (an unverified email that
// matched an existing account would hand that account to whoever typed the
// address at their provider).
//
// Package claims does no verification of its own: its input must already
// be verified. It imports nothing from ssokit and nothing of net/http.
package claims
