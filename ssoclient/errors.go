package ssoclient

import (
	"errors"
	"log/slog"
	"net/http"
)

// A Code names a kind of sign-in failure. Codes are stable: apps may
// branch on them, show their own text for them, and count them.
type Code string

// The codes. The HTTP status each gets is in [Error.Status]; README.md
// says what a person should do about each.
const (
	// The browser's request does not belong to a sign-in this browser
	// started: the attempt cookie is missing, tampered with, or for another
	// state (a forged or replayed callback, or cookies blocked).
	CodeStateInvalid Code = "state_invalid"
	// The attempt is older than its 10-minute life.
	CodeAttemptExpired Code = "attempt_expired"
	// The attempt was already used: a replayed callback.
	CodeAttemptReplayed Code = "attempt_replayed"
	// The callback lacks what it needs (a code) or has what it must not.
	CodeInvalidRequest Code = "invalid_request"
	// The authorization response or ID token names another issuer (a
	// mix-up attack, or a misconfigured issuer).
	CodeIssuerMismatch Code = "issuer_mismatch"
	// The ID token's nonce is not this attempt's (a replayed or injected
	// token).
	CodeNonceMismatch Code = "nonce_mismatch"
	// The ID token fails verification: signature, algorithm, audience,
	// times, at_hash, or its form.
	CodeIDTokenInvalid Code = "id_token_invalid"
	// Userinfo's answer does not belong to the ID token's subject, its
	// signature does not verify, or userinfo refused the access token.
	CodeUserinfoInvalid Code = "userinfo_invalid"
	// The verified claims lack what a sign-in needs (a subject).
	CodeClaimsInvalid Code = "claims_invalid"
	// The token endpoint refused this application's credentials.
	CodeInvalidClient Code = "invalid_client"
	// The token endpoint refused the code: expired, used, or for another
	// redirect URI or verifier.
	CodeInvalidGrant Code = "invalid_grant"
	// The person cancelled, or the provider refused them.
	CodeAccessDenied Code = "access_denied"
	// The provider answered the authorization request with another error.
	CodeProviderError Code = "provider_error"
	// The provider says the email address is not verified.
	CodeEmailNotVerified Code = "email_not_verified"
	// The application's OnLogin hook refused the sign-in.
	CodeLoginRefused Code = "login_refused"
	// The request needs a signed-in person and has none.
	CodeLoginRequired Code = "login_required"
	// A state-changing request (logout) came from another origin.
	CodeOriginInvalid Code = "origin_invalid"
	// The provider's discovery document cannot be fetched or is invalid.
	CodeDiscoveryFailed Code = "discovery_failed"
	// The provider failed: unreachable, a 5xx, or an answer that is not
	// the protocol's.
	CodeProviderUnavailable Code = "provider_unavailable"
	// The provider did not answer in time.
	CodeProviderTimeout Code = "provider_timeout"
	// The Config passed to New is wrong.
	CodeConfigInvalid Code = "config_invalid"
	// No SSO profile has this ID (or none matches the email's domain).
	CodeProfileNotFound Code = "profile_not_found"
	// The SSO profile is disabled: it refuses new sign-ins, in-flight
	// callbacks included.
	CodeProfileDisabled Code = "profile_disabled"
	// A profile given to Client.Profiles is invalid: the detail says which
	// field, or why its issuer's discovery failed.
	CodeProfileInvalid Code = "profile_invalid"
	// The email's domain is not one the policy allows.
	CodeDomainNotAllowed Code = "domain_not_allowed"
	// Match-only provisioning found no existing user.
	CodeProvisioningDisabled Code = "provisioning_disabled"
	// Linking an identity that is linked to another user already.
	CodeAlreadyLinked Code = "already_linked"
	// Unlinking the user's last way to sign in.
	CodeLastSignInMethod Code = "last_sign_in_method"
	// The identity matches an existing account that is linked to another
	// identity at the same provider (a recycled mailbox, say), or matches
	// two accounts: no automatic link is made.
	CodeAccountConflict Code = "account_conflict"
	// A broker sign-in names a relying app that is not registered.
	CodeAppUnknown Code = "app_unknown"
	// A broker sign-in's return_to is not, character for character, one of
	// the app's registered return URLs.
	CodeReturnURLInvalid Code = "return_url_invalid"
	// A ticket redemption failed: the ticket is unknown, already redeemed,
	// expired, issued to another app or for another return URL. The
	// caller is not told which; the broker's log is.
	CodeTicketInvalid Code = "ticket_invalid"
	// A relying app's credentials at the ticket endpoint are missing or
	// wrong: an unknown app, a wrong secret, or an assertion that does not
	// verify.
	CodeAppAuthFailed Code = "app_auth_failed"
	// The provider refused to refresh the session's access token (the
	// refresh token was revoked or expired, the user disabled): the
	// session is ended.
	CodeRefreshFailed Code = "refresh_failed"
	// The session keeps no tokens (Config.KeepTokens is off), or no
	// refresh token when its access token has expired.
	CodeNoToken Code = "no_token"
	// A back-channel logout request's logout_token is missing or fails
	// validation (OpenID Connect Back-Channel Logout 1.0 §2.6).
	CodeLogoutTokenInvalid Code = "logout_token_invalid"
)

// codeInfo is a code's status and the message a person sees.
var codeInfo = map[Code]struct {
	status  int
	message string
}{
	CodeStateInvalid:         {http.StatusBadRequest, "This sign-in response does not match a sign-in started in this browser. Start the sign-in again from the application, in the same browser, with cookies enabled."},
	CodeAttemptExpired:       {http.StatusBadRequest, "This sign-in took longer than 10 minutes. Start the sign-in again."},
	CodeAttemptReplayed:      {http.StatusBadRequest, "This sign-in was already completed once. Start the sign-in again."},
	CodeInvalidRequest:       {http.StatusBadRequest, "The sign-in response is incomplete. Start the sign-in again."},
	CodeIssuerMismatch:       {http.StatusBadRequest, "The sign-in response did not come from the configured identity provider. Start the sign-in again; if it persists, an administrator should check the issuer configured for this provider."},
	CodeNonceMismatch:        {http.StatusBadRequest, "The identity provider's answer does not belong to this sign-in. Start the sign-in again."},
	CodeIDTokenInvalid:       {http.StatusBadRequest, "The identity provider's ID token could not be verified. Start the sign-in again; if it persists, an administrator should check the provider's signing keys and this application's client ID."},
	CodeUserinfoInvalid:      {http.StatusBadRequest, "The identity provider's user information does not match the signed-in user."},
	CodeClaimsInvalid:        {http.StatusBadRequest, "The identity provider did not say who you are (no subject). An administrator should check the claims it sends."},
	CodeInvalidClient:        {http.StatusBadRequest, "The identity provider rejected this application's client ID or client secret. An administrator should re-enter both (this often follows a secret rotation) and check that the application is enabled at the provider."},
	CodeInvalidGrant:         {http.StatusBadRequest, "The identity provider refused the sign-in code: each sign-in is single-use and valid for 10 minutes. Start the sign-in again; if it persists, an administrator should check that the redirect URI registered at the provider matches exactly."},
	CodeAccessDenied:         {http.StatusForbidden, "The sign-in was cancelled or refused at the identity provider."},
	CodeProviderError:        {http.StatusBadRequest, "The identity provider returned an error instead of signing you in."},
	CodeEmailNotVerified:     {http.StatusForbidden, "Your identity provider says your email address is not verified. Verify it with your identity provider, then sign in again."},
	CodeLoginRefused:         {http.StatusForbidden, "This application does not allow you to sign in."},
	CodeLoginRequired:        {http.StatusUnauthorized, "You need to sign in."},
	CodeOriginInvalid:        {http.StatusForbidden, "This request did not come from this application's own pages."},
	CodeDiscoveryFailed:      {http.StatusBadGateway, "The identity provider's configuration (.well-known/openid-configuration) could not be loaded or is invalid. Check that the issuer URL is correct, publicly reachable and served over HTTPS."},
	CodeProviderUnavailable:  {http.StatusBadGateway, "The identity provider did not answer properly. Try again in a moment."},
	CodeProviderTimeout:      {http.StatusGatewayTimeout, "The identity provider did not answer in time. Try again in a moment."},
	CodeConfigInvalid:        {http.StatusInternalServerError, "The single sign-on configuration is invalid."},
	CodeProfileNotFound:      {http.StatusNotFound, "No single sign-on connection matches. Go back and pick another way to sign in, or ask an administrator to set one up for your organisation."},
	CodeProfileDisabled:      {http.StatusForbidden, "This single sign-on connection is not operational: an administrator disabled it. Sign in another way, or ask an administrator."},
	CodeProfileInvalid:       {http.StatusBadRequest, "The SSO profile is invalid."},
	CodeDomainNotAllowed:     {http.StatusForbidden, "Single sign-on here is restricted to email addresses on the organisation's verified domains. Sign in with an address on one of them, or ask an administrator to add your domain."},
	CodeProvisioningDisabled: {http.StatusForbidden, "Automatic member provisioning is disabled for this SSO profile, please ask an admin to invite you first."},
	CodeAlreadyLinked:        {http.StatusConflict, "This account at the identity provider is already connected to another user."},
	CodeLastSignInMethod:     {http.StatusConflict, "This is your last way to sign in; add another before removing it."},
	CodeAppUnknown:           {http.StatusBadRequest, "The application that sent you here is not registered with this sign-in service. Go back and tell its administrator."},
	CodeReturnURLInvalid:     {http.StatusBadRequest, "The application that sent you here asked to return to an address it has not registered. Go back and tell its administrator."},
	CodeTicketInvalid:        {http.StatusBadRequest, "The ticket is invalid: unknown, already redeemed, expired, or issued to another application."},
	CodeAppAuthFailed:        {http.StatusUnauthorized, "The application's credentials for redeeming tickets are missing or wrong."},
	CodeRefreshFailed:        {http.StatusUnauthorized, "Your sign-in at the identity provider has ended or was revoked. Sign in again."},
	CodeNoToken:              {http.StatusUnauthorized, "This session holds no usable access token. Sign in again."},
	CodeLogoutTokenInvalid:   {http.StatusBadRequest, "The logout request is invalid."},
	CodeAccountConflict:      {http.StatusConflict, "Your sign-in matches an account that is already connected to another identity at this provider. Sign in as you did before and connect this one from your account settings, or ask an administrator."},
}

// Error is every failure ssokit reports: a stable Code, the HTTP status it
// deserves (4xx for what the browser or provider sent, 502/504 when the
// provider fails), a message a person can act on, and the cause. It never
// carries a secret, token, code or state value.
//
// Test for a code with errors.As, or with errors.Is against an *Error
// that has only the Code set:
//
//	errors.Is(err, &ssoclient.Error{Code: ssoclient.CodeNonceMismatch})
type Error struct {
	Code    Code
	Status  int
	Message string
	// Detail is a technical explanation for logs and administrators
	// (which check failed, what the provider answered).
	Detail string
	cause  error
}

// newError makes an Error with the code's status and message.
func newError(code Code, detail string, cause error) *Error {
	info, ok := codeInfo[code]
	if !ok {
		info = codeInfo[CodeProviderUnavailable]
	}
	return &Error{Code: code, Status: info.status, Message: info.message, Detail: detail, cause: cause}
}

// Error gives the code, the detail and the cause; none carries a secret.
func (e *Error) Error() string {
	s := "ssoclient: " + string(e.Code)
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	if e.cause != nil {
		s += ": " + e.cause.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// LogValue logs the code, status and detail.
func (e *Error) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("code", string(e.Code)), slog.Int("status", e.Status)}
	if e.Detail != "" {
		attrs = append(attrs, slog.String("detail", e.Detail))
	}
	if e.cause != nil {
		attrs = append(attrs, slog.String("cause", e.cause.Error()))
	}
	return slog.GroupValue(attrs...)
}

// asError returns err as an *Error, wrapping any other error as
// provider_unavailable.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return newError(CodeProviderUnavailable, "", err)
}
