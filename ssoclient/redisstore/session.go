package redisstore

import (
	"context"
	"errors"
	"slices"

	"github.com/redis/go-redis/v9"
	"github.com/ssokit/ssokit/ssoclient"
)

// SessionStore is an [ssoclient.SessionStore] in Redis, shared by every
// replica that uses the same Redis and prefix. Safe for concurrent use.
type SessionStore struct {
	settings
}

var _ ssoclient.SessionStore = (*SessionStore)(nil)

// NewSessionStore returns a SessionStore on c (a *redis.Client,
// *redis.ClusterClient with a hash-tagged prefix, or a failover client).
func NewSessionStore(c redis.UniversalClient, opts *Options) *SessionStore {
	return &SessionStore{newSettings(c, opts)}
}

// Index kinds, the third part of an index set's key.
const (
	byProfile = "ip" // Session.Profile
	byUser    = "iu" // Session.UserID
	bySubject = "is" // Identity.Issuer and Identity.Subject
	bySID     = "id" // Identity.Issuer and Session.SID
)

func (st *SessionStore) key(id string) string { return st.prefix + ":s:" + id }

func (st *SessionStore) index(kind string, values ...string) string {
	return st.prefix + ":" + kind + ":" + hashKey(kind, values...)
}

// indexes are the index sets that s belongs to.
func (st *SessionStore) indexes(s *ssoclient.Session) []string {
	var out []string
	if s.Profile != "" {
		out = append(out, st.index(byProfile, s.Profile))
	}
	if s.UserID != "" {
		out = append(out, st.index(byUser, s.UserID))
	}
	if id := s.Identity; id != nil && id.Issuer != "" {
		if id.Subject != "" {
			out = append(out, st.index(bySubject, id.Issuer, id.Subject))
		}
		if s.SID != "" {
			out = append(out, st.index(bySID, id.Issuer, s.SID))
		}
	}
	return out
}

// filterIndexes are the index sets that hold every session f selects; f
// is Valid, so there is at least one.
func (st *SessionStore) filterIndexes(f ssoclient.SessionFilter) []string {
	var out []string
	if f.Profile != "" {
		out = append(out, st.index(byProfile, f.Profile))
	}
	if f.UserID != "" {
		out = append(out, st.index(byUser, f.UserID))
	}
	if f.Subject != "" {
		out = append(out, st.index(bySubject, f.Issuer, f.Subject))
	}
	if f.SID != "" {
		out = append(out, st.index(bySID, f.Issuer, f.SID))
	}
	return out
}

// saveScript stores a session and adds its id to its index sets, whose
// expiry it moves to the session's end when that is later. On the way it
// takes out of each set up to two random members whose session is gone,
// so sets of long-lived keys (a busy profile) do not grow without bound.
//
// KEYS[1] the session, KEYS[2..] its index sets. ARGV[1] the storage
// form, ARGV[2] its end in Unix milliseconds, ARGV[3] the id, ARGV[4] the
// prefix of session keys.
var saveScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PXAT', ARGV[2])
if #KEYS < 2 then return 1 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = tonumber(ARGV[2])
for i = 2, #KEYS do
	local set = KEYS[i]
	for _, m in ipairs(redis.call('SRANDMEMBER', set, 2)) do
		if m ~= ARGV[3] and redis.call('EXISTS', ARGV[4] .. m) == 0 then
			redis.call('SREM', set, m)
		end
	end
	redis.call('SADD', set, ARGV[3])
	local ttl = redis.call('PTTL', set)
	if ttl < 0 or now + ttl < at then
		redis.call('PEXPIREAT', set, ARGV[2])
	end
end
return 1
`)

// unindexScript takes a session's id out of index sets, and deletes the
// session, if the session is still as it was read: it returns -1 and
// does nothing when it changed, 1 when it deleted the session, else 0.
//
// KEYS[1] the session, KEYS[2..] index sets. ARGV[1] the id, ARGV[2] the
// storage form as read ("" when there was none), ARGV[3] "1" to delete
// the session too.
var unindexScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then v = '' end
if v ~= ARGV[2] then return -1 end
for i = 2, #KEYS do
	redis.call('SREM', KEYS[i], ARGV[1])
end
if ARGV[3] == '1' and v ~= '' then
	redis.call('DEL', KEYS[1])
	return 1
end
return 0
`)

// maxAttempts bounds the retries of a session that changes between its
// read and its change.
const maxAttempts = 8

// scanBatch is how many index members are read and checked at a time.
const scanBatch = 512

// Save implements [ssoclient.SessionStore]: one script sets the session,
// expiring at s.ExpiresAt, and adds it to its index sets. A session that
// has already ended is not stored, and ends one saved under its ID.
func (st *SessionStore) Save(ctx context.Context, s *ssoclient.Session) error {
	if s == nil || s.ID == "" {
		return errors.New("redisstore: save session: the session has no ID")
	}
	if !st.now().Before(s.ExpiresAt) {
		if err := st.Delete(ctx, s.ID); err != nil {
			return wrap("save an ended session", err)
		}
		return nil
	}
	data, err := s.MarshalBinary()
	if err != nil {
		return wrap("save session", err)
	}
	keys := append([]string{st.key(s.ID)}, st.indexes(s)...)
	err = saveScript.Run(ctx, st.c, keys, data, unixMilliCeil(s.ExpiresAt), s.ID, st.prefix+":s:").Err()
	if err != nil {
		return wrap("save session", err)
	}
	return nil
}

// Load implements [ssoclient.SessionStore] with one GET.
func (st *SessionStore) Load(ctx context.Context, id string) (*ssoclient.Session, error) {
	b, err := st.c.Get(ctx, st.key(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ssoclient.ErrSessionNotFound
	}
	if err != nil {
		return nil, wrap("load session", err)
	}
	s := new(ssoclient.Session)
	if err := s.UnmarshalBinary(b); err != nil {
		return nil, wrap("load session", err)
	}
	if s.ID != id || !st.now().Before(s.ExpiresAt) {
		return nil, ssoclient.ErrSessionNotFound
	}
	return s, nil
}

// Delete implements [ssoclient.SessionStore]: it reads the session to
// know its index sets, then deletes it and takes it out of them in one
// script, provided it did not change in between (else it reads it again).
func (st *SessionStore) Delete(ctx context.Context, id string) error {
	for range maxAttempts {
		v, err := st.c.Get(ctx, st.key(id)).Result()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return wrap("delete session", err)
		}
		keys := []string{st.key(id)}
		if s := new(ssoclient.Session); s.UnmarshalBinary([]byte(v)) == nil {
			keys = append(keys, st.indexes(s)...)
		}
		r, err := unindexScript.Run(ctx, st.c, keys, id, v, "1").Int64()
		if err != nil {
			return wrap("delete session", err)
		}
		if r >= 0 {
			return nil
		}
	}
	return errors.New("redisstore: delete session: the session kept changing")
}

// Count implements [ssoclient.SessionStore]; see DeleteMatching for how
// sessions are found.
func (st *SessionStore) Count(ctx context.Context, f ssoclient.SessionFilter) (int, error) {
	return st.matching(ctx, f, false)
}

// DeleteMatching implements [ssoclient.SessionStore]. It reads the
// smallest index set f names, a batch at a time, loads those sessions and
// deletes the ones f matches (ended or not, counting the unexpired), each
// with its index entries in one script that first checks the session is
// still as read. Index entries whose session is gone or has changed are
// removed as they are met.
func (st *SessionStore) DeleteMatching(ctx context.Context, f ssoclient.SessionFilter) (int, error) {
	return st.matching(ctx, f, true)
}

func (st *SessionStore) matching(ctx context.Context, f ssoclient.SessionFilter, del bool) (int, error) {
	if !f.Valid() {
		return 0, ssoclient.ErrEmptyFilter
	}
	op := "count sessions"
	if del {
		op = "delete sessions"
	}
	set, err := st.smallest(ctx, st.filterIndexes(f))
	if err != nil {
		return 0, wrap(op, err)
	}
	seen := map[string]struct{}{} // SSCAN may return a member twice
	n := 0
	var cursor uint64
	for {
		ids, next, err := st.c.SScan(ctx, set, cursor, "", scanBatch).Result()
		if err != nil {
			return n, wrap(op, err)
		}
		fresh := ids[:0]
		for _, id := range ids {
			if _, ok := seen[id]; !ok {
				seen[id] = struct{}{}
				fresh = append(fresh, id)
			}
		}
		k, err := st.visit(ctx, set, fresh, f, del)
		n += k
		if err != nil {
			return n, wrap(op, err)
		}
		if next == 0 {
			return n, nil
		}
		cursor = next
	}
}

// smallest returns the set of sets with the fewest members.
func (st *SessionStore) smallest(ctx context.Context, sets []string) (string, error) {
	if len(sets) == 1 {
		return sets[0], nil
	}
	pipe := st.c.Pipeline()
	cards := make([]*redis.IntCmd, len(sets))
	for i, s := range sets {
		cards[i] = pipe.SCard(ctx, s)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return "", err
	}
	best := 0
	for i, c := range cards {
		if c.Val() < cards[best].Val() {
			best = i
		}
	}
	return sets[best], nil
}

// visit checks the sessions of ids, members of set, against f: it counts
// the unexpired ones that match, deleting them when del is set, and takes
// ids whose session is gone or no longer belongs in set out of it.
func (st *SessionStore) visit(ctx context.Context, set string, ids []string, f ssoclient.SessionFilter, del bool) (int, error) {
	n := 0
	for attempt := 0; len(ids) > 0; attempt++ {
		if attempt == maxAttempts {
			return n, errors.New("sessions kept changing")
		}
		if err := ctx.Err(); err != nil {
			return n, err
		}
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = st.key(id)
		}
		vals, err := st.c.MGet(ctx, keys...).Result()
		if err != nil {
			return n, err
		}
		now := st.now()
		var calls []scriptCall
		var callIDs []string
		var live []bool
		for i, id := range ids {
			v, ok := vals[i].(string)
			if !ok { // gone: expired or deleted
				calls = append(calls, scriptCall{[]string{keys[i], set}, []any{id, "", "0"}})
				callIDs, live = append(callIDs, id), append(live, false)
				continue
			}
			s := new(ssoclient.Session)
			if s.UnmarshalBinary([]byte(v)) != nil || s.ID != id {
				continue // not a session this store wrote: leave it
			}
			idx := st.indexes(s)
			switch {
			case !slices.Contains(idx, set): // replaced by a session that is not in set
				calls = append(calls, scriptCall{[]string{keys[i], set}, []any{id, v, "0"}})
				callIDs, live = append(callIDs, id), append(live, false)
			case !f.Match(s):
			case del:
				calls = append(calls, scriptCall{append([]string{keys[i]}, idx...), []any{id, v, "1"}})
				callIDs, live = append(callIDs, id), append(live, now.Before(s.ExpiresAt))
			case now.Before(s.ExpiresAt):
				n++
			}
		}
		res, err := evalAll(ctx, st.c, unindexScript, calls)
		if err != nil {
			return n, err
		}
		ids = ids[:0:0]
		for i, r := range res {
			switch {
			case r < 0:
				ids = append(ids, callIDs[i]) // changed since read: again
			case r == 1 && live[i]:
				n++
			}
		}
	}
	return n, nil
}
