package storetest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
)

// RunReplayCache checks a ReplayCache against the contract of
// [ssoclient.ReplayCache]. newCache returns an empty cache of its own for
// each subtest, using now as its clock where it can.
//
// Once a claim's time has passed the cache may forget the key, and the
// suite checks that it does, in real time; until then every later Claim
// of the key must report that it was not first.
func RunReplayCache(t *testing.T, newCache func(t *testing.T, now func() time.Time) ssoclient.ReplayCache) {
	t.Helper()
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, rc ssoclient.ReplayCache, c *clock)
	}{
		{"FirstClaimOnly", replayFirstClaimOnly},
		{"ConcurrentClaims", replayConcurrentClaims},
		{"ForgetsInRealTime", replayForgetsInRealTime},
		{"PastUntil", replayPastUntil},
		{"AwkwardKeys", replayAwkwardKeys},
		{"Many", replayMany},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{}
			tc.run(t, newCache(t, c.Now), c)
		})
	}
}

func claim(t *testing.T, ctx context.Context, rc ssoclient.ReplayCache, key string, until time.Time) bool {
	t.Helper()
	first, err := rc.Claim(ctx, key, until)
	if err != nil {
		t.Fatalf("Claim(%q): %v", key, err)
	}
	return first
}

func replayFirstClaimOnly(t *testing.T, rc ssoclient.ReplayCache, c *clock) {
	ctx := t.Context()
	until := c.Now().Add(11 * time.Minute)
	if !claim(t, ctx, rc, "k1", until) {
		t.Fatal("the first claim of a key was not first")
	}
	for range 3 {
		if claim(t, ctx, rc, "k1", until) {
			t.Fatal("a second claim of a key was first")
		}
	}
	// A later until does not make a claim first again.
	if claim(t, ctx, rc, "k1", until.Add(time.Hour)) {
		t.Fatal("a claim with a later until was first")
	}
	if !claim(t, ctx, rc, "k2", until) {
		t.Fatal("another key's first claim was not first")
	}
	// Before its time, the claim holds however the clock moves.
	c.Advance(10 * time.Minute)
	if claim(t, ctx, rc, "k1", until) {
		t.Fatal("a claim was forgotten before its time")
	}
}

func replayConcurrentClaims(t *testing.T, rc ssoclient.ReplayCache, c *clock) {
	ctx := t.Context()
	until := c.Now().Add(11 * time.Minute)
	for k := range 20 {
		key := fmt.Sprintf("race-%d", k)
		var firsts atomic.Int64
		err := parallel(racers, racers, func(int) error {
			first, err := rc.Claim(ctx, key, until)
			if first {
				firsts.Add(1)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if firsts.Load() != 1 {
			t.Fatalf("%d of %d concurrent claims of one key were first, want 1", firsts.Load(), racers)
		}
	}
}

func replayForgetsInRealTime(t *testing.T, rc ssoclient.ReplayCache, c *clock) {
	ctx := t.Context()
	until := c.Now().Add(realExpiry)
	if !claim(t, ctx, rc, "brief", until) {
		t.Fatal("the first claim was not first")
	}
	if claim(t, ctx, rc, "brief", until) {
		t.Fatal("a second claim before the time was first")
	}
	// A Claim that is first records the key anew, so the wait ends with
	// the key claimed again.
	eventually(t, "a claim is still held after its time", func() bool {
		return claim(t, ctx, rc, "brief", c.Now().Add(time.Hour))
	})
	if claim(t, ctx, rc, "brief", c.Now().Add(time.Hour)) {
		t.Fatal("the renewed claim was not held")
	}
}

func replayPastUntil(t *testing.T, rc ssoclient.ReplayCache, c *clock) {
	ctx := t.Context()
	// A key never claimed is first, whatever the time it is claimed until.
	if !claim(t, ctx, rc, "late", c.Now().Add(-time.Second)) {
		t.Error("the first claim of a key with a past until was not first")
	}
	// A held claim is not undone by a claim with a past until.
	if !claim(t, ctx, rc, "held", c.Now().Add(time.Hour)) {
		t.Fatal("the first claim was not first")
	}
	if claim(t, ctx, rc, "held", c.Now().Add(-time.Second)) {
		t.Error("a claim with a past until of a held key was first")
	}
	if claim(t, ctx, rc, "held", c.Now().Add(time.Hour)) {
		t.Error("a held claim was undone by a claim with a past until")
	}
}

func replayAwkwardKeys(t *testing.T, rc ssoclient.ReplayCache, c *clock) {
	ctx := t.Context()
	until := c.Now().Add(time.Hour)
	keys := []string{"a:b", "a", "a:", "{a}", "*", "ü", "with space", string(make([]byte, 300)), "K", "k"}
	for _, k := range keys {
		if !claim(t, ctx, rc, k, until) {
			t.Errorf("first claim of %q was not first", k)
		}
	}
	for _, k := range keys {
		if claim(t, ctx, rc, k, until) {
			t.Errorf("second claim of %q was first", k)
		}
	}
}

func replayMany(t *testing.T, rc ssoclient.ReplayCache, c *clock) {
	ctx := t.Context()
	until := c.Now().Add(11 * time.Minute)
	for round, wantFirst := range []bool{true, false} {
		var wrong atomic.Int64
		err := parallel(many, workers, func(i int) error {
			first, err := rc.Claim(ctx, fmt.Sprintf("many-%05d", i), until)
			if first != wantFirst {
				wrong.Add(1)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if wrong.Load() != 0 {
			t.Errorf("round %d: %d of %d claims had first != %t", round+1, wrong.Load(), many, wantFirst)
		}
	}
}
