package discovery

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/ssokit/ssokit/internal/safehttp"
)

// wellKnownPath is what OpenID Connect Discovery 1.0 §4 appends to an
// issuer to find its provider configuration.
const wellKnownPath = "/.well-known/openid-configuration"

// maxIssuerLen bounds the input NormalizeIssuer accepts; issuers are short.
const maxIssuerLen = 2048

// NormalizeIssuer turns what an administrator pastes into an issuer URL.
// It accepts:
//
//   - a bare domain, with or without a path: "your-org.okta.com",
//     "login.microsoftonline.com/{tenant-id}/v2.0",
//     "auth.pingone.com/{environment-id}/as";
//   - an issuer URL: "https://accounts.google.com";
//   - the discovery URL: "https://your-org.okta.com/.well-known/openid-configuration".
//
// It trims surrounding spaces, strips the well-known suffix, adds https://
// when no scheme is given, upgrades http:// to https:// unless the host is a
// loopback host (localhost, 127.0.0.0/8, ::1, which may stay http for
// development), and lowercases the scheme and host. The path is kept
// exactly: its case and a trailing slash are significant, because an ID
// token's iss must equal the issuer string.
//
// It refuses other schemes, user info, a query or fragment, an empty or
// malformed host, spaces and control characters, characters in the path
// that must be percent-encoded, and empty or dot path segments. Every error
// wraps [ErrInvalidIssuer].
func NormalizeIssuer(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("%w: empty; enter the issuer URL or domain of your identity provider", ErrInvalidIssuer)
	}
	// The well-known URL of the longest issuer is longer by its suffix.
	if len(s) > maxIssuerLen+len(wellKnownPath)+1 {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidIssuer, maxIssuerLen)
	}
	if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", invalidIssuer(s, "contains spaces or control characters")
	}
	if strings.ContainsAny(s, "?#") {
		return "", invalidIssuer(s, "has a query or fragment; an issuer has neither")
	}

	scheme, rest, hasScheme := strings.Cut(s, "://")
	if hasScheme {
		switch strings.ToLower(scheme) {
		case "https":
			scheme = "https"
		case "http":
			scheme = "http"
		default:
			return "", invalidIssuer(s, "scheme must be https (or http for a loopback host)")
		}
	} else {
		scheme, rest = "https", s
		// "host:port" is a bare domain; "mailto:x", "https:/x" or
		// "javascript:x" is not, and must not become a host named
		// "mailto".
		authority, _, _ := strings.Cut(rest, "/")
		if _, port, ok := strings.Cut(authority, ":"); ok && !strings.HasPrefix(authority, "[") && (port == "" || port[0] < '0' || port[0] > '9') {
			return "", invalidIssuer(s, "is neither a domain nor an https URL")
		}
	}

	u, err := url.Parse(scheme + "://" + rest)
	if err != nil {
		return "", invalidIssuer(s, "is not a URL")
	}
	if u.User != nil {
		// Not echoed: user info may hold a password.
		return "", fmt.Errorf("%w: must not contain user info (user@ or user:password@)", ErrInvalidIssuer)
	}
	if err := checkHost(u); err != nil {
		return "", invalidIssuer(s, err.Error())
	}

	path := ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		path = rest[i:]
	}
	if path != u.EscapedPath() {
		return "", invalidIssuer(s, "path has characters that must be percent-encoded")
	}
	if p, ok := strings.CutSuffix(path, wellKnownPath); ok {
		path = p
	} else if p, ok := strings.CutSuffix(path, wellKnownPath+"/"); ok {
		path = p
	}
	if err := checkPath(path); err != nil {
		return "", invalidIssuer(s, err.Error())
	}

	if scheme == "http" && !safehttp.IsLoopbackHost(u.Hostname()) {
		scheme = "https"
	}
	iss := scheme + "://" + strings.ToLower(u.Host) + path
	if len(iss) > maxIssuerLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidIssuer, maxIssuerLen)
	}
	return iss, nil
}

// invalidIssuer names the input in the error, without its query and
// fragment, and not at all when it may hold user info (a password).
func invalidIssuer(input, reason string) error {
	if strings.Contains(input, "@") {
		return fmt.Errorf("%w: %s", ErrInvalidIssuer, reason)
	}
	return fmt.Errorf("%w %q: %s", ErrInvalidIssuer, safehttp.Redact(input), reason)
}

// checkHost accepts a DNS name or an IP literal, with an optional port.
func checkHost(u *url.URL) error {
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return fmt.Errorf("has no host")
	}
	if strings.HasSuffix(u.Host, ":") {
		return fmt.Errorf("has an empty port")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("has an invalid port")
		}
	}
	if strings.HasPrefix(u.Host, "[") {
		if ip := net.ParseIP(host); ip == nil || !strings.Contains(host, ":") {
			return fmt.Errorf("has an invalid IPv6 address")
		}
		return nil
	}
	if net.ParseIP(host) != nil {
		return nil
	}
	if len(host) > 253 {
		return fmt.Errorf("has a host name longer than 253 characters")
	}
	for label := range strings.SplitSeq(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return fmt.Errorf("has an invalid host name")
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("has invalid characters in its host name")
			}
		}
	}
	return nil
}

// checkPath refuses paths no issuer has: empty or dot segments (which
// clients and servers may rewrite), or a .well-known segment left after
// stripping the suffix.
func checkPath(path string) error {
	if path == "" || path == "/" {
		return nil
	}
	for seg := range strings.SplitSeq(strings.TrimSuffix(path[1:], "/"), "/") {
		switch seg {
		case "":
			return fmt.Errorf("path has an empty segment (//)")
		case ".", "..":
			return fmt.Errorf("path has a dot segment")
		default:
			if strings.EqualFold(seg, ".well-known") {
				return fmt.Errorf("path has a .well-known segment; enter the issuer or its discovery URL")
			}
		}
	}
	return nil
}

// WellKnownURL returns where issuer publishes its provider configuration
// (OpenID Connect Discovery 1.0 §4): issuer with one trailing slash
// removed, then "/.well-known/openid-configuration". So both
// "https://oauth.id.jumpcloud.com/" and "https://oauth.id.jumpcloud.com"
// give "https://oauth.id.jumpcloud.com/.well-known/openid-configuration".
// issuer should be normalised (see [NormalizeIssuer]).
func WellKnownURL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + wellKnownPath
}
