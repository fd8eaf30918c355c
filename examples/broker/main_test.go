package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// TestTwoAppsOneSignIn runs the whole demo on free ports: a browser signs
// in to the wiki through the broker, then to the CRM without going to the
// provider again; each app has its own session.
func TestTwoAppsOneSignIn(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	d, err := start(ctx, "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer d.idp.Close()
	done := make(chan error, 1)
	go func() { done <- d.serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}()
	d.idp.SetLoginUser("alice")

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(u string) (int, string, string) {
		t.Helper()
		resp, err := browser.Get(u)
		if err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Request.URL.String(), string(b)
	}

	if _, _, body := get(d.wikiURL + "/"); !strings.Contains(body, "Nobody is signed in") {
		t.Fatalf("wiki before sign-in: %q", body)
	}
	status, at, body := get(d.wikiURL + "/login")
	if status != 200 || at != d.wikiURL+"/" || !strings.Contains(body, "Signed in as") || !strings.Contains(body, "alice@example.com") {
		t.Fatalf("wiki sign-in ended at %s: %d %q", at, status, body)
	}
	authorizes := d.idp.Requests(ssotest.EndpointAuthorize)
	if _, _, body := get(d.crmURL + "/"); !strings.Contains(body, "Nobody is signed in") {
		t.Fatalf("the CRM shares the wiki's session: %q", body)
	}
	status, at, body = get(d.crmURL + "/login")
	if status != 200 || at != d.crmURL+"/" || !strings.Contains(body, "alice@example.com") {
		t.Fatalf("CRM sign-in ended at %s: %d %q", at, status, body)
	}
	if n := d.idp.Requests(ssotest.EndpointAuthorize); n != authorizes {
		t.Fatalf("the CRM's sign-in went to the provider (%d authorize requests, had %d)", n, authorizes)
	}
	if _, _, body := get(d.brokerURL + "/"); !strings.Contains(body, "alice@example.com") {
		t.Fatalf("broker page: %q", body)
	}

	// A ticket works once: replaying the return URL fails.
	ticketURL := ""
	browser.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), d.wikiReturnURL) {
			ticketURL = req.URL.String()
			return http.ErrUseLastResponse
		}
		return nil
	}
	get(d.wikiURL + "/login")
	browser.CheckRedirect = nil
	if !strings.Contains(ticketURL, "?ticket=") {
		t.Fatalf("no ticket URL: %q", ticketURL)
	}
	if status, _, body := get(ticketURL); status != 200 || !strings.Contains(body, "alice") {
		t.Fatalf("first redemption: %d %q", status, body)
	}
	if status, _, body := get(ticketURL); status != 400 || !strings.Contains(body, "ticket_invalid") {
		t.Fatalf("replayed ticket: %d %q", status, body)
	}
	// An unregistered return URL is refused at the broker, with no
	// redirect.
	browser.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	status, _, body = get(d.brokerURL + "/sso/login?app=wiki&return_to=" + d.wikiReturnURL + "/x")
	if status != 400 || !strings.Contains(body, "return_url_invalid") {
		t.Fatalf("unregistered return URL: %d %q", status, body)
	}
}
