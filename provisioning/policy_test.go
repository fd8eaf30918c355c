package provisioning

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/ssokit/ssokit/claims"
)

func TestValidate(t *testing.T) {
	good := []Policy{
		{},
		{AllowedDomains: []string{"acme.com"}},
		{AllowedDomains: []string{"acme.com", "eu.acme.com", "acme-group.co.uk", "xn--bcher-kva.example", "a1.io"}},
		{Mode: ModeMatchOnly, EmailTrust: claims.TrustProvider},
		{EmailTrust: claims.TrustNever},
	}
	for _, p := range good {
		if err := p.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v; want nil", p, err)
		}
	}

	bad := []struct {
		p    Policy
		want string // in the message
	}{
		{Policy{Mode: Mode(2)}, "mode"},
		{Policy{Mode: Mode(-1)}, "mode"},
		{Policy{EmailTrust: claims.EmailTrust(3)}, "email trust"},
		{Policy{AllowedDomains: []string{""}}, "empty"},
		{Policy{AllowedDomains: []string{"https://acme.com"}}, "scheme"},
		{Policy{AllowedDomains: []string{"@acme.com"}}, "email address"},
		{Policy{AllowedDomains: []string{"alice@acme.com"}}, "email address"},
		{Policy{AllowedDomains: []string{"*.acme.com"}}, "wildcard"},
		{Policy{AllowedDomains: []string{"Acme.com"}}, `lowercase: "acme.com"`},
		{Policy{AllowedDomains: []string{"acme.com."}}, "trailing dot"},
		{Policy{AllowedDomains: []string{" acme.com"}}, "spaces"},
		{Policy{AllowedDomains: []string{"acme.com\n"}}, "spaces"},
		{Policy{AllowedDomains: []string{"acme.com/"}}, "not allowed"},
		{Policy{AllowedDomains: []string{"acme.com:443"}}, "not allowed"},
		{Policy{AllowedDomains: []string{"ac me.com"}}, "not allowed"},
		{Policy{AllowedDomains: []string{"acme_corp.com"}}, "not allowed"},
		{Policy{AllowedDomains: []string{"acme"}}, "dot"},
		{Policy{AllowedDomains: []string{".acme.com"}}, "label"},
		{Policy{AllowedDomains: []string{"acme..com"}}, "label"},
		{Policy{AllowedDomains: []string{"-acme.com"}}, "hyphen"},
		{Policy{AllowedDomains: []string{"acme-.com"}}, "hyphen"},
		{Policy{AllowedDomains: []string{strings.Repeat("a", 64) + ".com"}}, "label"},
		{Policy{AllowedDomains: []string{strings.Repeat("a.", 127) + "com"}}, "253"},
		{Policy{AllowedDomains: []string{"10.0.0.1"}}, "IP address"},
		{Policy{AllowedDomains: []string{"bücher.example"}}, "punycode"},
		{Policy{AllowedDomains: []string{"аcme.com"}}, "punycode"}, // Cyrillic а
		{Policy{AllowedDomains: []string{"acme.com", "ok.com", "bad..com"}}, "bad..com"},
	}
	for _, tc := range bad {
		err := tc.p.Validate()
		if err == nil {
			t.Errorf("%+v.Validate() = nil; want an error mentioning %q", tc.p, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v.Validate() = %q; want it to mention %q", tc.p, err, tc.want)
		}
	}
}

func TestAllowsEmail(t *testing.T) {
	acme := Policy{AllowedDomains: []string{"acme.com", "eu.acme.com"}}
	tests := []struct {
		name     string
		p        Policy
		email    string
		verified bool
		want     bool
	}{
		{"no list allows anything", Policy{}, "x@anything.io", true, true},
		{"no list allows unverified", Policy{}, "x@anything.io", false, true},
		{"no list allows no email", Policy{}, "", false, true},

		{"exact", acme, "alice@acme.com", true, true},
		{"listed subdomain", acme, "alice@eu.acme.com", true, true},
		{"upper case email", acme, "Alice@ACME.COM", true, true},
		{"mixed case email", acme, "alice@Eu.Acme.Com", true, true},
		{"upper case entry (not validated) still folds", Policy{AllowedDomains: []string{"ACME.com"}}, "a@acme.COM", true, true},

		{"unverified", acme, "alice@acme.com", false, false},
		{"no email", acme, "", true, false},
		{"no email unverified", acme, "", false, false},
		{"unlisted subdomain", acme, "alice@us.acme.com", true, false},
		{"deeper subdomain", acme, "alice@x.eu.acme.com", true, false},
		{"parent of a listed subdomain is listed itself only", Policy{AllowedDomains: []string{"eu.acme.com"}}, "a@acme.com", true, false},
		{"suffix look-alike", acme, "alice@evilacme.com", true, false},
		{"prefix look-alike", acme, "alice@acme.com.evil.io", true, false},
		{"trailing dot", acme, "alice@acme.com.", true, false},
		{"leading dot", acme, "alice@.acme.com", true, false},
		{"other TLD", acme, "alice@acme.co", true, false},
		{"domain in the local part", acme, "acme.com@evil.io", true, false},
		{"quoted local part with @", acme, `"a@acme.com"@evil.io`, true, false},
		{"domain then @", acme, "alice@acme.com@evil.io", true, false},
		{"space", acme, "alice@acme.com ", true, false},
		{"no @", acme, "acme.com", true, false},
		{"empty local part", acme, "@acme.com", true, false},
		{"empty domain", acme, "alice@", true, false},
		{"Cyrillic а look-alike", acme, "alice@аcme.com", true, false},
		{"Kelvin sign does not fold to k", Policy{AllowedDomains: []string{"kacme.com"}}, "a@\u212Aacme.com", true, false},
		{"dotless ı does not fold to i", Policy{AllowedDomains: []string{"ibm.com"}}, "a@\u0131bm.com", true, false},
		{"fullwidth look-alike", acme, "alice@ａｃｍｅ.com", true, false},
		{"punycode is its own domain", acme, "alice@xn--acme-xxa.com", true, false},
		{"punycode entry matches punycode", Policy{AllowedDomains: []string{"xn--bcher-kva.example"}}, "a@XN--BCHER-KVA.example", true, true},
		{"unicode form of a punycode entry", Policy{AllowedDomains: []string{"xn--bcher-kva.example"}}, "a@bücher.example", true, false},
		{"non-ASCII entry matches only byte for byte", Policy{AllowedDomains: []string{"bücher.example"}}, "a@bücher.example", true, true},
		{"non-ASCII entry: no case folding", Policy{AllowedDomains: []string{"bücher.example"}}, "a@BÜCHER.example", true, false},
		{"empty entry matches nothing", Policy{AllowedDomains: []string{""}}, "a@", true, false},
	}
	for _, tc := range tests {
		if got := tc.p.AllowsEmail(tc.email, tc.verified); got != tc.want {
			t.Errorf("%s: AllowsEmail(%q, %v) = %v; want %v", tc.name, tc.email, tc.verified, got, tc.want)
		}
	}
}

func TestSameFold(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"Alice@Acme.com", "alice@acme.COM", true},
		{"kate@acme.com", "\u212Aate@acme.com", false},
		{"ß@acme.com", "ss@acme.com", false},
		{"é@acme.com", "É@acme.com", false},
		{"alice", "alice ", false},
	} {
		if got := sameFold(tc.a, tc.b); got != tc.want {
			t.Errorf("sameFold(%q, %q) = %v; want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestPolicyJSON(t *testing.T) {
	p := Policy{AllowedDomains: []string{"acme.com"}, EmailTrust: claims.TrustProvider, Mode: ModeMatchOnly}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"allowed_domains":["acme.com"],"email_trust":"provider","mode":"match"}`
	if string(b) != want {
		t.Fatalf("json = %s; want %s", b, want)
	}
	var got Policy
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Mode != p.Mode || got.EmailTrust != p.EmailTrust || len(got.AllowedDomains) != 1 {
		t.Fatalf("round trip = %+v; want %+v", got, p)
	}
	// The zero policy reads from an empty object, and unknown modes are
	// refused rather than defaulted.
	got = Policy{Mode: ModeMatchOnly, EmailTrust: claims.TrustNever}
	if err := json.Unmarshal([]byte(`{"email_trust":"","mode":""}`), &got); err != nil || got.Mode != ModeJIT || got.EmailTrust != claims.TrustEmailClaim {
		t.Fatalf("empty strings = %+v, %v; want the defaults", got, err)
	}
	for _, bad := range []string{`{"mode":"auto"}`, `{"email_trust":"always"}`} {
		if err := json.Unmarshal([]byte(bad), &got); err == nil {
			t.Errorf("json.Unmarshal(%s) succeeded; want an error", bad)
		}
	}
	if _, err := json.Marshal(Policy{Mode: Mode(5)}); err == nil {
		t.Error("json.Marshal of an unknown mode succeeded")
	}
	if Mode(5).String() != "Mode(5)" || ModeMatchOnly.String() != "match" || ModeJIT.String() != "jit" {
		t.Error("Mode.String")
	}
}
