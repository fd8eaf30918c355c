package ssoclient_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// An issuer typed by an administrator must not make the server call
// inward: BlockPrivateAddresses refuses loopback and private addresses at
// dial time.
func TestBlockPrivateAddresses(t *testing.T) {
	idp := ssotest.New(t, ssotest.WithLoginUser("alice"))
	cfg := ssoclient.Config{
		Issuer: idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL: "http://localhost/auth/sso/callback", HTTPClient: idp.HTTPClient(),
		BlockPrivateAddresses: true,
	}
	_, err := ssoclient.New(context.Background(), cfg)
	var se *ssoclient.Error
	if !errors.As(err, &se) || se.Code != ssoclient.CodeConfigInvalid || !strings.Contains(se.Error(), "AllowPrivate") {
		t.Fatalf("New with a loopback issuer: %v; want config_invalid naming AllowPrivate", err)
	}
	if n := idp.Requests(ssotest.EndpointDiscovery); n != 0 {
		t.Fatalf("the provider was reached %d times", n)
	}

	for _, bad := range [][]string{{"https://idp.example/"}, {"10.0.0.0/33"}, {"user@host"}} {
		c := cfg
		c.AllowPrivate = bad
		if _, err := ssoclient.New(context.Background(), c); !errors.Is(err, &ssoclient.Error{Code: ssoclient.CodeConfigInvalid}) {
			t.Errorf("AllowPrivate %q: %v; want config_invalid", bad, err)
		}
	}
	c := cfg
	c.BlockPrivateAddresses = false
	c.AllowPrivate = []string{"127.0.0.1"}
	if _, err := ssoclient.New(context.Background(), c); !errors.Is(err, &ssoclient.Error{Code: ssoclient.CodeConfigInvalid}) {
		t.Errorf("AllowPrivate without BlockPrivateAddresses: %v; want config_invalid", err)
	}
}

// With the provider's own host allowed, an endpoint its discovery
// document points at a forbidden address is still refused, and never
// reached.
func TestBlockPrivateAddressesCoversEveryEndpoint(t *testing.T) {
	var hits atomic.Int32
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatalf("a second loopback address is needed (Linux has 127.0.0.0/8): %v", err)
	}
	inward := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	inward.Listener = ln
	inward.Start()
	t.Cleanup(inward.Close)

	for _, field := range []string{"token_endpoint", "jwks_uri"} {
		t.Run(field, func(t *testing.T) {
			hits.Store(0)
			a := newApp(t, []ssotest.Option{ssotest.WithFaults(ssotest.Faults{ModifyDiscovery: func(d map[string]any) {
				d[field] = inward.URL + "/x"
			}})}, func(c *ssoclient.Config) {
				c.BlockPrivateAddresses = true
				c.AllowPrivate = []string{"127.0.0.1/32"}
			})
			a.wantRefused(a.signIn(""), ssoclient.CodeProviderUnavailable, 502)
			if n := hits.Load(); n != 0 {
				t.Fatalf("the forbidden address was reached %d times", n)
			}
			if !strings.Contains(a.logText(), "address is not public") {
				t.Errorf("the log does not say why: %s", a.logText())
			}
		})
	}
	// Allowed, the same provider signs in.
	a := newApp(t, nil, func(c *ssoclient.Config) {
		c.BlockPrivateAddresses = true
		c.AllowPrivate = []string{"127.0.0.1"}
	})
	if r := a.signIn(""); r.status != 200 || a.signedIn() != "alice" {
		t.Fatalf("allowed provider: %d %s", r.status, clipBody(r.body))
	}
}

// logText is everything the app logged so far.
func (a *app) logText() string {
	a.logMu.Lock()
	defer a.logMu.Unlock()
	return a.logs.String()
}
