package ssoclient

import "testing"

// What x/oauth2 would read leniently is refused before it reads it.
func TestCheckTokenJSON(t *testing.T) {
	ok := `{"access_token":"at","token_type":"Bearer","id_token":"a.b.c","expires_in":3600}`
	if err := checkTokenJSON([]byte(ok)); err != nil {
		t.Fatalf("a plain token response: %v", err)
	}
	for name, body := range map[string]string{
		"form encoded":             "access_token=at&token_type=bearer",
		"not an object":            `["access_token"]`,
		"access_token in capitals": `{"ACCESS_TOKEN":"at","token_type":"Bearer"}`,
		"both cases":               `{"access_token":"at","Access_Token":"other"}`,
		"duplicate member":         `{"access_token":"at","access_token":"other"}`,
		"number out of range":      `{"access_token":"at","x":1e700}`,
		"no access_token":          `{"token_type":"Bearer"}`,
		"empty access_token":       `{"access_token":""}`,
		"access_token a number":    `{"access_token":1}`,
		"id_token an object":       `{"access_token":"at","id_token":{}}`,
		"token_type a number":      `{"access_token":"at","token_type":1}`,
		"invalid UTF-8":            "{\"access_token\":\"a\xff\"}",
	} {
		if err := checkTokenJSON([]byte(body)); err == nil {
			t.Errorf("%s: accepted %q", name, body)
		}
	}
}
