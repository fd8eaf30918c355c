// Package redisstore keeps the state that replicas of an ssokit
// application share in Redis: sessions ([SessionStore]), the replay cache
// that makes each login callback work once ([ReplayCache]) and broker
// tickets ([TicketStore]). Each works on any [redis.UniversalClient] of
// github.com/redis/go-redis/v9 and needs Redis 6.2 or later (SET PXAT,
// GETDEL).
//
// It is a module of its own, github.com/ssokit/ssokit/ssoclient/redisstore,
// so that go-redis stays out of the core module.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	opts := &redisstore.Options{Prefix: "myapp"}
//	sso, err := ssoclient.New(ctx, ssoclient.Config{
//		…
//		CookieKeys: keys, // the same on every replica
//		Sessions:   redisstore.NewSessionStore(rdb, opts),
//		Replay:     redisstore.NewReplayCache(rdb, opts),
//	})
//
// # Keys
//
// Every key starts with the prefix (Options.Prefix, "ssokit" by default):
//
//	{prefix}:s:{session id}  the session's storage form (Session.MarshalBinary),
//	                         expiring at its ExpiresAt
//	{prefix}:ip:{hash}       set of the ids of a profile's sessions
//	{prefix}:iu:{hash}       … of a user's (Session.UserID)
//	{prefix}:is:{hash}       … of a person's (issuer and subject)
//	{prefix}:id:{hash}       … of a provider session's (issuer and SID)
//	{prefix}:r:{hash}        a replay claim, expiring at its time
//	{prefix}:t:{key}         a ticket (key is already a hash), expiring at
//	                         its ExpiresAt
//
// An index set's or a claim's name is a 128-bit hash (SHA-256, hex) of
// what it stands for, so names stay short and printable whatever the
// issuer, user id or claimed key, and name no person. A set expires no
// earlier than its latest session.
//
// # Sessions
//
// Load is one GET. Save is one Lua script that sets the session and adds
// its id to its index sets, atomically; Delete reads the session to find
// its sets, then deletes it and its index entries in one script that first
// checks that the session did not change in between.
//
// Count and DeleteMatching read the smallest index set the filter names
// (SSCAN, 512 members at a time), load those sessions (MGET) and check
// each against the filter, so an index entry never decides alone: entries
// can be stale, after a session expired in Redis or was replaced with
// other attributes, and are removed when met, as Save also removes up to
// two gone members of each set it adds to. A session is deleted, with its
// index entries, by a script that first checks it is still as read; of
// concurrent DeleteMatching calls, each session is counted by one. Both
// read every session of the set they scan, so counting a profile of
// 100,000 people reads 100,000 sessions: they are for an administrator's
// action, not a request path.
//
// What has expired is decided with Options.Now as well as by Redis's own
// expiry: a session past its ExpiresAt is not loaded or counted even in
// the millisecond before Redis removes it.
//
// # Redis Cluster
//
// Save, Delete and DeleteMatching touch a session and its index sets in
// one script, which Redis Cluster allows only within one hash slot. With a
// cluster (or a Ring client), put the prefix in braces, "{myapp}", so that
// every key of the store hashes to one slot.
//
// # Errors
//
// Errors wrap the go-redis error (a canceled context, a network failure)
// and start with "redisstore: ". The store puts no session id, token or
// key in them.
package redisstore
