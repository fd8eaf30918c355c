package jwks

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ssokit/ssokit/internal/safehttp"
)

// flightKey is the one key of KeySet.group: a set has one document.
const flightKey = "jwks"

// errRateLimited reports a refresh refused by the token bucket.
var errRateLimited = errors.New("refresh rate-limited")

// Refresh fetches the key set now and waits, until ctx is done, for the
// result. A fetch already under way is joined rather than repeated. On
// failure the keys already known go on serving. Refresh is not
// rate-limited; on a static set it does nothing and returns nil.
func (ks *KeySet) Refresh(ctx context.Context) error {
	if ks.url == "" {
		return nil
	}
	ks.mu.Lock()
	ch := ks.startLocked(ctx)
	ks.mu.Unlock()
	return ks.wait(ctx, ch)
}

// coldLoad returns the keys of a set that has none yet, fetching them.
// The first fetch is free; if it failed, later ones draw on the bucket
// so that an unreachable provider is not asked once per token.
func (ks *KeySet) coldLoad(ctx context.Context) (*snapshot, error) {
	ks.mu.Lock()
	if snap := ks.snap.Load(); snap != nil {
		ks.mu.Unlock()
		return snap, nil
	}
	if ks.url == "" {
		ks.mu.Unlock()
		return nil, ErrNoKeys // unreachable: a static set always has keys
	}
	if ks.coldUsed && !ks.fetching && !ks.takeLocked() {
		err := ks.lastErr
		ks.mu.Unlock()
		return nil, fmt.Errorf("%w: %w (last attempt: %w)", ErrFetch, errRateLimited, err)
	}
	ks.coldUsed = true
	ch := ks.startLocked(ctx)
	ks.mu.Unlock()
	if err := ks.wait(ctx, ch); err != nil {
		return nil, err
	}
	if snap := ks.snap.Load(); snap != nil {
		return snap, nil
	}
	return nil, fmt.Errorf("%w: no keys after the fetch", ErrFetch)
}

// refreshForUnknownKey refreshes the set for a token whose key is not in
// seen, if the bucket allows, and waits for the result. When a fetch has
// replaced seen meanwhile, it returns at once: the caller looks there.
func (ks *KeySet) refreshForUnknownKey(ctx context.Context, seen *snapshot) error {
	ks.mu.Lock()
	// A fetch stores its snapshot before it clears ks.fetching under
	// ks.mu, so this check and the one below see every finished fetch.
	if ks.snap.Load() != seen {
		ks.mu.Unlock()
		return nil
	}
	if !ks.fetching && !ks.takeLocked() {
		ks.mu.Unlock()
		return errRateLimited
	}
	ch := ks.startLocked(ctx)
	ks.mu.Unlock()
	return ks.wait(ctx, ch)
}

// refreshInBackground starts a refresh of stale keys without waiting for
// it. At most one starts per MinRefreshInterval, so a provider that is
// down is not asked once per token while the stale keys serve.
func (ks *KeySet) refreshInBackground(ctx context.Context) {
	now := ks.now().UnixNano()
	next := ks.nextBackground.Load()
	if now < next || !ks.nextBackground.CompareAndSwap(next, now+int64(ks.minRefresh)) {
		return
	}
	ks.mu.Lock()
	ks.startLocked(ctx) // the result channel is buffered: nobody needs to read it
	ks.mu.Unlock()
}

// takeLocked takes a refresh from the token bucket, refilling it first.
// The caller holds ks.mu.
func (ks *KeySet) takeLocked() bool {
	now := ks.now()
	if ks.refilled.IsZero() {
		ks.refilled = now
	}
	if n := int(now.Sub(ks.refilled) / ks.minRefresh); n > 0 {
		ks.tokens = min(refreshBurst, ks.tokens+n)
		ks.refilled = ks.refilled.Add(ks.minRefresh * time.Duration(n))
		if ks.tokens == refreshBurst {
			ks.refilled = now
		}
	}
	if ks.tokens == 0 {
		return false
	}
	ks.tokens--
	return true
}

// startLocked joins the fetch under way or starts one, and returns the
// channel of its result. The caller holds ks.mu, which is what makes
// ks.fetching exact: the fetch function clears it and forgets its call
// under ks.mu, so while ks.fetching is true the group holds the call and
// DoChan joins it, and while it is false DoChan starts a new one.
//
// The fetch runs on a context no caller can cancel, ctx's values kept,
// bounded by Config.Timeout; callers wait for it each on their own ctx.
func (ks *KeySet) startLocked(ctx context.Context) <-chan singleflight.Result {
	ks.fetching = true
	fetchCtx := context.WithoutCancel(ctx)
	return ks.group.DoChan(flightKey, func() (any, error) {
		var err error
		defer func() {
			ks.mu.Lock()
			ks.fetching = false
			ks.lastErr = err
			ks.group.Forget(flightKey)
			ks.mu.Unlock()
		}()
		err = ks.fetch(fetchCtx)
		return nil, err
	})
}

// wait waits for a fetch's result or for ctx to be done, whichever comes
// first. An abandoned fetch goes on for the other callers.
func (ks *KeySet) wait(ctx context.Context, ch <-chan singleflight.Result) error {
	select {
	case r := <-ch:
		return r.Err
	case <-ctx.Done():
		return fmt.Errorf("%w: waiting for %s: %w", ErrFetch, safehttp.Redact(ks.url), context.Cause(ctx))
	}
}

// fetch gets and parses the document and, if it holds usable keys,
// makes them current. It never panics: a failed parse is an error.
func (ks *KeySet) fetch(ctx context.Context) (err error) {
	start := time.Now()
	body, err := safehttp.Get(ctx, ks.client, ks.url, ks.limits)
	if ks.onFetch != nil {
		status := safehttp.StatusOf(err)
		defer func() { ks.onFetch(status, time.Since(start), err) }()
	}
	if err != nil {
		return fmt.Errorf("%w: %w", ErrFetch, err)
	}
	snap, err := parseSet(body, ks.allowed, ks.maxKeys)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrFetch, safehttp.Redact(ks.url), err)
	}
	snap.fetched = ks.now()
	ks.snap.Store(snap)
	return nil
}
