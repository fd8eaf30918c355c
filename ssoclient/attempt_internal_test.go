package ssoclient

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/internal/seal"
)

// Attempts are written without encoding/json; they must read back as
// json.Marshal wrote them, so cookies sealed before and after a deploy
// open alike.
func TestAttemptAppendJSON(t *testing.T) {
	odd := "a\"b\\c\x00\x01\x1f\x7f<>&\b\f\n\r\t\u2028\u2029\xff\xc3é😀\xed\xa0\x80end"
	for _, a := range []attempt{
		{},
		*newAttempt("/app/page?x=1&y=<2>", "", time.Unix(1700000000, 0)),
		{State: "s", Nonce: odd, Verifier: "v", ReturnTo: odd, Profile: odd, Created: -5, LinkUser: odd, App: odd, AppReturn: odd},
		{State: odd, Created: 1 << 62, App: "app", AppReturn: "https://app.example/cb"},
	} {
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.appendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("appendJSON:\n got %s\nwant %s", got, want)
		}
	}
}

func FuzzAttemptAppendJSON(f *testing.F) {
	f.Add("state", "nonce", "/return?to=1", "profile", "user", "app", "https://app.example/", int64(1700000000))
	f.Add("", "\x00\xff", "\u2028<&>", "", "", "", "", int64(-1))
	f.Fuzz(func(t *testing.T, s, n, r, p, l, app, ar string, created int64) {
		a := attempt{State: s, Nonce: n, Verifier: s + n, ReturnTo: r, Profile: p, Created: created, LinkUser: l, App: app, AppReturn: ar}
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		got := a.appendJSON([]byte("prefix"))
		if !bytes.Equal(got[len("prefix"):], want) {
			t.Fatalf("appendJSON:\n got %q\nwant %q", got[len("prefix"):], want)
		}
	})
}

// set writes the Set-Cookie header http.SetCookie would write for the
// attempt cookie, and the cookie opens to the attempt.
func TestAttemptCookieHeader(t *testing.T) {
	ring, err := seal.NewRing("attempt", seal.RandomSecret())
	if err != nil {
		t.Fatal(err)
	}
	for _, secure := range []bool{false, true} {
		ac := newAttemptCookies(ring, secure)
		for _, a := range []*attempt{
			newAttempt("/", "", time.Now()),
			newAttempt("/x?"+strings.Repeat("y", 3000), "acme", time.Now()), // beyond the pooled buffer
			{State: "short", Nonce: "n", Verifier: "v", ReturnTo: "/", Created: 1},
		} {
			w := httptest.NewRecorder()
			w.Header()["Set-Cookie"] = []string{"other=1"}
			ac.set(w, httptest.NewRequest(http.MethodGet, "/auth/sso/login", nil), a)
			hs := w.Header()["Set-Cookie"]
			if len(hs) != 2 || hs[0] != "other=1" {
				t.Fatalf("Set-Cookie headers: %q", hs)
			}
			name, value, _ := strings.Cut(hs[1], ";")
			name, value, _ = strings.Cut(name, "=")
			if name != ac.name(a.State) {
				t.Errorf("cookie name %q, want %q", name, ac.name(a.State))
			}
			if want := ac.cookie(name, value, int(AttemptLifetime/time.Second)).String(); hs[1] != want {
				t.Errorf("secure %v: Set-Cookie\n %q\nwant %q", secure, hs[1], want)
			}
			got, err := ac.open(name, value)
			if err != nil || *got != *a {
				t.Errorf("the cookie opens to %+v, %v; want %+v", got, err, a)
			}
		}
	}
}

// The S256 challenge of RFC 7636's Appendix B, and of a verifier longer
// than the stack copy.
func TestAttemptChallenge(t *testing.T) {
	a := attempt{Verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"}
	if c := a.challenge(); string(c[:]) != "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" {
		t.Errorf("challenge = %s", c)
	}
	for _, n := range []int{0, 43, 128, 129, 300} {
		a := attempt{Verifier: strings.Repeat("v", n)}
		sum := sha256.Sum256([]byte(a.Verifier))
		if c := a.challenge(); string(c[:]) != base64.RawURLEncoding.EncodeToString(sum[:]) {
			t.Errorf("challenge of %d characters = %s", n, c)
		}
	}
}

// isLocalPathParsed is isLocalPath without its shortcut for paths with no
// percent sign: every path goes through url.Parse and the decoding check.
func isLocalPathParsed(p string) bool {
	if len(p) == 0 || len(p) > 2048 || p[0] != '/' {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return false
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return false
	}
	if dec, err := url.PathUnescape(u.EscapedPath()); err != nil || strings.HasPrefix(dec, "//") || strings.HasPrefix(dec, "/\\") {
		return false
	}
	return true
}

// The shortcut for paths without a percent sign decides as the full
// check does.
func FuzzIsLocalPathShortcut(f *testing.F) {
	for _, s := range []string{
		"/", "/app/page?return=1", "/a:b", "/:x", "/?//evil", "/#//evil", "/?", "/x?", "/x??", "/@evil",
		"/a b", "/é", "/\xff", "/;x", "/[::1]", "/x#a#b", "//evil", "/%2F%2Fevil", "/%zz", "/a%", "/%2f",
		"/" + strings.Repeat("a", 2047), "/" + strings.Repeat("a", 2048), "", "x", "http://evil/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := isLocalPath(p), isLocalPathParsed(p); got != want {
			t.Fatalf("isLocalPath(%q) = %v, the full check says %v", p, got, want)
		}
	})
}

// parseAttempt reads what appendJSON writes, through its shortcut when
// no string has an escape.
func TestParseAttempt(t *testing.T) {
	odd := "a\"b\\c\x00<>&\u2028é😀"
	for _, a := range []attempt{
		{},
		*newAttempt("/app/page", "", time.Unix(1700000000, 0)),
		*newAttempt("/app/page?x=1&y=2", "acme", time.Unix(-1, 0)),
		{State: "s", Nonce: "n", Verifier: "v", ReturnTo: "/", Profile: "p", Created: 0, LinkUser: "u", App: "app", AppReturn: "https://app.example/cb"},
		{State: odd, Nonce: odd, ReturnTo: odd, Created: 1 << 62, App: odd, AppReturn: odd},
	} {
		b := a.appendJSON(nil)
		got, err := parseAttempt(b)
		if err != nil || *got != a {
			t.Errorf("parseAttempt(%s) = %+v, %v", b, got, err)
		}
		_, plain := parseAttemptPlain(b)
		if wantPlain := !strings.ContainsRune(string(b), '\\'); plain != wantPlain {
			t.Errorf("parseAttemptPlain(%s): shortcut taken %v, want %v", b, plain, wantPlain)
		}
	}
	for _, b := range []string{"", "{", "[]", `{"s":1}`, `{"t":"5"}`, `{"t":1.5}`, `{"s":"x",}`, `{"s":"x"`} {
		if a, err := parseAttempt([]byte(b)); err == nil {
			t.Errorf("parseAttempt(%s) = %+v, want an error", b, a)
		}
	}
}

// Whatever the shortcut accepts, json.Unmarshal reads the same way.
func FuzzParseAttemptPlain(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"s":"a","n":"b","v":"c","r":"/x","t":1700000000}`, `{"s":"a","s":"b"}`, `{"S":"a"}`,
		`{"t":-0}`, `{"t":01}`, `{"t":-1}`, `{"t":9223372036854775808}`, `{"s":"}"}`, `{"s":"\u0041"}`,
		`{"s":null}`, `{"p":"x","l":"y","a":"z","ar":"w","t":0}`, "{\"s\":\"\xff\"}", `{ "s":"a"}`, `{"x":"a"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := parseAttemptPlain(b)
		if !ok {
			return
		}
		var want attempt
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("the shortcut read %q, which json.Unmarshal refuses: %v", b, err)
		}
		if *got != want {
			t.Fatalf("%q: the shortcut read %+v, json.Unmarshal %+v", b, *got, want)
		}
	})
}

// take deletes the cookie with the header http.SetCookie would write.
func TestAttemptTakeHeader(t *testing.T) {
	ring, _ := seal.NewRing("attempt", seal.RandomSecret())
	for _, secure := range []bool{false, true} {
		ac := newAttemptCookies(ring, secure)
		now := time.Now()
		a := newAttempt("/next", "", now)
		w := httptest.NewRecorder()
		ac.set(w, httptest.NewRequest(http.MethodGet, "/auth/sso/login", nil), a)
		r := httptest.NewRequest(http.MethodGet, "/auth/sso/callback", nil)
		r.Header.Set("Cookie", "theme=dark; "+strings.SplitN(w.Header().Get("Set-Cookie"), ";", 2)[0]+"; lang=en")
		w = httptest.NewRecorder()
		got, err := ac.take(w, r, a.State, now)
		if err != nil || *got != *a {
			t.Fatalf("take = %+v, %v; want %+v", got, err, a)
		}
		if hs, want := w.Header()["Set-Cookie"], ac.cookie(ac.name(a.State), "", -1).String(); len(hs) != 1 || hs[0] != want {
			t.Errorf("secure %v: Set-Cookie %q, want %q", secure, hs, want)
		}
	}
}

func TestSameState(t *testing.T) {
	long := strings.Repeat("s", 100)
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"", "", true}, {"abc", "abc", true}, {"abc", "abd", false}, {"abc", "ab", false},
		{long, long, true}, {long, long[:99] + "t", false}, {long, "s", false},
	} {
		if got := sameState(c.a, c.b); got != c.want {
			t.Errorf("sameState(%q, %q) = %v", c.a, c.b, got)
		}
	}
}
