package jwks

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ssokit/ssokit/internal/safehttp"
)

// Errors that Verify, Refresh, New and NewStatic wrap. Test them with
// [errors.Is]; each returned error adds the details.
var (
	// ErrTokenTooLarge reports a token longer than Config.MaxTokenSize. It
	// is checked before any decoding.
	ErrTokenTooLarge = errors.New("jwks: token too large")
	// ErrMalformed reports a token that is not a compact JWS of three
	// strict base64url parts with a JSON object header (RFC 7515 §7.1).
	ErrMalformed = errors.New("jwks: malformed token")
	// ErrAlgorithm reports a token whose "alg" is missing or not in the
	// allow-list. "none" and the HMAC algorithms are never allowed.
	ErrAlgorithm = errors.New("jwks: algorithm not allowed")
	// ErrUnsupportedHeader reports a token with a "crit" header: it names
	// extensions that must be understood (RFC 7515 §4.1.11), and this
	// package understands none.
	ErrUnsupportedHeader = errors.New("jwks: unsupported critical header")
	// ErrKeyNotFound reports that no key of the set can verify the token:
	// its kid is unknown even after a refresh, or the keys with that kid
	// do not fit its algorithm.
	ErrKeyNotFound = errors.New("jwks: no key for the token")
	// ErrAmbiguousKey reports a token without a kid while several keys of
	// the set fit its algorithm (OpenID Connect Core §10.1 requires a kid
	// then).
	ErrAmbiguousKey = errors.New("jwks: token has no kid and several keys fit")
	// ErrSignature reports a signature that no candidate key verifies.
	ErrSignature = errors.New("jwks: signature does not verify")
	// ErrFetch reports that the key set could not be fetched or was not a
	// usable JWK Set. The cause stays reachable: errors.Is(err,
	// context.DeadlineExceeded) holds for a timeout.
	ErrFetch = errors.New("jwks: cannot fetch the key set")
	// ErrNoKeys reports a key set without a single usable key for the
	// allowed algorithms. A fetch that finds one wraps ErrFetch too.
	ErrNoKeys = errors.New("jwks: no usable key in the key set")
)

// Defaults of the Config fields.
const (
	defaultTimeout            = 10 * time.Second
	defaultMaxBytes           = 512 << 10
	defaultMaxKeys            = 100
	defaultTTL                = 10 * time.Minute
	defaultMinRefreshInterval = 10 * time.Second
	defaultMaxTokenSize       = 64 << 10

	// refreshBurst is the size of the token bucket that rate-limits
	// refreshes for unknown keys.
	refreshBurst = 3
)

// Config describes a remote key set. The zero value of every field but
// URL means its default.
type Config struct {
	// URL is the JWK Set document, a provider's jwks_uri. It must be
	// https, or http to a loopback host for development.
	URL string
	// HTTPClient fetches the set; nil means http.DefaultClient. Redirects
	// are capped and may not leave https whatever its CheckRedirect says.
	HTTPClient *http.Client
	// Algorithms is the allow-list of signature algorithms: any of RS256,
	// RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 and EdDSA.
	// Default: RS256, PS256 and ES256. New refuses "none", HMAC
	// algorithms and names it does not know.
	Algorithms []string
	// Timeout bounds one fetch, body included. Default 10s.
	Timeout time.Duration
	// MaxBytes is the largest JWK Set document accepted. Default 512 KiB.
	MaxBytes int64
	// MaxKeys is the most entries a document may have; one with more is
	// refused whole. Default 100.
	MaxKeys int
	// TTL is how long fetched keys are fresh. After it, the next Verify
	// starts a refresh in the background and goes on with the current
	// keys (stale-while-revalidate). Default 10 minutes.
	TTL time.Duration
	// MinRefreshInterval rate-limits the refreshes that tokens with an
	// unknown kid trigger: a bucket of 3 refreshes refills one per
	// interval, so a flood of made-up kids costs at most 3 fetches at
	// once, then one per interval. The first fetch is free. Default 10s.
	MinRefreshInterval time.Duration
	// MaxTokenSize is the longest compact token Verify reads; longer ones
	// are refused before any decoding. Default 64 KiB.
	MaxTokenSize int
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// OnFetch, when set, is called after each fetch of the set with the
	// HTTP status (0 when no answer came), the time taken and the error
	// (nil when the set was accepted), for metrics.
	OnFetch func(status int, elapsed time.Duration, err error)
}

// KeySet verifies compact JWS, ID tokens in particular, with the keys of
// a JWK Set. It is safe for concurrent use.
type KeySet struct {
	url        string // "" for a static set
	client     *http.Client
	limits     safehttp.Limits
	allowed    algSet
	maxKeys    int
	maxToken   int
	ttl        time.Duration
	minRefresh time.Duration
	now        func() time.Time
	onFetch    func(status int, elapsed time.Duration, err error)

	// snap holds the keys of the last successful fetch, nil before it. A
	// snapshot is never modified, only replaced, so Verify reads it with
	// one atomic load and no lock.
	snap atomic.Pointer[snapshot]

	// group runs at most one fetch at a time and hands its result to
	// every caller waiting for it.
	group singleflight.Group

	// nextBackground is when (Unix nanoseconds, by now) a stale set may
	// start its next background refresh. The caller whose
	// compare-and-swap moves it forward starts one; the others go on.
	nextBackground atomic.Int64

	mu sync.Mutex // guards the fields below, and starting a fetch in group
	// fetching is true from the start of a fetch in group until its
	// function returns and forgets it; a caller that finds it true joins
	// that fetch at no cost to the bucket.
	fetching bool
	tokens   int       // refreshes left in the bucket, at most refreshBurst
	refilled time.Time // when tokens was last brought up to date
	coldUsed bool      // the free first fetch has been started
	lastErr  error     // the last fetch's failure, nil after a success
}

// New returns a KeySet for the JWK Set at cfg.URL after checking cfg. It
// neither fetches (the first Verify or Refresh does) nor starts a
// goroutine.
func New(cfg Config) (*KeySet, error) {
	if _, err := safehttp.CheckURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("jwks: URL: %w", err)
	}
	ks, err := newKeySet(cfg)
	if err != nil {
		return nil, err
	}
	ks.url = cfg.URL
	return ks, nil
}

// NewStatic returns a KeySet of the keys in jwksJSON, a JWK Set document,
// allowed to verify the given algorithms (nil: the default of
// Config.Algorithms). It never fetches: tokens whose key is not in the
// set fail with ErrKeyNotFound. A set without a usable key is an error
// wrapping ErrNoKeys.
func NewStatic(jwksJSON []byte, algorithms []string) (*KeySet, error) {
	ks, err := newKeySet(Config{Algorithms: algorithms})
	if err != nil {
		return nil, err
	}
	snap, err := parseSet(jwksJSON, ks.allowed, ks.maxKeys)
	if err != nil {
		if errors.Is(err, ErrNoKeys) {
			return nil, err
		}
		return nil, fmt.Errorf("jwks: %w", err)
	}
	ks.snap.Store(snap)
	return ks, nil
}

func newKeySet(cfg Config) (*KeySet, error) {
	allowed, err := parseAllowList(cfg.Algorithms)
	if err != nil {
		return nil, err
	}
	if cfg.Timeout < 0 || cfg.MaxBytes < 0 || cfg.MaxKeys < 0 || cfg.TTL < 0 ||
		cfg.MinRefreshInterval < 0 || cfg.MaxTokenSize < 0 {
		return nil, errors.New("jwks: Config has a negative limit")
	}
	ks := &KeySet{
		client:     cfg.HTTPClient,
		limits:     safehttp.Limits{Timeout: orDefault(cfg.Timeout, defaultTimeout), MaxBytes: orDefault(cfg.MaxBytes, defaultMaxBytes)},
		allowed:    allowed,
		maxKeys:    orDefault(cfg.MaxKeys, defaultMaxKeys),
		maxToken:   orDefault(cfg.MaxTokenSize, defaultMaxTokenSize),
		ttl:        orDefault(cfg.TTL, defaultTTL),
		minRefresh: orDefault(cfg.MinRefreshInterval, defaultMinRefreshInterval),
		now:        cfg.Now,
		onFetch:    cfg.OnFetch,
		tokens:     refreshBurst,
	}
	if ks.now == nil {
		ks.now = time.Now
	}
	return ks, nil
}

func orDefault[T int | int64 | time.Duration](v, def T) T {
	if v == 0 {
		return def
	}
	return v
}
