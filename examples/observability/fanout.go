package main

import (
	"context"

	"github.com/ssokit/ssokit/ssoclient"
)

// observers is an ssoclient.Observer that tells each of its observers, in
// order: ssoclient.Config takes one Observer, and this app records into
// Prometheus and OpenTelemetry at once.
type observers []ssoclient.Observer

func (obs observers) Login(ctx context.Context, e ssoclient.LoginEvent) {
	for _, o := range obs {
		o.Login(ctx, e)
	}
}

func (obs observers) ProviderCall(ctx context.Context, e ssoclient.ProviderCallEvent) {
	for _, o := range obs {
		o.ProviderCall(ctx, e)
	}
}
