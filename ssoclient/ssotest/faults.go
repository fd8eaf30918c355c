package ssotest

import (
	"crypto"
	"net/http"
	"net/url"
	"time"
)

// An Endpoint names one of the provider's endpoints, for Faults and
// Requests.
type Endpoint string

// The provider's endpoints.
const (
	EndpointDiscovery  Endpoint = "discovery"
	EndpointAuthorize  Endpoint = "authorize"
	EndpointToken      Endpoint = "token"
	EndpointJWKS       Endpoint = "jwks"
	EndpointUserinfo   Endpoint = "userinfo"
	EndpointEndSession Endpoint = "end_session"
)

// Faults make the provider misbehave, one way per field, so a test can show
// the relying party refusing it. The zero value is a well-behaved
// provider. Set them at start with WithFaults or at any time with
// [Provider.SetFaults].
type Faults struct {
	// DiscoveryIssuer replaces the issuer in the discovery document.
	DiscoveryIssuer string
	// ModifyDiscovery is called with the discovery document before it is
	// served: drop end_session_endpoint, change the auth methods listed...
	ModifyDiscovery func(doc map[string]any)
	// IDTokenIssuer replaces the ID token's iss.
	IDTokenIssuer string
	// IDTokenAudience replaces the ID token's aud (a single value is sent
	// as a string, several as an array).
	IDTokenAudience []string
	// Nonce replaces the ID token's nonce; OmitClaims can drop it.
	Nonce string
	// OmitClaims removes these claims from the ID token ("nonce", "exp",
	// "email", ...).
	OmitClaims []string
	// TimeShift moves the ID token's iat, exp and auth_time: -2h makes it
	// expired, +1h issued in the future.
	TimeShift time.Duration
	// ThinIDToken leaves only the protocol claims in the ID token, so
	// profile claims are only in userinfo, as some providers do.
	ThinIDToken bool
	// UnverifiedEmail sends email_verified false for every user.
	UnverifiedEmail bool
	// BadSignature corrupts the ID token's signature.
	BadSignature bool
	// AlgNone sends an unsigned ID token with alg "none".
	AlgNone bool
	// ModifyIDToken is called with the ID token's header and claims just
	// before signing: anything the named faults do not cover.
	ModifyIDToken func(header, claims map[string]any)
	// SignWith signs the ID token with this key instead of the provider's
	// (a key the JWKS does not publish: a forger's), under the header's
	// alg and kid. When the key is not of the provider's algorithm, set
	// the header's alg with ModifyIDToken.
	SignWith crypto.Signer
	// HMACKey signs the ID token with HS256 (or the HS384 or HS512 that
	// ModifyIDToken puts in the header) keyed with these bytes: the client
	// secret, or a published public key, as the algorithm-confusion attack
	// does. The header keeps the published kid.
	HMACKey []byte
	// ModifyJWKS is called with the keys of the JWKS before they are
	// served and returns the keys to serve: drop their kid, set use "enc"
	// or another alg, add keys the provider does not sign with...
	ModifyJWKS func(keys []map[string]any) []map[string]any
	// UserinfoSubject replaces sub in the userinfo response.
	UserinfoSubject string
	// ModifyUserinfo is called with the userinfo claims before they are
	// sent.
	ModifyUserinfo func(claims map[string]any)
	// SignUserinfo answers userinfo with a JWT (application/jwt) signed
	// with the current key, its claims completed with iss and aud (OIDC
	// Core §5.3.2); ModifyUserinfo still applies, before signing.
	SignUserinfo bool
	// TokenError makes the token endpoint answer this OAuth error
	// ("invalid_grant", "invalid_client", ...) with the status RFC 6749
	// §5.2 gives it.
	TokenError string
	// OmitIDToken leaves id_token out of the token response.
	OmitIDToken bool
	// TokenType replaces token_type in the token response ("Bearer" by
	// default; real providers vary its case).
	TokenType string
	// AccessTokenLifetime, when positive, replaces AccessTokenLifetime for
	// the access tokens issued (and their expires_in).
	AccessTokenLifetime time.Duration
	// KeepRefreshToken makes the refresh grant answer without a new
	// refresh token, the old one staying valid (providers that do not
	// rotate).
	KeepRefreshToken bool
	// AuthorizeError makes the authorization endpoint redirect back with
	// this error ("access_denied", ...).
	AuthorizeError string
	// IssParameter replaces the RFC 9207 iss parameter of the
	// authorization response; OmitIssParameter leaves it out.
	IssParameter     string
	OmitIssParameter bool
	// PostLogoutState replaces the state the end-session endpoint sends
	// back to the post_logout_redirect_uri; OmitPostLogoutState leaves it
	// out.
	PostLogoutState     string
	OmitPostLogoutState bool
	// Status makes an endpoint answer with this HTTP status and a JSON
	// error body.
	Status map[Endpoint]int
	// Body makes an endpoint answer 200 with this body (garbage, truncated
	// JSON, a huge document, ...).
	Body map[Endpoint]string
	// Delay makes an endpoint wait this long before answering (or until
	// the client gives up).
	Delay map[Endpoint]time.Duration
}

// SetFaults replaces the provider's faults; SetFaults(Faults{}) heals it.
func (p *Provider) SetFaults(f Faults) {
	p.mu.Lock()
	p.faults = f
	p.mu.Unlock()
}

func (p *Provider) currentFaults() Faults {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faults
}

// TokenRequest is what the token endpoint last received.
type TokenRequest struct {
	// Form is the request body.
	Form url.Values
	// Header is the request's header (Authorization included).
	Header http.Header
	// ClientID is the authenticated client; AuthMethod how it
	// authenticated.
	ClientID   string
	AuthMethod string
	// AssertionHeader and AssertionClaims are the decoded private_key_jwt
	// client assertion, when one was sent.
	AssertionHeader map[string]any
	AssertionClaims map[string]any
}

// LastAuthorizeRequest returns the query of the last authorization request.
func (p *Provider) LastAuthorizeRequest() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneValues(p.lastAuthorize)
}

// LastTokenRequest returns the last token request, or nil before any.
func (p *Provider) LastTokenRequest() *TokenRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lastToken == nil {
		return nil
	}
	tr := *p.lastToken
	tr.Form = cloneValues(tr.Form)
	tr.Header = tr.Header.Clone()
	return &tr
}

// LastEndSessionRequest returns the parameters of the last end-session
// request.
func (p *Provider) LastEndSessionRequest() url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return cloneValues(p.lastEndSession)
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// faulty wraps an endpoint's handler with counting and the Status, Body and
// Delay faults.
func (p *Provider) faulty(e Endpoint, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.counts[e]++
		delay, status := p.faults.Delay[e], p.faults.Status[e]
		body, hasBody := p.faults.Body[e]
		p.mu.Unlock()
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		switch {
		case status != 0:
			writeJSON(w, status, map[string]string{"error": "server_error", "error_description": "ssotest: injected fault"})
		case hasBody:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(body))
		default:
			h(w, r)
		}
	}
}
