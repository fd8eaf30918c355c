package ssoclient_test

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// A logout token whose exp is far off is still only accepted while its iat
// is recent: otherwise it outlives its jti's entry in the replay cache and
// can be replayed to end the user's later sessions.
func TestReviewLogoutTokenFarExpReplay(t *testing.T) {
	a, clock := tokenApp(t, nil)
	uri := a.withBackChannel()
	a.browserAs("alice")
	c := a.idp.LogoutTokenClaims(ssotest.DefaultClientID, "alice", "")
	c["exp"] = clock.Now().Add(24 * time.Hour).Unix()
	tok := a.idp.SignLogoutToken(c)
	if st, err := a.idp.SendLogoutToken(context.Background(), uri, tok); err != nil || st != http.StatusOK {
		t.Fatalf("first delivery: %d %v", st, err)
	}
	clock.Add(time.Hour)
	alice := a.browserAs("alice")
	if st, err := a.idp.SendLogoutToken(context.Background(), uri, tok); err != nil || st != http.StatusBadRequest {
		t.Errorf("the same logout token an hour later: %d %v; want 400", st, err)
	}
	if a.who(alice) != "alice" {
		t.Error("a replayed logout token ended a later session")
	}
}

// An old logout token (iat a day ago) with an exp still ahead is refused.
func TestReviewLogoutTokenOldIatWithExp(t *testing.T) {
	a, clock := tokenApp(t, nil)
	uri := a.withBackChannel()
	alice := a.browserAs("alice")
	c := a.idp.LogoutTokenClaims(ssotest.DefaultClientID, "alice", "")
	c["iat"] = clock.Now().Add(-24 * time.Hour).Unix()
	c["exp"] = clock.Now().Add(time.Hour).Unix()
	if st, err := a.idp.SendLogoutToken(context.Background(), uri, a.idp.SignLogoutToken(c)); err != nil || st != http.StatusBadRequest {
		t.Errorf("a day-old logout token: %d %v; want 400", st, err)
	}
	if a.who(alice) != "alice" {
		t.Error("a day-old logout token ended the session")
	}
}

// hookTransport calls before(r) ahead of each request it forwards.
type hookTransport struct {
	base   http.RoundTripper
	before func(r *http.Request)
}

func (h hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if h.before != nil {
		h.before(r)
	}
	return h.base.RoundTrip(r)
}

// A session ended (here by the provider's back-channel logout) while its
// tokens are being refreshed stays ended: the refresh does not save it
// back.
func TestReviewRefreshDoesNotResurrectEndedSession(t *testing.T) {
	var (
		mu   sync.Mutex
		hook func()
	)
	a, clock := tokenApp(t, func(c *ssoclient.Config) {
		base := c.HTTPClient.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		hc := *c.HTTPClient
		hc.Transport = hookTransport{base: base, before: func(r *http.Request) {
			if r.Method != http.MethodPost || r.Body == nil {
				return
			}
			b, err := r.GetBody()
			if err != nil {
				return
			}
			var buf [4096]byte
			n, _ := b.Read(buf[:])
			if f, _ := url.ParseQuery(string(buf[:n])); f.Get("grant_type") != "refresh_token" {
				return
			}
			mu.Lock()
			h := hook
			hook = nil
			mu.Unlock()
			if h != nil {
				h()
			}
		}}
		c.HTTPClient = &hc
	})
	a.withBackChannel()
	alice := a.browserAs("alice")
	ts, err := a.sso.TokenSource(context.Background(), a.request(alice))
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	hook = func() {
		if _, err := a.idp.BackChannelLogout(context.Background(), "alice"); err != nil {
			t.Errorf("back-channel logout: %v", err)
		}
	}
	mu.Unlock()
	clock.Add(2 * ssotest.AccessTokenLifetime)
	_, _ = ts.Token()
	if got := a.who(alice); got != "" {
		t.Fatalf("the session the provider ended during a refresh is back, as %q", got)
	}
}

// A rate-limited token endpoint (429) is a provider failing, not refusing
// the refresh: the session stays.
func TestReviewRateLimitedRefreshKeepsSession(t *testing.T) {
	a, clock := tokenApp(t, nil)
	a.signIn("")
	ts, err := a.sso.TokenSource(context.Background(), a.request(a.browser))
	if err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * ssotest.AccessTokenLifetime)
	a.idp.SetFaults(ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointToken: http.StatusTooManyRequests}})
	_, err = ts.Token()
	wantErrCode(t, err, ssoclient.CodeProviderUnavailable)
	if a.signedIn() != "alice" {
		t.Fatal("a rate-limited token endpoint ended the session")
	}
}
