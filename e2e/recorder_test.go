package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// tokenRequest is what the app sent to a token endpoint, as the
// recording proxy saw it.
type tokenRequest struct {
	BasicAuth bool       // an Authorization: Basic header
	Form      url.Values // the body
}

// recorder is a reverse proxy in front of a provider that keeps the
// token requests passing through it: the provider's issuer is the proxy's
// URL, so the browser and the app both reach the provider through it. It
// answers 502 until forward names the provider.
type recorder struct {
	*httptest.Server
	proxy atomic.Pointer[httputil.ReverseProxy]

	mu     sync.Mutex // guards tokens
	tokens []tokenRequest
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	rec := &recorder{}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxy := rec.proxy.Load()
		if proxy == nil {
			http.Error(w, "e2e recorder: no provider yet", http.StatusBadGateway)
			return
		}
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/token") {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			form, _ := url.ParseQuery(string(body))
			_, _, basic := r.BasicAuth()
			rec.mu.Lock()
			rec.tokens = append(rec.tokens, tokenRequest{BasicAuth: basic, Form: form})
			rec.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(rec.Close)
	return rec
}

// forward sends what the recorder receives to the provider at target.
func (rec *recorder) forward(t *testing.T, target string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rec.proxy.Store(httputil.NewSingleHostReverseProxy(u))
}

// tokenRequests returns the token requests so far.
func (rec *recorder) tokenRequests() []tokenRequest {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]tokenRequest(nil), rec.tokens...)
}
