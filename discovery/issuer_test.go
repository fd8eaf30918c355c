package discovery

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeIssuer(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // "" means an error wrapping ErrInvalidIssuer
	}{
		// Bare domains, as the admin guides show them.
		{"okta domain", "your-org.okta.com", "https://your-org.okta.com"},
		{"google domain", "accounts.google.com", "https://accounts.google.com"},
		{"auth0 domain", "your-tenant.us.auth0.com", "https://your-tenant.us.auth0.com"},
		{"entra tenant path", "login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0", "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"},
		{"entra common", "login.microsoftonline.com/common/v2.0", "https://login.microsoftonline.com/common/v2.0"},
		{"pingone env path", "auth.pingone.com/0a7af83d-4ed9-4d1a-8b3c-2a0a6f6e2d1c/as", "https://auth.pingone.com/0a7af83d-4ed9-4d1a-8b3c-2a0a6f6e2d1c/as"},
		{"bare domain with port", "idp.example.com:8443/realms/acme", "https://idp.example.com:8443/realms/acme"},
		{"bare localhost gets https", "localhost:8080", "https://localhost:8080"},

		// Issuer URLs.
		{"https url", "https://accounts.google.com", "https://accounts.google.com"},
		{"spaces trimmed", "  https://acme.okta.com \t\n", "https://acme.okta.com"},
		{"scheme and host lowercased", "HTTPS://Acme.OKTA.com/oauth2/Default", "https://acme.okta.com/oauth2/Default"},
		{"path case kept", "https://idp.example.com/Realms/ACME", "https://idp.example.com/Realms/ACME"},
		{"trailing slash kept", "https://oauth.id.jumpcloud.com/", "https://oauth.id.jumpcloud.com/"},
		{"trailing slash on path kept", "https://idp.example.com/tenant/", "https://idp.example.com/tenant/"},
		{"onelogin path", "https://acme.onelogin.com/oidc/2", "https://acme.onelogin.com/oidc/2"},
		{"port kept", "https://idp.example.com:443/x", "https://idp.example.com:443/x"},
		{"percent-encoding kept", "https://idp.example.com/a%2Fb", "https://idp.example.com/a%2Fb"},
		{"ipv4 literal", "https://192.0.2.1/x", "https://192.0.2.1/x"},

		// Well-known URLs.
		{"well-known url", "https://acme.okta.com/.well-known/openid-configuration", "https://acme.okta.com"},
		{"well-known with path", "https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration", "https://login.microsoftonline.com/common/v2.0"},
		{"well-known bare domain", "acme.okta.com/oauth2/default/.well-known/openid-configuration", "https://acme.okta.com/oauth2/default"},
		{"well-known with trailing slash", "https://acme.okta.com/.well-known/openid-configuration/", "https://acme.okta.com"},
		{"well-known after slash issuer", "https://oauth.id.jumpcloud.com//.well-known/openid-configuration", "https://oauth.id.jumpcloud.com/"},

		// http.
		{"http upgraded", "http://acme.okta.com", "https://acme.okta.com"},
		{"HTTP upgraded", "HTTP://acme.okta.com/x", "https://acme.okta.com/x"},
		{"http localhost kept", "http://localhost:8080/realms/dev", "http://localhost:8080/realms/dev"},
		{"http LOCALHOST kept", "http://LOCALHOST:8080", "http://localhost:8080"},
		{"http 127.0.0.1 kept", "http://127.0.0.1:5556/dex", "http://127.0.0.1:5556/dex"},
		{"http 127.x kept", "http://127.8.9.10", "http://127.8.9.10"},
		{"http ipv6 loopback kept", "http://[::1]:9000/", "http://[::1]:9000/"},
		{"bare ipv6 loopback gets https", "[::1]:9000", "https://[::1]:9000"},
		{"http look-alike upgraded", "http://127.0.0.1.evil.com", "https://127.0.0.1.evil.com"},
		{"http localhost look-alike upgraded", "http://localhost.evil.com", "https://localhost.evil.com"},
		{"http other ip upgraded", "http://10.0.0.1", "https://10.0.0.1"},

		// Refused.
		{"empty", "", ""},
		{"spaces only", "   ", ""},
		{"ftp scheme", "ftp://idp.example.com", ""},
		{"javascript scheme", "javascript:alert(1)", ""},
		{"mailto", "mailto:admin@example.com", ""},
		{"file scheme", "file:///etc/passwd", ""},
		{"single-slash scheme", "https:/idp.example.com", ""},
		{"scheme-relative", "//idp.example.com", ""},
		{"query", "https://idp.example.com/?p=B2C_1_signin", ""},
		{"empty query", "https://idp.example.com/?", ""},
		{"fragment", "https://idp.example.com/#x", ""},
		{"user info", "https://user:pw@idp.example.com", ""},
		{"user only", "https://user@idp.example.com", ""},
		{"bare user info", "user:pw@idp.example.com", ""},
		{"empty host", "https:///x", ""},
		{"space in host", "https://idp example.com", ""},
		{"space in path", "https://idp.example.com/a b", ""},
		{"tab inside", "https://idp.example.com/a\tb", ""},
		{"control character", "https://idp.example.com/\x00", ""},
		{"underscore ok but bang not", "https://idp!.example.com", ""},
		{"empty label", "https://idp..example.com", ""},
		{"leading dot", "https://.example.com", ""},
		{"trailing dot", "https://example.com.", ""},
		{"leading hyphen", "https://-idp.example.com", ""},
		{"unicode host", "https://bücher.example", ""},
		{"empty port", "https://idp.example.com:/x", ""},
		{"port zero", "https://idp.example.com:0", ""},
		{"port too big", "https://idp.example.com:70000", ""},
		{"bad ipv6", "https://[::1::2]/", ""},
		{"ipv6 zone", "http://[fe80::1%25eth0]/", ""},
		{"unencoded brace", "https://login.microsoftonline.com/{tenantid}/v2.0", ""},
		{"unicode path", "https://idp.example.com/é", ""},
		{"bad percent", "https://idp.example.com/%zz", ""},
		{"double slash", "https://idp.example.com//x", ""},
		{"double trailing slash", "https://idp.example.com//", ""},
		{"dot segment", "https://idp.example.com/a/../b", ""},
		{"well-known twice", "https://idp.example.com/.well-known/openid-configuration/.well-known/openid-configuration", ""},
		{"oauth metadata url", "https://idp.example.com/.well-known/oauth-authorization-server", ""},
		{"uppercase well-known", "https://idp.example.com/.WELL-KNOWN/openid-configuration", ""},
		{"too long", "https://idp.example.com/" + strings.Repeat("a", 3000), ""},
		{"too long once upgraded", "http://idp.example.com/" + strings.Repeat("a", maxIssuerLen-len("http://idp.example.com/")), ""},
		{"longest", "https://idp.example.com/" + strings.Repeat("a", maxIssuerLen-len("https://idp.example.com/")),
			"https://idp.example.com/" + strings.Repeat("a", maxIssuerLen-len("https://idp.example.com/"))},
		{"well-known URL of the longest", "https://idp.example.com/" + strings.Repeat("a", maxIssuerLen-len("https://idp.example.com/")) + wellKnownPath,
			"https://idp.example.com/" + strings.Repeat("a", maxIssuerLen-len("https://idp.example.com/"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormalizeIssuer(tt.in)
			if tt.want == "" {
				if !errors.Is(err, ErrInvalidIssuer) {
					t.Fatalf("NormalizeIssuer(%q) = %q, %v; want an error wrapping ErrInvalidIssuer", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormalizeIssuer(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if again, err := NormalizeIssuer(got); err != nil || again != got {
				t.Errorf("NormalizeIssuer(%q) = %q, %v; not idempotent", got, again, err)
			}
		})
	}
}

func TestNormalizeIssuerErrorsKeepSecretsOut(t *testing.T) {
	for _, in := range []string{
		"https://admin:hunter2@idp.example.com",
		"admin:hunter2@idp.example.com",
		"https://idp.example.com/cb?code=hunter2",
		"https://idp.example.com/#access_token=hunter2",
		"ftp://admin:hunter2@idp.example.com",
	} {
		_, err := NormalizeIssuer(in)
		if !errors.Is(err, ErrInvalidIssuer) {
			t.Fatalf("NormalizeIssuer(%q) = %v, want ErrInvalidIssuer", in, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("NormalizeIssuer(%q) error %q shows the secret", in, err)
		}
		if !strings.HasPrefix(err.Error(), "discovery: ") {
			t.Errorf("error %q lacks the package prefix", err)
		}
	}
}

func TestWellKnownURL(t *testing.T) {
	tests := []struct {
		issuer, want string
	}{
		{"https://acme.okta.com", "https://acme.okta.com/.well-known/openid-configuration"},
		{"https://oauth.id.jumpcloud.com/", "https://oauth.id.jumpcloud.com/.well-known/openid-configuration"},
		{"https://login.microsoftonline.com/t/v2.0", "https://login.microsoftonline.com/t/v2.0/.well-known/openid-configuration"},
		{"https://idp.example.com/tenant/", "https://idp.example.com/tenant/.well-known/openid-configuration"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/.well-known/openid-configuration"},
	}
	for _, tt := range tests {
		got := WellKnownURL(tt.issuer)
		if got != tt.want {
			t.Errorf("WellKnownURL(%q) = %q, want %q", tt.issuer, got, tt.want)
		}
		if _, rest, _ := strings.Cut(got, "://"); strings.Contains(rest, "//") {
			t.Errorf("WellKnownURL(%q) = %q doubles a slash", tt.issuer, got)
		}
		// Pasting the well-known URL gives the issuer back, up to the
		// trailing slash they share a document for.
		if iss, err := NormalizeIssuer(got); err != nil || WellKnownURL(iss) != got {
			t.Errorf("NormalizeIssuer(%q) = %q, %v; its well-known URL is not %q", got, iss, err, got)
		}
	}
}
