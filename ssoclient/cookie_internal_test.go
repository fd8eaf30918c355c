package ssoclient

import (
	"net/http"
	"testing"
)

func TestCookieValue(t *testing.T) {
	for _, tc := range []struct {
		headers []string
		want    string
		ok      bool
	}{
		{[]string{"ssokit-session=abc"}, "abc", true},
		{[]string{"a=1; ssokit-session=abc; b=2"}, "abc", true},
		{[]string{"a=1;ssokit-session=abc"}, "abc", true},
		{[]string{"a=1", "ssokit-session=abc"}, "abc", true},
		{[]string{`ssokit-session="abc"`}, "abc", true},
		{[]string{"ssokit-session=first; ssokit-session=second"}, "first", true},
		{[]string{"xssokit-session=abc; ssokit-sessionx=def"}, "", false},
		{[]string{"ssokit-session"}, "", false},
		{[]string{"ssokit-session="}, "", true},
		{nil, "", false},
	} {
		r := &http.Request{Header: http.Header{"Cookie": tc.headers}}
		got, ok := cookieValue(r, "ssokit-session")
		if got != tc.want || ok != tc.ok {
			t.Errorf("%q: got %q, %v; want %q, %v", tc.headers, got, ok, tc.want, tc.ok)
		}
		// The same value as net/http, where net/http finds one (an empty
		// value is no session either way).
		if ck, err := r.Cookie("ssokit-session"); err == nil && ck.Value != "" && (ck.Value != got || !ok) {
			t.Errorf("%q: net/http says %q, cookieValue %q", tc.headers, ck.Value, got)
		}
	}
}
