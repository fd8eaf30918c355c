package ssoclient_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
	"github.com/ssokit/ssokit/ssoclient/ssotest"
)

// A cold start under a crowd (Monday 9:00): a thousand sign-ins begin at
// once through a profile nobody has used yet. Discovery and the key set
// are each fetched once; every sign-in completes.
func TestColdStartCrowd(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 100
	}
	// 1,000 sign-ins at once on a CI machine running other packages'
	// tests beside: the provider calls may queue for seconds, which is not
	// what this test is about, so they get a minute.
	pa := newProfileApp(t, func(c *ssoclient.Config) { c.Timeout = time.Minute })
	idp := ssotest.New(t, ssotest.WithLoginUser("alice"), ssotest.WithSigningAlg("ES256"))
	// The profile is stored directly, so that nothing has fetched the
	// provider's discovery document or keys before the crowd arrives.
	if _, err := pa.sso.Profiles().Create(context.Background(), ssoclient.Profile{
		ID: "acme", Issuer: idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret, Enabled: true,
	}); err != nil {
		t.Fatal(err)
	}
	discoveryBefore := idp.Requests(ssotest.EndpointDiscovery) // Create validated the issuer once
	if idp.Requests(ssotest.EndpointJWKS) != 0 {
		t.Fatal("the keys were fetched before any sign-in")
	}

	start := make(chan struct{})
	var wg sync.WaitGroup
	var ok atomic.Int32
	var failMu sync.Mutex
	failures := map[string]int{} // status and error code of the sign-ins that did not land
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newBrowser(t, idp)
			<-start
			req, _ := http.NewRequest(http.MethodGet, pa.srv.URL+"/auth/sso/login?profile=acme", nil)
			resp, err := b.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && resp.Request.URL.Path == "/" {
				ok.Add(1)
				return
			}
			code := "?"
			if m := regexp.MustCompile(`[a-z]+_[a-z_]+`).Find(body); m != nil {
				code = string(m)
			}
			failMu.Lock()
			failures[fmt.Sprintf("%d %s", resp.StatusCode, code)]++
			failMu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if int(ok.Load()) != n {
		t.Fatalf("%d of %d sign-ins completed; the others: %v", ok.Load(), n, failures)
	}
	if d := idp.Requests(ssotest.EndpointDiscovery) - discoveryBefore; d > 1 {
		t.Errorf("discovery fetched %d times by the crowd; want at most 1", d)
	}
	if k := idp.Requests(ssotest.EndpointJWKS); k != 1 {
		t.Errorf("keys fetched %d times; want 1", k)
	}
	if tok := idp.Requests(ssotest.EndpointToken); tok != n {
		t.Errorf("%d token requests for %d sign-ins", tok, n)
	}
}

// Sign-ins that start and never finish (a flood of bots, or people who
// close the tab) cost the server nothing: the attempt travels sealed in
// the browser's cookie, so no store grows.
func TestAbandonedLoginsCostNoServerMemory(t *testing.T) {
	n := 50_000
	if testing.Short() {
		n = 5_000
	}
	sessions := ssoclient.NewMemorySessionStore(0, nil)
	idp := ssotest.New(t)
	sso, err := ssoclient.New(context.Background(), ssoclient.Config{
		Issuer: idp.Issuer(), ClientID: ssotest.DefaultClientID, ClientSecret: ssotest.DefaultClientSecret,
		RedirectURL: "http://localhost/auth/sso/callback", HTTPClient: idp.HTTPClient(), Sessions: sessions,
	})
	if err != nil {
		t.Fatal(err)
	}
	h := sso.Handler()
	login := func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/auth/sso/login", nil))
		if rec.Code != http.StatusFound {
			t.Fatalf("login: %d", rec.Code)
		}
	}
	for range 1000 { // warm up pools and caches
		login()
	}
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; i < n && time.Now().Before(deadline); i++ {
		login()
	}
	after := heap()
	if sessions.Len() != 0 {
		t.Fatalf("%d sessions after login starts alone", sessions.Len())
	}
	// Generous: a stray pool or cache may hold a little; a per-attempt
	// cost of even 100 bytes would show as 5 MB here.
	if grew := int64(after) - int64(before); grew > 1<<20 {
		t.Fatalf("the heap grew by %d bytes over %d abandoned sign-ins", grew, n)
	}
}
