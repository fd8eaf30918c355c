package storetest_test

import (
	"reflect"
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

// TestRoundTripsCoverEveryField is a tripwire: the suites' round trips
// compare the fields of Session, Tokens and Ticket one by one, so a field
// added to one of them must be added to the comparison (diffSession,
// diffTicket) and to the sample values. A store that encodes Ticket as
// JSON must also keep the new field (a Secret marshals as "[redacted]").
func TestRoundTripsCoverEveryField(t *testing.T) {
	for typ, want := range map[reflect.Type]int{
		reflect.TypeFor[ssoclient.Session](): 9,
		reflect.TypeFor[ssoclient.Tokens]():  4,
		reflect.TypeFor[ssoclient.Ticket]():  7,
	} {
		if n := typ.NumField(); n != want {
			t.Errorf("%s has %d fields, the suites compare %d: update storetest's round trips", typ, n, want)
		}
	}
}
