package jwks_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/safehttp"
	"github.com/ssokit/ssokit/jwks"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// These tests run the key set against the fake provider of ssotest, the
// way ssoclient uses it.

func providerKeySet(t *testing.T, idp *ssotest.Provider, mod func(*jwks.Config)) *jwks.KeySet {
	t.Helper()
	cfg := jwks.Config{URL: idp.Issuer() + "/jwks", HTTPClient: idp.HTTPClient()}
	if mod != nil {
		mod(&cfg)
	}
	ks, err := jwks.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func claims(sub string) map[string]any {
	return map[string]any{"iss": "https://idp.example", "sub": sub, "aud": "app", "exp": 2000000000}
}

func mustVerify(t *testing.T, ks *jwks.KeySet, tok, wantSub string) jwks.Header {
	t.Helper()
	payload, h, err := ks.Verify(context.Background(), tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	var cl struct{ Sub string }
	if err := json.Unmarshal(payload, &cl); err != nil || cl.Sub != wantSub {
		t.Fatalf("payload %s: sub %q, %v; want %q", payload, cl.Sub, err, wantSub)
	}
	return h
}

func TestProviderAlgorithms(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256", "ES256"} {
		t.Run(alg, func(t *testing.T) {
			idp := ssotest.New(t, ssotest.WithSigningAlg(alg))
			ks := providerKeySet(t, idp, nil)
			h := mustVerify(t, ks, idp.SignJWT(claims("alice")), "alice")
			if h.Algorithm != alg || h.KeyID != idp.KeyID() || h.Type != "JWT" {
				t.Errorf("header %+v, want alg %s, kid %s, typ JWT", h, alg, idp.KeyID())
			}
			// Outside the allow-list, the same token is refused.
			others := map[string][]string{"RS256": {"PS256"}, "PS256": {"RS256"}, "ES256": {"RS256", "PS256"}}
			narrow := providerKeySet(t, idp, func(c *jwks.Config) { c.Algorithms = append(others[alg], "ES384") })
			if _, _, err := narrow.Verify(context.Background(), idp.SignJWT(claims("alice"))); !errors.Is(err, jwks.ErrAlgorithm) {
				t.Errorf("Verify error = %v, want ErrAlgorithm", err)
			}
		})
	}
}

func TestProviderBadSignatureAndAlgNone(t *testing.T) {
	idp := ssotest.New(t)
	ks := providerKeySet(t, idp, nil)
	tok := idp.SignJWT(claims("alice"))
	mustVerify(t, ks, tok, "alice")

	i := strings.LastIndexByte(tok, '.')
	sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	sig[5] ^= 1
	if _, _, err := ks.Verify(context.Background(), tok[:i+1]+base64.RawURLEncoding.EncodeToString(sig)); !errors.Is(err, jwks.ErrSignature) {
		t.Errorf("Verify error = %v, want ErrSignature", err)
	}
	hdr := `{"alg":"none","kid":"` + idp.KeyID() + `"}`
	unsigned := b64(hdr) + tok[strings.IndexByte(tok, '.'):i+1]
	if _, _, err := ks.Verify(context.Background(), unsigned); !errors.Is(err, jwks.ErrAlgorithm) {
		t.Errorf("alg none: Verify error = %v, want ErrAlgorithm", err)
	}
}

// TestProviderRotation: keys the provider rotates in are fetched when a
// token names them; keys it drops stop verifying.
func TestProviderRotation(t *testing.T) {
	idp := ssotest.New(t)
	ks := providerKeySet(t, idp, nil)
	oldTok := idp.SignJWT(claims("old"))
	mustVerify(t, ks, oldTok, "old")

	idp.RotateKeys(time.Hour) // the old key stays published
	mustVerify(t, ks, idp.SignJWT(claims("new")), "new")
	mustVerify(t, ks, oldTok, "old")
	if n := idp.Requests(ssotest.EndpointJWKS); n != 2 {
		t.Errorf("%d JWKS requests, want 2", n)
	}

	idp.RotateKeysAlg("ES256", 0) // the others are dropped at once
	mustVerify(t, ks, idp.SignJWT(claims("ec")), "ec")
	if n := idp.Requests(ssotest.EndpointJWKS); n != 3 {
		t.Errorf("%d JWKS requests, want 3", n)
	}
	if _, _, err := ks.Verify(context.Background(), oldTok); !errors.Is(err, jwks.ErrKeyNotFound) {
		t.Errorf("dropped key: Verify error = %v, want ErrKeyNotFound", err)
	}
}

// TestProviderFloodOfUnknownKids: 1000 tokens with random unknown kids,
// one after another and then at once, cost a small bounded number of
// fetches, and the provider's real keys go on verifying.
func TestProviderFloodOfUnknownKids(t *testing.T) {
	idp := ssotest.New(t)
	ks := providerKeySet(t, idp, nil)
	good := idp.SignJWT(claims("alice"))
	mustVerify(t, ks, good, "alice")

	forged := func() string {
		kid := fmt.Sprintf("%016x", rand.Uint64())
		return b64(`{"alg":"RS256","kid":"`+kid+`"}`) + "." + b64(`{"sub":"mallory"}`) + "." + b64(strings.Repeat("x", 256))
	}
	for range 1000 {
		if _, _, err := ks.Verify(context.Background(), forged()); !errors.Is(err, jwks.ErrKeyNotFound) {
			t.Fatalf("Verify error = %v, want ErrKeyNotFound", err)
		}
	}
	var wg sync.WaitGroup
	for range 1000 {
		wg.Go(func() {
			if _, _, err := ks.Verify(context.Background(), forged()); !errors.Is(err, jwks.ErrKeyNotFound) {
				t.Errorf("Verify error = %v, want ErrKeyNotFound", err)
			}
		})
	}
	wg.Wait()
	// One cold fetch and a burst of three; one more per 10 s
	// (MinRefreshInterval) should the test run slowly.
	if n := idp.Requests(ssotest.EndpointJWKS); n > 5 {
		t.Errorf("2000 unknown kids cost %d JWKS requests, want at most 5", n)
	}
	mustVerify(t, ks, good, "alice")
}

// TestProviderFaults: a JWKS endpoint that fails, answers garbage, is
// huge or slow is refused with ErrFetch within bounds, and the keys
// already fetched go on verifying.
func TestProviderFaults(t *testing.T) {
	cases := []struct {
		name   string
		faults ssotest.Faults
		want   error
	}{
		{"500", ssotest.Faults{Status: map[ssotest.Endpoint]int{ssotest.EndpointJWKS: http.StatusInternalServerError}}, safehttp.ErrStatus},
		{"garbage", ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointJWKS: "<html>"}}, jwks.ErrFetch},
		{"empty set", ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointJWKS: `{"keys":[]}`}}, jwks.ErrNoKeys},
		{"huge", ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointJWKS: `{"keys":[` + strings.Repeat(" ", 2<<20) + `]}`}}, safehttp.ErrTooLarge},
		{"slow", ssotest.Faults{Delay: map[ssotest.Endpoint]time.Duration{ssotest.EndpointJWKS: time.Minute}}, context.DeadlineExceeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			timeout := func(cfg *jwks.Config) {
				if c.name == "slow" {
					cfg.Timeout = 200 * time.Millisecond
				}
			}

			// Cold: nothing to serve, the fetch error shows.
			idp := ssotest.New(t, ssotest.WithFaults(c.faults))
			ks := providerKeySet(t, idp, timeout)
			start := time.Now()
			_, _, err := ks.Verify(context.Background(), idp.SignJWT(claims("alice")))
			if !errors.Is(err, jwks.ErrFetch) || !errors.Is(err, c.want) {
				t.Fatalf("cold Verify error = %v, want ErrFetch and %v", err, c.want)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("cold Verify took %v", d)
			}

			// Warm: the keys fetched before the fault go on serving.
			idp = ssotest.New(t)
			ks = providerKeySet(t, idp, timeout)
			good := idp.SignJWT(claims("alice"))
			mustVerify(t, ks, good, "alice")
			idp.SetFaults(c.faults)
			if err := ks.Refresh(context.Background()); !errors.Is(err, jwks.ErrFetch) || !errors.Is(err, c.want) {
				t.Fatalf("Refresh error = %v, want ErrFetch and %v", err, c.want)
			}
			mustVerify(t, ks, good, "alice")
			idp.RotateKeys(time.Hour)
			_, _, err = ks.Verify(context.Background(), idp.SignJWT(claims("bob")))
			if !errors.Is(err, jwks.ErrKeyNotFound) || !errors.Is(err, jwks.ErrFetch) {
				t.Fatalf("Verify of a new key error = %v, want ErrKeyNotFound and ErrFetch", err)
			}
			idp.SetFaults(ssotest.Faults{})
			mustVerify(t, ks, good, "alice")
		})
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestProviderEntraStyleSet: the provider's keys served the way Microsoft
// Entra ID serves its own (no "alg", x5c and issuer members) next to
// entries the set cannot use (a post-quantum key, a symmetric key, an
// entry that does not parse) still verify its tokens.
func TestProviderEntraStyleSet(t *testing.T) {
	idp := ssotest.New(t)
	resp, err := idp.HTTPClient().Get(idp.Issuer() + "/jwks")
	if err != nil {
		t.Fatal(err)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	err = json.NewDecoder(resp.Body).Decode(&set)
	resp.Body.Close()
	if err != nil || len(set.Keys) == 0 {
		t.Fatalf("the provider's JWKS: %v, %d keys", err, len(set.Keys))
	}
	for _, k := range set.Keys {
		delete(k, "alg")
		k["x5c"] = []string{"MIIDBTCCAe2gAwIBAgIQ"}
		k["issuer"] = "https://login.microsoftonline.com/{tenantid}/v2.0"
	}
	set.Keys = append([]map[string]any{
		{"kty": "AKP", "alg": "ML-DSA-65", "kid": "pq", "pub": "AAAA"},
		{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"},
		{"kty": "RSA", "kid": "broken", "n": 5},
	}, set.Keys...)
	doc, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	idp.SetFaults(ssotest.Faults{Body: map[ssotest.Endpoint]string{ssotest.EndpointJWKS: string(doc)}})

	ks := providerKeySet(t, idp, nil)
	mustVerify(t, ks, idp.SignJWT(claims("alice")), "alice")
	for _, kid := range []string{"pq", "hmac", "broken"} {
		forged := b64(`{"alg":"RS256","kid":"`+kid+`"}`) + "." + b64(`{"sub":"mallory"}`) + "." + b64("sig")
		if _, _, err := ks.Verify(context.Background(), forged); !errors.Is(err, jwks.ErrKeyNotFound) {
			t.Errorf("kid %s: Verify error = %v, want ErrKeyNotFound", kid, err)
		}
	}
}
