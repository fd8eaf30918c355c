package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key when Options.Prefix is empty.
const DefaultPrefix = "ssokit"

// Options configure a store. A nil *Options, like the zero value, means
// the defaults.
type Options struct {
	// Prefix starts every key the store writes ("ssokit:s:…"); default
	// DefaultPrefix. Applications that share one Redis need prefixes of
	// their own. On Redis Cluster, or with a Ring client, put it in braces
	// ("{ssokit}") so that a session and its index sets hash to one slot:
	// Save, Delete and DeleteMatching change them together in one script.
	Prefix string
	// Now is the clock that decides what has expired; default time.Now.
	// Redis itself expires keys by its own clock.
	Now func() time.Time
}

// settings are Options with the defaults applied.
type settings struct {
	c      redis.UniversalClient
	prefix string
	now    func() time.Time
}

func newSettings(c redis.UniversalClient, opts *Options) settings {
	s := settings{c: c, prefix: DefaultPrefix, now: time.Now}
	if opts != nil {
		if opts.Prefix != "" {
			s.prefix = opts.Prefix
		}
		if opts.Now != nil {
			s.now = opts.Now
		}
	}
	return s
}

// unixMilliCeil is t in Unix milliseconds, rounded up, so a key Redis
// expires at that millisecond never outlives t by less than a
// millisecond nor ends before it.
func unixMilliCeil(t time.Time) int64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return ms
}

// hashKey is the bounded, printable name of an index: a hash of its kind
// and its values, each length-prefixed so no two lists of values run
// together into the same input. 128 bits keep collisions out of reach,
// and a collision would only add candidates that the filter then drops.
func hashKey(kind string, values ...string) string {
	h := sha256.New()
	var n [8]byte
	for _, v := range append([]string{kind}, values...) {
		binary.BigEndian.PutUint64(n[:], uint64(len(v)))
		h.Write(n[:])
		h.Write([]byte(v))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// evalAll runs script once per call in one pipeline and returns each
// call's integer reply. A call that finds the script missing from the
// server's cache (after a restart or SCRIPT FLUSH) did nothing, and is
// run again on its own, loading the script.
func evalAll(ctx context.Context, c redis.UniversalClient, script *redis.Script, calls []scriptCall) ([]int64, error) {
	if len(calls) == 0 {
		return nil, nil
	}
	pipe := c.Pipeline()
	cmds := make([]*redis.Cmd, len(calls))
	for i, call := range calls {
		cmds[i] = script.EvalSha(ctx, pipe, call.keys, call.args...)
	}
	_, _ = pipe.Exec(ctx) // each command's error is read below
	out := make([]int64, len(calls))
	for i, cmd := range cmds {
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
			cmd = script.Run(ctx, c, calls[i].keys, calls[i].args...)
		}
		v, err := cmd.Int64()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// scriptCall is one run of a script: its keys and arguments.
type scriptCall struct {
	keys []string
	args []any
}

func wrap(op string, err error) error { return fmt.Errorf("redisstore: %s: %w", op, err) }
