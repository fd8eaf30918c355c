package main

// This file is the whole Prometheus adapter: copy it into an application
// (and change the package name) to count ssokit's sign-ins and time its
// calls to the identity provider with github.com/prometheus/client_golang.

import (
	"context"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ssokit/ssokit/ssoclient"
)

// PrometheusObserver is an ssoclient.Observer that records into
// Prometheus collectors:
//
//	ssokit_logins_total{profile,outcome,code}                                         counter
//	ssokit_login_duration_seconds{profile,outcome}                                    histogram
//	ssokit_provider_request_duration_seconds{profile,endpoint,status_class,failed}    histogram
//
// outcome is started, success, linked or failure; code is the error code
// of a failure ("state_invalid", "invalid_grant", ...) and "" otherwise.
// endpoint is discovery, jwks, token or userinfo; status_class is 2xx,
// 3xx, 4xx, 5xx or "none" when no answer came; failed is "true" when the
// call failed, which includes a 200 whose body was refused.
//
// Every label value comes from a small fixed set, except profile: one
// value per SSO profile (tenant) of a multi-profile application. Drop that
// label if you serve many thousands of profiles.
type PrometheusObserver struct {
	logins           *prometheus.CounterVec
	loginDuration    *prometheus.HistogramVec
	providerDuration *prometheus.HistogramVec
}

// NewPrometheusObserver makes the collectors and registers them with reg.
func NewPrometheusObserver(reg prometheus.Registerer) (*PrometheusObserver, error) {
	o := &PrometheusObserver{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ssokit_logins_total",
			Help: "SSO sign-ins started, and how their callbacks ended (outcome, and the error code of a failure).",
		}, []string{"profile", "outcome", "code"}),
		loginDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ssokit_login_duration_seconds",
			Help:    "Time an SSO callback took, from its start to the session or the refusal.",
			Buckets: prometheus.DefBuckets,
		}, []string{"profile", "outcome"}),
		providerDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ssokit_provider_request_duration_seconds",
			Help:    "Time of each request to an identity provider's discovery, JWKS, token or userinfo endpoint.",
			Buckets: prometheus.DefBuckets,
		}, []string{"profile", "endpoint", "status_class", "failed"}),
	}
	for _, c := range []prometheus.Collector{o.logins, o.loginDuration, o.providerDuration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// Login counts a sign-in's start or end, and times its callback.
func (o *PrometheusObserver) Login(_ context.Context, e ssoclient.LoginEvent) {
	o.logins.WithLabelValues(e.Profile, string(e.Outcome), string(e.Code)).Inc()
	if e.Outcome != ssoclient.OutcomeStarted {
		o.loginDuration.WithLabelValues(e.Profile, string(e.Outcome)).Observe(e.Duration.Seconds())
	}
}

// ProviderCall times a request to the provider.
func (o *PrometheusObserver) ProviderCall(_ context.Context, e ssoclient.ProviderCallEvent) {
	o.providerDuration.WithLabelValues(e.Profile, string(e.Endpoint), statusClass(e.Status), strconv.FormatBool(e.Failed)).
		Observe(e.Duration.Seconds())
}

// statusClass is "2xx" for 200..299 and so on, "none" when no answer came.
func statusClass(status int) string {
	if status < 100 || status > 599 {
		return "none"
	}
	return strconv.Itoa(status/100) + "xx"
}
