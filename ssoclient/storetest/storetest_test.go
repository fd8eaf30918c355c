package storetest_test

import (
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/storetest"
)

func TestMemorySessionStore(t *testing.T) {
	storetest.RunSessionStore(t, func(t *testing.T, now func() time.Time) ssoclient.SessionStore {
		return ssoclient.NewMemorySessionStore(0, now)
	})
}

func TestMemoryReplayCache(t *testing.T) {
	storetest.RunReplayCache(t, func(t *testing.T, now func() time.Time) ssoclient.ReplayCache {
		return ssoclient.NewMemoryReplayCache(0, now)
	})
}

func TestMemoryTicketStore(t *testing.T) {
	storetest.RunTicketStore(t, func(t *testing.T, now func() time.Time) ssoclient.TicketStore {
		return ssoclient.NewMemoryTicketStore(0, now)
	})
}
