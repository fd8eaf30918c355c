package claims

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseSetRefuses(t *testing.T) {
	for name, js := range map[string]string{
		"empty":             ``,
		"array":             `["sub"]`,
		"string":            `"sub"`,
		"null":              `null`,
		"trailing":          `{"sub":"a"} x`,
		"two objects":       `{"sub":"a"}{"sub":"b"}`,
		"duplicate":         `{"sub":"a","sub":"b"}`,
		"escaped duplicate": `{"sub":"a","s\u0075b":"b"}`,
		"not UTF-8":         "{\"sub\":\"a\xff\"}",
		"number too large":  `{"sub":"a","exp":1e400}`,
		"unquoted":          `{sub:"a"}`,
	} {
		if _, err := ParseSet([]byte(js)); err == nil {
			t.Errorf("%s: ParseSet(%q) accepted it", name, js)
		}
	}
}

// Map, Lookup and Decode read a Set as encoding/json reads the same
// object into a map.
func TestSetMatchesEncodingJSON(t *testing.T) {
	for _, js := range []string{
		`{}`,
		` { "a" : "b" , "n":1.5e3,"neg":-0,"t":true,"f":false,"z":null } `,
		`{"groups":["a","b", "c" ],"e":[],"mixed":["a",1,null],"esc":["a\"b"]}`,
		`{"o":{"x":[1,{"y":"z"}]},"s":"a\u00e9\n","k\u0065y":"v","u":"é"}`,
		`{"a.b":"whole","a":{"b":"path"},"c":{"d":{"e":7}},"nul":{"x":null}}`,
	} {
		c, err := ParseSet([]byte(js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(js), &want); err != nil {
			t.Fatal(err)
		}
		if got := c.Map(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: Map() = %#v, want %#v", js, got, want)
		}
		var dec map[string]any
		if err := c.Decode(&dec); err != nil || !reflect.DeepEqual(dec, want) {
			t.Errorf("%s: Decode = %#v, %v", js, dec, err)
		}
		for name, v := range want {
			got, ok := c.Lookup(name)
			if ok != (v != nil) || !reflect.DeepEqual(got, v) && v != nil {
				t.Errorf("%s: Lookup(%q) = %#v, %v; want %#v", js, name, got, ok, v)
			}
		}
	}
}

func TestSetLookupPaths(t *testing.T) {
	c, err := ParseSet([]byte(`{"a.b":"whole","a":{"b":"path","n":null},"c":{"d":{"e":7}},"s":"x","nul":null}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		want any
		ok   bool
	}{
		{"a.b", "whole", true}, // the whole name first
		{"c.d.e", 7.0, true},
		{"c.d", map[string]any{"e": 7.0}, true},
		{"a.n", nil, false},   // null is absent
		{"s.x", nil, false},   // not an object
		{"c.x.e", nil, false}, // no such member
		{"nul", nil, false},
		{"nul.x", nil, false},
		{"missing", nil, false},
		{"c.d.e.f", nil, false},
	} {
		got, ok := c.Lookup(tt.name)
		if ok != tt.ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Lookup(%q) = %#v, %v; want %#v, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSetJSON(t *testing.T) {
	var zero Set
	if !zero.IsZero() || len(zero.Map()) != 0 || zero.JSON() != "" {
		t.Error("the zero Set has claims")
	}
	if _, ok := zero.Lookup("sub"); ok {
		t.Error("the zero Set found sub")
	}
	var v struct{ Sub string }
	if err := zero.Decode(&v); err != nil {
		t.Errorf("Decode of the zero Set: %v", err)
	}
	id := Identity{Subject: "u1", Claims: parse(t, `{"sub":"u1","groups":["a"]}`)}
	b, err := json.Marshal(&id)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"claims":{"sub":"u1","groups":["a"]}`) {
		t.Errorf("Identity JSON %s", b)
	}
	var back Identity
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !back.Claims.Equal(id.Claims) || back.Subject != "u1" {
		t.Errorf("round trip: %+v", back)
	}
	if err := json.Unmarshal([]byte(`{"claims":{"sub":"a","sub":"b"}}`), &back); err == nil {
		t.Error("UnmarshalJSON took duplicate claims")
	}
	if err := json.Unmarshal([]byte(`{"claims":null}`), &back); err != nil || !back.Claims.IsZero() {
		t.Errorf("null claims: %v, %v", back.Claims, err)
	}
	if b, _ := json.Marshal(Identity{}); !strings.Contains(string(b), `"claims":{}`) {
		t.Errorf("the zero Identity's JSON %s", b)
	}
	s, err := SetOf(map[string]any{"sub": "u1", "n": 2})
	if err != nil || s.JSON() != `{"n":2,"sub":"u1"}` {
		t.Errorf("SetOf = %s, %v", s.JSON(), err)
	}
	if s, err := SetOf(nil); err != nil || !s.IsZero() {
		t.Errorf("SetOf(nil) = %s, %v", s.JSON(), err)
	}
	if s, err := ParseSet([]byte(" { } ")); err != nil || !s.IsZero() {
		t.Errorf("an empty object is not the zero Set: %q, %v", s.JSON(), err)
	}
}

// ParseSet copies: changing the bytes after does not change the Set.
func TestParseSetCopies(t *testing.T) {
	b := []byte(`{"sub":"u1"}`)
	c, err := ParseSet(b)
	if err != nil {
		t.Fatal(err)
	}
	copy(b, `{"sub":"XX"}`)
	if v, _ := c.Lookup("sub"); v != "u1" {
		t.Errorf("sub = %v after the input changed", v)
	}
}

// FuzzSet: whatever encoding/json reads as an object, a Set reads the
// same, or refuses it for a duplicate name or an out-of-range number.
func FuzzSet(f *testing.F) {
	f.Add(`{"sub":"u1","a":{"b":[1,"x",null]},"e":"\u00e9"}`, "a.b")
	f.Add(`{"sub":"u1","sub":"u2"}`, "sub")
	f.Add(`{"x":1e999}`, "x")
	f.Fuzz(func(t *testing.T, js, name string) {
		c, err := ParseSet([]byte(js))
		var want map[string]any
		werr := json.Unmarshal([]byte(js), &want)
		if err != nil {
			// Stricter than encoding/json only where RFC 7519 and
			// UTF-8 allow: a name twice, bytes that are not UTF-8.
			surrogate := false
			for _, p := range []string{`\ud8`, `\ud9`, `\uda`, `\udb`, `\udc`, `\udd`, `\ude`, `\udf`} {
				surrogate = surrogate || strings.Contains(strings.ToLower(js), p)
			}
			if werr == nil && want != nil && utf8.ValidString(js) && !surrogate && !strings.Contains(err.Error(), "twice") {
				t.Fatalf("ParseSet(%q) refused what encoding/json takes: %v", js, err)
			}
			return
		}
		if werr != nil || want == nil {
			t.Fatalf("ParseSet took %q, encoding/json did not: %v", js, werr)
		}
		if got := c.Map(); !reflect.DeepEqual(got, want) {
			t.Fatalf("Map(%q) = %#v, want %#v", js, got, want)
		}
		if v, ok := c.Lookup(name); ok {
			if w, found := want[name]; found && !reflect.DeepEqual(v, w) {
				t.Fatalf("Lookup(%q) in %q = %#v, want %#v", name, js, v, w)
			}
		}
	})
}

// Members Without left out are not printed by any fmt verb, nor by slog.
func TestWithoutHidesFromPrinting(t *testing.T) {
	c := parse(t, `{"sub":"u1","nonce":"SECRET-NONCE","at_hash":"SECRET-HASH"}`).Without("nonce", "at_hash")
	id := &Identity{Subject: "u1", Claims: c}
	var logged strings.Builder
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "claims", c, "id", *id)
	for _, out := range []string{
		fmt.Sprintf("%v %+v %#v %s", c, c, c, c),
		fmt.Sprintf("%v %+v %#v", *id, *id, id),
		logged.String(),
	} {
		if strings.Contains(out, "SECRET") || !strings.Contains(out, "u1") {
			t.Errorf("printed %s", out)
		}
	}
	all := parse(t, `{"nonce":"n"}`).Without("nonce")
	if !all.IsZero() || all.JSON() != "" || !all.Equal(Set{}) {
		t.Errorf("a Set with every member left out: IsZero %t, JSON %q", all.IsZero(), all.JSON())
	}
}

// A name twice inside a nested object (Check refuses it only at the top
// level) reads as encoding/json reads it: the last one.
func TestNestedDuplicateReadsTheLast(t *testing.T) {
	c := parse(t, `{"sub":"u","realm_access":{"roles":["user"],"roles":["admin"]}}`)
	id, err := Map("https://kc.example.com/realms/r", c, Mapping{Groups: "realm_access.roles"}, TrustEmailClaim)
	if err != nil {
		t.Fatal(err)
	}
	if len(id.Groups) != 1 || id.Groups[0] != "admin" {
		t.Errorf("Groups = %v, want [admin] (the last roles, as encoding/json reads it)", id.Groups)
	}
	if v, _ := c.Lookup("realm_access.roles"); !reflect.DeepEqual(v, []any{"admin"}) {
		t.Errorf("Lookup = %v", v)
	}
}
