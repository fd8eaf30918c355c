// Package ssotest runs a real OpenID provider on loopback, for testing a
// relying party's sign-in without a network, the way net/http/httptest
// runs a real HTTP server.
//
// The provider serves discovery, an authorization endpoint, a token
// endpoint, a JWKS, userinfo and end-session:
//
//	/.well-known/openid-configuration
//	/authorize    response_type=code, PKCE (S256 and plain), RFC 9207 iss
//	/token        authorization_code and refresh_token grants; client
//	              authentication by client_secret_basic, client_secret_post,
//	              private_key_jwt, or none for public clients
//	/jwks         its public signing keys (RS256 by default, ES256, PS256…)
//	/userinfo     the user's claims for a bearer access token
//	/end_session  RP-initiated logout
//
// # Starting one
//
// In a test, [New] starts a provider and closes it when the test ends:
//
//	idp := ssotest.New(t, ssotest.WithLoginUser("alice"))
//	// configure the relying party with idp.Issuer(), ssotest.DefaultClientID
//	// and ssotest.DefaultClientSecret, and idp.HTTPClient().
//
// Outside a test (a demo, the examples' default run), [Start] does the same
// and the caller calls [Provider.Close].
//
// # Users and sign-in
//
// The provider starts with [DefaultUsers]. The authorization endpoint
// approves at once when the request's login_hint names a user (by subject,
// email or preferred_username) or when a login user is set
// ([WithLoginUser], [Provider.SetLoginUser]); otherwise it shows an HTML
// page listing the users, for a person in a browser, with a button that
// cancels (access_denied).
//
// # Clients
//
// A client with [DefaultClientID] and [DefaultClientSecret] is always
// registered; it authenticates with client_secret_basic or
// client_secret_post and accepts any redirect URI on a loopback host.
// [WithClient] and [Provider.AddClient] register others, with a pinned
// authentication method, a public key for private_key_jwt, and exact
// redirect URIs.
//
// Codes live for [CodeLifetime] and are redeemed once; a second redemption
// is refused with invalid_grant and revokes the tokens the first issued.
// The token request must repeat the authorization request's redirect_uri
// exactly, and a code_verifier must match its code_challenge (a verifier
// without a challenge is refused too, as a PKCE downgrade).
//
// # Faults
//
// [Faults] make the provider misbehave one way at a time — a wrong issuer,
// a bad signature, alg none, an expired token, a wrong nonce or audience,
// missing claims, a userinfo sub that differs, an ID token signed by a key
// the JWKS lacks or with HMAC, a JWKS with keys changed or added, a signed
// userinfo, an OAuth error from the token endpoint, an endpoint that fails
// or is slow — so a test can show the relying party refusing it. [Provider.LastAuthorizeRequest] and
// [Provider.LastTokenRequest] show what the relying party sent.
//
// # Keys
//
// [Provider.RotateKeys] replaces the signing key, keeping the old one in
// the JWKS for a grace period or dropping it at once. [Provider.SignJWT]
// signs any claims with the current key.
package ssotest
