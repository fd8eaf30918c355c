package redisstore_test

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/redisstore"
)

// benchSession is a session as the Client saves it with tokens kept: an
// identity with a dozen claims, an ID token and OAuth tokens.
func benchSession(id string) *ssoclient.Session {
	s := session(id, time.Now().Add(time.Hour))
	var err error
	s.Identity.Claims, err = claims.SetOf(map[string]any{
		"iss": s.Identity.Issuer, "sub": "alice", "aud": "client", "email": "alice@example.com", "email_verified": true,
		"name": "Alice Example", "preferred_username": "alice", "locale": "en-US", "groups": []any{"engineering", "admins"},
		"iat": float64(1_767_225_600), "exp": float64(1_767_229_200), "sid": "sid-1",
	})
	if err != nil {
		panic(err)
	}
	s.SetIDToken(strings.Repeat("e", 900)) // a signed RS256 token's size
	return s
}

// BenchmarkLoad is the session check of every signed-in request: one GET
// and the decoding of the session.
func BenchmarkLoad(b *testing.B) {
	c := newClient(b)
	st := redisstore.NewSessionStore(c, &redisstore.Options{Prefix: newPrefix(b, c)})
	ctx := b.Context()
	if err := st.Save(ctx, benchSession("bench")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Load(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGETFloor is Load's floor: the GET of the same key, without
// decoding.
func BenchmarkGETFloor(b *testing.B) {
	c := newClient(b)
	prefix := newPrefix(b, c)
	st := redisstore.NewSessionStore(c, &redisstore.Options{Prefix: prefix})
	ctx := b.Context()
	if err := st.Save(ctx, benchSession("bench")); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Get(ctx, prefix+":s:bench").Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadParallel is the same from many goroutines, over 1,000
// sessions.
func BenchmarkLoadParallel(b *testing.B) {
	c := newClient(b)
	st := redisstore.NewSessionStore(c, &redisstore.Options{Prefix: newPrefix(b, c)})
	ctx := b.Context()
	for i := range 1000 {
		if err := st.Save(ctx, benchSession(fmt.Sprint("bench-", i))); err != nil {
			b.Fatal(err)
		}
	}
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.Load(ctx, fmt.Sprint("bench-", n.Add(1)%1000)); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkSave is a sign-in's write: the session and its four index sets
// in one script.
func BenchmarkSave(b *testing.B) {
	c := newClient(b)
	st := redisstore.NewSessionStore(c, &redisstore.Options{Prefix: newPrefix(b, c)})
	ctx := b.Context()
	s := benchSession("")
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		s.ID = fmt.Sprint("bench-", i)
		if err := st.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkClaim is a callback's replay check: one SET NX PXAT.
func BenchmarkClaim(b *testing.B) {
	c := newClient(b)
	rc := redisstore.NewReplayCache(c, &redisstore.Options{Prefix: newPrefix(b, c)})
	ctx := b.Context()
	until := time.Now().Add(time.Minute)
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		if first, err := rc.Claim(ctx, fmt.Sprint("k", i), until); err != nil || !first {
			b.Fatal(first, err)
		}
	}
}
