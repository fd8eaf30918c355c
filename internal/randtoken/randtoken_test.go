package randtoken

import (
	"encoding/base64"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for _, n := range []int{0, 1, 2, 3, 16, 32, 64, 96, 97, 200} {
		for range 20 {
			s := New(n)
			raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
			if err != nil || len(raw) != n {
				t.Fatalf("New(%d) = %q: %d bytes, %v", n, s, len(raw), err)
			}
			if n >= 16 {
				if seen[s] {
					t.Fatalf("New(%d) repeated %q", n, s)
				}
				seen[s] = true
			}
		}
	}
}

func TestFill(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range []int{0, 1, 3, 4, 10} {
		for _, n := range []int{16, 32, 40} {
			dst := make([]string, k)
			Fill(dst, n)
			for _, s := range dst {
				raw, err := base64.RawURLEncoding.Strict().DecodeString(s)
				if err != nil || len(raw) != n {
					t.Fatalf("Fill(%d, %d): %q: %d bytes, %v", k, n, s, len(raw), err)
				}
				if seen[s] {
					t.Fatalf("Fill(%d, %d) repeated %q", k, n, s)
				}
				seen[s] = true
			}
		}
	}
}
