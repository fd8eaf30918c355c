// Package ssoclient signs people in to a Go web application through their
// organisation's OpenID Connect provider: Entra ID, Okta, Google, Auth0,
// PingOne, Keycloak or any other.
//
// # Quick start
//
//	sso, err := ssoclient.New(ctx, ssoclient.Config{
//		Issuer:       "https://acme.okta.com",
//		ClientID:     os.Getenv("SSO_CLIENT_ID"),
//		ClientSecret: ssoclient.Secret(os.Getenv("SSO_CLIENT_SECRET")),
//		RedirectURL:  "https://app.example.com/auth/sso/callback",
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	mux.Handle("/auth/sso/", sso.Handler())
//	mux.Handle("/app/", sso.RequireLogin(appHandler)) // sso.Identity(r) inside
//
// # The flow
//
// GET {mount}/login creates an attempt — 256-bit random state and nonce, a
// PKCE S256 verifier, where to return — seals it (AES-256-GCM) into a
// cookie of its own (HttpOnly, SameSite=Lax, Secure on https, 10 minutes),
// so two tabs can sign in at once and replicas share nothing, and
// redirects to the provider.
//
// GET {mount}/callback then checks, in order: the attempt is this
// browser's, intact and under 10 minutes old; the RFC 9207 iss parameter
// names the provider (required when the provider advertises it); the
// attempt was not used before ([ReplayCache]); the provider sent no error;
// the code exchanges at the token endpoint, with the one client
// authentication the provider gets ([AuthMethod]) and the PKCE verifier;
// the ID token verifies as OIDC Core §3.1.3.7 requires ([Client.VerifyIDToken]),
// at_hash included; userinfo, asked when the ID token lacks the mapped
// claims, is about the same sub; the claims map to an [Identity]
// ([claims.Map]) under the email trust mode; [Config.OnLogin] agrees. Only
// then does a fresh session start, with a new id, and the browser go back
// to where it was going (a local path only).
//
// POST {mount}/logout, accepted only from the application's own origin,
// ends the session and sends the browser to the provider's
// end_session_endpoint with id_token_hint, post_logout_redirect_uri and
// client_id.
//
// # Errors
//
// Every failure is an [*Error] with a stable [Code], the HTTP status it
// deserves — 4xx for what the browser or the provider sent, 502 or 504
// when the provider fails or is too slow — and a message a person can act
// on. None carries a secret, token, code or state. Browsers get a small
// HTML page, API clients JSON; [Config.ErrorHandler] replaces both.
//
// # Sessions
//
// Sessions live in a [SessionStore] (in memory by default, bounded, with
// expiry) behind an HttpOnly, SameSite=Lax cookie. [Client.Identity] and
// [Client.Session] read them; [Client.RequireLogin] guards handlers. An
// application with its own sessions takes over in [Config.OnLogin].
//
// # Testing
//
// Package [github.com/ssokit/ssokit/ssoclient/ssotest] runs a real OpenID
// provider on loopback to sign in against, with faults to show each check
// refusing what it should.
package ssoclient
