package claims

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
)

// Identity is a person as the identity provider vouched for them, after
// the ID token (and userinfo, when it was needed) was verified.
type Identity struct {
	// Issuer is the provider's issuer identifier, as in the token's iss.
	Issuer string `json:"issuer"`
	// Subject is the stable identifier of the person at Issuer: the sub
	// claim, or Entra ID's oid (see [Mapping.Subject]). (Issuer, Subject)
	// is the key to link a local account to.
	Subject string `json:"subject"`
	// Email is the email claim, or preferred_username when email is absent
	// and the username is an email address (Entra ID's UPNs).
	Email string `json:"email"`
	// EmailVerified tells whether Email may be trusted, under the
	// [EmailTrust] mode in force.
	EmailVerified bool     `json:"email_verified"`
	Username      string   `json:"username"`
	Name          string   `json:"name"`
	Picture       string   `json:"picture,omitempty"`
	Locale        string   `json:"locale,omitempty"`
	Groups        []string `json:"groups,omitempty"`
	// Claims holds every claim received, ID token and userinfo merged
	// (ssoclient leaves out the ID token's nonce, at_hash and c_hash,
	// which bound it to its sign-in and are spent).
	Claims Set `json:"claims"`
}

// LogValue keeps personal data out of logs: only the issuer and subject
// are logged.
func (id *Identity) LogValue() slog.Value {
	if id == nil {
		return slog.StringValue("<nil>")
	}
	return slog.GroupValue(slog.String("issuer", id.Issuer), slog.String("subject", id.Subject))
}

// Mapping names the claim each Identity field is read from. An empty field
// means the standard claim. A name is first looked up as a whole; if there
// is no such claim and the name has dots, it is followed as a path into
// nested objects ("realm_access.roles" in Keycloak).
type Mapping struct {
	// Subject is the claim of the stable subject. Empty means "sub", or
	// "oid" when the issuer is Microsoft Entra ID, whose sub differs per
	// application while oid is the same person everywhere in the tenant.
	Subject       string `json:"subject,omitempty"`
	Email         string `json:"email,omitempty"`          // default "email"
	EmailVerified string `json:"email_verified,omitempty"` // default "email_verified"
	Username      string `json:"username,omitempty"`       // default "preferred_username"
	Name          string `json:"name,omitempty"`           // default "name"
	Picture       string `json:"picture,omitempty"`        // default "picture"
	Locale        string `json:"locale,omitempty"`         // default "locale"
	Groups        string `json:"groups,omitempty"`         // default "groups"
}

// Missing reports which of the profile fields (email, username, name) have
// no claim in c, so a caller knows to ask userinfo for them.
func (m Mapping) Missing(c Set) []string {
	names := [3]string{or(m.Email, "email"), or(m.Username, "preferred_username"), or(m.Name, "name")}
	var p picked
	p.scan(c, names[:]...)
	var out []string
	for _, name := range names {
		if _, ok := lookup(&p, name); !ok {
			out = append(out, name)
		}
	}
	return out
}

// EmailTrust says how far an email from the provider is trusted (seed
// 002's email trust modes). The zero value is the default.
type EmailTrust int

const (
	// TrustEmailClaim trusts the email only when email_verified is true;
	// an email_verified of false refuses the sign-in with
	// ErrEmailNotVerified. An absent claim leaves the email unverified.
	TrustEmailClaim EmailTrust = iota
	// TrustProvider trusts every email the provider sends: for enterprise
	// providers whose directory the organisation controls.
	TrustProvider
	// TrustNever never trusts the provider's email; the application
	// verifies it itself.
	TrustNever
)

// String returns "claim", "provider" or "never".
func (t EmailTrust) String() string {
	switch t {
	case TrustEmailClaim:
		return "claim"
	case TrustProvider:
		return "provider"
	case TrustNever:
		return "never"
	}
	return "EmailTrust(" + strconv.Itoa(int(t)) + ")"
}

// MarshalText encodes the mode as String does: "claim", "provider" or
// "never". An unknown mode is an error, so a bad value is never stored.
func (t EmailTrust) MarshalText() ([]byte, error) {
	switch t {
	case TrustEmailClaim, TrustProvider, TrustNever:
		return []byte(t.String()), nil
	}
	return nil, fmt.Errorf("claims: unknown EmailTrust %d", int(t))
}

// UnmarshalText reads "claim" (also "", the default), "provider" or
// "never". Anything else is an error rather than a silent default, since
// the mode decides whether emails are trusted.
func (t *EmailTrust) UnmarshalText(b []byte) error {
	switch string(b) {
	case "", "claim":
		*t = TrustEmailClaim
	case "provider":
		*t = TrustProvider
	case "never":
		*t = TrustNever
	default:
		return fmt.Errorf("claims: unknown email trust mode %q (want claim, provider or never)", b)
	}
	return nil
}

var (
	// ErrNoSubject reports claims without the subject claim, or with one
	// that is not a non-empty string.
	ErrNoSubject = errors.New("claims: no subject")
	// ErrEmailNotVerified reports email_verified false under
	// TrustEmailClaim.
	ErrEmailNotVerified = errors.New("claims: the provider says the email address is not verified")
)

// SubjectClaim is the claim Identity.Subject is read from for issuer:
// m.Subject, or else "oid" for Entra ID and "sub" for everyone else.
func (m Mapping) SubjectClaim(issuer string) string {
	switch {
	case m.Subject != "":
		return m.Subject
	case IsEntra(issuer):
		return "oid"
	}
	return "sub"
}

// Map turns verified claims into an Identity. issuer is the token's iss.
// The Identity keeps c as its Claims; its string fields share c's memory
// where the claims need no unescaping.
func Map(issuer string, c Set, m Mapping, trust EmailTrust) (*Identity, error) {
	subClaim := m.SubjectClaim(issuer)
	evClaim := or(m.EmailVerified, "email_verified")
	var src picked
	src.scan(c, subClaim, or(m.Email, "email"), or(m.Username, "preferred_username"), or(m.Name, "name"),
		or(m.Picture, "picture"), or(m.Locale, "locale"), or(m.Groups, "groups"), evClaim)
	sub := str(&src, subClaim)
	if sub == "" {
		if subClaim == "oid" {
			return nil, fmt.Errorf("%w: Entra ID sent no oid claim (request the profile scope)", ErrNoSubject)
		}
		return nil, fmt.Errorf("%w: claim %q is missing or empty", ErrNoSubject, subClaim)
	}
	id := &Identity{
		Issuer:   issuer,
		Subject:  sub,
		Email:    str(&src, or(m.Email, "email")),
		Username: str(&src, or(m.Username, "preferred_username")),
		Name:     str(&src, or(m.Name, "name")),
		Picture:  str(&src, or(m.Picture, "picture")),
		Locale:   str(&src, or(m.Locale, "locale")),
		Groups:   strs(&src, or(m.Groups, "groups")),
		Claims:   c,
	}
	verified, stated := verifiedIn(&src, evClaim)
	if id.Email == "" && LooksLikeEmail(id.Username) {
		// Entra ID may omit email and put the UPN in preferred_username.
		// A verification claim is about the email claim, so a borrowed
		// username is never verified by it.
		id.Email, verified, stated = id.Username, false, false
	}
	switch trust {
	case TrustEmailClaim:
		if stated && !verified && id.Email != "" {
			return nil, ErrEmailNotVerified
		}
		id.EmailVerified = verified && id.Email != ""
	case TrustProvider:
		id.EmailVerified = id.Email != ""
	case TrustNever:
		id.EmailVerified = false
	default:
		return nil, fmt.Errorf("claims: unknown EmailTrust %d", trust)
	}
	return id, nil
}

// Verified reads a verification claim such as email_verified, which
// providers send as a JSON boolean or as the strings "true"/"false"
// (Amazon Cognito). stated is false when the claim is absent or has any
// other form.
func Verified(c Set, name string) (verified, stated bool) {
	var p picked
	p.scan(c, name)
	return verifiedIn(&p, name)
}

// IsEntra reports whether issuer is Microsoft Entra ID's (v2
// login.microsoftonline.com or v1 sts.windows.net).
func IsEntra(issuer string) bool {
	rest, ok := strings.CutPrefix(issuer, "https://")
	if !ok {
		return false
	}
	host, _, _ := strings.Cut(rest, "/")
	host = strings.ToLower(host)
	return host == "login.microsoftonline.com" || host == "sts.windows.net"
}

// LooksLikeEmail reports whether s has the shape local@domain.tld, enough
// to use a username as an email address; it is not a full RFC 5322 parse.
func LooksLikeEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	dot := strings.LastIndexByte(domain, '.')
	return dot > 0 && dot < len(domain)-1
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
