package ssoclient

import (
	"encoding/json"
	"reflect"
	"testing"
)

// claimsMap must decode exactly as json.Unmarshal into a map[string]any.
func TestClaimsMapMatchesUnmarshal(t *testing.T) {
	for _, p := range []string{
		`{}`,
		` { "a" : "b" , "n":1.5e3,"neg":-0,"t":true,"f":false,"z":null } `,
		`{"groups":["a","b", "c" ],"e":[],"mixed":["a",1,null],"esc":["a\"b"]}`,
		`{"o":{"x":[1,{"y":"z"}]},"s":"a\u00e9\n","k\u0065y":"v","u":"é"}`,
		`{"big":1e400}`,
	} {
		var want map[string]any
		werr := json.Unmarshal([]byte(p), &want)
		got, err := (&IDToken{payload: []byte(p)}).claimsMap()
		if (err != nil) != (werr != nil) || (err == nil && !reflect.DeepEqual(got, want)) {
			t.Errorf("%s: got %#v, %v; want %#v, %v", p, got, err, want, werr)
		}
	}
	if _, err := (&IDToken{payload: []byte(`{"a":1,"a":2}`)}).claimsMap(); err == nil {
		t.Error("a duplicate member was accepted")
	}
}
