package ssoclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ssokit/ssokit/discovery"
	"github.com/ssokit/ssokit/internal/safehttp"
	"github.com/ssokit/ssokit/jwks"
)

// provider is everything about one identity provider a sign-in needs,
// resolved once: endpoints (discovered, then overridden), the key set, the
// client authentication, and the oauth2 configuration.
type provider struct {
	conn       *connConfig
	issuer     string // the canonical issuer, or Entra's {tenantid} template
	meta       *discovery.Metadata
	endpoints  Endpoints
	keys       *jwks.KeySet
	authMethod AuthMethod
	scopes     []string // requested, openid first
	// authPrefix is the fixed part of the authorization request.
	authPrefix string
	// version is the UpdatedAt of the profile it was made from.
	version time.Time
	// issParam: the provider sends RFC 9207's iss in authorization
	// responses, so one that lacks it is refused.
	issParam bool
}

// newProvider discovers the provider and prepares it. Discovery may fail
// only when Endpoints give the authorization, token and JWKS endpoints.
func newProvider(ctx context.Context, s *settings, disc *discovery.Client, cc *connConfig) (*provider, error) {
	issuer, err := discovery.NormalizeIssuer(cc.issuer)
	if err != nil {
		return nil, configError("Issuer: %v", err)
	}
	p := &provider{conn: cc, issuer: issuer, endpoints: cc.endpoints}
	explicit := cc.endpoints.Authorization != "" && cc.endpoints.Token != "" && cc.endpoints.JWKS != ""
	meta, err := disc.Discover(ctx, issuer)
	switch {
	case err == nil:
		p.meta = meta
		p.issuer = meta.Issuer
		p.issParam = meta.AuthorizationResponseIssParameterSupported
		fill(&p.endpoints.Authorization, meta.AuthorizationEndpoint)
		fill(&p.endpoints.Token, meta.TokenEndpoint)
		fill(&p.endpoints.JWKS, meta.JWKSURI)
		fill(&p.endpoints.Userinfo, meta.UserinfoEndpoint)
		fill(&p.endpoints.EndSession, meta.EndSessionEndpoint)
	case explicit && !errors.Is(err, discovery.ErrIssuerMismatch):
		s.Logger.Warn("sso: discovery failed; using the configured endpoints", "issuer", issuer, "error", err)
		p.meta = &discovery.Metadata{Issuer: issuer}
	default:
		return nil, discoveryError(err)
	}
	for name, e := range map[string]string{
		"authorization": p.endpoints.Authorization, "token": p.endpoints.Token, "jwks": p.endpoints.JWKS,
		"userinfo": p.endpoints.Userinfo, "end_session": p.endpoints.EndSession,
	} {
		if e == "" {
			continue
		}
		if _, err := safehttp.CheckURL(e); err != nil {
			return nil, configError("%s endpoint: %v", name, err)
		}
	}
	p.keys, err = jwks.New(jwks.Config{
		URL: p.endpoints.JWKS, HTTPClient: s.HTTPClient, Algorithms: s.Algorithms,
		Timeout: s.Timeout, Now: s.Now,
		OnFetch: func(status int, d time.Duration, err error) {
			// A background refresh has no request context.
			s.providerCall(context.Background(), cc.profile, p.issuer, EndpointJWKS, status, d, err)
		},
	})
	if err != nil {
		return nil, configError("JWKS: %v", err)
	}
	var supported []string
	if p.meta != nil {
		supported = p.meta.TokenEndpointAuthMethodsSupported
	}
	p.authMethod = cc.chooseAuthMethod(supported)
	p.scopes = withOpenID(cc.scopes)
	p.authPrefix = authorizationPrefix(p.endpoints.Authorization, cc.clientID, s.redirect, p.scopes)
	return p, nil
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// discoveryError classifies a discovery failure.
func discoveryError(err error) *Error {
	// The discovery package's errors say what to do ("enter … as the
	// issuer"); they go into Detail, which an admin console shows.
	why := ": " + err.Error()
	switch {
	case errors.Is(err, discovery.ErrIssuerMismatch):
		return newError(CodeIssuerMismatch, "the discovery document names another issuer"+why, err)
	case errors.Is(err, discovery.ErrInvalidIssuer):
		return newError(CodeConfigInvalid, "the issuer is not a valid URL or domain"+why, err)
	case errors.Is(err, safehttp.ErrPrivateAddress):
		return newError(CodeConfigInvalid, "the issuer is on a private or loopback address, which BlockPrivateAddresses refuses; add its host or network to AllowPrivate if it is an internal provider"+why, err)
	case safehttp.IsTimeout(err):
		return newError(CodeProviderTimeout, "discovery timed out"+why, err)
	}
	return newError(CodeDiscoveryFailed, "discovery failed"+why, err)
}

// matchesIssuer checks a token's or response's iss against the provider's.
func (p *provider) matchesIssuer(iss, tid string) bool {
	if p.meta != nil {
		return p.meta.MatchesIssuer(iss, tid)
	}
	return iss == p.issuer
}

// templated reports whether the issuer is Entra's multi-tenant template.
func (p *provider) templated() bool { return strings.Contains(p.issuer, "{tenantid}") }

func (p *provider) String() string {
	return fmt.Sprintf("provider{%s, %s}", p.issuer, p.authMethod)
}

// authorizationURL is the authorization request of attempt a (OIDC Core
// §3.1.2.1, RFC 7636): the provider's fixed parameters, computed once, then
// state, nonce and the S256 challenge, and login_hint and prompt when set.
// It is what x/oauth2's AuthCodeURL builds, without sorting a map per
// sign-in.
func (p *provider) authorizationURL(a *attempt, hint, prompt string) string {
	var b strings.Builder
	b.Grow(len(p.authPrefix) + 200 + len(hint)*3)
	b.WriteString(p.authPrefix)
	// state, nonce and the challenge are base64url: nothing to escape.
	b.WriteString("&state=")
	b.WriteString(a.State)
	b.WriteString("&nonce=")
	b.WriteString(a.Nonce)
	b.WriteString("&code_challenge=")
	ch := a.challenge()
	b.Write(ch[:])
	b.WriteString("&code_challenge_method=S256")
	if hint != "" {
		b.WriteString("&login_hint=")
		b.WriteString(url.QueryEscape(hint))
	}
	if prompt != "" {
		b.WriteString("&prompt=")
		b.WriteString(url.QueryEscape(prompt))
	}
	return b.String()
}

// authorizationPrefix is the fixed part of every authorization request to
// p: the endpoint (keeping its own query), client_id, redirect_uri,
// response_type and scope.
func authorizationPrefix(endpoint, clientID, redirectURL string, scopes []string) string {
	sep := "?"
	if strings.Contains(endpoint, "?") {
		sep = "&"
	}
	return endpoint + sep + "client_id=" + url.QueryEscape(clientID) +
		"&redirect_uri=" + url.QueryEscape(redirectURL) +
		"&response_type=code&scope=" + url.QueryEscape(strings.Join(scopes, " "))
}
