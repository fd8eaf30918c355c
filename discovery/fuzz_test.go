package discovery

import (
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/internal/safehttp"
)

func FuzzParseDocument(f *testing.F) {
	const iss = "https://idp.example.com"
	add := func(issuer string, doc map[string]any) {
		b, err := json.Marshal(doc)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, issuer)
	}
	add(iss, validDoc(iss, iss))
	add(iss, validDoc(iss+"/", iss))
	add(iss+"/", validDoc(iss, iss))
	add("https://login.microsoftonline.com/common/v2.0", validDoc(entraTemplate, "https://login.microsoftonline.com/common"))
	add("https://login.microsoftonline.com/organizations", validDoc(entraTemplate, "https://login.microsoftonline.com/organizations"))
	add("http://127.0.0.1:8080", validDoc("http://127.0.0.1:8080", "http://127.0.0.1:8080"))
	add(iss, validDoc("https://evil.example.com", iss))
	add(iss, validDoc(iss, "http://idp.example.com"))
	minimal := map[string]any{"issuer": iss, "authorization_endpoint": iss + "/a", "token_endpoint": iss + "/t", "jwks_uri": iss + "/k"}
	add(iss, minimal)
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `"x"`, `{"issuer":1}`, `{"issuer":null}`, `<html>`,
		`{"issuer":"https://idp.example.com","issuer":"https://evil.example.com"}`,
		`{"ISSUER":"https://idp.example.com"}`,
		`{"response_types_supported":[null]}`,
		`{"authorization_response_iss_parameter_supported":"yes"}`,
		"{\"issuer\":\"https://idp.example.com\xff\"}",
	} {
		f.Add([]byte(s), iss)
	}
	f.Fuzz(func(t *testing.T, body []byte, issuer string) {
		iss, err := NormalizeIssuer(issuer)
		if err != nil {
			return
		}
		m, err := parseDocument(body, iss)
		if err != nil {
			if m != nil {
				t.Fatalf("metadata with an error")
			}
			if n := sentinels(err); n != 1 || !(errors.Is(err, ErrInvalidDocument) || errors.Is(err, ErrIssuerMismatch)) {
				t.Fatalf("error %v wraps %d package errors", err, n)
			}
			if len(err.Error()) > 2*maxStringLen+500 {
				t.Fatalf("error of %d bytes", len(err.Error()))
			}
			return
		}
		checkAccepted(t, m, iss)

		// What is accepted marshals to a document that is accepted too.
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		again, err := parseDocument(b, iss)
		if err != nil {
			t.Fatalf("the marshalled metadata %s is refused: %v", b, err)
		}
		if again.Issuer != m.Issuer || again.JWKSURI != m.JWKSURI {
			t.Fatalf("round trip changed the metadata")
		}
		var raw map[string]any
		if err := m.Decode(&raw); err != nil {
			t.Fatalf("Decode = %v", err)
		}
	})
}

// checkAccepted asserts what an accepted document for the normalised
// issuer iss guarantees, independently of how validation is written.
func checkAccepted(t *testing.T, m *Metadata, iss string) {
	t.Helper()
	switch {
	case m.Issuer == iss:
	case m.Issuer == entraTemplate:
		if iss != "https://login.microsoftonline.com/common/v2.0" && iss != "https://login.microsoftonline.com/organizations/v2.0" {
			t.Fatalf("template issuer accepted for %q", iss)
		}
	default:
		t.Fatalf("issuer %q accepted for %q", m.Issuer, iss)
	}
	for name, e := range map[string]string{
		"authorization_endpoint": m.AuthorizationEndpoint,
		"token_endpoint":         m.TokenEndpoint,
		"jwks_uri":               m.JWKSURI,
		"userinfo_endpoint":      m.UserinfoEndpoint,
		"end_session_endpoint":   m.EndSessionEndpoint,
	} {
		if e == "" && (name == "userinfo_endpoint" || name == "end_session_endpoint") {
			continue
		}
		if _, err := safehttp.CheckURL(e); err != nil {
			t.Fatalf("%s %q accepted: %v", name, e, err)
		}
	}
	if m.ResponseTypesSupported != nil && !slices.Contains(m.ResponseTypesSupported, "code") {
		t.Fatalf("response types %q accepted", m.ResponseTypesSupported)
	}
	if m.IDTokenSigningAlgValuesSupported != nil && !slices.Contains(m.IDTokenSigningAlgValuesSupported, "RS256") {
		t.Fatalf("signing algorithms %q accepted", m.IDTokenSigningAlgValuesSupported)
	}
}

func FuzzNormalizeIssuer(f *testing.F) {
	for _, s := range []string{
		"your-org.okta.com",
		"login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0",
		"auth.pingone.com/env/as",
		"https://oauth.id.jumpcloud.com/",
		"https://acme.okta.com/.well-known/openid-configuration",
		"https://acme.okta.com/.well-known/openid-configuration/",
		"https://x//.well-known/openid-configuration",
		"HTTP://LOCALHOST:8080/Realms/Dev",
		"http://[::1]:9000/",
		"[::1]",
		"http://127.0.0.1.evil.com",
		"localhost:8080",
		"mailto:a@b",
		"javascript:alert(1)",
		"https://u:p@x.com",
		"https://x.com/?a#b",
		"https://x.com/a%2Fb",
		"https://x.com/%zz",
		"https://x.com:0",
		"https://x..com",
		" \t https://x.com \n",
		"https://x.com/a/../b",
		"https://ex%C3%A4mple.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeIssuer(in)
		DetectVendor(in) // must not panic
		if err != nil {
			if !errors.Is(err, ErrInvalidIssuer) {
				t.Fatalf("NormalizeIssuer(%q) = %v, not ErrInvalidIssuer", in, err)
			}
			return
		}
		again, err := NormalizeIssuer(out)
		if err != nil || again != out {
			t.Fatalf("NormalizeIssuer(%q) = %q; again = %q, %v", in, out, again, err)
		}
		if strings.ContainsAny(out, "?# \t\r\n") {
			t.Fatalf("NormalizeIssuer(%q) = %q has a query, fragment or space", in, out)
		}
		u, err := url.Parse(out)
		if err != nil || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Host == "" {
			t.Fatalf("NormalizeIssuer(%q) = %q parses as %#v, %v", in, out, u, err)
		}
		if u.Host != strings.ToLower(u.Host) {
			t.Fatalf("NormalizeIssuer(%q) = %q has an uppercase host", in, out)
		}
		if _, err := safehttp.CheckURL(WellKnownURL(out)); err != nil {
			t.Fatalf("WellKnownURL(%q) is refused: %v", out, err)
		}
		if WellKnownURL(out) != WellKnownURL(strings.TrimSuffix(out, "/")) {
			t.Fatalf("WellKnownURL differs with the trailing slash of %q", out)
		}
		if _, rest, _ := strings.Cut(WellKnownURL(out), "://"); strings.Contains(rest, "//") {
			t.Fatalf("WellKnownURL(%q) = %q doubles a slash", out, WellKnownURL(out))
		}
		if u.Scheme != "https" && !(u.Scheme == "http" && safehttp.IsLoopbackHost(u.Hostname())) {
			t.Fatalf("NormalizeIssuer(%q) = %q is neither https nor loopback http", in, out)
		}
		// Pasting the well-known URL gives the issuer back, but for the
		// trailing slash the two forms share.
		if back, err := NormalizeIssuer(WellKnownURL(out)); err != nil || back != strings.TrimSuffix(out, "/") && back != out {
			t.Fatalf("NormalizeIssuer(WellKnownURL(%q)) = %q, %v", out, back, err)
		}
	})
}
