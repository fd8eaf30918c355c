// Package jsonobj reads the JSON objects of the protocol (ID-token
// claims, token and userinfo responses) strictly and without building
// more than a caller asks for.
//
// [Check] refuses what a lenient reader would take: bytes that are not
// UTF-8 (encoding/json turns them into U+FFFD, so two different subjects
// could read the same), anything but one object, a member name twice at
// the top level (encoding/json keeps the last where other parsers keep
// the first; RFC 7519 §4 lets a parser refuse them), and numbers beyond
// float64's range. Once an object has passed Check, [Each] walks its
// members and [Value] decodes one value, as json.Unmarshal into an any
// would, with strings that need no unescaping sharing the input's memory.
package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// text is the two forms this package reads.
type text interface{ ~string | ~[]byte }

// Check reports whether b is one JSON object in valid UTF-8, with unique
// member names at its top level and every number within float64's range.
func Check(b []byte) error { return Strict(b, nil) }

// Strict is Check, calling fn (when not nil) with each member as it goes,
// as Each does but with the unescaped name as bytes (fn must not keep
// them); it stops at fn's first error and returns it.
func Strict(b []byte, fn func(name, raw []byte) error) error {
	if !valid(b) {
		return errors.New("not JSON in UTF-8, or a number out of range or a lone surrogate escape")
	}
	i := SkipSpace(b, 0)
	if b[i] != '{' {
		return errors.New("not a JSON object")
	}
	var small [32][]byte // names seen, while few
	seen := small[:0]
	var seenMap map[string]bool
	for i = SkipSpace(b, i+1); b[i] != '}'; {
		end := SkipValue(b, i)
		name := b[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			var n string
			if err := json.Unmarshal(b[i:end], &n); err != nil {
				return err
			}
			name = []byte(n)
		}
		i = SkipSpace(b, end)
		i = SkipSpace(b, i+1) // the colon
		end = SkipValue(b, i)
		raw := b[i:end:end]
		i = SkipSpace(b, end)
		if b[i] == ',' {
			i = SkipSpace(b, i+1)
		}
		dup := false
		if seenMap == nil && len(seen) < len(small) {
			for _, s := range seen {
				if bytes.Equal(s, name) {
					dup = true
					break
				}
			}
			seen = append(seen, name)
		} else {
			if seenMap == nil {
				seenMap = make(map[string]bool, 2*len(small))
				for _, s := range seen {
					seenMap[string(s)] = true
				}
			}
			dup = seenMap[string(name)]
			seenMap[string(name)] = true
		}
		if dup {
			return fmt.Errorf("the member %q appears twice", Clip(string(name)))
		}
		if fn != nil {
			if err := fn(name, raw); err != nil {
				return err
			}
		}
	}
	return nil
}

// Each calls fn with every top-level member of the object b, which Check
// has accepted (or "", which has none), in order: its name unescaped and its value's raw JSON, a
// slice of b (a caller keeping or changing a []byte value must copy it). It stops at
// fn's first error and returns it.
func Each[T text](b T, fn func(name string, raw T) error) error {
	i := SkipSpace(b, 0)
	if i == len(b) {
		return nil // "": the zero claims.Set, no members
	}
	for i = SkipSpace(b, i+1); b[i] != '}'; {
		end := SkipValue(b, i)
		name := string(b[i+1 : end-1])
		if strings.IndexByte(name, '\\') >= 0 {
			var err error
			if name, err = unquote([]byte(b[i:end])); err != nil {
				return err
			}
		}
		i = SkipSpace(b, end)
		i = SkipSpace(b, i+1) // the colon
		end = SkipValue(b, i)
		if err := fn(name, b[i:end]); err != nil {
			return err
		}
		i = SkipSpace(b, end)
		if b[i] == ',' {
			i = SkipSpace(b, i+1)
		}
	}
	return nil
}

// Find returns the raw value of the member name of the object s, which
// Check has accepted (or a value nested in such an object). Of several
// members of that name (Check refuses them only at the top level) it
// returns the last, as encoding/json keeps the last.
func Find(s, name string) (string, bool) {
	i := SkipSpace(s, 0)
	if i == len(s) {
		return "", false
	}
	found, ok := "", false
	for i = SkipSpace(s, i+1); s[i] != '}'; {
		end := SkipValue(s, i)
		n := s[i+1 : end-1]
		if strings.IndexByte(n, '\\') >= 0 {
			var err error
			if n, err = unquote([]byte(s[i:end])); err != nil {
				return "", false
			}
		}
		i = SkipSpace(s, end)
		i = SkipSpace(s, i+1) // the colon
		end = SkipValue(s, i)
		if n == name {
			found, ok = s[i:end], true
		}
		i = SkipSpace(s, end)
		if s[i] == ',' {
			i = SkipSpace(s, i+1)
		}
	}
	return found, ok
}

// SkipSpace returns the index of the first byte at or after i that is not
// JSON whitespace.
func SkipSpace[T text](b T, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// SkipValue returns the end of the JSON value that starts at b[i], in b
// that json.Valid accepted.
func SkipValue[T text](b T, i int) int {
	depth := 0
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '"':
			for i++; b[i] != '"'; i++ {
				if b[i] == '\\' {
					i++
				}
			}
			if depth == 0 {
				return i + 1
			}
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return i
			}
		}
	}
	return i
}

// PlainString returns the JSON string raw (valid JSON) when it has no
// escape to undo: its bytes between the quotes are the string.
func PlainString[T text](raw T) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	for i := 1; i < len(raw)-1; i++ {
		if raw[i] == '\\' {
			return "", false
		}
	}
	return string(raw[1 : len(raw)-1]), true
}

// String decodes the JSON value raw into s, as json.Unmarshal does, with
// a fast path for a string without escapes.
func String[T text](raw T, s *string) error {
	if v, ok := PlainString(raw); ok {
		*s = v
		return nil
	}
	v, err := unquote([]byte(raw))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// unquote decodes a JSON string with escapes (apart, so that only this
// path puts its result on the heap).
func unquote(raw []byte) (string, error) {
	var v string
	err := json.Unmarshal(raw, &v)
	return v, err
}

// Value decodes the valid JSON value raw as json.Unmarshal into an any
// does (float64 numbers, []any arrays, map[string]any objects). Strings
// without escapes, alone or in an array, are slices of raw.
func Value(raw string) (any, error) {
	switch c := raw[0]; {
	case c == '"':
		if strings.IndexByte(raw, '\\') < 0 {
			return raw[1 : len(raw)-1], nil
		}
	case raw == "true":
		return true, nil
	case raw == "false":
		return false, nil
	case raw == "null":
		return nil, nil
	case c == '-' || (c >= '0' && c <= '9'):
		if f, err := strconv.ParseFloat(raw, 64); err == nil {
			return f, nil
		}
	case c == '[':
		if a, ok := plainStrings(raw); ok {
			return a, nil
		}
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return nil, err
	}
	return v, nil
}

// plainStrings returns the valid JSON array s as an []any of strings when
// every element is a string without escapes.
func plainStrings(s string) ([]any, bool) {
	n := 0
	for j := SkipSpace(s, 1); s[j] != ']'; {
		e := SkipValue(s, j)
		if s[j] != '"' || strings.IndexByte(s[j:e], '\\') >= 0 {
			return nil, false
		}
		n++
		j = SkipSpace(s, e)
		if s[j] == ',' {
			j = SkipSpace(s, j+1)
		}
	}
	a := make([]any, 0, n)
	for j := SkipSpace(s, 1); s[j] != ']'; {
		e := SkipValue(s, j)
		a = append(a, s[j+1:e-1])
		j = SkipSpace(s, e)
		if s[j] == ',' {
			j = SkipSpace(s, j+1)
		}
	}
	return a, true
}

// Clip shortens a value from a token for an error message.
func Clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
