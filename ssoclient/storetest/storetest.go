package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/ssoclient"
)

// Sizes of the suites' crowds.
const (
	// many is how many entries the large-number checks write.
	many = 10_000
	// workers write those entries concurrently.
	workers = 8
	// racers try the same single-use operation at once.
	racers = 32
	// realExpiry is how long entries live in the real-time expiry checks,
	// and expiryWait how long the suite waits for them to go.
	realExpiry = 500 * time.Millisecond
	expiryWait = 10 * time.Second
)

// clock is real time moved forward by the suite.
type clock struct{ offset atomic.Int64 }

// Now is the suite's time.
func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// eventually polls cond until it holds or expiryWait passes, then fails t
// with what.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(expiryWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", expiryWait, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// parallel runs f(i) for i in [0, n) on k goroutines and returns the
// first error.
func parallel(n, k int, f func(i int) error) error {
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for range k {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// sampleIdentity is an identity with every field set and claims of every
// JSON type, as a provider's ID token and userinfo give them.
func sampleIdentity() *ssoclient.Identity {
	return &ssoclient.Identity{
		Issuer:        "https://idp.example.com/tenant-1/v2.0",
		Subject:       "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
		Email:         "alice@example.com",
		EmailVerified: true,
		Username:      "alice",
		Name:          "Alice Liddell",
		Picture:       "https://idp.example.com/photos/alice.png",
		Locale:        "en-GB",
		Groups:        []string{"admins", "staff"},
		Claims: mustSet(map[string]any{
			"sub":            "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
			"email":          "alice@example.com",
			"email_verified": true,
			"auth_time":      float64(1_767_225_600),
			"acr":            "urn:example:loa:2",
			"amr":            []any{"pwd", "mfa"},
			"address":        map[string]any{"country": "GB", "postal_code": "OX1 1DP"},
			"ratio":          0.25,
			"nickname":       "Ælis «the curious» 🐇",
			"middle_name":    nil,
		}),
	}
}

// mustSet is claims.SetOf for literal claims.
func mustSet(m map[string]any) claims.Set {
	c, err := claims.SetOf(m)
	if err != nil {
		panic(err)
	}
	return c
}

// diffIdentity describes how got differs from want.
func diffIdentity(want, got *ssoclient.Identity) []string {
	if want == nil || got == nil {
		if want != got {
			return []string{fmt.Sprintf("Identity = %v, want %v", got, want)}
		}
		return nil
	}
	var d []string
	w, g := reflect.ValueOf(*want), reflect.ValueOf(*got)
	for i := range w.NumField() {
		wf, gf := w.Field(i).Interface(), g.Field(i).Interface()
		if ws, ok := wf.(claims.Set); ok {
			// The same claims, whatever the store did to the JSON's
			// spacing or member order.
			wf, gf = ws.Map(), gf.(claims.Set).Map()
		}
		if !reflect.DeepEqual(wf, gf) {
			d = append(d, fmt.Sprintf("Identity.%s = %#v, want %#v", w.Type().Field(i).Name, g.Field(i).Interface(), w.Field(i).Interface()))
		}
	}
	return d
}

// diffTime describes a difference of instants.
func diffTime(name string, want, got time.Time) []string {
	if !want.Equal(got) {
		return []string{fmt.Sprintf("%s = %s, want %s", name, got.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))}
	}
	return nil
}

// diffString describes a difference of strings, without printing them
// when they are secret.
func diffString(name, want, got string, secret bool) []string {
	switch {
	case want == got:
		return nil
	case secret:
		return []string{fmt.Sprintf("%s differs (%d bytes, want %d)", name, len(got), len(want))}
	default:
		return []string{fmt.Sprintf("%s = %q, want %q", name, got, want)}
	}
}
