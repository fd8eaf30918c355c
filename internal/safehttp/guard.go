package safehttp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// ErrPrivateAddress reports a connection refused by a Guard: the host
// resolved to a loopback, private, link-local or otherwise non-public
// address that is not allowed.
var ErrPrivateAddress = errors.New("address is not public")

// Guard decides which addresses outgoing connections may reach. It is
// applied at dial time, to the address actually dialled after name
// resolution, so DNS names that resolve inward, redirects, and every URL a
// discovery document lists are all covered.
type Guard struct {
	// AllowHosts are host names (as in URLs, compared case-insensitively)
	// that may resolve to any address: internal identity providers.
	AllowHosts []string
	// AllowPrefixes are networks that may be reached although they are not
	// public (10.20.0.0/16 for an internal provider, say).
	AllowPrefixes []netip.Prefix
}

// nonPublic lists special-purpose networks (RFC 6890 and its updates)
// beyond what netip.Addr's predicates cover.
var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and broadcast
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	netip.MustParsePrefix("100::/64"),        // discard-only
}

// IsPublic reports whether a is a global unicast address that is not
// private, loopback, link-local (cloud metadata services live at
// 169.254.169.254) or special-purpose. IPv4 addresses embedded in IPv6
// (mapped, NAT64 64:ff9b::/96, 6to4 2002::/16) are judged by their IPv4
// address.
func IsPublic(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is6() {
		b := a.As16()
		switch {
		case netip.MustParsePrefix("64:ff9b::/96").Contains(a):
			return IsPublic(netip.AddrFrom4([4]byte(b[12:16])))
		case netip.MustParsePrefix("2002::/16").Contains(a):
			return IsPublic(netip.AddrFrom4([4]byte(b[2:6])))
		}
	}
	if !a.IsValid() || !a.IsGlobalUnicast() || a.IsPrivate() || a.IsLoopback() ||
		a.IsLinkLocalUnicast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// allowsHost reports whether host is on the host allow-list.
func (g *Guard) allowsHost(host string) bool {
	host = strings.TrimSuffix(host, ".")
	for _, h := range g.AllowHosts {
		if strings.EqualFold(host, strings.TrimSuffix(h, ".")) {
			return true
		}
	}
	return false
}

// allowsAddr reports whether a may be dialled.
func (g *Guard) allowsAddr(a netip.Addr) bool {
	if IsPublic(a) {
		return true
	}
	a = a.Unmap()
	for _, p := range g.AllowPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Client returns a copy of base whose connections obey g. base's
// transport must be an *http.Transport (nil means
// http.DefaultTransport); it is cloned, so base keeps working as before.
// The copy dials directly: a proxy would hide the address it reaches, so
// any Proxy setting is dropped.
func (g *Guard) Client(base *http.Client) (*http.Client, error) {
	if base == nil {
		base = http.DefaultClient
	}
	rt := base.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, ok := rt.(*http.Transport)
	if !ok {
		return nil, fmt.Errorf("safehttp: cannot guard a %T; give an *http.Transport", rt)
	}
	t = t.Clone()
	t.Proxy = nil
	inner := t.DialContext
	if inner == nil {
		inner = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	}
	t.DialContext = g.dialer(inner)
	t.DialTLSContext = nil
	c := *base
	c.Transport = t
	return &c, nil
}

// dialer wraps dial: an allowed host is dialled as is; any other is
// resolved here and only its allowed addresses are dialled, by IP, so the
// address checked is the address connected to.
func (g *Guard) dialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if g.allowsHost(host) {
			return dial(ctx, network, addr)
		}
		var addrs []netip.Addr
		if a, err := netip.ParseAddr(host); err == nil {
			addrs = []netip.Addr{a}
		} else {
			ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
			if err != nil {
				return nil, err
			}
			addrs = ips
		}
		var firstErr error
		for _, a := range addrs {
			if !g.allowsAddr(a) {
				if firstErr == nil {
					firstErr = &net.OpError{Op: "dial", Net: network, Err: fmt.Errorf("%w: %s resolves to %s", ErrPrivateAddress, host, a)}
				}
				continue
			}
			conn, err := dial(ctx, network, net.JoinHostPort(a.Unmap().String(), port))
			if err == nil {
				return conn, nil
			}
			if firstErr == nil || errors.Is(firstErr, ErrPrivateAddress) {
				firstErr = err
			}
			if ctx.Err() != nil {
				break
			}
		}
		if firstErr == nil {
			firstErr = &net.OpError{Op: "dial", Net: network, Err: syscall.EHOSTUNREACH}
		}
		return nil, firstErr
	}
}
