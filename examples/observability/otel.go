package main

// This file is the whole OpenTelemetry adapter: copy it into an
// application (and change the package name) to count ssokit's sign-ins and
// time its calls to the identity provider with an OpenTelemetry Meter,
// exported by whatever reader the application's MeterProvider has (OTLP,
// Prometheus, stdout...).

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/ssokit/ssokit/ssoclient"
)

// otelScope is the instrumentation scope the instruments are made under.
const otelScope = "github.com/ssokit/ssokit/ssoclient"

// otelDurationBuckets are the histograms' bucket boundaries in seconds:
// Prometheus's default buckets (the SDK's default boundaries are meant for
// milliseconds).
var otelDurationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// OTelObserver is an ssoclient.Observer that records into OpenTelemetry
// instruments, the same as PrometheusObserver's (the OTel Prometheus
// exporter names them as PrometheusObserver does, ssokit_logins_total...):
//
//	ssokit.logins                     counter, {login}; attributes profile, outcome, code
//	ssokit.login.duration             histogram, s; attributes profile, outcome
//	ssokit.provider.request.duration  histogram, s; attributes profile, endpoint, status_class, failed (bool)
//
// See PrometheusObserver for the values.
type OTelObserver struct {
	logins           metric.Int64Counter
	loginDuration    metric.Float64Histogram
	providerDuration metric.Float64Histogram
}

// NewOTelObserver makes the instruments with a Meter of mp.
func NewOTelObserver(mp metric.MeterProvider) (*OTelObserver, error) {
	m := mp.Meter(otelScope)
	var o OTelObserver
	var err error
	if o.logins, err = m.Int64Counter("ssokit.logins",
		metric.WithDescription("SSO sign-ins started, and how their callbacks ended (outcome, and the error code of a failure)."),
		metric.WithUnit("{login}")); err != nil {
		return nil, err
	}
	if o.loginDuration, err = m.Float64Histogram("ssokit.login.duration",
		metric.WithDescription("Time an SSO callback took, from its start to the session or the refusal."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(otelDurationBuckets...)); err != nil {
		return nil, err
	}
	if o.providerDuration, err = m.Float64Histogram("ssokit.provider.request.duration",
		metric.WithDescription("Time of each request to an identity provider's discovery, JWKS, token or userinfo endpoint."),
		metric.WithUnit("s"), metric.WithExplicitBucketBoundaries(otelDurationBuckets...)); err != nil {
		return nil, err
	}
	return &o, nil
}

// Login counts a sign-in's start or end, and times its callback.
func (o *OTelObserver) Login(ctx context.Context, e ssoclient.LoginEvent) {
	profile, outcome := attribute.String("profile", e.Profile), attribute.String("outcome", string(e.Outcome))
	o.logins.Add(ctx, 1, metric.WithAttributes(profile, outcome, attribute.String("code", string(e.Code))))
	if e.Outcome != ssoclient.OutcomeStarted {
		o.loginDuration.Record(ctx, e.Duration.Seconds(), metric.WithAttributes(profile, outcome))
	}
}

// ProviderCall times a request to the provider.
func (o *OTelObserver) ProviderCall(ctx context.Context, e ssoclient.ProviderCallEvent) {
	o.providerDuration.Record(ctx, e.Duration.Seconds(), metric.WithAttributes(
		attribute.String("profile", e.Profile),
		attribute.String("endpoint", string(e.Endpoint)),
		attribute.String("status_class", otelStatusClass(e.Status)),
		attribute.Bool("failed", e.Failed),
	))
}

// otelStatusClass is "2xx" for 200..299 and so on, "none" when no answer
// came.
func otelStatusClass(status int) string {
	if status < 100 || status > 599 {
		return "none"
	}
	return strconv.Itoa(status/100) + "xx"
}
