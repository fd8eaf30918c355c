package jsonobj

import (
	"strconv"
	"unicode/utf8"
)

// maxDepth is encoding/json's limit of nested arrays and objects.
const maxDepth = 10000

// valid reports whether b is one JSON value (RFC 8259, as json.Valid
// reads it), in valid UTF-8, with every number within float64's range
// and no escaped surrogate without its pair (RFC 7493 §2.1: encoding/json
// turns each into U+FFFD, so "\ud800" and "\udc00" would read as the same
// subject): what utf8.Valid, json.Valid and a scan of the numbers told in
// three passes, in one, and stricter by the surrogates. Most of a token response or an ID token's claims is
// long strings of ASCII, which a byte loop crosses far faster than
// encoding/json's state machine.
func valid(b []byte) bool {
	v := validator{b: b}
	i, ok := v.value(v.space(0), 0)
	return ok && v.space(i) == len(b)
}

type validator struct{ b []byte }

func (v *validator) space(i int) int {
	for i < len(v.b) && (v.b[i] == ' ' || v.b[i] == '\t' || v.b[i] == '\n' || v.b[i] == '\r') {
		i++
	}
	return i
}

// value reads the value at b[i] and returns the index after it.
func (v *validator) value(i, depth int) (int, bool) {
	b := v.b
	if i >= len(b) {
		return i, false
	}
	switch c := b[i]; {
	case c == '"':
		return v.str(i)
	case c == '{':
		if depth >= maxDepth {
			return i, false
		}
		i = v.space(i + 1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			if i >= len(b) || b[i] != '"' {
				return i, false
			}
			var ok bool
			if i, ok = v.str(i); !ok {
				return i, false
			}
			if i = v.space(i); i >= len(b) || b[i] != ':' {
				return i, false
			}
			if i, ok = v.value(v.space(i+1), depth+1); !ok {
				return i, false
			}
			switch i = v.space(i); {
			case i < len(b) && b[i] == ',':
				i = v.space(i + 1)
			case i < len(b) && b[i] == '}':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '[':
		if depth >= maxDepth {
			return i, false
		}
		i = v.space(i + 1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = v.value(i, depth+1); !ok {
				return i, false
			}
			switch i = v.space(i); {
			case i < len(b) && b[i] == ',':
				i = v.space(i + 1)
			case i < len(b) && b[i] == ']':
				return i + 1, true
			default:
				return i, false
			}
		}
	case c == '-' || c >= '0' && c <= '9':
		return v.number(i)
	case c == 't':
		return v.literal(i, "true")
	case c == 'f':
		return v.literal(i, "false")
	case c == 'n':
		return v.literal(i, "null")
	}
	return i, false
}

func (v *validator) literal(i int, lit string) (int, bool) {
	if len(v.b)-i < len(lit) || string(v.b[i:i+len(lit)]) != lit {
		return i, false
	}
	return i + len(lit), true
}

// str reads the string that starts at b[i] (its quote).
func (v *validator) str(i int) (int, bool) {
	b := v.b
	for i++; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				r, ok := hex4(b, i+2)
				switch {
				case !ok, r >= 0xDC00 && r <= 0xDFFF:
					return i, false // not hex, or a low surrogate alone
				case r >= 0xD800 && r <= 0xDBFF:
					// A high surrogate must have its low one next.
					if len(b)-i < 12 || b[i+6] != '\\' || b[i+7] != 'u' {
						return i, false
					}
					if lo, ok := hex4(b, i+8); !ok || lo < 0xDC00 || lo > 0xDFFF {
						return i, false
					}
					i += 12
				default:
					i += 6
				}
			default:
				return i, false
			}
		case c < 0x20:
			return i, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				return i, false
			}
			i += n
		}
	}
	return i, false
}

// hex4 reads the four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if len(b)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number reads the number that starts at b[i]: -? (0 | [1-9][0-9]*)
// (. [0-9]+)? ([eE] [+-]? [0-9]+)?, within float64's range.
func (v *validator) number(i int) (int, bool) {
	b := v.b
	start := i
	if b[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return i, false
		}
	}
	exp := false
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		exp = true
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return i, false
		}
	}
	// Without an exponent only more than 308 digits can overflow.
	if exp || i-start > 300 {
		if _, err := strconv.ParseFloat(string(b[start:i]), 64); err != nil {
			return i, false
		}
	}
	return i, true
}
