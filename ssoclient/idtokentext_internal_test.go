package ssoclient

import (
	"encoding/base64"
	"strings"
	"testing"
	"unsafe"

	"github.com/ssokit/ssokit/claims"
)

func TestCompactIDToken(t *testing.T) {
	enc := base64.RawURLEncoding
	payload := `{"iss":"https://idp.example.com","sub":"alice","groups":["a","b"],"n":12}` // 76 bytes: the last character has unused bits
	head := enc.EncodeToString([]byte(`{"alg":"RS256","kid":"k1"}`))
	sig := enc.EncodeToString([]byte(strings.Repeat("\x8f\x01\xfe", 85) + "z")) // 256 bytes
	raw := head + "." + enc.EncodeToString([]byte(payload)) + "." + sig

	c := compactIDToken(raw, payload)
	if c.sig == nil || len(c.sig) != 256 {
		t.Fatalf("a token whose payload is the claims was kept whole: %+v", c)
	}
	if unsafe.StringData(c.payload) != unsafe.StringData(payload) {
		t.Error("the compact token does not share the claims' memory")
	}
	if c.String() != raw {
		t.Errorf("String() = %q, want the token as received %q", c.String(), raw)
	}

	// A last character with unused bits set decodes to the same bytes but
	// is another text: kept whole, so the hint is the provider's token.
	p := enc.EncodeToString([]byte(payload))
	nonCanonical := []string{
		head + "." + p[:len(p)-1] + string(p[len(p)-1]+1) + "." + sig,
		head + "." + p + "." + sig[:len(sig)-1] + "B",
		head + "." + p[:10] + "\n" + p[10:] + "." + sig,
	}
	for _, r := range nonCanonical {
		if c := compactIDToken(r, payload); c.sig != nil || c.String() != r {
			t.Errorf("%q: kept in parts (%+v) or changed", r, c)
		}
	}
	for _, tc := range []struct{ raw, payload string }{
		{raw, `{"sub":"someone else"}`},
		{raw, ""},
		{"", payload},
		{"no-dots", payload},
		{head + "." + p, payload},                   // one dot
		{head + "." + p + "." + "!!!", payload},     // a signature that is not base64url
		{head + "." + p + "." + sig + "=", payload}, // padding
	} {
		if c := compactIDToken(tc.raw, tc.payload); c.sig != nil || c.String() != tc.raw {
			t.Errorf("compactIDToken(%q, %q) = %+v", tc.raw, tc.payload, c)
		}
	}
}

// Session.SetIDToken keeps a token in parts only against its own claims,
// and a session read back from storage returns the same token.
func TestSessionIDTokenRoundTrip(t *testing.T) {
	enc := base64.RawURLEncoding
	payload := `{"sub":"alice","email":"a@example.com"}`
	raw := enc.EncodeToString([]byte(`{"alg":"ES256"}`)) + "." + enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(make([]byte, 64))
	id := &Identity{Subject: "alice"}
	var err error
	if id.Claims, err = claims.ParseSet([]byte(payload)); err != nil {
		t.Fatal(err)
	}
	s := &Session{ID: "s1", Identity: id}
	s.SetIDToken(raw)
	if s.idt.sig == nil || s.IDToken() != raw {
		t.Fatalf("IDToken() = %q (parts: %t), want %q", s.IDToken(), s.idt.sig != nil, raw)
	}
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back Session
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back.IDToken() != raw {
		t.Errorf("after the storage form: %q", back.IDToken())
	}
	s.SetIDToken("")
	if s.IDToken() != "" {
		t.Errorf("cleared token: %q", s.IDToken())
	}
}

func FuzzCompactIDToken(f *testing.F) {
	enc := base64.RawURLEncoding
	f.Add("eyJhbGciOiJSUzI1NiJ9."+enc.EncodeToString([]byte(`{"a":1}`))+".c2ln", `{"a":1}`)
	f.Add("a.b.c", "")
	f.Add("..", "x")
	f.Fuzz(func(t *testing.T, raw, payload string) {
		if got := compactIDToken(raw, payload).String(); got != raw {
			t.Fatalf("compactIDToken(%q, %q).String() = %q", raw, payload, got)
		}
		// The same with the payload the token really carries.
		if i, j := strings.IndexByte(raw, '.'), strings.LastIndexByte(raw, '.'); i >= 0 && j > i {
			if p, err := enc.DecodeString(raw[i+1 : j]); err == nil {
				if got := compactIDToken(raw, string(p)).String(); got != raw {
					t.Fatalf("compactIDToken(%q, its payload).String() = %q", raw, got)
				}
			}
		}
	})
}
