package storetest_test

import (
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/storetest"
)

// A store's package runs the suites from its own tests, giving each
// subtest an empty store that uses the suite's clock. These are the tests
// of ssoclient's in-memory stores (storetest_test.go runs them); a shared
// store gives each subtest a fresh key prefix, table or database instead,
// and removes it with t.Cleanup.
//
// The suites take a *testing.T, so this example only shows the calls: it
// has no output to check. Driving them from an example through
// testing.RunTests would print test progress under go test -v and follow
// the -run pattern, and so would not be a stable example.
func Example() {
	testSessionStore := func(t *testing.T) {
		storetest.RunSessionStore(t, func(t *testing.T, now func() time.Time) ssoclient.SessionStore {
			return ssoclient.NewMemorySessionStore(0, now)
		})
	}
	testReplayCache := func(t *testing.T) {
		storetest.RunReplayCache(t, func(t *testing.T, now func() time.Time) ssoclient.ReplayCache {
			return ssoclient.NewMemoryReplayCache(0, now)
		})
	}
	testTicketStore := func(t *testing.T) {
		storetest.RunTicketStore(t, func(t *testing.T, now func() time.Time) ssoclient.TicketStore {
			return ssoclient.NewMemoryTicketStore(0, now)
		})
	}
	_, _, _ = testSessionStore, testReplayCache, testTicketStore
}
