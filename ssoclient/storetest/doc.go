// Package storetest checks implementations of ssoclient's storage
// interfaces, the way testing/fstest checks a file system: a store that
// replicas share (Redis, SQL, …) passes the same suite as the in-memory
// stores of package ssoclient.
//
// Call a suite from a test of the package that implements the store:
//
//	func TestSessionStore(t *testing.T) {
//		storetest.RunSessionStore(t, func(t *testing.T, now func() time.Time) ssoclient.SessionStore {
//			return mystore.NewSessionStore(db, mystore.WithClock(now)) // empty, for this test only
//		})
//	}
//
// [RunSessionStore], [RunReplayCache] and [RunTicketStore] run their checks
// as subtests. Each subtest asks newStore for a store of its own, which
// must start empty and must not see the other subtests' entries: give it a
// fresh key prefix, table or database, and remove it with t.Cleanup.
//
// # The clock
//
// newStore receives the suite's clock: real time plus an offset that the
// suite moves forward to expire entries without waiting. A store decides
// what has expired with that clock where it can (Load, Count and
// DeleteMatching of a SessionStore). A store that also expires entries on
// its own, as Redis does with a key's expiry time, does so in real time,
// which the suite checks too, with entries that end half a second after
// they are written, and a bounded wait.
//
// # What is checked
//
// Sessions: the storage form round-trips (tokens, SID, claims of every JSON
// type); Save with an existing ID replaces the session, in every index as
// well; Load of an unknown, deleted or expired session is
// [ssoclient.ErrSessionNotFound]; Count and DeleteMatching select by each
// field of [ssoclient.SessionFilter] and by their combinations, scope
// Subject and SID to their Issuer, count only unexpired sessions, and
// refuse a filter that is not Valid with [ssoclient.ErrEmptyFilter] while
// changing nothing; awkward values (separators, braces, long issuers) stay
// apart; concurrent DeleteMatching calls together count each session once;
// ten thousand sessions are counted and deleted exactly.
//
// Replay cache: the first Claim of a key, and only the first, is first,
// also among many goroutines claiming one key at once; a claim is
// forgotten once its time has passed.
//
// Tickets: a ticket round-trips; Put with an existing key replaces it;
// Take returns it once, also among many goroutines taking one key at
// once; an expired ticket is either forgotten or returned unchanged.
//
// Every wait in the suite is bounded; with -race and a store on the same
// machine the suites take a few seconds each.
package storetest
