package ssoclient

import "testing"

// The token response is read strictly: what a lenient reader (x/oauth2,
// encoding/json) would take is refused.
func TestParseTokenResponse(t *testing.T) {
	for name, tc := range map[string]struct {
		body string
		want tokenResponse
	}{
		"plain":                  {`{"access_token":"at","token_type":"Bearer","id_token":"a.b.c","expires_in":3600,"refresh_token":"rt"}`, tokenResponse{AccessToken: "at", TokenType: "Bearer", IDToken: "a.b.c", ExpiresIn: 3600, RefreshToken: "rt"}},
		"bearer in lower case":   {`{"access_token":"at","token_type":"bearer"}`, tokenResponse{AccessToken: "at", TokenType: "bearer"}},
		"no token_type":          {`{"access_token":"at"}`, tokenResponse{AccessToken: "at", TokenType: "Bearer"}},
		"expires_in as a string": {`{"access_token":"at","expires_in":"60"}`, tokenResponse{AccessToken: "at", TokenType: "Bearer", ExpiresIn: 60}},
		"expires_in null":        {`{"access_token":"at","expires_in":null}`, tokenResponse{AccessToken: "at", TokenType: "Bearer"}},
		"refresh_token null":     {`{"access_token":"at","refresh_token":null}`, tokenResponse{AccessToken: "at", TokenType: "Bearer"}},
		"escaped string":         {`{"access_token":"a\u0074","scope":"openid","ext":{"x":[1]}}`, tokenResponse{AccessToken: "at", TokenType: "Bearer"}},
	} {
		got, err := parseTokenResponse([]byte(tc.body))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if *got != tc.want {
			t.Errorf("%s: %+v; want %+v", name, *got, tc.want)
		}
	}
	for name, body := range map[string]string{
		"empty":                    "",
		"form encoded":             "access_token=at&token_type=bearer",
		"not an object":            `["access_token"]`,
		"null":                     `null`,
		"access_token in capitals": `{"ACCESS_TOKEN":"at","token_type":"Bearer"}`,
		"both cases":               `{"access_token":"at","Access_Token":"other"}`,
		// encoding/json folds the Kelvin sign to k and the long s to s:
		// it would read these as token_type and access_token.
		"Kelvin sign in token_type": `{"access_token":"at","to\u212aen_type":"mac"}`,
		"long s in access_token":    "{\"access_token\":\"at\",\"acce\u017f\u017f_token\":\"evil\"}",
		"duplicate member":          `{"access_token":"at","access_token":"other"}`,
		"number out of range":       `{"access_token":"at","x":1e700}`,
		"no access_token":           `{"token_type":"Bearer"}`,
		"empty access_token":        `{"access_token":""}`,
		"null access_token":         `{"access_token":null}`,
		"access_token a number":     `{"access_token":1}`,
		"id_token an object":        `{"access_token":"at","id_token":{}}`,
		"token_type a number":       `{"access_token":"at","token_type":1}`,
		"token_type mac":            `{"access_token":"at","token_type":"mac"}`,
		"refresh_token a number":    `{"access_token":"at","refresh_token":5}`,
		"negative expires_in":       `{"access_token":"at","expires_in":-1}`,
		"fractional expires_in":     `{"access_token":"at","expires_in":1.5}`,
		"huge expires_in":           `{"access_token":"at","expires_in":1e12}`,
		"expires_in not a number":   `{"access_token":"at","expires_in":"soon"}`,
		"expires_in an object":      `{"access_token":"at","expires_in":{}}`,
		"invalid UTF-8":             "{\"access_token\":\"a\xff\"}",
		"trailing data":             `{"access_token":"at"} {}`,
	} {
		if tok, err := parseTokenResponse([]byte(body)); err == nil {
			t.Errorf("%s: accepted %q as %+v", name, body, *tok)
		}
	}
}
