package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// stepTimeout bounds one step in a tab: a click and the page it leads to,
// a wait for an element, a cookie read.
const stepTimeout = 30 * time.Second

// browser is a headless Chromium with a fresh profile, ended with the test.
type browser struct {
	t    *testing.T
	root context.Context // the browser and its first tab
	log  *output         // chromedp's and Chromium's complaints, saved on failure

	mu   sync.Mutex // guards tabs
	tabs []*tab
}

// chromiumPath finds Chromium: $E2E_CHROMIUM, or chromium (or Chrome) on
// PATH. Without it t skips, or fails under CI.
func chromiumPath(t *testing.T) string {
	t.Helper()
	path := lookTool(t, "E2E_CHROMIUM", "chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
	if path == "" {
		unavailable(t, "Chromium is not installed: apt-get install chromium, or set E2E_CHROMIUM to a Chromium or Chrome binary")
	}
	return path
}

// newBrowser starts Chromium ($E2E_CHROMIUM, or chromium on PATH) with a
// new profile directory, or skips t (fails it under CI) when there is none.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromiumPath(t)
	profile, err := os.MkdirTemp("", "ssokit-e2e-profile-")
	if err != nil {
		t.Fatal(err)
	}
	// Registered before the browser's end, so it runs after it: Chromium
	// writes to its profile until it exits.
	t.Cleanup(func() { _ = os.RemoveAll(profile) })

	b := &browser{t: t, log: newOutput()}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// Without these Chromium reaches for Google's services at start,
		// and on a machine without that network loopback connections
		// were refused too.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.WindowSize(1024, 900),
		chromedp.CombinedOutput(b.log),
	)
	logf := func(format string, args ...any) { fmt.Fprintf(b.log, format+"\n", args...) }
	first := &tab{name: "tab1", b: b}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf), chromedp.WithLogf(logf), chromedp.WithListener(first.record))
	first.ctx, first.cancel = ctx, cancel
	b.root = ctx
	b.tabs = []*tab{first}
	t.Cleanup(func() {
		cancel()      // closes the browser and waits for it
		cancelAlloc() // and its process
	})
	// Last in, first out: the screenshots are taken while the tabs live.
	t.Cleanup(func() {
		if t.Failed() {
			b.saveArtifacts()
		}
	})

	if err := first.start(); err != nil {
		t.Fatalf("start Chromium (%s): %v\n%s", path, err, tail(b.log.String(), 30))
	}
	return b
}

// tab is the browser's first tab, which newBrowser opened.
func (b *browser) tab() *tab {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tabs[0]
}

// newTab opens another tab in the same browser: same profile, same cookies.
func (b *browser) newTab(t *testing.T) *tab {
	t.Helper()
	b.mu.Lock()
	name := fmt.Sprintf("tab%d", len(b.tabs)+1)
	b.mu.Unlock()
	tb := &tab{name: name, b: b}
	tb.ctx, tb.cancel = chromedp.NewContext(b.root, chromedp.WithListener(tb.record))
	b.mu.Lock()
	b.tabs = append(b.tabs, tb)
	b.mu.Unlock()
	if err := tb.start(); err != nil {
		t.Fatalf("open %s: %v", name, err)
	}
	return tb
}

// saveArtifacts leaves a screenshot, the page's HTML and the navigation
// log of every tab, and the browser's log, in the artifact directory.
func (b *browser) saveArtifacts() {
	b.mu.Lock()
	tabs := append([]*tab(nil), b.tabs...)
	b.mu.Unlock()
	for _, tb := range tabs {
		ctx, cancel := context.WithTimeout(tb.ctx, 10*time.Second)
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			b.t.Logf("%s: no screenshot: %v", tb.name, err)
		}
		html, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement ? document.documentElement.outerHTML : ""`))
		if err != nil {
			b.t.Logf("%s: no HTML: %v", tb.name, err)
		}
		cancel()
		if len(png) > 0 {
			saveArtifact(b.t, tb.name+".png", png)
		}
		if html != "" {
			saveArtifact(b.t, tb.name+".html", []byte(html))
		}
		saveArtifact(b.t, tb.name+"-navigations.txt", []byte(tb.navigations()))
		b.t.Logf("%s navigations:\n%s", tb.name, tb.navigations())
	}
	saveArtifact(b.t, "chromium.log", []byte(b.log.String()))
}

// tab is one browser tab and the document requests it made.
type tab struct {
	name   string
	ctx    context.Context
	cancel context.CancelFunc
	b      *browser

	mu   sync.Mutex // guards hops
	hops []hop
}

// hop is one document request a tab made: a navigation, a form post, or
// one step of a redirect chain.
type hop struct {
	id     network.RequestID
	Method string
	URL    string
	Status int // 0 until the response (or the redirect) arrives
}

// start opens the tab (and, for the first, the browser). The first Run on
// a chromedp context allocates it and ties it to the context Run was
// given, so it gets the tab's own context, bounded here instead.
func (tb *tab) start() error {
	done := make(chan error, 1)
	go func() { done <- chromedp.Do(tb.ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(startTimeout):
		tb.cancel()
		return fmt.Errorf("not open after %v", startTimeout)
	}
}

// record keeps the tab's document requests. It runs on chromedp's event
// loop and must not block.
func (tb *tab) record(ev any) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Type != network.ResourceTypeDocument {
			return
		}
		if ev.RedirectResponse != nil {
			tb.setStatus(ev.RequestID, int(ev.RedirectResponse.Status))
		}
		tb.hops = append(tb.hops, hop{id: ev.RequestID, Method: ev.Request.Method, URL: ev.Request.URL})
	case *network.EventResponseReceived:
		if ev.Type == network.ResourceTypeDocument {
			tb.setStatus(ev.RequestID, int(ev.Response.Status))
		}
	}
}

func (tb *tab) setStatus(id network.RequestID, status int) {
	for i := len(tb.hops) - 1; i >= 0; i-- {
		if tb.hops[i].id == id && tb.hops[i].Status == 0 {
			tb.hops[i].Status = status
			return
		}
	}
}

// requests returns the tab's document requests whose URL, less its query,
// is target's, oldest first.
func (tb *tab) requests(target string) []hop {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var out []hop
	for _, h := range tb.hops {
		if u, err := url.Parse(h.URL); err == nil {
			u.RawQuery, u.Fragment = "", ""
			if u.String() == target {
				out = append(out, h)
			}
		}
	}
	return out
}

// lastRequest is the newest of requests(target), failing t when there is none.
func (tb *tab) lastRequest(t *testing.T, target string) hop {
	t.Helper()
	hs := tb.requests(target)
	if len(hs) == 0 {
		t.Fatalf("%s: the browser never requested %s; it went to:\n%s", tb.name, target, tb.navigations())
	}
	return hs[len(hs)-1]
}

// navigations lists the tab's document requests, one a line.
func (tb *tab) navigations() string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var sb strings.Builder
	for _, h := range tb.hops {
		fmt.Fprintf(&sb, "%d %s %s\n", h.Status, h.Method, h.URL)
	}
	return sb.String()
}

// do runs actions in the tab within stepTimeout, failing t with what.
func (tb *tab) do(t *testing.T, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := tb.try(actions...); err != nil {
		t.Fatalf("%s: %s: %v\nits last requests:\n%s", tb.name, what, err, tail(tb.navigations(), 8))
	}
}

// try runs actions in the tab within stepTimeout; for goroutines, which
// must not call t.Fatal.
func (tb *tab) try(actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// get runs one action that returns a value, within stepTimeout.
func get[T any](t *testing.T, tb *tab, what string, action chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		t.Fatalf("%s: %s: %v\nits last requests:\n%s", tb.name, what, err, tail(tb.navigations(), 8))
	}
	return v
}

// location is the tab's current URL.
func (tb *tab) location(t *testing.T) string {
	t.Helper()
	return get(t, tb, "read the location", chromedp.Location())
}

// text is the visible text of the tab's page.
func (tb *tab) text(t *testing.T) string {
	t.Helper()
	return get(t, tb, "read the page", chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
}

// settled waits until the page has loaded what it asked for (images and
// stylesheets, which move elements) and painted a frame since. Chromium
// drops input that reaches a new page before its first paint, and a click
// aimed at an element that then moves lands elsewhere: on a busy machine a
// click right after WaitVisible was lost that way.
func settled() chromedp.Action[chromedp.Void] {
	wait := chromedp.Evaluate[bool](`new Promise(resolve => {
		const painted = () => requestAnimationFrame(() => requestAnimationFrame(() => resolve(true)));
		if (document.readyState === "complete") painted(); else addEventListener("load", painted, {once: true});
	})`, chromedp.EvalAwaitPromise)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := wait(ctx, t)
		return chromedp.Void{}, err
	}
}

// ready waits for the element sel to be visible on a settled page.
func ready(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.WaitVisible(chromedp.CSS(sel)), settled())
}

// click clicks the element sel, with the mouse, once it is ready.
func click(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(ready(sel), chromedp.Click(chromedp.CSS(sel)))
}

// typeInto types text into the element sel once it is ready.
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(ready(sel), chromedp.SendKeys(chromedp.CSS(sel), text))
}

// fetched is what fetch() in the page got.
type fetched struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// fetch requests path from the page, as the page's own script would: with
// the cookies the browser chooses to send.
func (tb *tab) fetch(t *testing.T, path string) fetched {
	t.Helper()
	expr := fmt.Sprintf(`fetch(%q, {credentials: "same-origin", headers: {"Accept": "application/json"}}).
		then(async r => JSON.stringify({status: r.status, body: await r.text()}))`, path)
	raw := get(t, tb, "fetch "+path, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	var f fetched
	if err := json.Unmarshal([]byte(raw), &f); err != nil {
		t.Fatalf("fetch %s: %v (%q)", path, err, raw)
	}
	return f
}

// cookies are the cookies the browser holds for rawURL, as the DevTools
// cookie API reports them.
func (tb *tab) cookies(t *testing.T, rawURL string) []*network.Cookie {
	t.Helper()
	res := get(t, tb, "read cookies", func(ctx context.Context, target *chromedp.Target) (network.GetCookiesResult, error) {
		return cdp.Call(ctx, target, network.GetCookies, network.GetCookiesParams{URLs: []string{rawURL}})
	})
	return res.Cookies
}

// navigate opens rawURL, waits for its load event and returns the HTTP
// status of the page it ends on. A page that cannot be reached fails t; an
// HTTP error status does not.
func (tb *tab) navigate(t *testing.T, rawURL string) int {
	t.Helper()
	resp := get(t, tb, "open "+rawURL, chromedp.NavigateResponse(rawURL))
	return int(resp.Status)
}
