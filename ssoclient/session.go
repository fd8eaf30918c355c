package ssoclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ssokit/ssokit/claims"
)

// Identity is the signed-in person; see [claims.Identity].
type Identity = claims.Identity

// Session is a signed-in browser: who, through which provider, until
// when. Its ID is the session cookie's value.
//
// A Session prints, logs and marshals to JSON without its ID and tokens;
// [Session.MarshalBinary] is the complete form a shared SessionStore
// keeps.
type Session struct {
	ID       string
	Identity *Identity
	// Profile is the SSO profile the person signed in through ("" for a
	// Client with a single provider).
	Profile string
	// UserID is the application's user, when Config.Directory is set.
	UserID string
	// SID is the provider's session id, the ID token's sid claim ("" when
	// the provider sends none). Back-channel logout ends sessions by it.
	SID string
	// Tokens are the OAuth tokens of the sign-in, kept only when
	// Config.KeepTokens is set (see [Client.TokenSource]).
	Tokens    *Tokens
	CreatedAt time.Time
	ExpiresAt time.Time
	// idt is the raw ID token (see IDToken).
	idt idTokenText
}

// IDToken returns the raw ID token of the sign-in (or of its last
// refresh), which logout sends back to the provider as id_token_hint; ""
// when there is none.
func (s *Session) IDToken() string { return s.idt.String() }

// SetIDToken sets the raw ID token IDToken returns. Set the Identity
// first: when the token's payload is exactly the Identity's claims, as in
// a session the callback made, the session keeps only the token's header
// and signature besides them, not the whole token a second time.
func (s *Session) SetIDToken(raw string) {
	payload := ""
	if s.Identity != nil {
		payload = s.Identity.Claims.JSON()
	}
	s.idt = compactIDToken(raw, payload)
}

// idTokenText is a raw ID token in as few bytes as a session can keep it:
// whole (text), or, when its payload is the session's claims, as its
// encoded header with the dot after it (text), the claims (payload,
// sharing the Identity's memory) and the decoded signature (sig). Its
// String is the token as received, byte for byte.
type idTokenText struct {
	text    string
	payload string
	sig     []byte
}

// compactIDToken keeps raw in parts when its payload segment is the
// canonical base64url encoding of payload and its signature segment the
// canonical encoding of some bytes; otherwise whole.
func compactIDToken(raw, payload string) idTokenText {
	whole := idTokenText{text: raw}
	i := strings.IndexByte(raw, '.')
	j := strings.LastIndexByte(raw, '.')
	if payload == "" || i < 0 || j <= i || !encodes(raw[i+1:j], payload) {
		return whole
	}
	sig, err := base64.RawURLEncoding.DecodeString(raw[j+1:])
	if err != nil || !encodes(raw[j+1:], sig) {
		return whole
	}
	return idTokenText{text: strings.Clone(raw[:i+1]), payload: payload, sig: sig}
}

// String returns the token as received.
func (t idTokenText) String() string {
	if t.sig == nil {
		return t.text
	}
	enc := base64.RawURLEncoding
	b := make([]byte, 0, len(t.text)+enc.EncodedLen(len(t.payload))+1+enc.EncodedLen(len(t.sig)))
	b = append(b, t.text...)
	b = appendEncoded(b, t.payload)
	b = append(b, '.')
	b = enc.AppendEncode(b, t.sig)
	return string(b)
}

// appendEncoded appends the base64url encoding (no padding) of data,
// 48 bytes at a time: a multiple of 3 encodes as the whole would.
func appendEncoded(b []byte, data string) []byte {
	var chunk [48]byte
	for i := 0; i < len(data); i += len(chunk) {
		n := copy(chunk[:], data[i:])
		b = base64.RawURLEncoding.AppendEncode(b, chunk[:n])
	}
	return b
}

// encodes reports whether seg is exactly the base64url encoding (no
// padding) of data, without allocating.
func encodes[T ~string | ~[]byte](seg string, data T) bool {
	enc := base64.RawURLEncoding
	if len(seg) != enc.EncodedLen(len(data)) {
		return false
	}
	var chunk [48]byte
	var out [64]byte
	for i := 0; i < len(data); i += len(chunk) {
		n := copy(chunk[:], data[i:])
		m := enc.EncodedLen(n)
		enc.Encode(out[:m], chunk[:n])
		if string(out[:m]) != seg[i/len(chunk)*len(out):][:m] {
			return false
		}
	}
	return true
}

// Tokens are the OAuth 2.0 tokens a session keeps for the application's
// calls to APIs on the user's behalf.
type Tokens struct {
	AccessToken  Secret
	TokenType    string
	RefreshToken Secret
	// Expiry is when AccessToken expires (zero: unknown).
	Expiry time.Time
}

// LogValue logs the session without its ID or tokens.
func (s *Session) LogValue() slog.Value {
	if s == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.Any("identity", s.Identity), slog.String("profile", s.Profile), slog.Time("expires_at", s.ExpiresAt))
}

// String describes the session without its ID or tokens.
func (s *Session) String() string {
	if s == nil {
		return "<nil>"
	}
	iss, sub := "", ""
	if s.Identity != nil {
		iss, sub = s.Identity.Issuer, s.Identity.Subject
	}
	return fmt.Sprintf("ssoclient.Session{issuer: %q, subject: %q, profile: %q, user: %q, expires: %s}", iss, sub, s.Profile, s.UserID, s.ExpiresAt.UTC().Format(time.RFC3339))
}

// GoString is String, so %#v does not print the ID or tokens either.
func (s *Session) GoString() string { return s.String() }

// Format prints String for every verb, so no verb of the fmt package
// prints the session's ID or tokens.
func (s *Session) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// MarshalJSON is for logs and APIs: the session without its ID and tokens.
func (s *Session) MarshalJSON() ([]byte, error) {
	type view struct {
		Identity  *Identity `json:"identity"`
		Profile   string    `json:"profile,omitempty"`
		UserID    string    `json:"user_id,omitempty"`
		CreatedAt time.Time `json:"created_at"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	return json.Marshal(view{s.Identity, s.Profile, s.UserID, s.CreatedAt, s.ExpiresAt})
}

// sessionRecord is a session's storage form, secrets included.
type sessionRecord struct {
	V            int       `json:"v"`
	ID           string    `json:"id"`
	Identity     *Identity `json:"identity"`
	Profile      string    `json:"profile,omitempty"`
	UserID       string    `json:"user_id,omitempty"`
	SID          string    `json:"sid,omitempty"`
	IDToken      string    `json:"id_token,omitempty"`
	AccessToken  string    `json:"access_token,omitempty"`
	TokenType    string    `json:"token_type,omitempty"`
	RefreshToken string    `json:"refresh_token,omitempty"`
	TokenExpiry  time.Time `json:"token_expiry,omitzero"`
	HasTokens    bool      `json:"has_tokens,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	ExpiresAt    time.Time `json:"expires_at"`
}

// MarshalBinary is the session's storage form for a shared SessionStore:
// everything, the ID and tokens included. Keep it where the session
// store's data is kept, never in a log or a response.
func (s *Session) MarshalBinary() ([]byte, error) {
	r := sessionRecord{V: 1, ID: s.ID, Identity: s.Identity, Profile: s.Profile, UserID: s.UserID, SID: s.SID,
		IDToken: s.IDToken(), CreatedAt: s.CreatedAt, ExpiresAt: s.ExpiresAt}
	if t := s.Tokens; t != nil {
		r.HasTokens = true
		r.AccessToken, r.TokenType, r.RefreshToken, r.TokenExpiry = string(t.AccessToken), t.TokenType, string(t.RefreshToken), t.Expiry
	}
	return json.Marshal(r)
}

// UnmarshalBinary reads what MarshalBinary wrote.
func (s *Session) UnmarshalBinary(data []byte) error {
	var r sessionRecord
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("ssoclient: session record: %w", err)
	}
	if r.V != 1 || r.ID == "" {
		return errors.New("ssoclient: session record: unknown version or no id")
	}
	// A session read from a shared store lives for one request: its
	// token is kept whole, not compared with the claims.
	*s = Session{ID: r.ID, Identity: r.Identity, Profile: r.Profile, UserID: r.UserID, SID: r.SID,
		CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, idt: idTokenText{text: r.IDToken}}
	if r.HasTokens {
		s.Tokens = &Tokens{AccessToken: Secret(r.AccessToken), TokenType: r.TokenType, RefreshToken: Secret(r.RefreshToken), Expiry: r.TokenExpiry}
	}
	return nil
}

// ErrSessionNotFound is what a SessionStore returns for an unknown or
// expired session.
var ErrSessionNotFound = errors.New("ssoclient: session not found")

// ErrEmptyFilter is what a SessionStore returns for a SessionFilter that
// selects nothing in particular: it never means "every session".
var ErrEmptyFilter = errors.New("ssoclient: session filter is empty")

// SessionFilter selects sessions to count or end. Every non-empty field
// must match. Subject and SID only mean something at one issuer, so they
// need Issuer; Issuer alone selects nothing.
type SessionFilter struct {
	// Profile: sessions created through this SSO profile (an admin
	// deleting or disabling it).
	Profile string
	// UserID: sessions of this application user ("sign out everywhere",
	// an offboarded employee).
	UserID string
	// Issuer with Subject and/or SID: sessions of a person, or of one
	// provider session, at a provider (back-channel logout).
	Issuer  string
	Subject string
	SID     string
}

// Valid reports whether f selects something in particular.
func (f SessionFilter) Valid() bool {
	if (f.Subject != "" || f.SID != "") && f.Issuer == "" {
		return false
	}
	return f.Profile != "" || f.UserID != "" || f.Subject != "" || f.SID != ""
}

// Match reports whether s is selected by f; an invalid f matches nothing.
func (f SessionFilter) Match(s *Session) bool {
	if !f.Valid() || s == nil {
		return false
	}
	if f.Profile != "" && s.Profile != f.Profile || f.UserID != "" && s.UserID != f.UserID || f.SID != "" && s.SID != f.SID {
		return false
	}
	if f.Issuer != "" || f.Subject != "" {
		if s.Identity == nil || s.Identity.Issuer != f.Issuer || f.Subject != "" && s.Identity.Subject != f.Subject {
			return false
		}
	}
	return true
}

// SessionStore keeps sessions. Implementations must be safe for concurrent
// use; Load is on the path of every signed-in request, so it should be
// fast. Sessions handed to Save and returned by Load are not modified
// afterwards; saving a session with an existing ID replaces it.
// ssoclient/storetest checks an implementation.
type SessionStore interface {
	// Save stores s until s.ExpiresAt.
	Save(ctx context.Context, s *Session) error
	// Load returns the session with this id, or ErrSessionNotFound when
	// there is none or it has expired.
	Load(ctx context.Context, id string) (*Session, error)
	// Delete removes the session; deleting an unknown id is not an error.
	Delete(ctx context.Context, id string) error
	// Count counts the unexpired sessions f selects; ErrEmptyFilter when
	// f is not Valid.
	Count(ctx context.Context, f SessionFilter) (int, error)
	// DeleteMatching removes every session f selects and returns how many
	// were unexpired; ErrEmptyFilter when f is not Valid.
	DeleteMatching(ctx context.Context, f SessionFilter) (int, error)
}

const sessionShards = 32

// MemorySessionStore is the default SessionStore: in memory, bounded, with
// expiry. It suits a single replica; replicas behind a load balancer need a
// shared store.
//
// Load takes no lock and writes no shared memory (sync.Map's reads are
// atomic loads), so the requests of one session on many cores do not
// contend; writers take their shard's mutex.
type MemorySessionStore struct {
	max    int // per shard
	now    func() time.Time
	seed   maphash.Seed
	shards [sessionShards]sessionShard
}

type sessionShard struct {
	mu sync.Mutex // serialises Save, Delete and DeleteMatching; guards n
	m  sync.Map   // id → *Session
	n  int        // the number of sessions in m
	_  [40]byte   // keeps the writers' fields of shards on separate cache lines
}

// NewMemorySessionStore returns a store of up to max sessions (100,000
// when max <= 0). When full, expired sessions go first, then those closest
// to expiring. now is its clock (time.Now when nil).
func NewMemorySessionStore(max int, now func() time.Time) *MemorySessionStore {
	if max <= 0 {
		max = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &MemorySessionStore{max: (max + sessionShards - 1) / sessionShards, now: now, seed: maphash.MakeSeed()}
}

func (st *MemorySessionStore) shard(id string) *sessionShard {
	return &st.shards[maphash.String(st.seed, id)%sessionShards]
}

// Save implements SessionStore.
func (st *MemorySessionStore) Save(_ context.Context, s *Session) error {
	sh := st.shard(s.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if _, ok := sh.m.Load(s.ID); !ok && sh.n >= st.max {
		sh.evictOne(st.now())
	}
	if _, loaded := sh.m.Swap(s.ID, s); !loaded {
		sh.n++
	}
	return nil
}

// evictOne makes room in a full shard: every expired session, or else the
// one closest to expiring. The caller holds sh.mu.
func (sh *sessionShard) evictOne(now time.Time) {
	var soonest string
	var soonestAt time.Time
	removed := false
	sh.m.Range(func(k, v any) bool {
		id, at := k.(string), v.(*Session).ExpiresAt
		if !now.Before(at) {
			sh.delete(id)
			removed = true
		} else if soonest == "" || at.Before(soonestAt) {
			soonest, soonestAt = id, at
		}
		return true
	})
	if !removed && soonest != "" {
		sh.delete(soonest)
	}
}

// delete removes id from the shard. The caller holds sh.mu.
func (sh *sessionShard) delete(id string) {
	if _, loaded := sh.m.LoadAndDelete(id); loaded {
		sh.n--
	}
}

// evictOne makes room in a full map of entries that expire: every expired
// entry, or else the one closest to expiring. Callers hold the map's lock.
func evictOne[V any](m map[string]V, now time.Time, expires func(V) time.Time) {
	var soonest string
	var soonestAt time.Time
	removed := false
	for k, v := range m {
		at := expires(v)
		if !now.Before(at) {
			delete(m, k)
			removed = true
			continue
		}
		if soonest == "" || at.Before(soonestAt) {
			soonest, soonestAt = k, at
		}
	}
	if !removed && soonest != "" {
		delete(m, soonest)
	}
}

// Load implements SessionStore.
func (st *MemorySessionStore) Load(_ context.Context, id string) (*Session, error) {
	v, ok := st.shard(id).m.Load(id)
	if !ok {
		return nil, ErrSessionNotFound
	}
	s := v.(*Session)
	if !st.now().Before(s.ExpiresAt) {
		return nil, ErrSessionNotFound
	}
	return s, nil
}

// Delete implements SessionStore.
func (st *MemorySessionStore) Delete(_ context.Context, id string) error {
	sh := st.shard(id)
	sh.mu.Lock()
	sh.delete(id)
	sh.mu.Unlock()
	return nil
}

// Len returns the number of sessions held, expired ones not yet evicted
// included.
func (st *MemorySessionStore) Len() int {
	n := 0
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}

// Count implements SessionStore.
func (st *MemorySessionStore) Count(_ context.Context, f SessionFilter) (int, error) {
	if !f.Valid() {
		return 0, ErrEmptyFilter
	}
	now := st.now()
	n := 0
	for i := range st.shards {
		st.shards[i].m.Range(func(_, v any) bool {
			if s := v.(*Session); now.Before(s.ExpiresAt) && f.Match(s) {
				n++
			}
			return true
		})
	}
	return n, nil
}

// DeleteMatching implements SessionStore.
func (st *MemorySessionStore) DeleteMatching(_ context.Context, f SessionFilter) (int, error) {
	if !f.Valid() {
		return 0, ErrEmptyFilter
	}
	now := st.now()
	n := 0
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.Lock()
		sh.m.Range(func(k, v any) bool {
			if s := v.(*Session); f.Match(s) {
				if now.Before(s.ExpiresAt) {
					n++
				}
				sh.delete(k.(string))
			}
			return true
		})
		sh.mu.Unlock()
	}
	return n, nil
}
