package ssoclient

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
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
