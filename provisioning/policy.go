package provisioning

import (
	"fmt"

	"github.com/ssokit/ssokit/claims"
)

// Mode says what happens when a verified identity has no account yet.
type Mode int

const (
	// ModeJIT (the default) creates the user on first sign-in
	// (just-in-time provisioning).
	ModeJIT Mode = iota
	// ModeMatchOnly lets in only users who already exist, matched by
	// username or verified email; first-time users are refused with
	// ErrProvisioningDisabled and asked to get an invitation.
	ModeMatchOnly
)

// String returns "jit" or "match".
func (m Mode) String() string {
	switch m {
	case ModeJIT:
		return "jit"
	case ModeMatchOnly:
		return "match"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// MarshalText encodes the mode as String does.
func (m Mode) MarshalText() ([]byte, error) {
	switch m {
	case ModeJIT, ModeMatchOnly:
		return []byte(m.String()), nil
	}
	return nil, fmt.Errorf("provisioning: unknown mode %d", int(m))
}

// UnmarshalText reads "jit" or "match" ("" is jit).
func (m *Mode) UnmarshalText(b []byte) error {
	switch string(b) {
	case "", "jit":
		*m = ModeJIT
	case "match", "match_only":
		*m = ModeMatchOnly
	default:
		return fmt.Errorf("provisioning: unknown mode %q (want jit or match)", b)
	}
	return nil
}

// Policy decides who may sign in through a profile. The zero value lets
// everyone with a verified (or absent) email in and creates their account
// on first sign-in.
type Policy struct {
	// AllowedDomains are the email domains allowed to sign in, matched
	// exactly and case-insensitively: a subdomain needs its own entry.
	// Empty allows every domain.
	AllowedDomains []string `json:"allowed_domains,omitempty"`
	// EmailTrust is how far the provider's email is trusted (seed 002):
	// the email_verified claim (default), the provider, or never.
	EmailTrust claims.EmailTrust `json:"email_trust"`
	// Mode is JIT provisioning (default) or match-only.
	Mode Mode `json:"mode"`
}
