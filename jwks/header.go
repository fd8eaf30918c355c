package jwks

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Header is what a caller may need from a verified token's JOSE header
// (RFC 7515 §4.1).
type Header struct {
	Algorithm string // "alg", one of the allowed algorithms
	KeyID     string // "kid", empty when the token names no key
	Type      string // "typ", empty when absent
}

// rawHeader is a JOSE header as parseHeader reads it. kid and typ alias
// the decoded header bytes unless they contained escapes.
type rawHeader struct {
	alg     algorithm
	algName []byte // the "alg" value as sent, for error messages
	hasAlg  bool
	kid     []byte
	typ     []byte
	crit    bool
}

// Limits of the header parser. A real JOSE header has fewer than ten
// members and nests at most a jwk object inside it.
const (
	maxHeaderMembers = 32
	maxHeaderDepth   = 16
)

// Header parse errors; Verify wraps them in ErrMalformed.
var (
	errHeaderNotObject = errors.New("header is not a JSON object")
	errHeaderSyntax    = errors.New("header is not valid JSON")
	errHeaderDuplicate = errors.New("header has a duplicate member")
	errHeaderTooBig    = errors.New("header has too many members or nests too deep")
)

// parseHeader reads a JOSE header strictly: a JSON object (RFC 8259)
// whose member names are unique after unescaping (RFC 7515 §4 allows a
// parser to reject duplicates, and we do), with no invalid UTF-8 or lone
// surrogates in any string, and nothing but whitespace after it. "alg",
// "kid" and "typ" must be strings; "crit" is only noted. Member names
// match exactly: "ALG" is not "alg", unlike encoding/json's
// case-insensitive field matching. Every other member is checked for
// syntax and otherwise ignored; in particular "jwk", "jku", "x5u" and
// "x5c" are never read, so a key carried by the token itself is never
// used.
//
// It is hand-written because it runs for every token: it allocates
// nothing unless a member name or one of the three values contains a
// backslash escape.
func parseHeader(b []byte) (rawHeader, error) {
	var h rawHeader
	p := jsonParser{b: b}
	p.skipSpace()
	if !p.consume('{') {
		return h, errHeaderNotObject
	}
	var names [maxHeaderMembers][]byte
	n := 0
	p.skipSpace()
	if !p.consume('}') {
		for {
			p.skipSpace()
			name, ok := p.str()
			if !ok {
				return h, errHeaderSyntax
			}
			for _, seen := range names[:n] {
				if bytes.Equal(seen, name) {
					return h, fmt.Errorf("%w %s", errHeaderDuplicate, quoteShort(name))
				}
			}
			if n == len(names) {
				return h, errHeaderTooBig
			}
			names[n] = name
			n++
			p.skipSpace()
			if !p.consume(':') {
				return h, errHeaderSyntax
			}
			p.skipSpace()
			switch string(name) {
			case "alg", "kid", "typ":
				if p.i < len(p.b) && p.b[p.i] != '"' {
					return h, fmt.Errorf("header member %q is not a string", string(name))
				}
				v, ok := p.str()
				if !ok {
					return h, errHeaderSyntax
				}
				switch name[0] {
				case 'a':
					h.alg, h.algName, h.hasAlg = parseAlg(v), v, true
				case 'k':
					h.kid = v
				default:
					h.typ = v
				}
			case "crit":
				h.crit = true
				if !p.value(1) {
					return h, p.valueErr()
				}
			default:
				if !p.value(1) {
					return h, p.valueErr()
				}
			}
			p.skipSpace()
			if p.consume(',') {
				continue
			}
			if p.consume('}') {
				break
			}
			return h, errHeaderSyntax
		}
	}
	p.skipSpace()
	if p.i != len(p.b) {
		return h, errHeaderSyntax
	}
	return h, nil
}

// jsonParser is a strict recursive-descent JSON reader over b.
type jsonParser struct {
	b    []byte
	i    int
	deep bool // the last failure was nesting beyond maxHeaderDepth
}

// valueErr is the error of a failed value.
func (p *jsonParser) valueErr() error {
	if p.deep {
		return errHeaderTooBig
	}
	return errHeaderSyntax
}

func (p *jsonParser) skipSpace() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) consume(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// value skips one JSON value, checking its syntax.
func (p *jsonParser) value(depth int) bool {
	if depth > maxHeaderDepth {
		p.deep = true
		return false
	}
	if p.i >= len(p.b) {
		return false
	}
	switch c := p.b[p.i]; {
	case c == '"':
		_, ok := p.str()
		return ok
	case c == '{':
		p.i++
		p.skipSpace()
		if p.consume('}') {
			return true
		}
		for {
			p.skipSpace()
			if _, ok := p.str(); !ok {
				return false
			}
			p.skipSpace()
			if !p.consume(':') {
				return false
			}
			p.skipSpace()
			if !p.value(depth + 1) {
				return false
			}
			p.skipSpace()
			if p.consume(',') {
				continue
			}
			return p.consume('}')
		}
	case c == '[':
		p.i++
		p.skipSpace()
		if p.consume(']') {
			return true
		}
		for {
			p.skipSpace()
			if !p.value(depth + 1) {
				return false
			}
			p.skipSpace()
			if p.consume(',') {
				continue
			}
			return p.consume(']')
		}
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	}
	return false
}

func (p *jsonParser) literal(s string) bool {
	if len(p.b)-p.i >= len(s) && string(p.b[p.i:p.i+len(s)]) == s {
		p.i += len(s)
		return true
	}
	return false
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *jsonParser) number() bool {
	p.consume('-')
	switch {
	case p.consume('0'):
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		p.digits()
	default:
		return false
	}
	if p.consume('.') && !p.digits() {
		return false
	}
	if p.consume('e') || p.consume('E') {
		if !p.consume('+') {
			p.consume('-')
		}
		if !p.digits() {
			return false
		}
	}
	return true
}

// digits reads [0-9]* and reports whether it read at least one.
func (p *jsonParser) digits() bool {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i > start
}

// str reads a JSON string and returns its unescaped content: a sub-slice
// of b when it has no escapes, a new slice otherwise. ok is false when
// the next value is not a string or the string is invalid.
func (p *jsonParser) str() (s []byte, ok bool) {
	if !p.consume('"') {
		return nil, false
	}
	start := p.i
	escaped := false
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := p.b[start:p.i]
			p.i++
			if escaped {
				return unescape(s)
			}
			return s, true
		case c == '\\':
			escaped = true
			p.i++
			if p.i >= len(p.b) {
				return nil, false
			}
			switch p.b[p.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p.i++
			case 'u':
				if len(p.b)-p.i < 5 {
					return nil, false
				}
				if _, ok := hex4(p.b[p.i+1 : p.i+5]); !ok {
					return nil, false
				}
				p.i += 5
			default:
				return nil, false
			}
		case c < 0x20:
			return nil, false
		case c < utf8.RuneSelf:
			p.i++
		default:
			r, size := utf8.DecodeRune(p.b[p.i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false
			}
			p.i += size
		}
	}
	return nil, false
}

// unescape decodes the content of a JSON string already checked by str.
// It refuses lone UTF-16 surrogates, which encoding/json would turn into
// U+FFFD.
func unescape(s []byte) ([]byte, bool) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch e := s[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := hex4(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || len(s)-i < 6 || s[i] != '\\' || s[i+1] != 'u' {
					return nil, false
				}
				r2, _ := hex4(s[i+2 : i+6])
				r = utf16.DecodeRune(r, r2)
				if r == utf8.RuneError {
					return nil, false
				}
				i += 6
			}
			out = utf8.AppendRune(out, r)
			continue
		}
		i += 2
	}
	return out, true
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// quoteShort quotes b for an error message, cut to a length that keeps
// attacker-chosen values from bloating logs. It copies b, so that b does
// not escape.
func quoteShort(b []byte) string {
	const max = 64
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "…"
	}
	return strconv.Quote(string(b))
}
