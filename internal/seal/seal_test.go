package seal

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

var (
	secretA = strings.Repeat("a", 32)
	secretB = strings.Repeat("b", 40)
)

func TestSealOpen(t *testing.T) {
	r, err := NewRing("attempt", secretA)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Seal([]byte("hello"), []byte("cookie-1"))
	if strings.Contains(s, "hello") {
		t.Fatalf("plaintext visible in %q", s)
	}
	if s2 := r.Seal([]byte("hello"), []byte("cookie-1")); s2 == s {
		t.Errorf("two seals of one value are equal: nonce reused")
	}
	pt, err := r.Open(s, []byte("cookie-1"))
	if err != nil || string(pt) != "hello" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
}

func TestOpenRefuses(t *testing.T) {
	r, _ := NewRing("attempt", secretA)
	other, _ := NewRing("attempt", secretB)
	session, _ := NewRing("session", secretA)
	s := r.Seal([]byte("hello"), []byte("ad"))
	flipped := []byte(s)
	flipped[len(flipped)-3] ^= 1
	if flipped[len(flipped)-3] == '.' {
		flipped[len(flipped)-3] = 'A'
	}
	tests := map[string]struct {
		ring   *Ring
		sealed string
		ad     string
	}{
		"other associated data": {r, s, "other"},
		"other key":             {other, s, "ad"},
		"other purpose":         {session, s, "ad"},
		"tampered":              {r, string(flipped), "ad"},
		"truncated":             {r, s[:len(s)-4], "ad"},
		"empty":                 {r, "", "ad"},
		"not base64":            {r, "!!!!", "ad"},
		"short":                 {r, "AQID", "ad"},
	}
	for name, tt := range tests {
		if _, err := tt.ring.Open(tt.sealed, []byte(tt.ad)); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
}

func TestRotation(t *testing.T) {
	old, _ := NewRing("p", secretA)
	s := old.Seal([]byte("v"), nil)
	rotated, err := NewRing("p", secretB, secretA)
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := rotated.Open(s, nil); err != nil || string(pt) != "v" {
		t.Fatalf("a value sealed under the old key does not open after rotation: %v", err)
	}
	if _, err := old.Open(rotated.Seal([]byte("v"), nil), nil); !errors.Is(err, ErrOpen) {
		t.Errorf("the new key sealed something the old ring opens")
	}
}

func TestNewRingRefusesShortSecrets(t *testing.T) {
	if _, err := NewRing("p", "short"); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := NewRing("p"); err == nil {
		t.Error("no secret accepted")
	}
	if _, err := NewRing("p", RandomSecret()); err != nil {
		t.Errorf("RandomSecret refused: %v", err)
	}
}

func FuzzOpen(f *testing.F) {
	r, _ := NewRing("p", secretA)
	f.Add(r.Seal([]byte("x"), nil))
	f.Add("")
	f.Add("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		// Nothing but what the ring sealed opens; nothing panics.
		if pt, err := r.Open(s, []byte("fuzz")); err == nil {
			t.Fatalf("opened %q from input %q", pt, s)
		}
	})
}

func TestSealInPlace(t *testing.T) {
	r, _ := NewRing("attempt", secretA)
	for _, spare := range []int{0, TagLen, 100} {
		pt := "a plaintext of some length"
		buf := make([]byte, HeaderLen+len(pt), HeaderLen+len(pt)+spare)
		copy(buf[HeaderLen:], pt)
		sealed := r.SealInPlace(buf, []byte("cookie-1"))
		if len(sealed) != HeaderLen+len(pt)+TagLen {
			t.Fatalf("spare %d: sealed %d bytes", spare, len(sealed))
		}
		if spare >= TagLen && &sealed[0] != &buf[0] {
			t.Errorf("spare %d: sealed outside buf", spare)
		}
		if spare >= TagLen && strings.Contains(string(buf[:cap(buf)]), pt) {
			t.Errorf("spare %d: the plaintext is left in buf", spare)
		}
		s := base64.RawURLEncoding.EncodeToString(sealed)
		if got, err := r.Open(s, []byte("cookie-1")); err != nil || string(got) != pt {
			t.Fatalf("spare %d: Open = %q, %v", spare, got, err)
		}
		if _, err := r.Open(s, []byte("cookie-2")); !errors.Is(err, ErrOpen) {
			t.Errorf("spare %d: opened under other associated data", spare)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("SealInPlace without room for the header did not panic")
		}
	}()
	r.SealInPlace(make([]byte, HeaderLen-1), nil)
}

func TestOpenInPlace(t *testing.T) {
	r, _ := NewRing("attempt", secretA)
	rotated, _ := NewRing("attempt", secretB, secretA)
	s := r.Seal([]byte("hello"), []byte("ad"))
	for _, ring := range []*Ring{r, rotated} {
		raw, _ := base64.RawURLEncoding.DecodeString(s)
		pt, err := ring.OpenInPlace(raw, []byte("ad"))
		if err != nil || string(pt) != "hello" || &pt[0] != &raw[HeaderLen] {
			t.Fatalf("OpenInPlace = %q, %v (in raw: %v)", pt, err, err == nil && &pt[0] == &raw[HeaderLen])
		}
	}
	raw, _ := base64.RawURLEncoding.DecodeString(s)
	raw[len(raw)-1] ^= 1
	if _, err := r.OpenInPlace(raw, []byte("ad")); !errors.Is(err, ErrOpen) {
		t.Errorf("a tampered value opened: %v", err)
	}
	for _, raw := range [][]byte{nil, {version}, make([]byte, overhead-1), append([]byte{2}, make([]byte, overhead)...)} {
		if _, err := r.OpenInPlace(raw, nil); !errors.Is(err, ErrOpen) {
			t.Errorf("OpenInPlace(%x): %v", raw, err)
		}
	}
}
