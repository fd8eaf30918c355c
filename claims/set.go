package claims

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/ssokit/ssokit/internal/jsonobj"
)

// Set is a set of claims: one JSON object, checked when it was made
// (valid UTF-8, each member name once at the top level, numbers within
// float64's range) and kept as its JSON text, decoded on demand. The zero
// Set has no claims.
//
// An Identity keeps its claims this way rather than as a map: a session
// in memory then costs about the token's own bytes, not a map of boxed
// values besides them. A Set is immutable, so it is safe to share between
// goroutines.
type Set struct {
	s    string
	omit []string // top-level members left out (see Without)
}

// Without returns c without the top-level members names, sharing c's
// text: Lookup, Map, Decode, JSON, MarshalJSON and the fmt verbs (Format)
// leave them out. The Set keeps names; do not change it after.
func (c Set) Without(names ...string) Set {
	if len(c.omit) == 0 {
		return Set{c.s, names}
	}
	return Set{c.s, append(c.omit[:len(c.omit):len(c.omit)], names...)}
}

// omitted reports whether Without left out the member name.
func (c Set) omitted(name string) bool {
	for _, o := range c.omit {
		if o == name {
			return true
		}
	}
	return false
}

// ParseSet checks obj and returns it as a Set (a copy: obj may be changed
// after). An empty object is the zero Set.
func ParseSet(obj []byte) (Set, error) {
	if err := jsonobj.Check(obj); err != nil {
		return Set{}, err
	}
	if obj[jsonobj.SkipSpace(obj, jsonobj.SkipSpace(obj, 0)+1)] == '}' {
		return Set{}, nil
	}
	return Set{s: string(obj)}, nil
}

// SetOf returns the claims of m as a Set (json.Marshal's encoding). A nil
// or empty m gives the zero Set.
func SetOf(m map[string]any) (Set, error) {
	if len(m) == 0 {
		return Set{}, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return Set{}, err
	}
	return ParseSet(b)
}

// JSON returns the claims as the JSON object they were read from, less
// the members Without left out ("" for the zero Set).
func (c Set) JSON() string {
	if len(c.omit) == 0 || c.s == "" {
		return c.s
	}
	present := false
	_ = jsonobj.Each(c.s, func(name, _ string) error {
		present = present || c.omitted(name)
		return nil
	})
	if !present {
		return c.s
	}
	hidden := true
	_ = jsonobj.Each(c.s, func(name, _ string) error {
		hidden = hidden && c.omitted(name)
		return nil
	})
	if hidden {
		return "" // every member left out: the zero Set
	}
	var b strings.Builder
	b.Grow(len(c.s))
	b.WriteByte('{')
	_ = jsonobj.Each(c.s, func(name, raw string) error {
		if c.omitted(name) {
			return nil
		}
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		n, _ := json.Marshal(name)
		b.Write(n)
		b.WriteByte(':')
		b.WriteString(raw)
		return nil
	})
	b.WriteByte('}')
	return b.String()
}

// IsZero reports whether c has no claims (the zero Set, or a Set whose
// every member Without left out).
func (c Set) IsZero() bool { return c.s == "" || len(c.omit) > 0 && c.JSON() == "" }

// Format prints the claims as JSON returns them for every verb of the fmt
// package (and so for slog's text output), so that members Without left
// out are not printed either.
func (c Set) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.JSON()) }

// Equal reports whether c and o have the same JSON text (as JSON returns
// it).
func (c Set) Equal(o Set) bool { return c.JSON() == o.JSON() }

// Lookup returns the claim name, decoded as json.Unmarshal into an any
// decodes it (string, float64, bool, []any, map[string]any). A name is
// first looked up whole; when there is no such claim and the name has
// dots, it is followed as a path into nested objects
// ("realm_access.roles"). A null claim is an absent one. Each call scans
// the claims: read the ones used often into variables or a struct (see
// [Set.Decode]).
func (c Set) Lookup(name string) (any, bool) {
	var p picked
	p.scan(c, name)
	raw, ok := lookup(&p, name)
	if !ok {
		return nil, false
	}
	v, err := jsonobj.Value(raw)
	return v, err == nil
}

// Decode decodes the claims into v as json.Unmarshal does. The zero Set
// decodes as an empty object.
func (c Set) Decode(v any) error {
	if c.s == "" {
		return json.Unmarshal([]byte("{}"), v)
	}
	return json.Unmarshal([]byte(c.JSON()), v)
}

// Map returns the claims as a new map, as json.Unmarshal into a
// map[string]any makes it (empty for the zero Set).
func (c Set) Map() map[string]any {
	m := make(map[string]any)
	if c.s == "" {
		return m
	}
	_ = jsonobj.Each(c.s, func(name, raw string) error {
		if c.omitted(name) {
			return nil
		}
		if v, err := jsonobj.Value(raw); err == nil {
			m[name] = v
		}
		return nil
	})
	return m
}

// MarshalJSON writes the claims' JSON text; the zero Set is {}.
func (c Set) MarshalJSON() ([]byte, error) {
	if c.s == "" {
		return []byte("{}"), nil
	}
	return []byte(c.JSON()), nil
}

// UnmarshalJSON reads a JSON object as ParseSet does; null is the zero
// Set.
func (c *Set) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*c = Set{}
		return nil
	}
	s, err := ParseSet(b)
	if err != nil {
		return errors.New("claims: " + err.Error())
	}
	*c = s
	return nil
}

// picked holds the raw values of a few claims, found in one scan of a
// Set: what Map, Missing, Verified and Lookup read. It lives on its
// caller's stack.
type picked struct {
	n    int
	name [16]string
	raw  [16]string
	ok   [16]bool
}

// scan finds names in c, and for dotted names their first part, in one
// pass over c's members.
func (p *picked) scan(c Set, names ...string) {
	for _, n := range names {
		p.want(n)
		if head, _, ok := strings.Cut(n, "."); ok {
			p.want(head)
		}
	}
	if c.s == "" {
		return
	}
	_ = jsonobj.Each(c.s, func(name, raw string) error {
		if c.omitted(name) {
			return nil
		}
		for i := range p.n {
			if p.name[i] == name {
				p.raw[i], p.ok[i] = raw, true
			}
		}
		return nil
	})
}

func (p *picked) want(name string) {
	for i := range p.n {
		if p.name[i] == name {
			return
		}
	}
	if p.n < len(p.name) {
		p.name[p.n] = name
		p.n++
	}
}

func (p *picked) get(name string) (string, bool) {
	for i := range p.n {
		if p.name[i] == name {
			return p.raw[i], p.ok[i]
		}
	}
	return "", false
}

// lookup finds a claim's raw JSON by its whole name, then as a dotted
// path. null is absent.
func lookup(c *picked, name string) (string, bool) {
	if raw, ok := c.get(name); ok {
		return raw, raw != "null"
	}
	head, rest, dotted := strings.Cut(name, ".")
	if !dotted {
		return "", false
	}
	raw, ok := c.get(head)
	for ok {
		if raw == "" || raw[0] != '{' {
			return "", false
		}
		var part string
		part, rest, dotted = strings.Cut(rest, ".")
		if raw, ok = jsonobj.Find(raw, part); ok && !dotted {
			return raw, raw != "null"
		}
	}
	return "", false
}

// str reads a claim as a string; a number is written out in full (some
// providers send numeric ids in custom claims).
func str(c *picked, name string) string {
	raw, ok := lookup(c, name)
	if !ok {
		return ""
	}
	switch ch := raw[0]; {
	case ch == '"':
		var s string
		if jsonobj.String(raw, &s) == nil {
			return s
		}
	case ch == '-' || (ch >= '0' && ch <= '9'):
		x, err := strconv.ParseFloat(raw, 64)
		if err != nil {
			return ""
		}
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// strs reads a claim as a list of strings: an array (non-strings skipped)
// or a single string.
func strs(c *picked, name string) []string {
	raw, ok := lookup(c, name)
	if !ok {
		return nil
	}
	switch raw[0] {
	case '"':
		var s string
		if jsonobj.String(raw, &s) == nil && s != "" {
			return []string{s}
		}
	case '[':
		n := 0
		eachElement(raw, func(e string) {
			if e[0] == '"' {
				n++
			}
		})
		out := make([]string, 0, n)
		eachElement(raw, func(e string) {
			var s string
			if e[0] == '"' && jsonobj.String(e, &s) == nil {
				out = append(out, s)
			}
		})
		return out
	}
	return nil
}

// eachElement calls fn with the raw JSON of each element of the valid
// JSON array a.
func eachElement(a string, fn func(raw string)) {
	for j := jsonobj.SkipSpace(a, 1); a[j] != ']'; {
		e := jsonobj.SkipValue(a, j)
		fn(a[j:e])
		j = jsonobj.SkipSpace(a, e)
		if a[j] == ',' {
			j = jsonobj.SkipSpace(a, j+1)
		}
	}
}

// verifiedIn reads a verification claim (see Verified).
func verifiedIn(c *picked, name string) (verified, stated bool) {
	raw, ok := lookup(c, name)
	if !ok {
		return false, false
	}
	switch {
	case raw == "true":
		return true, true
	case raw == "false":
		return false, true
	case raw[0] == '"':
		var s string
		if jsonobj.String(raw, &s) != nil {
			return false, false
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}
