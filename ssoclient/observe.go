package ssoclient

import (
	"context"
	"log/slog"
	"time"
)

// Observer receives what an application counts and times: every sign-in's
// start and outcome, and every call to a provider's endpoints. Wire it to
// Prometheus, OpenTelemetry or anything else (examples/observability
// shows both). Its methods are called on the request's goroutine, so they
// must be fast and safe for concurrent use; they never see a token, code,
// secret or session ID.
type Observer interface {
	// Login is called when a sign-in starts (OutcomeStarted) and once
	// when its callback ends, however it ends.
	Login(ctx context.Context, e LoginEvent)
	// ProviderCall is called after each request to a provider's
	// discovery, JWKS, token or userinfo endpoint.
	ProviderCall(ctx context.Context, e ProviderCallEvent)
}

// Outcome is where a sign-in is: started, or how its callback ended.
type Outcome string

// The outcomes of LoginEvent.
const (
	// OutcomeStarted: the browser was sent to the provider.
	OutcomeStarted Outcome = "started"
	// OutcomeSuccess: a session was made (or OnLogin took over).
	OutcomeSuccess Outcome = "success"
	// OutcomeLinked: an identity was linked to the signed-in user.
	OutcomeLinked Outcome = "linked"
	// OutcomeFailure: the callback was refused; LoginEvent.Code says why.
	OutcomeFailure Outcome = "failure"
)

// LoginEvent is one step of a sign-in, for metrics.
type LoginEvent struct {
	// Profile is the SSO profile ("" for a single provider, or when a
	// refused callback had no readable attempt).
	Profile string
	// Issuer is the provider's issuer ("" when unknown).
	Issuer  string
	Outcome Outcome
	// Code is the error code of a failure, "" otherwise.
	Code Code
	// Duration is the callback's time, from its start to the session
	// (0 for OutcomeStarted).
	Duration time.Duration
}

// Endpoint names a provider endpoint in a ProviderCallEvent.
type Endpoint string

// The provider endpoints ssokit calls.
const (
	EndpointDiscovery Endpoint = "discovery"
	EndpointJWKS      Endpoint = "jwks"
	EndpointToken     Endpoint = "token"
	EndpointUserinfo  Endpoint = "userinfo"
)

// ProviderCallEvent is one request to a provider.
type ProviderCallEvent struct {
	// Profile is the SSO profile the call was for; "" for discovery,
	// whose documents are cached per issuer and shared by profiles.
	Profile  string
	Issuer   string
	Endpoint Endpoint
	// Status is the HTTP status, 0 when no answer came (refused,
	// timed out, cut).
	Status   int
	Duration time.Duration
	// Failed tells whether the call failed: no answer, an error status,
	// or an answer that was refused.
	Failed bool
}

// observeEndpoint reports a call to one of p's endpoints.
func (c *Client) observeEndpoint(ctx context.Context, p *provider, ep Endpoint, status int, d time.Duration, err error) {
	c.cfg.providerCall(ctx, p.conn.profile, p.issuer, ep, status, d, err)
}

// providerCall reports a call to a provider's endpoint to the Observer and
// at debug level to the log.
func (s *settings) providerCall(ctx context.Context, profile, issuer string, ep Endpoint, status int, d time.Duration, err error) {
	failed := err != nil || status < 200 || status > 299
	if s.Observer != nil {
		s.Observer.ProviderCall(ctx, ProviderCallEvent{Profile: profile, Issuer: issuer, Endpoint: ep, Status: status, Duration: d, Failed: failed})
	}
	if s.Logger.Enabled(ctx, slog.LevelDebug) {
		s.Logger.LogAttrs(ctx, slog.LevelDebug, "sso: provider call", slog.String("profile", profile), slog.String("issuer", issuer),
			slog.String("endpoint", string(ep)), slog.Int("status", status), slog.Duration("duration", d), slog.Bool("failed", failed))
	}
}

// login reports a sign-in's start or end to the Observer. The log lines
// of the same moments are written by the handlers.
func (c *Client) observeLogin(ctx context.Context, profile, issuer string, outcome Outcome, err error, d time.Duration) {
	if c.cfg.Observer == nil {
		return
	}
	e := LoginEvent{Profile: profile, Issuer: issuer, Outcome: outcome, Duration: d}
	if err != nil {
		e.Code = codeOf(err)
	}
	c.cfg.Observer.Login(ctx, e)
}

// step logs one step of a sign-in at debug level: the profile, the step,
// and its outcome or error code. Values are the profile and issuer only;
// nothing from the request or the provider's answer.
func (c *Client) step(ctx context.Context, p *provider, step string, err error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{slog.String("step", step), slog.String("profile", p.conn.profile), slog.String("issuer", p.issuer)}
	if err != nil {
		attrs = append(attrs, slog.String("outcome", string(OutcomeFailure)), slog.String("code", string(codeOf(err))))
	} else {
		attrs = append(attrs, slog.String("outcome", "ok"))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "sso: login step", attrs...)
}

// codeOf is err's code, as the response to it would carry.
func codeOf(err error) Code { return asError(err).Code }
