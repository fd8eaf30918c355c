package claims

import (
	"encoding/json"
	"testing"
)

func TestEmailTrustText(t *testing.T) {
	for _, tc := range []struct {
		trust EmailTrust
		text  string
	}{
		{TrustEmailClaim, "claim"},
		{TrustProvider, "provider"},
		{TrustNever, "never"},
	} {
		b, err := tc.trust.MarshalText()
		if err != nil || string(b) != tc.text {
			t.Errorf("%d.MarshalText() = %q, %v; want %q", int(tc.trust), b, err, tc.text)
		}
		var got EmailTrust = 99
		if err := got.UnmarshalText([]byte(tc.text)); err != nil || got != tc.trust {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", tc.text, got, err, tc.trust)
		}
	}

	// "" is the default.
	got := TrustNever
	if err := got.UnmarshalText(nil); err != nil || got != TrustEmailClaim {
		t.Errorf(`UnmarshalText("") = %v, %v; want claim`, got, err)
	}

	// Unknown values are errors in both directions, and leave the value.
	if b, err := EmailTrust(7).MarshalText(); err == nil {
		t.Errorf("EmailTrust(7).MarshalText() = %q, nil; want an error", b)
	}
	for _, bad := range []string{"Claim", "PROVIDER", "always", "0", " never", "true"} {
		got := TrustProvider
		if err := got.UnmarshalText([]byte(bad)); err == nil {
			t.Errorf("UnmarshalText(%q) = nil error; want one", bad)
		}
		if got != TrustProvider {
			t.Errorf("UnmarshalText(%q) changed the value to %v", bad, got)
		}
	}

	// In JSON it is a string, and round-trips inside a struct.
	type cfg struct {
		Trust EmailTrust `json:"email_trust"`
	}
	b, err := json.Marshal(cfg{TrustNever})
	if err != nil || string(b) != `{"email_trust":"never"}` {
		t.Fatalf("json.Marshal = %s, %v", b, err)
	}
	var c cfg
	if err := json.Unmarshal([]byte(`{"email_trust":"provider"}`), &c); err != nil || c.Trust != TrustProvider {
		t.Fatalf("json.Unmarshal = %+v, %v", c, err)
	}
	if err := json.Unmarshal([]byte(`{"email_trust":"sometimes"}`), &c); err == nil {
		t.Fatal("json.Unmarshal of an unknown mode succeeded")
	}
	if _, err := json.Marshal(cfg{EmailTrust(-1)}); err == nil {
		t.Fatal("json.Marshal of an unknown mode succeeded")
	}
}
