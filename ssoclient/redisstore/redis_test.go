package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisAddr is the Redis the tests use: SSOKIT_REDIS_ADDR, or the default
// port on loopback.
func redisAddr() string {
	if a := os.Getenv("SSOKIT_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// newClient connects to the test Redis. When none answers the test is
// skipped with the way to start one, or, when CI is set, fails: CI must
// never pass by skipping the Redis tests.
func newClient(t testing.TB) *redis.Client {
	t.Helper()
	if err := reachable(); err != nil {
		how := "no Redis answers at " + redisAddr() + " (" + err.Error() + `). To run the Redis tests:
	apt-get install redis-server     # or your system's package
	redis-server --port 6379 --save '' --daemonize yes
or set SSOKIT_REDIS_ADDR to a Redis of yours (keys are written under a random prefix and removed).
(.ci/redis.sh does all of this.)`
		if os.Getenv("CI") != "" {
			t.Fatalf("CI is set but the Redis tests cannot run: %s", how)
		}
		t.Skip(how)
	}
	c := redis.NewClient(&redis.Options{Addr: redisAddr(), Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// reachable pings the test Redis, once per run.
var reachable = sync.OnceValue(func() error {
	c := redis.NewClient(&redis.Options{Addr: redisAddr(), DialTimeout: 2 * time.Second, DialerRetries: 1, MaxRetries: -1, Protocol: 2, DisableIdentity: true})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	return c.Ping(ctx).Err()
})

// newPrefix returns a key prefix for one test and removes its keys when
// the test ends.
func newPrefix(t testing.TB, c *redis.Client) string {
	t.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	prefix := "ssokit-test:" + hex.EncodeToString(b)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
			if len(keys) == 1000 {
				c.Unlink(ctx, keys...)
				keys = keys[:0]
			}
		}
		if len(keys) > 0 {
			c.Unlink(ctx, keys...)
		}
		if err := iter.Err(); err != nil {
			t.Errorf("removing the test's keys: %v", err)
		}
	})
	return prefix
}

// keysUnder lists the keys under prefix.
func keysUnder(t testing.TB, c *redis.Client, prefix string) []string {
	t.Helper()
	var keys []string
	iter := c.Scan(context.Background(), 0, prefix+":*", 1000).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return keys
}
