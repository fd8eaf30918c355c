package ssoclient_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// obsRecorder is an Observer that keeps what it is told.
type obsRecorder struct {
	mu     sync.Mutex
	logins []ssoclient.LoginEvent
	calls  []ssoclient.ProviderCallEvent
}

func (r *obsRecorder) Login(_ context.Context, e ssoclient.LoginEvent) {
	r.mu.Lock()
	r.logins = append(r.logins, e)
	r.mu.Unlock()
}

func (r *obsRecorder) ProviderCall(_ context.Context, e ssoclient.ProviderCallEvent) {
	r.mu.Lock()
	r.calls = append(r.calls, e)
	r.mu.Unlock()
}

func (r *obsRecorder) take() ([]ssoclient.LoginEvent, []ssoclient.ProviderCallEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l, c := r.logins, r.calls
	r.logins, r.calls = nil, nil
	return l, c
}

// The Observer hears every sign-in's start and outcome, with its code on
// failure, and every provider call with its endpoint, status and time.
func TestObserver(t *testing.T) {
	rec := &obsRecorder{}
	a := newApp(t, nil, func(c *ssoclient.Config) { c.Observer = rec })
	_, calls := rec.take()
	if len(calls) != 1 || calls[0].Endpoint != ssoclient.EndpointDiscovery || calls[0].Status != http.StatusOK || calls[0].Failed || calls[0].Issuer != a.idp.Issuer() {
		t.Fatalf("New's provider calls: %+v", calls)
	}

	a.signIn("")
	logins, calls := rec.take()
	if len(logins) != 2 || logins[0].Outcome != ssoclient.OutcomeStarted || logins[1].Outcome != ssoclient.OutcomeSuccess ||
		logins[1].Issuer != a.idp.Issuer() || logins[1].Code != "" || logins[1].Duration <= 0 {
		t.Fatalf("sign-in events: %+v", logins)
	}
	var eps []string
	for _, c := range calls {
		if c.Failed || c.Status != http.StatusOK || c.Duration <= 0 {
			t.Errorf("call %+v", c)
		}
		eps = append(eps, string(c.Endpoint))
	}
	if got := strings.Join(eps, ","); got != "token,jwks" {
		t.Errorf("provider calls %s; want token,jwks", got)
	}

	// A failing token endpoint: a failure, with its code.
	a.idp.SetFaults(ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointToken: http.StatusServiceUnavailable}})
	r := a.signIn("")
	if r.status != http.StatusBadGateway {
		t.Fatalf("sign-in with a failing token endpoint: %d", r.status)
	}
	logins, calls = rec.take()
	if len(logins) != 2 || logins[1].Outcome != ssoclient.OutcomeFailure || logins[1].Code != ssoclient.CodeProviderUnavailable {
		t.Fatalf("failed sign-in events: %+v", logins)
	}
	if len(calls) != 1 || calls[0].Endpoint != ssoclient.EndpointToken || calls[0].Status != http.StatusServiceUnavailable || !calls[0].Failed {
		t.Fatalf("failed token call: %+v", calls)
	}

	// A callback without an attempt: a failure with no profile or issuer
	// known, still counted.
	a.get(a.browser, "/auth/sso/callback?state=nope&code=x")
	logins, _ = rec.take()
	if len(logins) != 1 || logins[0].Outcome != ssoclient.OutcomeFailure || logins[0].Code != ssoclient.CodeStateInvalid {
		t.Fatalf("callback without attempt: %+v", logins)
	}
}

// Each callback step is logged at debug level with its outcome, and a
// refusal names its step and code.
func TestLoginStepLogs(t *testing.T) {
	a := newApp(t, nil, nil)
	a.signIn("")
	a.idp.SetFaults(ssotest.Faults{Nonce: "other"})
	a.signIn("")
	a.logMu.Lock()
	logs := a.logs.String()
	a.logMu.Unlock()
	for _, step := range []string{"attempt", "exchange", "id_token", "claims", "session"} {
		if !strings.Contains(logs, `msg="sso: login step" step=`+step+` profile="" issuer=`+a.idp.Issuer()+` outcome=ok`) {
			t.Errorf("no debug line for step %s", step)
		}
	}
	if !strings.Contains(logs, `step=callback profile="" issuer=`+a.idp.Issuer()+` outcome=failure code=nonce_mismatch`) {
		t.Errorf("no debug line for the refused callback:\n%s", logs)
	}
	if !strings.Contains(logs, `msg="sso: provider call" profile="" issuer=`+a.idp.Issuer()+` endpoint=token status=200`) {
		t.Errorf("no debug line for the token call")
	}
}
