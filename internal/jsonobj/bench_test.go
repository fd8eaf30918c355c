package jsonobj

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// BenchmarkCheck is the strict reading of a token response (an RS256 ID
// token's 1.5 KB string in it) beside what it replaced: utf8.Valid then
// json.Valid.
func BenchmarkCheck(b *testing.B) {
	body := []byte(`{"access_token":"at-` + strings.Repeat("x", 40) + `","token_type":"Bearer","expires_in":3600,"id_token":"` +
		base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("ID token bytes ", 76))) + `"}`)
	b.Run("Check", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if Check(body) != nil {
				b.Fatal("refused")
			}
		}
	})
	b.Run("utf8+json.Valid", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			if !utf8.Valid(body) || !json.Valid(body) {
				b.Fatal("refused")
			}
		}
	})
}
