// Package safehttp fetches small documents from identity providers with the
// limits every such fetch needs: a deadline, a cap on the body size, a cap on
// redirects, and the rule that only https (or http to a loopback host, for
// development) is spoken.
package safehttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults used when a Limits field is zero.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBytes     = 1 << 20 // 1 MiB
	DefaultMaxRedirects = 3
)

var (
	// ErrInsecureURL reports a URL that is neither https nor http to a
	// loopback host.
	ErrInsecureURL = errors.New("url must use https (http only for loopback hosts)")
	// ErrTooLarge reports a response body over the size limit.
	ErrTooLarge = errors.New("response body exceeds the size limit")
	// ErrTooManyRedirects reports a fetch that was redirected too often.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrStatus reports a response whose status is not 200.
	ErrStatus = errors.New("unexpected HTTP status")
)

// Limits bound one fetch. The zero value means the defaults above.
type Limits struct {
	Timeout      time.Duration // whole fetch, body included
	MaxBytes     int64         // largest body accepted
	MaxRedirects int           // negative: no redirect followed
}

func (l Limits) timeout() time.Duration {
	if l.Timeout > 0 {
		return l.Timeout
	}
	return DefaultTimeout
}

func (l Limits) maxBytes() int64 {
	if l.MaxBytes > 0 {
		return l.MaxBytes
	}
	return DefaultMaxBytes
}

func (l Limits) maxRedirects() int {
	switch {
	case l.MaxRedirects < 0:
		return 0
	case l.MaxRedirects == 0:
		return DefaultMaxRedirects
	}
	return l.MaxRedirects
}

// StatusError is a non-200 answer. It wraps ErrStatus.
type StatusError struct {
	URL        string
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("GET %s: %s %d", e.URL, ErrStatus, e.StatusCode)
}

// Unwrap lets errors.Is(err, ErrStatus) hold.
func (e *StatusError) Unwrap() error { return ErrStatus }

// StatusOf is the HTTP status behind a Get's result: 200 for success,
// the status of a StatusError, 0 when no answer came.
func StatusOf(err error) int {
	if err == nil {
		return http.StatusOK
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode
	}
	return 0
}

// IsLoopbackHost reports whether host (without port) names the local machine:
// "localhost" or a loopback IP literal.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// CheckURL parses raw and requires an absolute https URL, or http to a
// loopback host. It refuses URLs with user info or a fragment.
func CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %q does not parse", ErrInsecureURL, raw)
	}
	if err := checkParsed(u); err != nil {
		return nil, err
	}
	return u, nil
}

func checkParsed(u *url.URL) error {
	if u.Host == "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
		return fmt.Errorf("%w: %q is not an absolute URL without user info or fragment", ErrInsecureURL, Redact(u.String()))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if IsLoopbackHost(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%w: %q", ErrInsecureURL, Redact(u.String()))
}

// Redact returns the URL without its query and fragment, which may carry
// codes or tokens; it is what goes into errors and logs.
func Redact(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		return raw[:i]
	}
	return raw
}

// Get fetches rawURL with client (http.DefaultClient when nil) within the
// limits and returns the body of a 200 answer. The request's context is
// ctx with the timeout applied, so a caller's cancellation also stops it.
// A timeout is reported as an error wrapping context.DeadlineExceeded.
func Get(ctx context.Context, client *http.Client, rawURL string, lim Limits) ([]byte, error) {
	body, _, err := GetWithHeader(ctx, client, rawURL, nil, lim)
	return body, err
}

// GetWithHeader is Get with extra request headers (an Authorization header
// for userinfo, say); it also returns the response's Content-Type.
func GetWithHeader(ctx context.Context, client *http.Client, rawURL string, header http.Header, lim Limits) (body []byte, contentType string, err error) {
	u, err := CheckURL(rawURL)
	if err != nil {
		return nil, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, lim.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, "", fmt.Errorf("GET %s: %w", Redact(rawURL), err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := limitRedirects(client, lim.maxRedirects()).Do(req)
	if err != nil {
		return nil, "", cleanURLError(rawURL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// Drain a little so the connection can be reused.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return nil, "", &StatusError{URL: Redact(rawURL), StatusCode: resp.StatusCode}
	}
	body, err = ReadAll(resp.Body, lim.maxBytes())
	if err != nil {
		// ReadAll's errors do not say which URL; name it as every other
		// error here does.
		return nil, "", fmt.Errorf("GET %s: %w", Redact(rawURL), err)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// ReadBody reads resp's body as ReadAll does, first into one buffer of
// the announced Content-Length when there is one of at most 64 KiB (a
// token response; more is read as it comes, so an announced length
// allocates nothing before its bytes arrive). A body longer than
// announced (a RoundTripper that changed it) is read on to the end,
// within max.
func ReadBody(resp *http.Response, max int64) ([]byte, error) {
	n := resp.ContentLength
	if n < 0 || n > max || n > 64<<10 {
		return ReadAll(resp.Body, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, body); err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	var one [1]byte
	if m, err := resp.Body.Read(one[:]); m == 0 && err == io.EOF {
		return body, nil
	} else if err != nil && err != io.EOF {
		return nil, fmt.Errorf("reading response: %w", err)
	} else if m > 0 {
		return ReadAll(io.MultiReader(bytes.NewReader(body), bytes.NewReader(one[:m]), resp.Body), max)
	}
	return ReadAll(io.MultiReader(bytes.NewReader(body), resp.Body), max)
}

// ReadAll reads r up to max bytes and fails with ErrTooLarge beyond.
func ReadAll(r io.Reader, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, max)
	}
	return body, nil
}

// limitRedirects returns a shallow copy of client whose redirects are capped
// and may not leave https (or loopback http). The caller's client is not
// modified; its transport, and so its connection pool, is shared.
func limitRedirects(client *http.Client, max int) *http.Client {
	if client == nil {
		client = http.DefaultClient
	}
	c := *client
	next := client.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) > max {
			return fmt.Errorf("%w (more than %d)", ErrTooManyRedirects, max)
		}
		if err := checkParsed(req.URL); err != nil {
			return fmt.Errorf("redirect refused: %w", err)
		}
		if len(via) > 0 && via[len(via)-1].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("redirect refused: %w: https downgraded to %s", ErrInsecureURL, req.URL.Scheme)
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
	return &c
}

// cleanURLError strips the *url.Error wrapper's copy of the URL (which would
// repeat any query) while keeping its cause reachable for errors.Is.
func cleanURLError(rawURL string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("GET %s: %w", Redact(rawURL), err)
}

// IsTimeout reports whether err is a deadline: the context's, or a
// transport or client timeout.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
