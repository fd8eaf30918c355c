package ssoclient

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/ssokit/ssokit/internal/randtoken"
	"github.com/ssokit/ssokit/internal/seal"
)

// maxPendingAttempts bounds the attempt cookies one browser holds; starting
// another drops the oldest, so a page that starts sign-ins in a loop cannot
// grow the browser's cookie header without end.
const maxPendingAttempts = 4

// attempt is one sign-in in flight. It travels sealed in a cookie named
// after its state, so no server state is needed and two tabs can sign in at
// once.
type attempt struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	ReturnTo string `json:"r"`
	Profile  string `json:"p,omitempty"`
	Created  int64  `json:"t"` // unix seconds
	// LinkUser, set for account linking ({mount}/link), is the signed-in
	// user the identity is to be linked to.
	LinkUser string `json:"l,omitempty"`
	// App and AppReturn, set for a broker sign-in, are the relying app and
	// its registered return URL the ticket goes to.
	App       string `json:"a,omitempty"`
	AppReturn string `json:"ar,omitempty"`
}

func newAttempt(returnTo, profile string, now time.Time) *attempt {
	// One read of crypto/rand and one allocation for the three tokens.
	var t [3]string
	randtoken.Fill(t[:], 32)
	return &attempt{
		State:    t[0],
		Nonce:    t[1],
		Verifier: t[2], // 43 characters: RFC 7636 §4.1
		ReturnTo: returnTo,
		Profile:  profile,
		Created:  now.Unix(),
	}
}

// challenge is the attempt's PKCE code_challenge, S256 (RFC 7636 §4.2):
// base64url(SHA-256(verifier)). The verifier is hashed from a copy on the
// stack, where converting its 43 characters to a []byte would allocate.
func (a *attempt) challenge() (c [43]byte) {
	var v [128]byte // RFC 7636 §4.1: a verifier is 43 to 128 characters
	var sum [sha256.Size]byte
	if len(a.Verifier) <= len(v) {
		sum = sha256.Sum256(v[:copy(v[:], a.Verifier)])
	} else {
		sum = sha256.Sum256([]byte(a.Verifier))
	}
	base64.RawURLEncoding.Encode(c[:], sum[:])
	return c
}

// attemptCookies names and seals attempt cookies.
type attemptCookies struct {
	ring   *seal.Ring
	prefix string // "__Host-ssokit-a-" on https, "ssokit-a-" on http
	secure bool
	// attrs follows the value in every attempt cookie's Set-Cookie
	// header, as http.Cookie.String writes the attributes; clear follows
	// the name in the header that deletes one.
	attrs, clear string
}

func newAttemptCookies(ring *seal.Ring, secure bool) attemptCookies {
	prefix := "ssokit-a-"
	if secure {
		prefix = "__Host-" + prefix
	}
	ac := attemptCookies{ring: ring, prefix: prefix, secure: secure}
	attrs := ac.cookie("n", "v", int(AttemptLifetime/time.Second)).String()
	ac.attrs = attrs[len("n=v"):]
	ac.clear = ac.cookie("n", "", -1).String()[len("n"):]
	return ac
}

// name is the attempt cookie's name for a state: a prefix of the state is
// enough to find it; the whole state is checked inside.
func (ac attemptCookies) name(state string) string {
	if len(state) > 16 {
		state = state[:16]
	}
	return ac.prefix + state
}

func (ac attemptCookies) cookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: ac.secure, SameSite: http.SameSiteLaxMode,
	}
}

// attemptBufs are set's buffers: a sign-in's attempt cookie is written
// with one allocation, its Set-Cookie header.
var attemptBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// set writes the attempt's cookie, and drops the oldest pending attempts
// beyond maxPendingAttempts.
func (ac attemptCookies) set(w http.ResponseWriter, r *http.Request, a *attempt) {
	type pending struct {
		name    string
		created int64
	}
	var old []pending
	for _, c := range r.Cookies() {
		if !strings.HasPrefix(c.Name, ac.prefix) {
			continue
		}
		created := int64(0) // unreadable cookies go first
		if o, err := ac.open(c.Name, c.Value); err == nil {
			created = o.Created
		}
		old = append(old, pending{c.Name, created})
	}
	if extra := len(old) - (maxPendingAttempts - 1); extra > 0 {
		slices.SortFunc(old, func(a, b pending) int { return int(a.created - b.created) })
		for _, p := range old[:extra] {
			http.SetCookie(w, ac.cookie(p.name, "", -1))
		}
	}
	// One buffer holds in turn the cookie's name (the seal's associated
	// data), the attempt sealed in place, and the Set-Cookie header; only
	// the header is copied out. The cookie is what http.SetCookie writes
	// for ac.cookie(name, sealed, AttemptLifetime): name and value are
	// base64url, which it would leave as they are.
	bp := attemptBufs.Get().(*[]byte)
	b := append((*bp)[:0], ac.prefix...)
	b = append(b, a.State[:min(len(a.State), 16)]...)
	n := len(b)
	b = append(b, make([]byte, seal.HeaderLen)...)
	b = a.appendJSON(b)
	b = slices.Grow(b, seal.TagLen)
	sealed := ac.ring.SealInPlace(b[n:], b[:n])
	b = b[:n+len(sealed)]
	h := len(b)
	b = append(b, b[:n]...)
	b = append(b, '=')
	b = base64.RawURLEncoding.AppendEncode(b, sealed)
	b = append(b, ac.attrs...)
	hdr := w.Header()
	hdr["Set-Cookie"] = append(hdr["Set-Cookie"], string(b[h:]))
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		attemptBufs.Put(bp)
	}
}

// appendJSON appends the attempt as json.Marshal writes it, without
// reflection.
func (a *attempt) appendJSON(b []byte) []byte {
	b = append(b, `{"s":`...)
	b = appendJSONString(b, a.State)
	b = append(b, `,"n":`...)
	b = appendJSONString(b, a.Nonce)
	b = append(b, `,"v":`...)
	b = appendJSONString(b, a.Verifier)
	b = append(b, `,"r":`...)
	b = appendJSONString(b, a.ReturnTo)
	if a.Profile != "" {
		b = append(b, `,"p":`...)
		b = appendJSONString(b, a.Profile)
	}
	b = append(b, `,"t":`...)
	b = strconv.AppendInt(b, a.Created, 10)
	if a.LinkUser != "" {
		b = append(b, `,"l":`...)
		b = appendJSONString(b, a.LinkUser)
	}
	if a.App != "" {
		b = append(b, `,"a":`...)
		b = appendJSONString(b, a.App)
	}
	if a.AppReturn != "" {
		b = append(b, `,"ar":`...)
		b = appendJSONString(b, a.AppReturn)
	}
	return append(b, '}')
}

// jsonSafe is the bytes json.Marshal writes as they are: ASCII except
// control characters, quotes, backslashes, <, > and &.
var jsonSafe = func() (t [256]bool) {
	for c := range utf8.RuneSelf {
		t[c] = c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendJSONString appends s as a JSON string, escaped as json.Marshal
// escapes it: quotes, backslashes, control characters, <, > and &,
// U+2028 and U+2029, and each byte that is not UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	i := 0
	for i < len(s) && jsonSafe[s[i]] {
		i++
	}
	if i == len(s) { // tokens and most paths
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func (ac attemptCookies) open(name, value string) (*attempt, error) {
	// One pooled buffer holds the name (the associated data), the value,
	// and the value decoded, which is opened in place; the attempt is
	// parsed from there and the plaintext cleared.
	bp := attemptBufs.Get().(*[]byte)
	b := append((*bp)[:0], name...)
	n := len(b)
	b = append(b, value...)
	m := len(b)
	b, err := base64.RawURLEncoding.AppendDecode(b, b[n:m])
	var a *attempt
	if err == nil {
		var pt []byte
		if pt, err = ac.ring.OpenInPlace(b[m:], b[:n]); err == nil {
			a, err = parseAttempt(pt)
			clear(pt)
		}
	}
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		attemptBufs.Put(bp)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// parseAttempt reads an attempt as appendJSON (and json.Marshal before
// it) writes one. Its strings, when none has an escape, are slices of one
// copy of b; anything else (escapes, other spacing or keys, a key twice)
// goes to json.Unmarshal, as everything did before.
func parseAttempt(b []byte) (*attempt, error) {
	if a, ok := parseAttemptPlain(b); ok {
		return a, nil
	}
	var a attempt
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// parseAttemptPlain parses b if it is an object of the attempt's keys,
// each once, with plain strings (no escapes, no control characters,
// UTF-8) and an integer time, without spaces; ok is false otherwise. The
// strings share one allocation holding their contents alone.
func parseAttemptPlain(b []byte) (a *attempt, ok bool) {
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, false
	}
	var span [8][2]int // where each string field's value is in b
	var created int64
	var seen uint16
	for i := 1; i < len(b)-1; {
		if i > 1 {
			if b[i] != ',' {
				return nil, false
			}
			i++
		}
		// "key":
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		end := bytes.IndexByte(b[i+1:], '"')
		if end < 0 {
			return nil, false
		}
		key := b[i+1 : i+1+end]
		i += end + 2
		if i >= len(b) || b[i] != ':' {
			return nil, false
		}
		i++
		// The index in span of the key's field ("s" to "a" 0 to 6, "ar"
		// 7), or 8 for "t".
		field := -1
		switch {
		case len(key) == 1 && key[0] == 't':
			field = 8
		case len(key) == 1:
			field = strings.IndexByte("snvrpla", key[0])
		case len(key) == 2 && key[0] == 'a' && key[1] == 'r':
			field = 7
		}
		if field < 0 {
			return nil, false
		}
		if seen&(1<<field) != 0 {
			return nil, false
		}
		seen |= 1 << field
		if field == 8 { // "t": an integer
			j := i
			if j < len(b) && b[j] == '-' {
				j++
			}
			for j < len(b) && b[j] >= '0' && b[j] <= '9' {
				j++
			}
			t, err := strconv.ParseInt(string(b[i:j]), 10, 64)
			if err != nil || (b[i] == '0' && j-i > 1) || (b[i] == '-' && (j-i < 2 || b[i+1] == '0')) {
				return nil, false
			}
			created = t
			i = j
			continue
		}
		if i >= len(b) || b[i] != '"' {
			return nil, false
		}
		j := i + 1
		for j < len(b) && b[j] != '"' {
			if c := b[j]; c < 0x20 || c == '\\' {
				return nil, false
			}
			j++
		}
		if j >= len(b) || !utf8.Valid(b[i+1:j]) {
			return nil, false
		}
		span[field] = [2]int{i + 1, j}
		i = j + 1
	}
	n := 0
	for _, sp := range span {
		n += sp[1] - sp[0]
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, sp := range span {
		sb.Write(b[sp[0]:sp[1]])
	}
	all := sb.String()
	a = &attempt{Created: created}
	for k, dst := range [8]*string{&a.State, &a.Nonce, &a.Verifier, &a.ReturnTo, &a.Profile, &a.LinkUser, &a.App, &a.AppReturn} {
		l := span[k][1] - span[k][0]
		*dst, all = all[:l], all[l:]
	}
	return a, true
}

// take finds the attempt for state, clears its cookie, and checks that it
// is whole and fresh. Single use is the replay cache's job.
func (ac attemptCookies) take(w http.ResponseWriter, r *http.Request, state string, now time.Time) (*attempt, *Error) {
	if state == "" {
		return nil, newError(CodeStateInvalid, "the callback has no state", nil)
	}
	// The header that deletes the cookie, whose name is its start: what
	// http.SetCookie writes for ac.cookie(name, "", -1).
	del := ac.prefix + state[:min(len(state), 16)] + ac.clear
	name := del[:len(del)-len(ac.clear)]
	value, ok := cookieValue(r, name)
	if !ok {
		return nil, newError(CodeStateInvalid, "no attempt cookie for this state in this browser", nil)
	}
	h := w.Header()
	h["Set-Cookie"] = append(h["Set-Cookie"], del)
	a, err := ac.open(name, value)
	if err != nil {
		return nil, newError(CodeStateInvalid, "the attempt cookie does not open", nil)
	}
	if !sameState(a.State, state) {
		return nil, newError(CodeStateInvalid, "the state differs from the attempt's", nil)
	}
	age := now.Sub(time.Unix(a.Created, 0))
	if age > AttemptLifetime || age < -time.Minute {
		return nil, newError(CodeAttemptExpired, "the attempt is older than 10 minutes", nil)
	}
	return a, nil
}

// sameState compares two states in constant time, as
// subtle.ConstantTimeCompare([]byte(a), []byte(b)) does, from stack
// copies: each conversion of a 43-character state would be a heap copy.
func sameState(a, b string) bool {
	var x, y [64]byte
	if len(a) > len(x) || len(b) > len(y) {
		return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
	}
	return subtle.ConstantTimeCompare(x[:copy(x[:], a)], y[:copy(y[:], b)]) == 1
}

// isLocalPath reports whether p is a path on this site that a redirect may
// safely go to: it starts with one slash, and nothing in it can make a
// browser read it as another host ("//evil", "/\evil", "/%2F%2Fevil" after
// decoding by a proxy, control characters, a scheme).
func isLocalPath(p string) bool {
	if len(p) == 0 || len(p) > 2048 || p[0] != '/' {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	escaped := false
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return false
		} else if c == '%' {
			escaped = true
		}
	}
	if !escaped {
		// Without a percent sign the checks below cannot fail: p starts
		// with one slash, so url.Parse finds no scheme and no authority
		// and has nothing to unescape, and the path decodes to itself.
		return true
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	// A path that decodes to "//host" or "/\host" is an open redirect
	// behind anything that decodes it once more.
	if dec, err := url.PathUnescape(u.EscapedPath()); err != nil || strings.HasPrefix(dec, "//") || strings.HasPrefix(dec, "/\\") {
		return false
	}
	return true
}

// returnTo keeps a local path and drops anything else for "/".
func returnTo(p string) string {
	if isLocalPath(p) {
		return p
	}
	return "/"
}
