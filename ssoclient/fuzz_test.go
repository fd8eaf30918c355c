package ssoclient

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/ssokit/ssokit/discovery"
	"github.com/ssokit/ssokit/internal/jose"
	"github.com/ssokit/ssokit/internal/jsontest"
	"github.com/ssokit/ssokit/internal/randtoken"
	"github.com/ssokit/ssokit/jwks"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// The fuzz targets of ssoclient: everything that parses outside input. The
// seed corpus of each (the f.Add calls and testdata/fuzz/<Target>) runs in
// ordinary go test; fuzz one with
//
//	go test -run='^$' -fuzz='^FuzzCallbackQuery$' -fuzztime=3m ./ssoclient/
//
// Every target runs against a fixed clock, so seeds with times in them
// stay meaningful.

var fzNow = time.Unix(1_700_000_000, 0)

func fzClock() time.Time { return fzNow }

// fzIssuer is the issuer the targets that do not talk to ssotest give the
// Client's provider, so their seeds need not know a port.
const fzIssuer = "https://idp.example"

const fzTrustedAudience = "https://api.example"

// fzStore counts the sessions saved, so a target can tell that a refused
// callback started none.
type fzStore struct {
	*MemorySessionStore
	saves atomic.Int64
}

func (s *fzStore) Save(ctx context.Context, sess *Session) error {
	s.saves.Add(1)
	return s.MemorySessionStore.Save(ctx, sess)
}

// fzEnv is a Client on ssotest, plus a static key set signed by a key of
// the test's own, for targets that need tokens with arbitrary payloads.
type fzEnv struct {
	idp     *ssotest.Provider
	c       *Client
	store   *fzStore
	lastErr *Error // what the ErrorHandler was last given
	key     crypto.Signer
	keys    *jwks.KeySet
}

func newFzEnv(f *testing.F) *fzEnv {
	f.Helper()
	e := &fzEnv{}
	e.idp = ssotest.New(f, ssotest.WithLoginUser("alice"), ssotest.WithClock(fzClock))
	e.store = &fzStore{MemorySessionStore: NewMemorySessionStore(0, fzClock)}
	c, err := New(context.Background(), Config{
		Issuer: e.idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL: "http://127.0.0.1/auth/sso/callback", HTTPClient: e.idp.HTTPClient(),
		Logger: slog.New(slog.DiscardHandler), Now: fzClock, Sessions: e.store,
		TrustedAudiences: []string{fzTrustedAudience},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err *Error) {
			e.lastErr = err
			WriteError(w, r, err)
		},
	})
	if err != nil {
		f.Fatalf("New: %v", err)
	}
	e.c = c
	if e.key, err = jose.GenerateKey("ES256"); err != nil {
		f.Fatal(err)
	}
	jwk, err := jose.PublicJWK(e.key.Public(), "fz-key", "ES256")
	if err != nil {
		f.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"keys": []any{jwk}})
	if e.keys, err = jwks.NewStatic(doc, nil); err != nil {
		f.Fatal(err)
	}
	return e
}

// useStaticProvider points the Client's provider at fzIssuer and the
// test's own key.
func (e *fzEnv) useStaticProvider() {
	e.c.prov.issuer = fzIssuer
	e.c.prov.meta = &discovery.Metadata{Issuer: fzIssuer}
	e.c.prov.issParam = false
	e.c.prov.keys = e.keys
}

func (e *fzEnv) sign(t testing.TB, payload []byte) string {
	tok, err := jose.Sign(e.key, "ES256", map[string]any{"kid": "fz-key", "typ": "JWT"}, payload)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// fzCheckError checks a refusal: an *Error (not merely wrapping one) with
// a known code, the status and message documented for it, 4xx or 5xx, and
// none of the given secrets in any of its text.
func fzCheckError(t *testing.T, err error, secrets ...string) *Error {
	t.Helper()
	e, ok := err.(*Error)
	if !ok {
		t.Fatalf("refusal %T %v is not an *Error", err, err)
	}
	info, ok := codeInfo[e.Code]
	if !ok {
		t.Fatalf("refusal has the undocumented code %q: %v", e.Code, e)
	}
	if e.Status != info.status || e.Message != info.message {
		t.Fatalf("%s has status %d and message %q; documented: %d, %q", e.Code, e.Status, e.Message, info.status, info.message)
	}
	if e.Status < 400 || e.Status > 599 {
		t.Fatalf("%s has status %d", e.Code, e.Status)
	}
	for _, s := range secrets {
		if s != "" && strings.Contains(e.Error(), s) {
			t.Fatalf("%s carries a secret (%q): %v", e.Code, s, e)
		}
	}
	return e
}

// fzMembers reads a JSON object the strict way: valid UTF-8, valid JSON,
// an object at the top, member names unique and matched exactly. Null
// members are dropped: a null claim is an absent one.
func fzMembers(b []byte) (map[string]json.RawMessage, bool) {
	if !utf8.Valid(b) || !json.Valid(b) || jsontest.LoneSurrogate(b) {
		return nil, false
	}
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	m := map[string]json.RawMessage{}
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return nil, false
		}
		name := t.(string)
		var v json.RawMessage
		if err := d.Decode(&v); err != nil {
			return nil, false
		}
		if seen[name] {
			return nil, false
		}
		seen[name] = true
		if string(v) != "null" {
			m[name] = v
		}
	}
	return m, true
}

// fzString reads a member that, when present, must be a JSON string.
func fzString(m map[string]json.RawMessage, name string) (s string, present, ok bool) {
	raw, present := m[name]
	if !present {
		return "", false, true
	}
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", true, false
	}
	return s, true, true
}

// fzDate reads a member that, when present, must be a JSON number of
// seconds between 0 and 2^40.
func fzDate(m map[string]json.RawMessage, name string) (t time.Time, present, ok bool) {
	raw, present := m[name]
	if !present {
		return time.Time{}, false, true
	}
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return time.Time{}, true, false
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || f < 0 || f > 1<<40 || math.IsNaN(f) {
		return time.Time{}, true, false
	}
	return time.Unix(int64(f), 0), true, true
}

// fzAudience reads aud: a string or an array of strings.
func fzAudience(m map[string]json.RawMessage) (aud []string, ok bool) {
	raw, present := m["aud"]
	if !present {
		return nil, false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil, false
		}
		return []string{s}, true
	}
	if raw[0] != '[' {
		return nil, false
	}
	var l []json.RawMessage
	if json.Unmarshal(raw, &l) != nil {
		return nil, false
	}
	for _, r := range l {
		var s string
		if len(r) == 0 || r[0] != '"' || json.Unmarshal(r, &s) != nil {
			return nil, false
		}
		aud = append(aud, s)
	}
	return aud, true
}

// fzRefIDToken is the reference check of an ID token's claims (OIDC Core
// §2 and §3.1.3.7, RFC 7519), written from the specifications rather than
// from idtoken.go: strict JSON with exact, unique claim names; iss, sub,
// aud, exp, iat required with their types; azp, nbf, auth_time, nonce,
// at_hash, tid typed when present. It returns why it refuses, or "".
func fzRefIDToken(payload []byte, nonce string, skew time.Duration) string {
	m, ok := fzMembers(payload)
	if !ok {
		return "not a strict JSON object"
	}
	iss, present, ok := fzString(m, "iss")
	if !ok || !present || iss != fzIssuer {
		return "iss"
	}
	sub, present, ok := fzString(m, "sub")
	if !ok || !present || sub == "" || len(sub) > 255 {
		return "sub"
	}
	aud, ok := fzAudience(m)
	if !ok || !slices.Contains(aud, ssotest.DefaultClientID) {
		return "aud"
	}
	for _, a := range aud {
		if a != ssotest.DefaultClientID && a != fzTrustedAudience {
			return "untrusted aud"
		}
	}
	azp, _, ok := fzString(m, "azp")
	if !ok || (azp == "" && len(aud) > 1) || (azp != "" && azp != ssotest.DefaultClientID) {
		return "azp"
	}
	exp, present, ok := fzDate(m, "exp")
	if !ok || !present || !fzNow.Before(exp.Add(skew)) {
		return "exp"
	}
	iat, present, ok := fzDate(m, "iat")
	if !ok || !present || iat.After(fzNow.Add(skew)) {
		return "iat"
	}
	nbf, present, ok := fzDate(m, "nbf")
	if !ok || (present && nbf.After(fzNow.Add(skew))) {
		return "nbf"
	}
	if _, _, ok := fzDate(m, "auth_time"); !ok {
		return "auth_time"
	}
	n, _, ok := fzString(m, "nonce")
	if !ok || (nonce != "" && n != nonce) {
		return "nonce"
	}
	for _, name := range []string{"at_hash", "tid"} {
		if _, _, ok := fzString(m, name); !ok {
			return name
		}
	}
	return ""
}

// FuzzIDTokenClaims signs arbitrary claims with a valid key and verifies
// them. ssokit accepts exactly what the strict reference accepts, and what
// it accepts reads the same through IDToken's fields and IDToken.Claims.
func FuzzIDTokenClaims(f *testing.F) {
	// good is a valid claims set with members replaced ("-" drops one)
	// or added, in the order given, by name and raw JSON value pairs.
	good := func(kv ...string) string {
		names := []string{"iss", "sub", "aud", "exp", "iat", "nonce"}
		vals := map[string]string{"iss": `"https://idp.example"`, "sub": `"alice"`, "aud": `"ssotest-client"`,
			"exp": "1700000300", "iat": "1700000000", "nonce": `"n-123"`}
		for i := 0; i+1 < len(kv); i += 2 {
			if _, ok := vals[kv[i]]; !ok {
				names = append(names, kv[i])
			}
			vals[kv[i]] = kv[i+1]
		}
		var b strings.Builder
		for _, n := range names {
			if vals[n] == "-" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Quote(n) + ":" + vals[n])
		}
		return "{" + b.String() + "}"
	}
	for _, s := range []string{
		good(),
		good("auth_time", "1699999990", "nbf", "1699999999", "at_hash", `"x"`, "azp", `"ssotest-client"`),
		good("aud", `["ssotest-client","https://api.example"]`, "azp", `"ssotest-client"`),
		good("aud", `["ssotest-client","https://evil.example"]`, "azp", `"ssotest-client"`),
		good("aud", `["ssotest-client","https://api.example"]`),
		good("aud", `["https://api.example"]`),
		good("ISS", `"https://evil.example"`),
		good("Sub", `"mallory"`),
		good("SUB", `"mallory"`, "NONCE", `"other"`),
		good("aud", `"other-client"`, "Aud", `"ssotest-client"`),
		good("nonce", "-", "Nonce", `"n-123"`),
		good("iss", `"https://evil.example"`),
		good("iat", "null"),
		good("exp", "null"),
		good("exp", `"1700000300"`),
		good("exp", "1.7000003e9"),
		good("exp", "1700000300.999"),
		good("exp", "1e400"),
		good("exp", "-1"),
		good("exp", "1700000000"),
		good("exp", "1699999881"),
		good("iat", "1700000121"),
		good("iat", "1700000120"),
		good("nbf", "1700000121"),
		good("auth_time", `"yesterday"`),
		good("aud", "null"),
		good("aud", `["ssotest-client",null]`),
		good("aud", `[]`),
		good("aud", `{"0":"ssotest-client"}`),
		good("azp", "null"),
		good("azp", `""`),
		good("azp", `"other"`),
		good("nonce", "null"),
		good("tid", "7"),
		good("sub", `"\ud800"`),
		good("sub", `"al`+"\xff"+`ice"`),
		good("x", `"`+"\xff"+`"`),
		good("sub", `""`),
		good("sub", strconv.Quote(strings.Repeat("s", 255))),
		good("sub", strconv.Quote(strings.Repeat("s", 256))),
		good() + " ",
		good() + "{}",
		`{"iss":"https://idp.example","iss":"https://idp.example","sub":"a","aud":"ssotest-client","exp":1700000300,"iat":1700000000,"nonce":"n-123"}`,
		`{"iss":"https://evil.example","sub":"alice","aud":"ssotest-client","exp":1700000300,"iat":1700000000,"nonce":"n-123","iss":"https://idp.example"}`,
		`{"sub":"alice","iss":"https://idp.example","aud":"ssotest-client","exp":1700000300,"iat":1700000000,"nonce":"n-123","sub":"mallory"}`,
		`{"ISS":"https://idp.example","SUB":"alice","AUD":"ssotest-client","EXP":1700000300,"IAT":1700000000,"NONCE":"n-123"}`,
		`{"iss":"https://idp.example","sub":"alice","aud":"ssotest-client","exp":1700000300,"iat":1700000000,"nonce":"n-123","\u0073ub":"bob"}`,
		`[]`, `null`, `{}`, `"x"`, ``, `{"iss":`,
	} {
		f.Add([]byte(s), "n-123")
	}
	f.Add([]byte(good(``)), "")
	e := newFzEnv(f)
	e.useStaticProvider()
	skew := e.c.cfg.ClockSkew
	f.Fuzz(func(t *testing.T, payload []byte, nonce string) {
		tok := e.sign(t, payload)
		idt, err := e.c.verifyIDToken(context.Background(), e.c.prov, tok, nonce)
		why := fzRefIDToken(payload, nonce, skew)
		if err != nil {
			se := fzCheckError(t, err)
			if se.Status != http.StatusBadRequest {
				t.Fatalf("a bad token is %d %s, want 400: %v", se.Status, se.Code, err)
			}
			if why == "" {
				t.Fatalf("refused claims the reference accepts: %v\n%s", err, payload)
			}
			return
		}
		if why != "" {
			t.Fatalf("accepted claims the reference refuses (%s):\n%s", why, payload)
		}
		var cl map[string]any
		if err := idt.Claims(&cl); err != nil {
			t.Fatalf("accepted claims that IDToken.Claims cannot decode: %v", err)
		}
		if cl["iss"] != idt.Issuer || cl["sub"] != idt.Subject || idt.Issuer != fzIssuer {
			t.Fatalf("IDToken says iss %q sub %q; its claims say iss %v sub %v", idt.Issuer, idt.Subject, cl["iss"], cl["sub"])
		}
		if n, _ := cl["nonce"].(string); n != idt.Nonce || (nonce != "" && n != nonce) {
			t.Fatalf("IDToken's nonce %q, claims' %q, wanted %q", idt.Nonce, n, nonce)
		}
	})
}

// fzLocal checks that a redirect target stays on the site: one leading
// '/', no "//" or "/\" start, no control characters or backslashes, and
// that a browser, which drops tabs and newlines and reads '\' as '/',
// would resolve it to the page's own origin.
func fzLocal(t *testing.T, p string) {
	t.Helper()
	if p == "" || p[0] != '/' || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		t.Fatalf("redirect target %q is not a single-slash local path", p)
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r == '\\' {
			t.Fatalf("redirect target %q has a control character or backslash", p)
		}
	}
	base, _ := url.Parse("https://app.example/auth/sso/callback")
	ref, err := url.Parse(p)
	if err != nil {
		t.Fatalf("redirect target %q does not parse: %v", p, err)
	}
	if u := base.ResolveReference(ref); u.Scheme != "https" || u.Host != "app.example" || u.User != nil {
		t.Fatalf("redirect target %q resolves to %s", p, u)
	}
	// The WHATWG URL parser: tab and newlines removed, '\' is '/'.
	browser := strings.NewReplacer("\t", "", "\n", "", "\r", "", "\\", "/").Replace(p)
	if strings.HasPrefix(browser, "//") {
		t.Fatalf("a browser reads redirect target %q as %q, another host", p, browser)
	}
	if dec, err := url.PathUnescape(ref.EscapedPath()); err == nil && (strings.HasPrefix(dec, "//") || strings.HasPrefix(dec, "/\\")) {
		t.Fatalf("redirect target %q decodes to %q, another host behind a decoding proxy", p, dec)
	}
}

// FuzzReturnTo checks that return_to only ever yields a local path, as
// returnTo keeps it and as http.Redirect then writes it into Location.
func FuzzReturnTo(f *testing.F) {
	for _, s := range []string{
		"/", "/private/report?x=1#frag", "", "//evil.example", "/\\evil.example", "\\/evil.example",
		"https://evil.example/", "/%2F%2Fevil.example", "/%2f/evil.example", "/%5C%5Cevil", "/%5Cevil",
		"/\t/evil.example", "/\n/evil.example", " /x", "/x\x00", "/x\x7f", "javascript:alert(1)",
		"/..//evil.example", "/a/../..//evil.example", "/./\\evil", "/?next=//evil", "/#//evil",
		"/x#/../..//evil", "/\u3000/evil", "/／evil", "/%E3%80%80", "/\xff", "/@evil.example",
		"/:@evil.example", "/" + strings.Repeat("a", 2048), "///evil", "/.//evil", "/%0a/evil", "/%09/evil",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := returnTo(p)
		if got != "/" && got != p {
			t.Fatalf("returnTo(%q) = %q: neither the input nor /", p, got)
		}
		if isLocalPath(p) != (got == p) && p != "/" {
			t.Fatalf("returnTo(%q) = %q disagrees with isLocalPath", p, got)
		}
		fzLocal(t, got)
		// What the callback does with it.
		rec := httptest.NewRecorder()
		http.Redirect(rec, httptest.NewRequest(http.MethodGet, "/auth/sso/callback", nil), got, http.StatusFound)
		fzLocal(t, rec.Header().Get("Location"))
		// And what the login handler makes of it as a parameter.
		q := url.Values{"return_to": {p}}.Encode()
		if u, err := url.ParseQuery(q); err != nil || returnTo(u.Get("return_to")) != got {
			t.Fatalf("return_to %q does not survive its query encoding", p)
		}
	})
}

// FuzzAttemptCookie opens arbitrary attempt cookies, which must never
// open, and round-trips sealed attempts, which must, exactly, and only
// under their own name.
func FuzzAttemptCookie(f *testing.F) {
	type seed struct {
		name, value, stateSeed, nonce, returnTo string
		age                                     int64
		flip                                    uint
	}
	for _, s := range []seed{
		{"ssokit-a-AAAAAAAAAAAAAAAA", "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "state-1", "nonce", "/private", 0, 0},
		{"ssokit-a-x", "", "s", "", "//evil", 601, 3},
		{"ssokit-session", "not-base64!", "s", "n", "/\xff", -61, 7},
		{"__Host-ssokit-a-abc", "AQ", "another state", "n\x00", "/ok?x=1", 599, 40},
		{"", "AQAAAA==", "", "", "", 1 << 40, 1},
	} {
		f.Add(s.name, s.value, s.stateSeed, s.nonce, s.returnTo, s.age, s.flip)
	}
	e := newFzEnv(f)
	ac := e.c.attempts
	f.Fuzz(func(t *testing.T, name, value, stateSeed, nonce, rt string, age int64, flip uint) {
		// 1. What a browser (or an attacker) sends.
		if a, err := ac.open(name, value); err == nil {
			t.Fatalf("an attempt cookie we never sealed opened: %+v", a)
		}
		req := httptest.NewRequest(http.MethodGet, "/auth/sso/callback", nil)
		req.Header.Set("Cookie", name+"="+value)
		if a, err := ac.take(httptest.NewRecorder(), req, stateSeed, fzNow); err == nil {
			t.Fatalf("take accepted a cookie we never sealed: %+v", a)
		} else if fzCheckError(t, err).Code != CodeStateInvalid {
			t.Fatalf("a forged attempt cookie is %s, want state_invalid", err.Code)
		}

		// 2. A sealed attempt round-trips.
		if stateSeed == "" {
			return
		}
		state := base64.RawURLEncoding.EncodeToString([]byte(stateSeed))
		created := fzNow.Unix() - age
		a := &attempt{State: state, Nonce: nonce, Verifier: "v", ReturnTo: returnTo(rt), Created: created}
		rec := httptest.NewRecorder()
		ac.set(rec, httptest.NewRequest(http.MethodGet, "/auth/sso/login", nil), a)
		cookies := rec.Result().Cookies()
		if len(cookies) != 1 || cookies[0].Name != ac.name(state) {
			t.Fatalf("set wrote %v", cookies)
		}
		ck := cookies[0]
		if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge != int(AttemptLifetime/time.Second) {
			t.Fatalf("attempt cookie attributes: %+v", ck)
		}
		// (Long enough values only: a short one turns up in any base64.)
		if (len(state) >= 16 && strings.Contains(ck.Value, state)) || (len(nonce) >= 16 && strings.Contains(ck.Value, nonce)) {
			t.Fatalf("attempt cookie shows its content")
		}
		got, err := ac.open(ck.Name, ck.Value)
		if err != nil {
			t.Fatalf("a sealed attempt does not open: %v", err)
		}
		want := *a
		if !utf8.ValidString(want.Nonce) {
			// JSON keeps text: each byte that is not UTF-8 comes back
			// as U+FFFD.
			b, _ := json.Marshal(want.Nonce)
			_ = json.Unmarshal(b, &want.Nonce)
		}
		if !utf8.ValidString(want.ReturnTo) {
			// JSON keeps text: a byte that is not UTF-8 comes back as
			// U+FFFD, which must leave the path local.
			fzLocal(t, got.ReturnTo)
			want.ReturnTo = got.ReturnTo
		}
		if *got != want {
			t.Fatalf("round trip: sealed %+v, opened %+v", want, *got)
		}
		if _, err := ac.open(ck.Name+"x", ck.Value); err == nil {
			t.Fatalf("an attempt opened under another cookie name")
		}
		// One changed character: refused unless base64 reads it as the
		// same bytes (its last character's unused bits).
		if len(ck.Value) > 0 {
			i := int(flip % uint(len(ck.Value)))
			b := []byte(ck.Value)
			b[i] = "AB"[(b[i]&1)^1]
			if b[i] == ck.Value[i] {
				b[i] = 'C'
			}
			orig, _ := base64.RawURLEncoding.DecodeString(ck.Value)
			tampered, derr := base64.RawURLEncoding.DecodeString(string(b))
			if _, err := ac.open(ck.Name, string(b)); err == nil && (derr != nil || !bytes.Equal(orig, tampered)) {
				t.Fatalf("a tampered attempt cookie opened")
			}
		}

		// 3. take: the genuine cookie, its state, within its life.
		req = httptest.NewRequest(http.MethodGet, "/auth/sso/callback", nil)
		req.AddCookie(ck)
		rec = httptest.NewRecorder()
		taken, terr := ac.take(rec, req, state, fzNow)
		fresh := age <= int64(AttemptLifetime/time.Second) && age >= -60
		switch {
		case fresh && terr != nil:
			t.Fatalf("a fresh attempt (age %ds) is refused: %v", age, terr)
		case !fresh && terr == nil:
			t.Fatalf("an attempt of age %ds is taken", age)
		case !fresh && fzCheckError(t, terr).Code != CodeAttemptExpired:
			t.Fatalf("an attempt of age %ds: %v, want attempt_expired", age, terr)
		case fresh && taken.State != state:
			t.Fatalf("took the attempt of another state")
		}
		cleared := false
		for _, c := range rec.Result().Cookies() {
			cleared = cleared || (c.Name == ck.Name && c.MaxAge < 0)
		}
		if !cleared {
			t.Fatalf("take did not clear the attempt cookie")
		}
		// Another state that shares its first 16 characters finds the
		// cookie and must still be refused.
		other := state + "x"
		if _, err := ac.take(httptest.NewRecorder(), req, other, fzNow); err == nil || err.Code != CodeStateInvalid {
			t.Fatalf("state %q took the attempt of %q: %v", other, state, err)
		}

		// 4. set bounds the pending attempts a browser holds, whatever
		// cookies it sends.
		req = httptest.NewRequest(http.MethodGet, "/auth/sso/login", nil)
		req.Header.Set("Cookie", name+"="+value+"; "+ck.Name+"="+ck.Value+"; ssokit-a-1=x; ssokit-a-2=y; ssokit-a-3=z")
		rec = httptest.NewRecorder()
		a2 := newAttempt("/", "", fzNow)
		ac.set(rec, req, a2)
		held := map[string]bool{}
		for _, c := range req.Cookies() {
			if strings.HasPrefix(c.Name, ac.prefix) {
				held[c.Name] = true
			}
		}
		for _, c := range rec.Result().Cookies() {
			held[c.Name] = c.MaxAge > 0
		}
		n := 0
		for _, h := range held {
			if h {
				n++
			}
		}
		if n > maxPendingAttempts || !held[ac.name(a2.State)] {
			t.Fatalf("after set the browser holds %d attempts (%v)", n, held)
		}
	})
}

// FuzzSessionCookie sends arbitrary session cookies: only the genuine
// session's exact id signs anyone in, RequireLogin lets nothing else
// through, and logout with a foreign cookie ends no one else's session.
func FuzzSessionCookie(f *testing.F) {
	for _, s := range [][3]string{
		{"ssokit-session={session}", "text/html", "/private/x"},
		{"ssokit-session=\"{session}\"", "text/html", "/"},
		{"ssokit-session={session}x", "text/html", "/"},
		{"ssokit-session=; ssokit-session={session}", "application/json", "/api"},
		{"SSOKIT-SESSION={session}", "", "/"},
		{"__Host-ssokit-session={session}", "text/html", "/"},
		{"ssokit-session=" + strings.Repeat("A", 129), "text/html", "/"},
		{"ssokit-session", "*/*", "//evil.example"},
		{"ssokit-session=%00; x=\x00", "text/html", "/\\evil"},
		{"", "text/html", ""},
		{"ssokit-session={session} ; other=1", "text/html, application/json", "/a?b=c"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	e := newFzEnv(f)
	genuine := &Session{
		ID: randtoken.New(32), Identity: &Identity{Subject: "alice", Issuer: e.c.prov.issuer},
		CreatedAt: fzNow, ExpiresAt: fzNow.Add(time.Hour),
	}
	if err := e.store.Save(context.Background(), genuine); err != nil {
		f.Fatal(err)
	}
	name := e.c.session.name
	protected := e.c.RequireLogin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.c.Identity(r) == nil {
			w.WriteHeader(http.StatusTeapot)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	h := e.c.Handler()
	f.Fuzz(func(t *testing.T, cookieHeader, accept, path string) {
		ch := strings.ReplaceAll(cookieHeader, "{session}", genuine.ID)
		hasGenuine := strings.Contains(ch, genuine.ID)
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.URL = &url.URL{Path: path}
		req.Header.Set("Cookie", ch)
		req.Header.Set("Accept", accept)

		s := e.c.Session(req)
		if s != nil {
			ck, err := req.Cookie(name)
			if s != genuine || !hasGenuine || err != nil || ck.Value != genuine.ID {
				t.Fatalf("cookie header %q signed in session %+v", ch, s)
			}
		}
		rec := httptest.NewRecorder()
		protected.ServeHTTP(rec, req)
		switch {
		case s != nil && rec.Code != http.StatusOK:
			t.Fatalf("a signed-in request got %d", rec.Code)
		case s == nil && rec.Code == http.StatusFound:
			loc, err := url.Parse(rec.Header().Get("Location"))
			if err != nil || loc.Path != e.c.cfg.mount+"/login" || loc.Host != "" {
				t.Fatalf("RequireLogin sent the browser to %q", rec.Header().Get("Location"))
			}
			fzLocal(t, returnTo(loc.Query().Get("return_to")))
		case s == nil && rec.Code == http.StatusUnauthorized:
			var body map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] != string(CodeLoginRequired) {
				t.Fatalf("401 body %q", rec.Body.String())
			}
		case s == nil:
			t.Fatalf("a request without a session got %d", rec.Code)
		}

		// Logout: refused from no origin; from our own, it ends only the
		// session the cookie names.
		for _, origin := range []string{"", "http://127.0.0.1"} {
			req := httptest.NewRequest(http.MethodPost, "/auth/sso/logout", nil)
			req.Header.Set("Cookie", ch)
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			want := http.StatusSeeOther
			if origin == "" {
				want = http.StatusForbidden
			}
			if rec.Code != want {
				t.Fatalf("logout from origin %q: %d, want %d", origin, rec.Code, want)
			}
			_, err := e.store.Load(context.Background(), genuine.ID)
			if err != nil && (origin == "" || !hasGenuine) {
				t.Fatalf("logout from origin %q with cookie %q ended the genuine session", origin, ch)
			}
			if err != nil {
				_ = e.store.MemorySessionStore.Save(context.Background(), genuine)
			}
		}
	})
}

// FuzzCallbackQuery drives the whole callback handler with an arbitrary
// query and Cookie header against ssotest. Placeholders become a genuine
// sign-in's values: {state} and {attempt} (the attempt cookie, name=value)
// from a login, {code} from ssotest's authorization endpoint, {iss} the
// issuer. A 302 happens only for a genuine callback, and a genuine
// callback gets it; anything else gets the documented status of its code,
// never 5xx (the provider is healthy), and no session.
func FuzzCallbackQuery(f *testing.F) {
	for _, s := range [][2]string{
		{"state={state}&code={code}&iss={iss}", "{attempt}"},
		{"code={code}&state={state}&iss={iss}&session_state=xyz", "other=1; {attempt}; ssokit-session=old"},
		{"state={state}&code={code}", "{attempt}"},
		{"state={state}&code={code}&iss={iss}", ""},
		{"state={state}&code={code}&iss={iss}", "{attempt}x"},
		{"state={state}&code={code}&iss={iss}&iss={iss}", "{attempt}"},
		{"state={state}&code={code}&code={code}&iss={iss}", "{attempt}"},
		{"state={state}&state=other&code={code}&iss={iss}", "{attempt}"},
		{"state=other&state={state}&code={code}&iss={iss}", "{attempt}"},
		{"state={state}x&code={code}&iss={iss}", "{attempt}"},
		{"state={state}&code={code}x&iss={iss}", "{attempt}"},
		{"state={state}&code={code}&iss=https://evil.example", "{attempt}"},
		{"state={state}&code={code}&iss={iss}/", "{attempt}"},
		{"state={state}&error=access_denied&error_description=no&iss={iss}", "{attempt}"},
		{"state={state}&error=server_error&iss={iss}&code={code}", "{attempt}"},
		{"state={state}&error=&iss={iss}&code={code}", "{attempt}"},
		{"state={state}&iss={iss}", "{attempt}"},
		{"state={state}&code=&iss={iss}", "{attempt}"},
		{"state={state};code={code}&iss={iss}", "{attempt}"},
		{"state={state}&code={code}&iss={iss}%00", "{attempt}"},
		{"state=%zz&code=x", "ssokit-a-%zz=1"},
		{"", ""},
		{"state=&code=", "ssokit-a-=x"},
		{"error=access_denied", ""},
		{"state=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&code=x&iss=x", "ssokit-a-AAAAAAAAAAAAAAAA=AQAAAAAA"},
		{strings.Repeat("state=a&", 200), strings.Repeat("ssokit-a-a=b; ", 100)},
	} {
		f.Add(s[0], s[1])
	}
	e := newFzEnv(f)
	h := e.c.Handler()
	iss := e.idp.Issuer()
	noRedirect := *e.idp.HTTPClient()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	f.Fuzz(func(t *testing.T, rawQuery, cookieHeader string) {
		var a *attempt
		var attemptCookie *http.Cookie
		var code string
		if strings.Contains(rawQuery, "{") || strings.Contains(cookieHeader, "{") {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/sso/login", nil))
			cookies := rec.Result().Cookies()
			if rec.Code != http.StatusFound || len(cookies) != 1 {
				t.Fatalf("login: %d %v", rec.Code, cookies)
			}
			attemptCookie = cookies[0]
			var err error
			if a, err = e.c.attempts.open(attemptCookie.Name, attemptCookie.Value); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(rawQuery, "{code}") {
				resp, err := noRedirect.Get(rec.Header().Get("Location"))
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				cb, err := url.Parse(resp.Header.Get("Location"))
				if err != nil || cb.Query().Get("code") == "" || cb.Query().Get("iss") != iss {
					t.Fatalf("authorize answered %d %q", resp.StatusCode, resp.Header.Get("Location"))
				}
				code = cb.Query().Get("code")
			}
		}
		var state, ac string
		if a != nil {
			state, ac = a.State, attemptCookie.Name+"="+attemptCookie.Value
		}
		q := strings.NewReplacer("{state}", url.QueryEscape(state), "{code}", url.QueryEscape(code), "{iss}", url.QueryEscape(iss)).Replace(rawQuery)
		req := httptest.NewRequest(http.MethodGet, "/auth/sso/callback", nil)
		req.URL.RawQuery = q
		req.Header.Set("Cookie", strings.ReplaceAll(cookieHeader, "{attempt}", ac))
		pq := req.URL.Query()
		ck, ckErr := req.Cookie(e.c.attempts.name(pq.Get("state")))
		genuine := a != nil && code != "" && pq.Get("state") == a.State && ckErr == nil && ck.Value == attemptCookie.Value &&
			slices.Equal(pq["code"], []string{code}) && pq.Get("error") == "" && slices.Equal(pq["iss"], []string{iss})

		e.lastErr = nil
		before := e.store.saves.Load()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		saved := e.store.saves.Load() - before
		var sessionSet bool
		for _, c := range rec.Result().Cookies() {
			sessionSet = sessionSet || (c.Name == e.c.session.name && c.Value != "")
		}
		if rec.Code == http.StatusFound {
			if !genuine {
				t.Fatalf("query %q with cookies %q signed in", q, req.Header.Get("Cookie"))
			}
			if saved != 1 || !sessionSet || e.lastErr != nil {
				t.Fatalf("a sign-in saved %d sessions (cookie set: %v, error %v)", saved, sessionSet, e.lastErr)
			}
			fzLocal(t, rec.Header().Get("Location"))
			return
		}
		if genuine {
			t.Fatalf("a genuine callback %q got %d: %v", q, rec.Code, e.lastErr)
		}
		if e.lastErr == nil {
			t.Fatalf("%d without an error", rec.Code)
		}
		var secrets []string
		if a != nil && !strings.Contains(q, a.Nonce) {
			secrets = append(secrets, a.Nonce, a.Verifier)
		}
		se := fzCheckError(t, e.lastErr, append(secrets, ssotest.DefaultClientSecret)...)
		if rec.Code != se.Status {
			t.Fatalf("response %d for %s (status %d)", rec.Code, se.Code, se.Status)
		}
		if se.Status >= 500 {
			t.Fatalf("a healthy provider's callback %q is %d: %v", q, se.Status, se)
		}
		if saved != 0 || sessionSet {
			t.Fatalf("a refused callback (%s) started a session", se.Code)
		}
	})
}

// fzServe starts a test server that answers every request with status,
// content type and body.
func fzServe(f *testing.F) (*httptest.Server, *atomic.Pointer[fzAnswer]) {
	var ans atomic.Pointer[fzAnswer]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := ans.Load()
		// No Content-Type is sent as none: nil stops net/http sniffing
		// one, which the reference checks would not see.
		w.Header()["Content-Type"] = nil
		if a.contentType != "" {
			w.Header()["Content-Type"] = []string{a.contentType}
		}
		w.WriteHeader(a.status)
		_, _ = w.Write(a.body)
	}))
	f.Cleanup(srv.Close)
	return srv, &ans
}

type fzAnswer struct {
	status      int
	contentType string
	body        []byte
}

// fzStatus maps any int to a final status a server can send (200-599),
// keeping those already in range.
func fzStatus(s int) int {
	if s >= 200 && s <= 599 {
		return s
	}
	return 200 + int(uint(s)%400)
}

// fzHeaderValue keeps what a server can put in a header value.
func fzHeaderValue(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// FuzzTokenResponse serves arbitrary token endpoint answers to the code
// exchange: a refusal is a typed error with the documented status (5xx
// only as 502/504, and always when the endpoint failed with 5xx), with no
// secret in it; an acceptance is a 2xx JSON or form answer with an access
// token of type Bearer; the ID token in it is then verified, never
// trusted.
func FuzzTokenResponse(f *testing.F) {
	for _, s := range []struct {
		status int
		ctype  string
		body   string
	}{
		{200, "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":3600,"id_token":"x.y.z"}`},
		{200, "application/json;charset=UTF-8", `{"access_token":"at","token_type":"bearer","id_token":"eyJhbGciOiJFUzI1NiJ9.e30.AAAA"}`},
		{200, "application/json", `{"access_token":"at","token_type":"mac"}`},
		{200, "application/json", `{"access_token":"at"}`},
		{200, "application/json", `{"access_token":"","token_type":"Bearer"}`},
		{200, "application/json", `{"ACCESS_TOKEN":"at","TOKEN_TYPE":"Bearer"}`},
		{200, "application/json", `{"access_token":7,"token_type":"Bearer"}`},
		{200, "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":"3600"}`},
		{200, "application/json", `{"access_token":"at","token_type":"Bearer","expires_in":1e400}`},
		{200, "application/x-www-form-urlencoded", `access_token=at&token_type=bearer&id_token=a.b.c`},
		{200, "text/plain", `access_token=at&token_type=bearer`},
		{200, "text/html", `<html>sign in</html>`},
		{200, "", ``},
		{200, "application/json", `[]`},
		{200, "application/json", `null`},
		{200, "application/json", `{"error":"invalid_grant"}`},
		{201, "application/json", `{"access_token":"at","token_type":"Bearer"}`},
		{400, "application/json", `{"error":"invalid_grant","error_description":"code used"}`},
		{400, "application/json", `{"error":"invalid_client"}`},
		{401, "application/json", `{"error":"unauthorized_client"}`},
		{401, "", ``},
		{400, "application/json", `{"error":"invalid_request"}`},
		{400, "text/html", `bad`},
		{400, "application/json", `{"error":"` + strings.Repeat("e", 300) + `"}`},
		{500, "application/json", `{"error":"server_error"}`},
		{503, "text/html", `maintenance`},
		{302, "", ``},
		{200, "application/json", `{"access_token":"at","token_type":"Bearer"}` + strings.Repeat(" ", 10)},
	} {
		f.Add(s.status, s.ctype, []byte(s.body))
	}
	e := newFzEnv(f)
	e.useStaticProvider()
	srv, ans := fzServe(f)
	e.c.prov.endpoints.Token = srv.URL + "/token"
	const code, verifier = "fz-code-0123456789", "fz-verifier-0123456789abcdefghijklmnopqrstuvw"
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte) {
		st := fzStatus(status)
		ans.Store(&fzAnswer{st, fzHeaderValue(contentType), body})
		tok, err := e.c.exchange(context.Background(), e.c.prov, code, verifier)
		if err != nil {
			se := fzCheckError(t, err, ssotest.DefaultClientSecret, code, verifier)
			if st >= 500 && se.Status < 500 {
				t.Fatalf("the token endpoint failed with %d and the sign-in is %d %s", st, se.Status, se.Code)
			}
			if se.Status >= 500 && se.Status != http.StatusBadGateway && se.Status != http.StatusGatewayTimeout {
				t.Fatalf("a token endpoint failure is %d", se.Status)
			}
			return
		}
		// Accepted: the reference's necessary conditions.
		if st < 200 || st > 299 {
			t.Fatalf("accepted a %d token response", st)
		}
		mt, _, _ := mime.ParseMediaType(fzHeaderValue(contentType))
		access, tokenType := "", ""
		if mt == "application/x-www-form-urlencoded" || mt == "text/plain" {
			v, err := url.ParseQuery(string(body))
			if err != nil {
				t.Fatalf("accepted a form answer that does not parse: %q", body)
			}
			access, tokenType = v.Get("access_token"), v.Get("token_type")
		} else {
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil || m == nil {
				t.Fatalf("accepted a token answer that is not a JSON object: %q", body)
			}
			for k, v := range m {
				// encoding/json, under x/oauth2, matches names without
				// regard to case.
				if s, ok := v.(string); ok && strings.EqualFold(k, "access_token") && s != "" {
					access = s
				}
				if s, ok := v.(string); ok && strings.EqualFold(k, "token_type") {
					tokenType = s
				}
			}
		}
		if access == "" || tok.AccessToken != access {
			t.Fatalf("accepted access token %q; the answer's is %q: %q", tok.AccessToken, access, body)
		}
		if tokenType != "" && !strings.EqualFold(tokenType, "bearer") {
			t.Fatalf("accepted token_type %q", tokenType)
		}
		// The ID token inside is verified like any other: nothing the
		// test's key did not sign passes.
		raw := tok.IDToken
		if _, err := e.c.verifyIDToken(context.Background(), e.c.prov, raw, "n"); err == nil {
			t.Fatalf("an ID token from an arbitrary token answer verified: %q", raw)
		} else if se := fzCheckError(t, err); se.Status != http.StatusBadRequest {
			t.Fatalf("an unverifiable ID token is %d %s", se.Status, se.Code)
		}
	})
}

// fzRefUserinfo is the reference check of a userinfo answer (OIDC Core
// §5.3.2, §5.3.4): a strict JSON object whose sub is a string equal to
// the ID token's, and whose iss and aud, when present, are the provider's
// and include the client.
func fzRefUserinfo(body []byte, sub string) string {
	m, ok := fzMembers(body)
	if !ok {
		return "not a strict JSON object"
	}
	if s, present, ok := fzString(m, "sub"); !ok || !present || s != sub {
		return "sub"
	}
	if iss, present, ok := fzString(m, "iss"); !ok || (present && iss != fzIssuer) {
		return "iss"
	}
	if _, present := m["aud"]; present {
		if aud, ok := fzAudience(m); !ok || !slices.Contains(aud, ssotest.DefaultClientID) {
			return "aud"
		}
	}
	return ""
}

// FuzzUserinfo serves arbitrary userinfo answers, plain or signed with the
// provider's key: a refusal is a typed error with the documented status;
// an acceptance is what the reference accepts, about the same subject.
func FuzzUserinfo(f *testing.F) {
	for _, s := range []struct {
		status int
		ctype  string
		body   string
		sign   bool
		sub    string
	}{
		{200, "application/json", `{"sub":"alice","email":"alice@example.com","email_verified":true}`, false, "alice"},
		{200, "application/json", `{"sub":"bob"}`, false, "alice"},
		{200, "application/json", `{"sub":"alice","sub":"bob"}`, false, "bob"},
		{200, "application/json", `{"SUB":"alice"}`, false, "alice"},
		{200, "application/json", `{"sub":7}`, false, "7"},
		{200, "application/json", `{}`, false, "alice"},
		{200, "application/json", `{"sub":"alice","iss":"https://evil.example"}`, false, "alice"},
		{200, "application/json", `{"sub":"alice","iss":7}`, false, "alice"},
		{200, "application/json", `{"sub":"alice","iss":null}`, false, "alice"},
		{200, "application/json", `{"sub":"alice","aud":"other"}`, false, "alice"},
		{200, "application/json", `{"sub":"alice","aud":["ssotest-client",7]}`, false, "alice"},
		{200, "application/json", `{"sub":"alice","aud":null}`, false, "alice"},
		{200, "application/json", `{"sub":"al` + "\xff" + `ice"}`, false, "al\ufffdice"},
		{200, "application/json", `{"sub":"\ud800"}`, false, "\ufffd"},
		{200, "application/json", `null`, false, "alice"},
		{200, "application/json", `[{"sub":"alice"}]`, false, "alice"},
		{200, "application/jwt", `{"sub":"alice","iss":"https://idp.example","aud":"ssotest-client"}`, true, "alice"},
		{200, "application/jwt", `{"sub":"alice","iss":"https://evil.example","aud":"ssotest-client"}`, true, "alice"},
		{200, "application/jwt", `not json`, true, "alice"},
		{200, "application/jwt", `{"sub":"alice"}`, false, "alice"},
		{200, "application/jwt; charset=utf-8", `eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.`, false, "alice"},
		{200, "text/html", `{"sub":"alice"}`, false, "alice"},
		{401, "application/json", `{"error":"invalid_token"}`, false, "alice"},
		{403, "", ``, false, "alice"},
		{500, "application/json", `{"sub":"alice"}`, false, "alice"},
		{302, "", ``, false, "alice"},
		{200, "application/json", `{"sub":"alice"} {"sub":"bob"}`, false, "alice"},
	} {
		f.Add(s.status, s.ctype, []byte(s.body), s.sign, s.sub)
	}
	e := newFzEnv(f)
	e.useStaticProvider()
	srv, ans := fzServe(f)
	e.c.prov.endpoints.Userinfo = srv.URL + "/userinfo"
	const accessToken = "fz-access-token-0123456789"
	f.Fuzz(func(t *testing.T, status int, contentType string, body []byte, sign bool, sub string) {
		if sub == "" {
			return // userinfo is only asked about a verified, non-empty sub
		}
		st := fzStatus(status)
		payload := body
		ctype := fzHeaderValue(contentType)
		if sign {
			body, ctype = []byte(e.sign(t, payload)), "application/jwt"
		}
		ans.Store(&fzAnswer{st, ctype, body})
		cl, err := e.c.userinfo(context.Background(), e.c.prov, accessToken, sub)
		if err != nil {
			se := fzCheckError(t, err, accessToken)
			if st >= 500 && se.Status < 500 {
				t.Fatalf("userinfo failed with %d and the sign-in is %d %s", st, se.Status, se.Code)
			}
			if st >= 400 && st < 500 && se.Code != CodeUserinfoInvalid {
				t.Fatalf("userinfo refused with %d and the sign-in is %s", st, se.Code)
			}
			return
		}
		if st != http.StatusOK {
			t.Fatalf("accepted a %d userinfo answer", st)
		}
		if mt, _, _ := mime.ParseMediaType(ctype); mt == "application/jwt" && !sign {
			t.Fatalf("accepted a signed userinfo answer the test never signed: %q", body)
		} else if mt != "application/jwt" {
			payload = body
		}
		if why := fzRefUserinfo(payload, sub); why != "" {
			t.Fatalf("accepted userinfo the reference refuses (%s): %q for sub %q", why, payload, sub)
		}
		if cl["sub"] != sub {
			t.Fatalf("accepted userinfo about %v for sub %q", cl["sub"], sub)
		}
	})
}

// FuzzLogoutToken signs arbitrary claims with the provider's key and posts
// them to back-channel logout's validation: a refusal is 400
// logout_token_invalid (never a panic or a 5xx); an acceptance has, by
// encoding/json's exact-name reading, the provider's iss, this client in
// aud, a jti, a sub or sid, iat not in the future, the back-channel event
// as an object, and no nonce.
func FuzzLogoutToken(f *testing.F) {
	const ev = `"events":{"http://schemas.openid.net/event/backchannel-logout":{}}`
	base := `"iss":"https://idp.example","aud":"ssotest-client","iat":1700000000,"jti":"j1"`
	for _, s := range []string{
		`{` + base + `,"sub":"alice",` + ev + `}`,
		`{` + base + `,"sid":"s1",` + ev + `}`,
		`{` + base + `,"sub":"alice","sid":"s1","exp":1700000120,` + ev + `}`,
		`{` + base + `,"sub":"alice",` + ev + `,"nonce":"n"}`,
		`{` + base + `,"sub":"alice",` + ev + `,"nonce":null}`,
		`{` + base + `,"sub":"alice","events":{"http://schemas.openid.net/event/backchannel-logout":"x"}}`,
		`{` + base + `,"sub":"alice","events":[]}`,
		`{` + base + `,"SUB":"alice",` + ev + `}`,
		`{` + base + `,"sub":"alice","EVENTS":{"http://schemas.openid.net/event/backchannel-logout":{}}}`,
		`{` + base + `,"sub":"alice","sid":7,` + ev + `}`,
		`{` + base + `,"sub":"alice","jti":"j2",` + ev + `}`,
		`{"iss":"https://idp.example","aud":"ssotest-client","iat":1700000000,"sub":"alice",` + ev + `}`,
		`{"iss":"https://idp.example","aud":"ssotest-client","iat":1800000000,"jti":"j","sub":"alice",` + ev + `}`,
		`{"iss":"https://idp.example","aud":"ssotest-client","iat":1600000000,"jti":"j","sub":"alice",` + ev + `}`,
		`{}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	e := newFzEnv(f)
	e.useStaticProvider()
	skew := e.c.cfg.ClockSkew
	f.Fuzz(func(t *testing.T, payload []byte) {
		tok := e.sign(t, payload)
		_, err := e.c.verifyLogoutToken(context.Background(), e.c.prov, tok)
		if err != nil {
			se := fzCheckError(t, err)
			if se.Status != http.StatusBadRequest || se.Code != CodeLogoutTokenInvalid {
				t.Fatalf("a bad logout token is %d %s: %v", se.Status, se.Code, err)
			}
			return
		}
		var m map[string]any
		if json.Unmarshal(payload, &m) != nil || m == nil {
			t.Fatalf("accepted a payload that is not a JSON object: %q", payload)
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		aud := false
		switch a := m["aud"].(type) {
		case string:
			aud = a == ssotest.DefaultClientID
		case []any:
			aud = slices.Contains(a, any(ssotest.DefaultClientID))
		}
		events, _ := m["events"].(map[string]any)
		_, evOK := events["http://schemas.openid.net/event/backchannel-logout"].(map[string]any)
		iat, iatOK := m["iat"].(float64)
		_, hasNonce := m["nonce"]
		switch {
		case str("iss") != fzIssuer, !aud, str("jti") == "", str("sub") == "" && str("sid") == "",
			!evOK, hasNonce, !iatOK, time.Unix(int64(iat), 0).After(fzNow.Add(skew)):
			t.Fatalf("accepted a logout token the reference refuses: %s", payload)
		}
	})
}
