package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/ssokit/ssokit/internal/safehttp"
)

// Errors returned by [Client.Discover] and [NormalizeIssuer]. Each error
// they return wraps exactly one of these; test with [errors.Is].
var (
	// ErrInvalidIssuer reports an issuer that is not a usable URL or
	// domain. Nothing was fetched.
	ErrInvalidIssuer = errors.New("discovery: invalid issuer")
	// ErrFetch reports a discovery document that could not be fetched:
	// a network failure, a status other than 200, a timeout, a document
	// over the size limit, too many redirects or one to an insecure URL,
	// or the caller's context ending first. The cause is wrapped too, so
	// errors.Is(err, context.DeadlineExceeded) holds for a timeout.
	ErrFetch = errors.New("discovery: cannot fetch the discovery document")
	// ErrInvalidDocument reports a document that is not a valid OpenID
	// provider configuration: not a JSON object, a field of the wrong
	// type, a missing or insecure endpoint, no code response type, or
	// signing algorithms without RS256.
	ErrInvalidDocument = errors.New("discovery: invalid discovery document")
	// ErrIssuerMismatch reports a document that names another issuer than
	// the one it was fetched for (OpenID Connect Discovery 1.0 §4.3).
	ErrIssuerMismatch = errors.New("discovery: issuer mismatch")
)

// Defaults for the zero fields of a Config.
const (
	defaultTimeout    = 10 * time.Second
	defaultMaxBytes   = 512 << 10
	defaultTTL        = 10 * time.Minute
	defaultMaxEntries = 1000
)

// maxStaleRetry bounds how long a document served stale waits before the
// next refresh attempt.
const maxStaleRetry = time.Minute

// Config configures a [Client]. The zero value, and every zero or negative
// field, means the defaults.
type Config struct {
	// HTTPClient makes the requests; nil means http.DefaultClient. Its
	// redirects are capped at 3, and may not leave https.
	HTTPClient *http.Client
	// Timeout bounds each fetch, redirects and body included; default
	// 10 seconds.
	Timeout time.Duration
	// MaxBytes is the largest document accepted; default 512 KiB.
	MaxBytes int64
	// TTL is how long a fetched document is used before it is fetched
	// again; default 10 minutes.
	TTL time.Duration
	// StaleIfError, when positive, keeps an expired document in use when
	// its refresh fails (whatever the reason: the provider unreachable, or
	// serving a document that is refused), for up to StaleIfError after its
	// TTL ended; while it is used so, a new refresh is tried at most once a
	// minute (or once a TTL, when shorter). It trades freshness for
	// availability during a provider's outage. Zero, the default, never
	// uses an expired document: Discover fails closed. Invalidate drops a
	// stale document too.
	StaleIfError time.Duration
	// MaxEntries bounds the cache; the least recently used issuer goes
	// first. Default 1000.
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// OnFetch, when set, is called after each fetch of a document with
	// the issuer, the HTTP status (0 when no answer came), the time taken
	// and the error (nil when the document was accepted), for metrics.
	OnFetch func(issuer string, status int, elapsed time.Duration, err error)
}

// A Client fetches and caches provider metadata. It is safe for concurrent
// use; make one and share it.
type Client struct {
	httpClient   *http.Client
	limits       safehttp.Limits
	ttl          time.Duration
	staleIfError time.Duration
	now          func() time.Time
	onFetch      func(issuer string, status int, elapsed time.Duration, err error)

	// cache maps a normalised issuer to its entry. An issuer with and
	// without a trailing slash are two keys (at most one of them can be
	// valid). The cache does its own locking.
	cache *lru.Cache[string, entry]
	// group makes concurrent misses of one key share one fetch.
	group singleflight.Group

	mu sync.Mutex // guards gen, and makes "check gen, then store" atomic against Invalidate
	// gen counts Invalidate calls. A fetch stores its result only if no
	// Invalidate happened while it ran, so an invalidated issuer is not
	// put back with what was fetched before.
	gen uint64
}

// entry is a cached document.
type entry struct {
	meta      *Metadata
	fetchedAt time.Time // when meta was fetched
	// retryAt, set when a refresh failed and meta was served stale, is
	// when the next refresh may be tried.
	retryAt time.Time
}

// New returns a Client configured by cfg.
func New(cfg Config) *Client {
	c := &Client{
		httpClient: cfg.HTTPClient,
		limits: safehttp.Limits{
			Timeout:  orDefault(cfg.Timeout, defaultTimeout),
			MaxBytes: orDefault(cfg.MaxBytes, defaultMaxBytes),
		},
		ttl:          orDefault(cfg.TTL, defaultTTL),
		staleIfError: max(cfg.StaleIfError, 0),
		now:          cfg.Now,
		onFetch:      cfg.OnFetch,
	}
	if c.now == nil {
		c.now = time.Now
	}
	cache, err := lru.New[string, entry](orDefault(cfg.MaxEntries, defaultMaxEntries))
	if err != nil {
		panic("discovery: " + err.Error()) // only for a size <= 0, which orDefault rules out
	}
	c.cache = cache
	return c
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Discover returns the metadata of issuer, which may be anything
// [NormalizeIssuer] accepts. It fetches WellKnownURL(issuer) and validates
// the document:
//
//   - It is a JSON object whose fields have their standard types.
//   - Its issuer equals the normalised issuer exactly (OpenID Connect
//     Discovery 1.0 §4.3): a trailing slash, the path's case and the port
//     all count, since ID tokens must carry the issuer exactly. An issuer
//     with and without a trailing slash share a well-known URL, so at
//     most one of them is accepted. The one exception is Microsoft Entra
//     ID's multi-tenant https://login.microsoftonline.com/common/v2.0 and
//     …/organizations/v2.0, whose document names the template
//     https://login.microsoftonline.com/{tenantid}/v2.0: it is accepted,
//     and [Metadata.MatchesIssuer] resolves it against each ID token.
//   - authorization_endpoint, token_endpoint and jwks_uri are present, and
//     these and userinfo_endpoint and end_session_endpoint, when present,
//     are https URLs (http only to a loopback host).
//   - response_types_supported, when present, lists "code".
//   - id_token_signing_alg_values_supported, when present, lists RS256.
//
// Other fields are kept as they are. Discover does not check that the
// provider's keys can be fetched or that its endpoints answer; [Client.Check]
// does.
//
// Results are cached per issuer for the TTL. Concurrent calls for an issuer
// not in the cache share one fetch, which runs on a context detached from
// the callers' (keeping its values) and bounded by the Timeout; a caller
// whose ctx ends stops waiting at once, with an error wrapping [ErrFetch]
// and ctx's error, while the fetch goes on for the others. Failures are not
// cached (but see Config.StaleIfError). The Metadata returned is shared: do
// not modify it.
//
// Every error wraps exactly one of [ErrInvalidIssuer], [ErrFetch],
// [ErrInvalidDocument] and [ErrIssuerMismatch].
func (c *Client) Discover(ctx context.Context, issuer string) (*Metadata, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	iss, err := NormalizeIssuer(issuer)
	if err != nil {
		return nil, err
	}
	if m, ok := c.cached(iss, c.now()); ok {
		return m, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrFetch, WellKnownURL(iss), err)
	}
	fetchCtx := context.WithoutCancel(ctx)
	ch := c.group.DoChan(iss, func() (any, error) { return c.load(fetchCtx, iss) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Metadata), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: gave up waiting for %s: %w", ErrFetch, WellKnownURL(iss), ctx.Err())
	}
}

// cached returns the entry for key if it may be used at now without a
// fetch: fresh, or stale while a failed refresh backs off.
func (c *Client) cached(key string, now time.Time) (*Metadata, bool) {
	e, ok := c.cache.Get(key)
	if !ok {
		return nil, false
	}
	age := now.Sub(e.fetchedAt)
	if age < c.ttl || (now.Before(e.retryAt) && age < c.ttl+c.staleIfError) {
		return e.meta, true
	}
	return nil, false
}

// load fetches the document for the normalised issuer iss, the cache key,
// and caches it. It runs once per key at a time (in c.group).
func (c *Client) load(ctx context.Context, iss string) (*Metadata, error) {
	key := iss
	c.mu.Lock()
	gen := c.gen
	c.mu.Unlock()
	// A call that missed the cache just before another call's fetch
	// stored its result starts a new flight; it finds the result here.
	if m, ok := c.cached(key, c.now()); ok {
		return m, nil
	}
	m, err := c.fetch(ctx, iss)
	now := c.now()
	if err != nil {
		e, ok := c.cache.Peek(key)
		if !ok || now.Sub(e.fetchedAt) >= c.ttl+c.staleIfError {
			return nil, err
		}
		e.retryAt = now.Add(min(c.ttl, maxStaleRetry))
		c.store(gen, key, e)
		return e.meta, nil
	}
	c.store(gen, key, entry{meta: m, fetchedAt: now})
	return m, nil
}

// store caches e under key unless an Invalidate happened since gen.
func (c *Client) store(gen uint64, key string, e entry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		c.cache.Add(key, e)
	}
}

// fetch gets and validates the document of the normalised issuer iss.
func (c *Client) fetch(ctx context.Context, iss string) (meta *Metadata, err error) {
	start := time.Now()
	body, err := safehttp.Get(ctx, c.httpClient, WellKnownURL(iss), c.limits)
	if c.onFetch != nil {
		status := safehttp.StatusOf(err)
		defer func() { c.onFetch(iss, status, time.Since(start), err) }()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFetch, err)
	}
	return parseDocument(body, iss)
}

// Invalidate drops issuer's cached metadata, so the next [Client.Discover]
// fetches it again; call it when the issuer configured on a profile
// changes, or when the provider is known to have changed its
// configuration. It accepts whatever [NormalizeIssuer] accepts (and ignores
// anything else), and drops the issuer both with and without a trailing
// slash, which share the provider's document. A fetch already running for
// the issuer still answers the calls waiting for it, but its result is not
// cached.
func (c *Client) Invalidate(issuer string) {
	iss, err := NormalizeIssuer(issuer)
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, key := range []string{strings.TrimSuffix(iss, "/"), strings.TrimSuffix(iss, "/") + "/"} {
		c.cache.Remove(key)
		c.group.Forget(key)
	}
}
