// Package conformance is ssokit's relying-party conformance suite, modelled
// on the OpenID Foundation's relying-party certification tests: the Basic RP
// and Config RP profiles of the old suite at rp.certification.openid.net
// (test ids rp-*), the oidcc-client-test-* modules of the OIDF
// conformance-suite that replaced it, and the RP-initiated logout tests.
// It has no exported API: the suite is its tests.
//
// Each case runs a whole sign-in (or sign-out) in a browser with a cookie
// jar, through a Client's Handler, against an ssotest provider misbehaving
// one way, and asserts the HTTP outcome: for a refusal, the status, the
// error code in the body, and that no session exists (none stored, none
// seen by the browser); for a success, the signed-in identity. A case is
// named after its certification test id where one exists; cases of ssokit's
// own (RFC 9207, private_key_jwt, PKCE, state, RFC 8725) are prefixed
// ssokit-.
//
// Where the OIDF tests leave the relying party a choice, ssokit's is the
// stricter one, and the case asserts it: it refuses an ID token without kid
// when several keys fit (rp-id_token-kid-absent-multiple-jwks), an unsigned
// ID token even from the token endpoint (rp-id_token-sig-none), and any HMAC
// algorithm, even one keyed with the client secret (rp-id_token-sig-hs256).
// It sends a nonce in the code flow too and requires it back
// (rp-nonce-unless-code-flow, ssokit-nonce-missing).
//
// # Cases
//
// Basic RP (response_type=code):
//
//	rp-response_type-code                  code flow signs in; response_type=code, scope has openid, the code is redeemed
//	rp-scope-userinfo-claims               profile and email asked by scope; claims only in userinfo are used
//	rp-nonce-invalid                       another nonce in the ID token: nonce_mismatch
//	rp-nonce-unless-code-flow              a 256-bit nonce is sent in the code flow too and comes back in the ID token
//	rp-token_endpoint-client_secret_basic  client_secret_basic, form-encoded in the header, no secret in the body
//	rp-token_endpoint-client_secret_post   client_secret_post, no Authorization header
//	rp-token_endpoint-private_key_jwt      private_key_jwt, no secret
//	rp-id_token-aud                        aud another client: id_token_invalid
//	rp-id_token-iat                        no iat: id_token_invalid
//	rp-id_token-sub                        no sub: id_token_invalid
//	rp-id_token-issuer-mismatch            iss another issuer: issuer_mismatch
//	rp-id_token-kid-absent-single-jwks     no kid, one key in the JWKS (without kid either): signs in
//	rp-id_token-kid-absent-multiple-jwks   no kid, two RS256 keys without kid: id_token_invalid (no guessing)
//	rp-id_token-sig-none                   alg none: id_token_invalid
//	rp-id_token-sig-rs256                  RS256: signs in
//	rp-id_token-sig-es256                  ES256: signs in
//	rp-id_token-bad-sig-rs256              corrupted RS256 signature: id_token_invalid
//	rp-id_token-bad-sig-es256              corrupted ES256 signature: id_token_invalid
//	rp-id_token-sig-hs256                  valid HS256 keyed with the client secret: id_token_invalid
//	rp-id_token-bad-sig-hs256              HS256 keyed with another secret: id_token_invalid
//	rp-id_token-bad-at_hash                wrong at_hash: id_token_invalid
//	rp-userinfo-bad-sub-claim              userinfo about another sub: userinfo_invalid
//	rp-userinfo-bearer-header              userinfo is a GET with the access token in "Authorization: Bearer", not the query
//
// Config RP (and the Dynamic RP tests that do not need dynamic registration):
//
//	rp-discovery-openid-configuration      discovery fetched once; the discovered authorization, token and userinfo endpoints are used
//	rp-discovery-jwks_uri-keys             keys come from the discovered jwks_uri
//	rp-discovery-issuer-not-matching-config discovery names another issuer: New fails with issuer_mismatch (400), no Client
//	rp-key-rotation-op-sign-key            keys rotated between two sign-ins: the second refetches the JWKS and signs in
//	rp-key-rotation-op-sign-key-native     keys rotated between authorization and token request (OIDF's "just before signing")
//	rp-userinfo-sig                        userinfo as a signed JWT (application/jwt): verified and used
//
// Claim types, RP-initiated logout, and conformance-suite modules without an rp-* id:
//
//	rp-claims-aggregated                   ssokit neither verifies nor uses aggregated claims; the sign-in succeeds without them
//	rp-claims-distributed                  ssokit never calls a distributed claim's endpoint; the sign-in succeeds without it
//	rp-init-logout                         logout ends the session and sends id_token_hint (the session's), post_logout_redirect_uri, client_id, state
//	rp-init-logout-other-state             the provider returns another state: the browser lands signed out on the post-logout page
//	rp-init-logout-no-state                the provider returns no state: likewise
//	oidcc-client-test-missing-aud          no aud: id_token_invalid
//	oidcc-client-test-missing-athash       no at_hash, optional in the code flow: signs in
//	oidcc-client-test-ignores-unparseable-key-in-jwks  an AKP key and an unknown kty beside the real key: signs in
//
// Back-channel logout (TestBackChannelLogoutConformance): the browser signs
// in, the provider posts a logout token; a valid one is answered 200 and
// ends the session (and its replay is refused), a bad one 400 and the
// session stays. Every answer carries Cache-Control: no-store.
//
//	oidcc-client-test-rp-backchannel-rpinitlogout            a valid logout token (sub and sid)
//	oidcc-client-test-rp-backchannel-rpinitlogout-alg-none   unsigned
//	oidcc-client-test-rp-backchannel-rpinitlogout-wrong-alg  HS256 keyed with the client secret
//	oidcc-client-test-rp-backchannel-rpinitlogout-no-event   no events claim
//	oidcc-client-test-rp-backchannel-rpinitlogout-wrong-event events without the back-channel logout member
//	oidcc-client-test-rp-backchannel-rpinitlogout-with-nonce a nonce claim
//	oidcc-client-test-rp-backchannel-rpinitlogout-wrong-aud  aud another client
//	oidcc-client-test-rp-backchannel-rpinitlogout-wrong-issuer iss another issuer
//	ssokit-backchannel-no-sub-no-sid                         neither sub nor sid
//	ssokit-backchannel-jti-missing                           no jti (single use needs one)
//	ssokit-backchannel-iat-missing                           no iat
//	ssokit-backchannel-expired                               exp an hour ago
//	ssokit-backchannel-id-token                              the sign-in's ID token posted as a logout token
//
// ssokit's own:
//
//	ssokit-nonce-missing                   no nonce in the ID token: nonce_mismatch
//	ssokit-id_token-sig-ps256              PS256: signs in
//	ssokit-id_token-exp-missing            no exp: id_token_invalid
//	ssokit-id_token-expired                expired two hours ago: id_token_invalid
//	ssokit-id_token-iat-future             issued an hour ahead: id_token_invalid
//	ssokit-id_token-aud-untrusted-extra    aud has this client and another: id_token_invalid
//	ssokit-id_token-azp-other              azp another client: id_token_invalid
//	ssokit-id_token-typ-at+jwt             typ of an access token: id_token_invalid
//	ssokit-private_key_jwt-assertion       RS256 with kid; iss = sub = client_id; aud the token endpoint; short exp; a new jti each time
//	ssokit-private_key_jwt-aud-issuer      AudienceIssuer puts the issuer in aud
//	ssokit-private_key_jwt-refused         the provider knows another key: invalid_client
//	ssokit-rfc9207-iss-missing             iss advertised but absent from the authorization response: issuer_mismatch
//	ssokit-rfc9207-iss-other-issuer        iss of another issuer: issuer_mismatch
//	ssokit-rfc9207-iss-not-advertised      iss neither advertised nor sent: signs in
//	ssokit-pkce-s256                       S256 always, though the provider lists plain; challenge = S256(verifier)
//	ssokit-state-replay                    a callback replayed with its attempt cookie after it succeeded: attempt_replayed
//	ssokit-state-other-browser             a callback in a browser that did not start the sign-in (login CSRF): state_invalid
//	ssokit-jws-alg-not-allowed             a valid RS384 signature, RS384 not allowed: id_token_invalid (RFC 8725 §3.1)
//	ssokit-jws-alg-header-mismatch         header alg PS256 on an RS256 key: id_token_invalid
//	ssokit-jws-crit-unknown                an unknown crit header: id_token_invalid (RFC 7515 §4.1.11)
//	ssokit-jws-hs256-public-key            HS256 keyed with the provider's public key (algorithm confusion): id_token_invalid
//	ssokit-jws-unpublished-key             signed by a key the JWKS lacks, under the published kid: id_token_invalid
//	ssokit-jws-embedded-jwk                signed by a key carried in the jwk header: id_token_invalid (RFC 8725 §3.10)
//	ssokit-jws-x5c                         signed by a key whose certificate is in x5c: id_token_invalid
//	ssokit-jws-jku                         signed by a key at the jku URL: id_token_invalid; the URL is never fetched
//	ssokit-jws-x5u                         signed by a key at the x5u URL: id_token_invalid; the URL is never fetched
//	ssokit-jwk-use-enc                     the signing key published with use "enc": id_token_invalid
//	ssokit-jwk-alg-mismatch                the signing key published for RS512: id_token_invalid
//
// # Not covered
//
// These certification tests do not apply to a relying party that uses the
// authorization code flow with a statically registered client and
// discovery, or test a feature ssokit does not offer:
//
//	rp-discovery-webfinger-url, rp-discovery-webfinger-acct,
//	rp-discovery-webfinger-http-href, rp-discovery-webfinger-unknown-member
//	                                       WebFinger issuer discovery: ssokit is configured with the issuer
//	rp-registration-dynamic (and rp-registration-*)
//	                                       dynamic client registration: clients are registered statically
//	rp-response_type-id_token, rp-response_type-id_token+token, rp-response_type-code+id_token,
//	rp-response_type-code+token, rp-response_type-code+id_token+token
//	                                       implicit and hybrid flows: ssokit uses the code flow only
//	rp-id_token-bad-c_hash (and the conformance-suite's missing and invalid c_hash modules)
//	                                       c_hash exists only for ID tokens from the authorization endpoint (hybrid)
//	rp-response_mode-form_post (and the conformance-suite's form_post error module)
//	                                       form_post response mode: ssokit's callback takes the query
//	rp-self-issued                         self-issued OpenID providers
//	rp-request_uri-unsigned, rp-request_uri-sig, rp-request_uri-enc, rp-request_uri-sig+enc
//	                                       request objects: ssokit sends plain authorization requests
//	rp-claims_request-id_token, rp-claims_request-userinfo
//	                                       the claims request parameter: ssokit asks for claims by scope
//	rp-id_token-sig+enc, rp-id_token-sig+enc-a128kw, rp-userinfo-enc, rp-userinfo-sig+enc,
//	rp-key-rotation-op-enc-key, rp-key-rotation-rp-enc-key
//	                                       encrypted tokens: ssokit has no decryption keys
//	rp-key-rotation-rp-sign-key            rotating the RP's published signing keys: ssokit publishes no JWKS
//	                                       (its private_key_jwt key is registered at the provider out of band)
//	rp-token_endpoint-client_secret_jwt    client_secret_jwt is not one of ssokit's methods (basic, post, private_key_jwt, none)
//	rp-userinfo-bearer-body                an alternative to rp-userinfo-bearer-header, which ssokit uses
//	rp-support-3rd-party-init-login
//	                                       optional; ssokit's /login does not read iss or target_link_uri
//	the conformance-suite's refresh-token modules
//	                                       they test an OP; ssokit's refresh (Client.TokenSource) is tested in
//	                                       ssoclient (TestTokenSource*): rotation, refusal ends the session,
//	                                       the refreshed ID token's iss/sub/auth_time
//	the conformance-suite's mTLS endpoint-aliases module
//	                                       mutual-TLS client authentication is not offered
//	front-channel and session-management logout tests
//	                                       ssokit implements RP-initiated and back-channel logout
package conformance
