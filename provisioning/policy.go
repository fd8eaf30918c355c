package provisioning

import (
	"errors"
	"fmt"
	"strings"

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
	// exactly and case-insensitively: a subdomain needs its own entry
	// ("eu.acme.com" is not allowed by "acme.com"). Entries are lowercase
	// ASCII hostnames with at least one dot: no scheme, "@", port, path,
	// wildcard or trailing dot; an internationalised domain is written
	// in its ASCII (punycode, "xn--") form. Empty allows every domain.
	//
	// When the list is not empty, only a verified email may pass it: an
	// identity with no email, or with one the provider does not vouch for
	// (see EmailTrust), is refused with ErrDomainNotAllowed, since
	// anybody can type any address into an unverified field.
	AllowedDomains []string `json:"allowed_domains,omitempty"`
	// EmailTrust is how far the provider's email is trusted (seed 002):
	// the email_verified claim (default), the provider, or never. It takes
	// effect when the claims are mapped: the caller passes it to
	// claims.Map, which sets Identity.EmailVerified accordingly, and the
	// Provisioner reads only Identity.EmailVerified.
	EmailTrust claims.EmailTrust `json:"email_trust"`
	// Mode is JIT provisioning (default) or match-only.
	Mode Mode `json:"mode"`
}

// Validate reports the first thing wrong with the policy: an unknown Mode
// or EmailTrust, or an AllowedDomains entry that is not a lowercase ASCII
// hostname (see AllowedDomains). It is strict so that a typo in an
// administrator's setting is a configuration error, not a domain that
// silently never (or, worse, always) matches.
func (p Policy) Validate() error {
	switch p.Mode {
	case ModeJIT, ModeMatchOnly:
	default:
		return fmt.Errorf("provisioning: unknown mode %d", int(p.Mode))
	}
	switch p.EmailTrust {
	case claims.TrustEmailClaim, claims.TrustProvider, claims.TrustNever:
	default:
		return fmt.Errorf("provisioning: unknown email trust mode %d", int(p.EmailTrust))
	}
	for _, d := range p.AllowedDomains {
		if err := checkDomain(d); err != nil {
			return fmt.Errorf("provisioning: allowed domain %q: %w", d, err)
		}
	}
	return nil
}

// checkDomain reports why d is not a lowercase ASCII hostname.
func checkDomain(d string) error {
	switch {
	case d == "":
		return errors.New("empty")
	case strings.Contains(d, "://"):
		return errors.New("a domain, not a URL: leave out the scheme")
	case strings.Contains(d, "@"):
		return errors.New("a domain, not an email address: leave out the part up to @")
	case strings.Contains(d, "*"):
		return errors.New("wildcards are not supported: list each domain, subdomains included")
	case strings.TrimSpace(d) != d:
		return errors.New("surrounding spaces")
	case strings.HasSuffix(d, "."):
		return errors.New("no trailing dot")
	case len(d) > 253:
		return errors.New("longer than 253 characters")
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		switch {
		case c >= 0x80:
			return errors.New("not ASCII: write an internationalised domain in its punycode (xn--) form")
		case 'A' <= c && c <= 'Z':
			return fmt.Errorf("write it in lowercase: %q", asciiLower(d))
		}
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return errors.New("not a domain name with a dot, such as example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return errors.New("empty or over-long label")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return errors.New("a label starts or ends with a hyphen")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return fmt.Errorf("%q is not allowed in a hostname", c)
			}
		}
	}
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" {
		return errors.New("an IP address, not a domain")
	}
	return nil
}

// AllowsEmail reports whether an identity whose email is email, verified
// or not, passes the AllowedDomains check. With no AllowedDomains every
// identity passes. Otherwise the email must be verified and its domain,
// everything after the last "@", must equal an entry exactly, letter case
// of ASCII letters aside:
//
//   - a subdomain ("eu.acme.com") needs its own entry;
//   - look-alikes never match: "evilacme.com", "acme.com.evil.io", and
//     "acme.com." with a trailing dot are all different domains;
//   - only ASCII letters are case-folded, so "ACME.com" matches acme.com
//     but the Kelvin sign or other Unicode characters never fold into an
//     ASCII entry; a domain with non-ASCII characters matches only an
//     entry identical byte for byte (which Validate does not accept, so
//     with a valid policy such emails are refused: an internationalised
//     domain must reach us in punycode).
//
// It fails closed: an email with no "@", an empty local part or an empty
// domain is refused.
func (p Policy) AllowsEmail(email string, verified bool) bool {
	if len(p.AllowedDomains) == 0 {
		return true
	}
	if !verified {
		return false
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return false
	}
	domain := email[at+1:]
	ascii := isASCII(domain)
	for _, allowed := range p.AllowedDomains {
		if allowed == "" {
			continue
		}
		if ascii && isASCII(allowed) {
			if asciiLower(domain) == asciiLower(allowed) {
				return true
			}
		} else if domain == allowed {
			return true
		}
	}
	return false
}

// emailDomain returns the part of email after its last "@", or "".
func emailDomain(email string) string {
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		return email[at+1:]
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// asciiLower lowercases ASCII letters only. strings.ToLower and
// strings.EqualFold also fold Unicode (the Kelvin sign K becomes k), which
// would let a look-alike address compare equal to a real one.
func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// sameFold reports whether a and b are equal with ASCII letter case
// ignored; other characters must be identical.
func sameFold(a, b string) bool {
	return len(a) == len(b) && asciiLower(a) == asciiLower(b)
}
