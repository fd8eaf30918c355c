package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ssokit/ssokit/ssoclient"
)

// ReplayCache is an [ssoclient.ReplayCache] in Redis: single use of a
// login attempt holds across every replica that uses the same Redis and
// prefix. Safe for concurrent use.
type ReplayCache struct {
	settings
}

var _ ssoclient.ReplayCache = (*ReplayCache)(nil)

// NewReplayCache returns a ReplayCache on c.
func NewReplayCache(c redis.UniversalClient, opts *Options) *ReplayCache {
	return &ReplayCache{newSettings(c, opts)}
}

// Claim implements [ssoclient.ReplayCache] with one SET NX PXAT: Redis
// sets the key only when it is missing, and forgets it at until. A claim
// until a time already past holds nothing; it is first unless the key is
// held. The Redis key is a hash of key, whose callers may build it from
// issuers, token ids or session ids: bounded, printable, and naming none
// of them.
func (rc *ReplayCache) Claim(ctx context.Context, key string, until time.Time) (bool, error) {
	k := rc.prefix + ":r:" + hashKey("r", key)
	at := unixMilliCeil(until)
	if at <= rc.now().UnixMilli() {
		n, err := rc.c.Exists(ctx, k).Result()
		if err != nil {
			return false, wrap("claim", err)
		}
		return n == 0, nil
	}
	err := rc.c.Do(ctx, "set", k, "1", "nx", "pxat", at).Err()
	switch {
	case errors.Is(err, redis.Nil):
		return false, nil
	case err != nil:
		return false, wrap("claim", err)
	}
	return true, nil
}
