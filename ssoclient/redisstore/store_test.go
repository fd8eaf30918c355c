package redisstore_test

import (
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/redisstore"
	"github.com/ssokit/ssokit/ssoclient/storetest"
)

func TestSessionStoreConformance(t *testing.T) {
	storetest.RunSessionStore(t, func(t *testing.T, now func() time.Time) ssoclient.SessionStore {
		c := newClient(t)
		return redisstore.NewSessionStore(c, &redisstore.Options{Prefix: newPrefix(t, c), Now: now})
	})
}

func TestReplayCacheConformance(t *testing.T) {
	storetest.RunReplayCache(t, func(t *testing.T, now func() time.Time) ssoclient.ReplayCache {
		c := newClient(t)
		return redisstore.NewReplayCache(c, &redisstore.Options{Prefix: newPrefix(t, c), Now: now})
	})
}

func TestTicketStoreConformance(t *testing.T) {
	storetest.RunTicketStore(t, func(t *testing.T, now func() time.Time) ssoclient.TicketStore {
		c := newClient(t)
		return redisstore.NewTicketStore(c, &redisstore.Options{Prefix: newPrefix(t, c), Now: now})
	})
}
