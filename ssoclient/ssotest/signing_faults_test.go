package ssotest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// idTokenWith runs a code flow under f and returns the ID token's parts.
func idTokenWith(t *testing.T, p *ssotest.Provider, f ssotest.Faults) (header map[string]any, input string, sig []byte) {
	t.Helper()
	p.SetFaults(f)
	defer p.SetFaults(ssotest.Faults{})
	r := newRP(t, p)
	_, tok := r.token(r.exchangeForm(r.code(r.authParams())))
	hb, _, sig, input, err := jose.Parts(tok["id_token"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(hb, &header); err != nil {
		t.Fatal(err)
	}
	return header, input, sig
}

func TestSignWith(t *testing.T) {
	p := ssotest.New(t, ssotest.WithLoginUser("alice"))
	forger, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	h, input, sig := idTokenWith(t, p, ssotest.Faults{
		SignWith:      forger,
		ModifyIDToken: func(h, _ map[string]any) { h["alg"] = "ES256" },
	})
	if h["alg"] != "ES256" || h["kid"] != p.KeyID() {
		t.Fatalf("header %v, want ES256 under the published kid %s", h, p.KeyID())
	}
	if err := jose.VerifyInput(forger.Public(), "ES256", []byte(input), sig); err != nil {
		t.Errorf("not signed with the given key: %v", err)
	}
	for kid, pub := range newRP(t, p).keys() {
		if jose.VerifyInput(pub, "ES256", []byte(input), sig) == nil {
			t.Errorf("published key %s verifies the forged token", kid)
		}
	}
}

func TestHMACKey(t *testing.T) {
	p := ssotest.New(t, ssotest.WithLoginUser("alice"))
	key := []byte(ssotest.DefaultClientSecret)
	h, input, sig := idTokenWith(t, p, ssotest.Faults{HMACKey: key})
	if h["alg"] != "HS256" || h["kid"] != p.KeyID() {
		t.Fatalf("header %v", h)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(input))
	if !hmac.Equal(m.Sum(nil), sig) {
		t.Errorf("the HMAC does not verify with the key")
	}
}

func TestModifyJWKS(t *testing.T) {
	p := ssotest.New(t, ssotest.WithFaults(ssotest.Faults{ModifyJWKS: func(keys []map[string]any) []map[string]any {
		delete(keys[0], "kid")
		keys[0]["use"] = "enc"
		return append(keys, map[string]any{"kty": "AKP", "kid": "pq"})
	}}))
	get := func() []map[string]any {
		resp, err := p.HTTPClient().Get(p.Issuer() + "/jwks")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var set struct{ Keys []map[string]any }
		if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
			t.Fatal(err)
		}
		return set.Keys
	}
	keys := get()
	if len(keys) != 2 || keys[0]["kid"] != nil || keys[0]["use"] != "enc" || keys[0]["kty"] != "RSA" || keys[1]["kty"] != "AKP" {
		t.Errorf("modified JWKS %v", keys)
	}
	p.SetFaults(ssotest.Faults{ModifyJWKS: func([]map[string]any) []map[string]any { return nil }})
	if keys := get(); keys == nil || len(keys) != 0 {
		t.Errorf("emptied JWKS %v, want an empty keys array", keys)
	}
	p.SetFaults(ssotest.Faults{})
	if keys := get(); len(keys) != 1 || keys[0]["kid"] != p.KeyID() || keys[0]["use"] != "sig" {
		t.Errorf("healed JWKS %v", keys)
	}
}

func TestSignUserinfo(t *testing.T) {
	p := ssotest.New(t, ssotest.WithLoginUser("alice"), ssotest.WithFaults(ssotest.Faults{
		SignUserinfo:   true,
		ModifyUserinfo: func(c map[string]any) { c["extra"] = "x" },
	}))
	r := newRP(t, p)
	_, tok := r.token(r.exchangeForm(r.code(r.authParams())))
	req, _ := http.NewRequest(http.MethodGet, p.Issuer()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+tok["access_token"].(string))
	resp, err := r.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/jwt" {
		t.Fatalf("%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	h, c := r.verify(string(body))
	if h["kid"] != p.KeyID() || c["sub"] != "alice" || c["iss"] != p.Issuer() || c["aud"] != ssotest.DefaultClientID || c["extra"] != "x" {
		t.Errorf("signed userinfo %v %v", h, c)
	}
}

func TestPostLogoutState(t *testing.T) {
	p := ssotest.New(t)
	c := *p.HTTPClient()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	params := url.Values{"client_id": {ssotest.DefaultClientID}, "post_logout_redirect_uri": {"http://127.0.0.1:9999/bye"}, "state": {"mine"}}
	for _, tt := range []struct {
		name   string
		faults ssotest.Faults
		want   string
	}{
		{"as sent", ssotest.Faults{}, "http://127.0.0.1:9999/bye?state=mine"},
		{"replaced", ssotest.Faults{PostLogoutState: "other"}, "http://127.0.0.1:9999/bye?state=other"},
		{"omitted", ssotest.Faults{OmitPostLogoutState: true}, "http://127.0.0.1:9999/bye"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p.SetFaults(tt.faults)
			resp, err := c.Get(p.Issuer() + "/end_session?" + params.Encode())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || got != tt.want {
				t.Errorf("%d to %q, want %q", resp.StatusCode, got, tt.want)
			}
		})
	}
}
