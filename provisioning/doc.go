// Package provisioning decides what a verified identity means to the
// application: which local user it signs in as, whether that user may be
// created, and which identities a user has linked. It does no network or
// HTTP work and imports nothing of ssokit but package claims; the
// application's users live behind the [Directory] interface
// ([NewMemoryDirectory] here, SQL in the nested module
// github.com/ssokit/ssokit/sqlstore, or the application's own tables).
//
// # Policy
//
// Each SSO profile has a [Policy] (seeds 002 and 003):
//
//   - AllowedDomains restricts sign-in to email addresses at the listed
//     domains; empty allows all.
//   - EmailTrust is how far the provider's email is trusted: the
//     email_verified claim (the default; email_verified false refuses the
//     sign-in), the provider (every email it sends is verified: an
//     enterprise directory the organisation controls), or never (the
//     application verifies addresses itself). It takes effect in
//     claims.Map, which the caller must give pol.EmailTrust; the
//     Provisioner reads the result, Identity.EmailVerified.
//   - Mode is JIT (the default: first-time users are created) or
//     match-only (only users who already exist may sign in; others get
//     [ErrProvisioningDisabled], whose message asks them to be invited).
//
// # Who an identity is
//
// The key is the identity's (issuer, subject): the provider's stable
// identifier for the person. [Provisioner.SignIn] follows a [Link] from
// it when there is one, so an email or username changed at the provider
// changes nothing. The first sign-in of an identity matches an existing
// user, or creates one in JIT mode, and links it; see SignIn for the
// order of the steps.
//
// # Why matching is this strict
//
// Matching an identity to an existing user hands that user's account to
// whoever controls the identity, so every rule below refuses rather than
// guesses:
//
//   - An unverified email never matches. Anybody can type any address
//     into their profile at many providers; if that matched, signing up
//     at such a provider with the victim's address would be an account
//     takeover. For the same reason an unverified email is not stored on
//     a user JIT creates (it would then match later), and cannot pass an
//     AllowedDomains check.
//   - Only whole values match, ASCII letter case aside: never a local part
//     ("alice" does not match alice@acme.com), never the same name at
//     another domain, never a prefix. Other characters must be identical:
//     Unicode case folding would let the Kelvin sign K stand for k, so the
//     Provisioner re-checks what the Directory found. Domains match
//     exactly: a subdomain needs its own entry, and acme.com. (trailing
//     dot), evilacme.com, acme.com.evil.io and Unicode look-alikes are
//     other domains; internationalised domains are written in punycode.
//   - In JIT mode a user is matched by verified email only, never by
//     username: preferred_username is, by the OpenID Connect specification,
//     neither unique nor stable, and many providers let users choose it.
//     When the username is taken by another user, the new user is created
//     without one rather than refused. Match-only profiles match the
//     username too (preferred_username against userName, seed 001),
//     because an administrator chose to trust that provider's usernames;
//     use match-only by username only with providers whose directory the
//     organisation controls.
//   - A user already linked to one subject at an issuer is not matched by
//     email for another subject at the same issuer ([ErrIdentityMismatch]):
//     the provider says it is a different person, as when a mailbox, an
//     account or a whole domain is recycled. The user (signed in) can link
//     it with [Provisioner.Link].
//   - If the username and the email match two different users, nothing is
//     linked (an error wrapping [ErrConflict]).
//
// # One person, one user
//
// Two first sign-ins of one person may run at once (two tabs, a retry,
// two replicas). The Directory enforces uniqueness of usernames, emails
// and (issuer, subject) in the store, and [Directory.CreateUser] writes
// the user and the link together; the Provisioner treats a conflict as
// "somebody else just did it" and looks again, so exactly one user is
// created. Package directorytest checks this of every Directory.
//
// # Connected accounts
//
// A signed-in user can link more identities ([Provisioner.Link]; seed
// 002's "connected accounts"): the profile's policy applies, linking is
// idempotent, and an identity linked to another user is refused with
// [ErrLinkedToAnotherUser] rather than moved. [Provisioner.Connected]
// lists the links, and [Provisioner.Unlink] removes one unless it is the
// last way to sign in ([ErrLastSignInMethod]); the application says
// whether the user has a password.
package provisioning
