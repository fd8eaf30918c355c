// Package jsontest holds reference checks for the tests of ssokit's
// strict JSON reading, written apart from the code they check.
package jsontest

import "strconv"

// LoneSurrogate reports whether the valid JSON b has an escaped surrogate
// (\uD800 to \uDFFF) that is not a high surrogate followed at once by an
// escaped low one: what encoding/json turns into U+FFFD and ssokit
// refuses (RFC 7493 §2.1).
func LoneSurrogate(b []byte) bool {
	in := false
	for i := 0; i < len(b); i++ {
		switch {
		case !in:
			in = b[i] == '"'
		case b[i] == '"':
			in = false
		case b[i] == '\\' && b[i+1] != 'u':
			i++
		case b[i] == '\\':
			r, _ := strconv.ParseUint(string(b[i+2:i+6]), 16, 32)
			switch {
			case r >= 0xDC00 && r <= 0xDFFF:
				return true
			case r >= 0xD800 && r <= 0xDBFF:
				if i+12 > len(b) || b[i+6] != '\\' || b[i+7] != 'u' {
					return true
				}
				lo, _ := strconv.ParseUint(string(b[i+8:i+12]), 16, 32)
				if lo < 0xDC00 || lo > 0xDFFF {
					return true
				}
				i += 6
			}
			i += 5
		}
	}
	return false
}
