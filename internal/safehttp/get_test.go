package safehttp

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://idp.example.com/x", true},
		{"http://127.0.0.1:8080/x", true},
		{"http://localhost/x", true},
		{"http://[::1]:9000/", true},
		{"http://idp.example.com/x", false},
		{"ftp://idp.example.com/", false},
		{"https://user:pw@idp.example.com/", false},
		{"https://idp.example.com/#frag", false},
		{"/relative", false},
		{"https:opaque", false},
		{"http://127.0.0.1.evil.com/", false},
		{"%zz", false},
	}
	for _, tt := range tests {
		_, err := CheckURL(tt.url)
		if (err == nil) != tt.ok {
			t.Errorf("CheckURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInsecureURL) {
			t.Errorf("CheckURL(%q) error %v does not wrap ErrInsecureURL", tt.url, err)
		}
	}
}

func TestRedactKeepsSecretsOut(t *testing.T) {
	if got := Redact("https://idp/cb?code=secret#tok"); got != "https://idp/cb" {
		t.Errorf("Redact = %q", got)
	}
	_, err := CheckURL("http://idp.example.com/cb?code=secret")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("error %v carries the query", err)
	}
}

func TestGet(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "application/json" {
			t.Errorf("Accept = %q", r.Header.Get("Accept"))
		}
		w.Write([]byte(`{"a":1}`))
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) { w.Write(make([]byte, 2048)) })
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/to-ok", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/to-remote-http", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://idp.example.com/ok", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/ok", http.StatusFound)
	}))
	defer tlsSrv.Close()

	ctx := context.Background()
	if b, err := Get(ctx, srv.Client(), srv.URL+"/ok", Limits{}); err != nil || string(b) != `{"a":1}` {
		t.Fatalf("Get /ok = %q, %v", b, err)
	}
	if _, err := Get(ctx, nil, srv.URL+"/to-ok", Limits{}); err != nil {
		t.Errorf("a redirect within limits failed: %v", err)
	}
	if _, err := Get(ctx, nil, srv.URL+"/to-ok", Limits{MaxRedirects: -1}); !errors.Is(err, ErrTooManyRedirects) {
		t.Errorf("MaxRedirects -1 followed a redirect: %v", err)
	}
	tests := []struct {
		name   string
		client *http.Client
		url    string
		lim    Limits
		want   error
	}{
		{"too large", nil, srv.URL + "/big", Limits{MaxBytes: 1024}, ErrTooLarge},
		{"status", nil, srv.URL + "/500", Limits{}, ErrStatus},
		{"slow", nil, srv.URL + "/slow", Limits{Timeout: 50 * time.Millisecond}, context.DeadlineExceeded},
		{"redirect loop", nil, srv.URL + "/loop", Limits{}, ErrTooManyRedirects},
		{"redirect to remote http", nil, srv.URL + "/to-remote-http", Limits{}, ErrInsecureURL},
		{"https downgraded to http", tlsSrv.Client(), tlsSrv.URL, Limits{}, ErrInsecureURL},
		{"insecure url", nil, "http://idp.example.com/", Limits{}, ErrInsecureURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Get(ctx, tt.client, tt.url, tt.lim)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if time.Since(start) > 3*time.Second {
				t.Errorf("took %v", time.Since(start))
			}
		})
	}
	var se *StatusError
	if _, err := Get(ctx, nil, srv.URL+"/500", Limits{}); !errors.As(err, &se) || se.StatusCode != 500 {
		t.Errorf("StatusError not reachable: %v", err)
	}
	if _, err := Get(ctx, nil, srv.URL+"/slow", Limits{Timeout: 20 * time.Millisecond}); !IsTimeout(err) {
		t.Errorf("IsTimeout(%v) = false", err)
	}
}

func TestGetLeavesCallerClientAlone(t *testing.T) {
	called := false
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { called = true; return nil }}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/a" {
			http.Redirect(w, r, "/b", http.StatusFound)
			return
		}
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	before := c.CheckRedirect
	if _, err := Get(context.Background(), c, srv.URL+"/a", Limits{}); err != nil {
		t.Fatal(err)
	}
	if !called {
		t.Errorf("the caller's CheckRedirect was not consulted")
	}
	if reflect.ValueOf(c.CheckRedirect).Pointer() != reflect.ValueOf(before).Pointer() {
		t.Errorf("the caller's client was modified")
	}
}

func TestReadBody(t *testing.T) {
	mk := func(body string, length int64) *http.Response {
		return &http.Response{Body: io.NopCloser(strings.NewReader(body)), ContentLength: length}
	}
	for _, tc := range []struct {
		name   string
		resp   *http.Response
		want   string
		errIs  error
		failed bool
	}{
		{"announced length", mk(`{"a":1}`, 7), `{"a":1}`, nil, false},
		{"unknown length", mk(`{"a":1}`, -1), `{"a":1}`, nil, false},
		{"empty", mk(``, 0), ``, nil, false},
		{"announced beyond max", mk(strings.Repeat("x", 20), 20), "", ErrTooLarge, true},
		{"unknown length beyond max", mk(strings.Repeat("x", 20), -1), "", ErrTooLarge, true},
		{"shorter than announced", mk(`{"a"`, 7), "", io.ErrUnexpectedEOF, true},
		// A RoundTripper that changed the body but not its length.
		{"longer than announced", mk(`{"a":1,"b":2}`, 7), `{"a":1,"b":2}`, nil, false},
		{"announced 0, with a body", mk(`{"a":1}`, 0), `{"a":1}`, nil, false},
		{"longer than announced, beyond max", mk(strings.Repeat("x", 20), 7), "", ErrTooLarge, true},
	} {
		got, err := ReadBody(tc.resp, 16)
		if tc.failed {
			if err == nil || tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("%s: err = %v, want %v", tc.name, err, tc.errIs)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}
}
