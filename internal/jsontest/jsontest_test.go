package jsontest

import "testing"

func TestLoneSurrogate(t *testing.T) {
	for s, want := range map[string]bool{
		`"\ud83d\udc07"`: false, `"\\ud800"`: false, `"é"`: false, `{"a":"\u0041"}`: false,
		`"\ud800"`: true, `"\udc00"`: true, `"\ud800\u0041"`: true, `"\ud800x"`: true, `["\uDBFF",1]`: true,
	} {
		if got := LoneSurrogate([]byte(s)); got != want {
			t.Errorf("LoneSurrogate(%s) = %t, want %t", s, got, want)
		}
	}
}
