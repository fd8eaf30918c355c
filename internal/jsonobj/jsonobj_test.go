package jsonobj

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/ssokit/ssokit/internal/jsontest"
)

func TestCheck(t *testing.T) {
	for _, ok := range []string{`{}`, ` {"a":1} `, `{"a":{"a":1,"a":2}}`, `{"a":"\u00e9","b":[1,2e3,-0.5]}`} {
		if err := Check([]byte(ok)); err != nil {
			t.Errorf("Check(%s) = %v", ok, err)
		}
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, "{\"a\":\"\xff\"}", `{"a":1e400}`, `{"a":-1e400}`, `{"a":1} {}`, `{a:1}`} {
		if err := Check([]byte(bad)); err == nil {
			t.Errorf("Check(%q) accepted it", bad)
		}
	}
	// More than 32 names: the check moves to a map.
	var b strings.Builder
	b.WriteString("{")
	for i := range 40 {
		b.WriteString(`"k` + strings.Repeat("x", i) + `":1,`)
	}
	b.WriteString(`"kxxx":2}`)
	if err := Check([]byte(b.String())); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("a duplicate after 40 names: %v", err)
	}
}

func TestEachAndStrict(t *testing.T) {
	js := `{ "a" : "b", "k\u0065y" : [1, {"x":null}], "n":1.5 }`
	var got []string
	if err := Each(js, func(name, raw string) error {
		got = append(got, name+"="+raw)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{`a="b"`, `key=[1, {"x":null}]`, `n=1.5`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Each: %q, want %q", got, want)
	}
	got = got[:0]
	if err := Strict([]byte(js), func(name, raw []byte) error {
		got = append(got, string(name)+"="+string(raw))
		return nil
	}); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("Strict: %q, %v", got, err)
	}
	if raw, ok := Find(js, "key"); !ok || raw != `[1, {"x":null}]` {
		t.Errorf("Find(key) = %q, %v", raw, ok)
	}
	if _, ok := Find(js, "missing"); ok {
		t.Error("Find(missing) found it")
	}
	// "" (the zero claims.Set) has no members.
	if err := Each("", func(string, string) error { t.Error("a member in \"\""); return nil }); err != nil {
		t.Error(err)
	}
	if _, ok := Find("", "a"); ok {
		t.Error(`Find("", a) found it`)
	}
}

// Value decodes as json.Unmarshal into an any.
func TestValue(t *testing.T) {
	for _, raw := range []string{`"s"`, `"a\"b\u00e9"`, `true`, `false`, `null`, `-0`, `1.5e3`, `[]`, `["a","b"]`, `["a",1,null]`, `["a\n"]`, `{"o":{"x":[1]}}`} {
		var want any
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatal(err)
		}
		got, err := Value(raw)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Value(%s) = %#v, %v; want %#v", raw, got, err, want)
		}
	}
}

// FuzzCheck: what Check accepts, encoding/json reads as the same object.
func FuzzCheck(f *testing.F) {
	f.Add(`{"a":[1,"x",{"b":null}],"c":"\u00e9"}`)
	f.Add(`{"a":1,"a":2}`)
	f.Fuzz(func(t *testing.T, js string) {
		if Check([]byte(js)) != nil {
			return
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(js), &want); err != nil || want == nil {
			t.Fatalf("Check took %q; encoding/json: %v", js, err)
		}
		got := map[string]any{}
		if err := Each(js, func(name, raw string) error {
			v, err := Value(raw)
			got[name] = v
			return err
		}); err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("Each/Value(%q) = %#v, %v; want %#v", js, got, err, want)
		}
	})
}

// reference is what valid replaces: encoding/json's validity, UTF-8, and
// numbers within float64's range (json.Unmarshal into an any refuses the
// others), and no escaped surrogate alone.
func reference(b []byte) bool {
	var v any
	return utf8.Valid(b) && json.Valid(b) && json.Unmarshal(b, &v) == nil && !jsontest.LoneSurrogate(b)
}

func TestValid(t *testing.T) {
	for _, s := range []string{
		`{}`, `[]`, `""`, `0`, `-0`, `-0.5e-3`, `1E+2`, `true`, `null`, ` {"a" : [ 1 , "x" , {} ] } `,
		`"\u00e9\n\"\\\/\b\f\r\t"`, `"é🐇"`, `"\ud83d\udc07"`, `"\ud800"`, `"\udc00"`, `"\ud800x"`, `"\ud800\u0041"`, `"\ud800\n"`, `"\\ud800"`, `["\ud800",1]`, "\"\x7f\"", `1e308`, `1e309`, `-1e400`, `1e-400`, strings.Repeat("9", 400),
		`01`, `-`, `1.`, `.5`, `1e`, `+1`, `tru`, `nul`, `"\x"`, `"\u12g4"`, "\"\x01\"", "\"\xff\"", "\"\xc3\"", `{"a"}`, `{"a":}`,
		`{"a":1,}`, `[1,]`, `[1 2]`, `{"a":1 "b":2}`, `{1:2}`, `"abc`, `[`, `{`, `{"a":1}}`, ``, ` `, `1 2`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 9999) + strings.Repeat("]", 9999), strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	} {
		if got, want := valid([]byte(s)), reference([]byte(s)); got != want {
			t.Errorf("valid(%.40q) = %t, encoding/json says %t", s, got, want)
		}
	}
}

func TestValidRefusesLoneSurrogates(t *testing.T) {
	for s, want := range map[string]bool{
		`"\ud83d\udc07"`: true, `"\uD83D\uDC07"`: true, `"\\ud800"`: true,
		`"\ud800"`: false, `"\udc00"`: false, `"\ud800\u0041"`: false, `{"sub":"\udfff"}`: false,
	} {
		if got := valid([]byte(s)); got != want {
			t.Errorf("valid(%s) = %t, want %t", s, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	f.Add([]byte(`{"a":[1,"x",{"b":null}],"c":"\u00e9","d":-1.5e3}`))
	f.Add([]byte("\"\xed\xa0\x80\""))
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := valid(b), reference(b); got != want {
			t.Fatalf("valid(%q) = %t, encoding/json says %t", b, got, want)
		}
	})
}
