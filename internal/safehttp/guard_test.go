package safehttp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"testing"
)

func TestIsPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"8.8.8.8":              true,
		"1.1.1.1":              true,
		"2606:4700:4700::1111": true,
		"127.0.0.1":            false,
		"127.8.9.10":           false,
		"::1":                  false,
		"10.1.2.3":             false,
		"172.16.0.1":           false,
		"192.168.1.1":          false,
		"169.254.169.254":      false, // cloud metadata
		"fe80::1":              false,
		"fc00::1":              false,
		"fd12:3456::1":         false,
		"0.0.0.0":              false,
		"::":                   false,
		"100.64.0.1":           false,
		"224.0.0.1":            false,
		"255.255.255.255":      false,
		"198.18.0.1":           false,
		"::ffff:127.0.0.1":     false, // IPv4-mapped loopback
		"::ffff:8.8.8.8":       true,
		"64:ff9b::a9fe:a9fe":   false, // NAT64 of 169.254.169.254
		"64:ff9b::808:808":     true,
		"2002:7f00:1::1":       false, // 6to4 of 127.0.0.1
		"2002:c0a8:101::1":     false, // 6to4 of 192.168.1.1
		"2001:db8::1":          false,
	} {
		if got := IsPublic(netip.MustParseAddr(addr)); got != want {
			t.Errorf("IsPublic(%s) = %v; want %v", addr, got, want)
		}
	}
}

func guardedGet(t *testing.T, g *Guard, url string) error {
	t.Helper()
	c, err := g.Client(nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Get(context.Background(), c, url, Limits{})
	return err
}

func TestGuardRefusesPrivateAddresses(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':'):]

	// By IP and by a name that resolves to loopback.
	for _, u := range []string{srv.URL, "http://localhost" + port} {
		if err := guardedGet(t, &Guard{}, u); !errors.Is(err, ErrPrivateAddress) {
			t.Errorf("GET %s: %v; want ErrPrivateAddress", u, err)
		}
	}
	// Allowed by network or by host name.
	if err := guardedGet(t, &Guard{AllowPrefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, srv.URL); err != nil {
		t.Errorf("allowed prefix: %v", err)
	}
	if err := guardedGet(t, &Guard{AllowHosts: []string{"LOCALHOST"}}, "http://localhost"+port); err != nil {
		t.Errorf("allowed host: %v", err)
	}
}

// A redirect from an allowed address to a forbidden one is refused: the
// guard sits at dial time, under every hop.
func TestGuardCoversRedirects(t *testing.T) {
	inner := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("secret")) }))
	defer inner.Close()
	outer := httptest.NewUnstartedServer(http.RedirectHandler(inner.URL, http.StatusFound))
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		if runtime.GOOS == "linux" {
			t.Fatal(err)
		}
		t.Skipf("cannot listen on 127.0.0.2 (%v): alias it to lo0 (sudo ifconfig lo0 alias 127.0.0.2) to run this case", err)
	}
	outer.Listener = ln
	outer.Start()
	defer outer.Close()

	g := &Guard{AllowPrefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}}
	if err := guardedGet(t, g, outer.URL); !errors.Is(err, ErrPrivateAddress) {
		t.Fatalf("redirect to %s: %v; want ErrPrivateAddress", inner.URL, err)
	}
}

func TestGuardLeavesBaseClientAlone(t *testing.T) {
	base := &http.Client{Transport: &http.Transport{Proxy: http.ProxyFromEnvironment}}
	c, err := (&Guard{}).Client(base)
	if err != nil {
		t.Fatal(err)
	}
	if c.Transport == base.Transport || base.Transport.(*http.Transport).DialContext != nil {
		t.Fatal("the base client's transport was changed")
	}
	if c.Transport.(*http.Transport).Proxy != nil {
		t.Fatal("a proxy would hide the dialled address; the guarded transport must not use one")
	}
	type custom struct{ http.RoundTripper }
	if _, err := (&Guard{}).Client(&http.Client{Transport: custom{}}); err == nil {
		t.Fatal("a transport the guard cannot wrap was accepted")
	}
}
