package ssoclient

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/ssokit/ssokit/discovery"
	"github.com/ssokit/ssokit/internal/safehttp"
	"github.com/ssokit/ssokit/internal/seal"
)

// profileRegistry turns stored profiles into providers, and keeps each
// until its profile changes or its discovery document is refreshed.
type profileRegistry struct {
	store   ProfileStore
	secrets *seal.Ring
	mu      sync.Mutex
	cache   map[string]*provider
	group   singleflight.Group
}

func newProfileRegistry(store ProfileStore, keys []Secret) (*profileRegistry, error) {
	ks := make([]string, len(keys))
	for i, k := range keys {
		ks[i] = string(k)
	}
	ring, err := seal.NewRing("profile-secret", ks...)
	if err != nil {
		return nil, configError("SecretKeys: %v", err)
	}
	return &profileRegistry{store: store, secrets: ring, cache: map[string]*provider{}}, nil
}

// provider returns the provider of c's profile id: c.prov for a single
// provider (id ""), else the profile's, which must exist and be enabled.
func (c *Client) provider(ctx context.Context, id string) (*provider, error) {
	if c.profiles == nil {
		if id != "" {
			return nil, newError(CodeProfileNotFound, "this application has a single provider and no profiles", nil)
		}
		return c.prov, nil
	}
	reg := c.profiles
	sp, err := reg.store.Get(ctx, id)
	switch {
	case errors.Is(err, ErrProfileNotFound):
		return nil, newError(CodeProfileNotFound, fmt.Sprintf("no profile %q", clip(id)), nil)
	case err != nil:
		return nil, newError(CodeProviderUnavailable, "the profile store failed", err)
	case !sp.Enabled:
		return nil, newError(CodeProfileDisabled, fmt.Sprintf("profile %q is disabled", clip(id)), nil)
	}
	// The discovery client's cache decides when metadata is refreshed: a
	// cached provider is kept while its metadata is still the one cached.
	meta, derr := c.disc.Discover(ctx, sp.Issuer)
	reg.mu.Lock()
	p := reg.cache[id]
	reg.mu.Unlock()
	if p != nil && p.version.Equal(sp.UpdatedAt) && (derr != nil || meta == p.meta) {
		return p, nil
	}
	v, err, _ := reg.group.Do(id+"\x00"+sp.UpdatedAt.String(), func() (any, error) {
		cc, err := reg.open(sp)
		if err != nil {
			return nil, err
		}
		np, err := newProvider(ctx, c.cfg, c.disc, cc)
		if err != nil {
			if p != nil && p.version.Equal(sp.UpdatedAt) {
				// Only a refresh failed: keep signing in with what worked.
				return p, nil
			}
			return nil, err
		}
		if p != nil && p.endpoints.JWKS == np.endpoints.JWKS {
			np.keys = p.keys // keep the warm key set
		}
		np.version = sp.UpdatedAt
		reg.mu.Lock()
		reg.cache[id] = np
		reg.mu.Unlock()
		return np, nil
	})
	if err != nil {
		return nil, asError(err)
	}
	return v.(*provider), nil
}

// open turns a stored profile into a connection, opening its secrets.
func (reg *profileRegistry) open(sp *StoredProfile) (*connConfig, error) {
	cc := &connConfig{
		profile: sp.ID, issuer: sp.Issuer, clientID: sp.ClientID, authMethod: sp.AuthMethod,
		keyID: sp.KeyID, scopes: sp.Scopes, mapping: sp.Claims, policy: sp.Policy,
	}
	if sp.SealedSecret != nil {
		b, err := reg.secrets.Open(string(sp.SealedSecret), []byte(sp.ID))
		if err != nil {
			return nil, newError(CodeConfigInvalid, fmt.Sprintf("profile %q: its client secret does not open with SecretKeys", sp.ID), err)
		}
		cc.secret = Secret(b)
	}
	if sp.SealedPrivateKey != nil {
		b, err := reg.secrets.Open(string(sp.SealedPrivateKey), []byte(sp.ID))
		if err != nil {
			return nil, newError(CodeConfigInvalid, fmt.Sprintf("profile %q: its private key does not open with SecretKeys", sp.ID), err)
		}
		key, err := parsePrivateKey(b)
		if err != nil {
			return nil, newError(CodeConfigInvalid, fmt.Sprintf("profile %q: %v", sp.ID, err), nil)
		}
		cc.privateKey = key
	}
	return cc, nil
}

// parsePrivateKey reads a PEM RSA private key, PKCS#1 or PKCS#8.
func parsePrivateKey(b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("the private key is not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, errors.New("the private key is neither PKCS#1 nor PKCS#8")
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("the private key cannot sign")
	}
	return s, nil
}

// ProfileManager creates, edits and deletes the SSO profiles of a Client
// made with Config.Profiles: what an admin console needs. Every profile it
// returns is the public view, without secrets.
type ProfileManager struct{ c *Client }

// Profiles returns the Client's profile manager, or nil when the Client
// has a single provider (Config.Issuer).
func (c *Client) Profiles() *ProfileManager {
	if c.profiles == nil {
		return nil
	}
	return &ProfileManager{c: c}
}

func profileError(format string, args ...any) *Error {
	return newError(CodeProfileInvalid, fmt.Sprintf(format, args...), nil)
}

// validID reports whether id is a short URL-safe identifier.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// Create validates p, fetches and checks its issuer's discovery document,
// seals its secrets and stores it. If anything fails, nothing is stored
// and the *Error says why (profile_invalid, discovery_failed,
// issuer_mismatch, provider_timeout). p.Enabled is stored as given: set it
// to true for a profile that takes sign-ins at once (seed 003's default).
func (m *ProfileManager) Create(ctx context.Context, p Profile) (*Profile, error) {
	if !validID(p.ID) {
		return nil, profileError("ID %q must be 1 to 64 letters, digits, '-', '_' or '.'", p.ID)
	}
	if _, err := m.c.profiles.store.Get(ctx, p.ID); err == nil {
		return nil, profileError("a profile %q exists already", p.ID)
	} else if !errors.Is(err, ErrProfileNotFound) {
		return nil, newError(CodeProviderUnavailable, "the profile store failed", err)
	}
	return m.put(ctx, p, nil)
}

// Update replaces the profile p.ID with p. A blank ClientSecret or
// PrivateKeyPEM keeps the stored one; a new one replaces it in the same
// write. A changed issuer is validated like a new one, and the old
// issuer's cached metadata is dropped.
func (m *ProfileManager) Update(ctx context.Context, p Profile) (*Profile, error) {
	old, err := m.c.profiles.store.Get(ctx, p.ID)
	if errors.Is(err, ErrProfileNotFound) {
		return nil, newError(CodeProfileNotFound, fmt.Sprintf("no profile %q", clip(p.ID)), nil)
	} else if err != nil {
		return nil, newError(CodeProviderUnavailable, "the profile store failed", err)
	}
	return m.put(ctx, p, old)
}

// put validates p, merges the secrets of old (nil for a new profile),
// checks discovery and stores the result.
func (m *ProfileManager) put(ctx context.Context, p Profile, old *StoredProfile) (*Profile, error) {
	c := m.c
	reg := c.profiles
	issuer, err := discovery.NormalizeIssuer(p.Issuer)
	if err != nil {
		return nil, newError(CodeProfileInvalid, "Issuer: "+err.Error(), err)
	}
	if p.ClientID == "" {
		return nil, profileError("ClientID is required")
	}
	if strings.TrimSpace(p.DisplayName) == "" {
		p.DisplayName = p.ID
	}
	p.Policy.AllowedDomains = lowerASCII(p.Policy.AllowedDomains)
	if err := p.Policy.Validate(); err != nil {
		return nil, profileError("Policy: %v", err)
	}
	domains, err := normalizeDomains(p.Domains)
	if err != nil {
		return nil, profileError("Domains: %v", err)
	}
	if p.LogoURL != "" {
		if u, err := url.Parse(p.LogoURL); err != nil || (u.Scheme != "https" && !(u.Scheme == "" && strings.HasPrefix(p.LogoURL, "/") && !strings.HasPrefix(p.LogoURL, "//"))) {
			return nil, profileError("LogoURL must be an https URL or a local path")
		}
	}
	sp := &StoredProfile{Profile: p}
	sp.Issuer = issuer
	sp.Domains = domains
	sp.Vendor = discovery.DetectVendor(issuer)
	sp.ClientSecret, sp.PrivateKeyPEM = "", ""

	// Secrets: new ones are sealed (bound to the profile ID); blank ones
	// keep the stored ones.
	var secret Secret
	var key crypto.Signer
	switch {
	case p.ClientSecret != "":
		secret = p.ClientSecret
		sp.SealedSecret = []byte(reg.secrets.Seal([]byte(p.ClientSecret), []byte(p.ID)))
	case old != nil:
		sp.SealedSecret = old.SealedSecret
	}
	switch {
	case p.PrivateKeyPEM != "":
		k, err := parsePrivateKey([]byte(p.PrivateKeyPEM))
		if err != nil {
			return nil, profileError("PrivateKeyPEM: %v", err)
		}
		key = k
		sp.SealedPrivateKey = []byte(reg.secrets.Seal([]byte(p.PrivateKeyPEM), []byte(p.ID)))
	case old != nil:
		sp.SealedPrivateKey = old.SealedPrivateKey
	}
	cc, err := reg.open(sp)
	if err != nil {
		return nil, err
	}
	if secret != "" {
		cc.secret = secret
	}
	if key != nil {
		cc.privateKey = key
	}
	if err := cc.check(); err != nil {
		e := asError(err)
		return nil, profileError("%s", e.Detail)
	}
	// The issuer must answer with a valid discovery document before
	// anything is stored (seed 003).
	if old != nil && old.Issuer != issuer {
		c.disc.Invalidate(old.Issuer)
	}
	if _, err := c.disc.Discover(ctx, issuer); err != nil {
		return nil, discoveryError(err)
	}
	now := c.cfg.Now().UTC().Truncate(time.Microsecond)
	sp.CreatedAt, sp.UpdatedAt = now, now
	if old != nil {
		sp.CreatedAt = old.CreatedAt
		if !now.After(old.UpdatedAt) {
			sp.UpdatedAt = old.UpdatedAt.Add(time.Microsecond)
		}
	}
	sp.HasSecret = sp.SealedSecret != nil
	sp.HasPrivateKey = sp.SealedPrivateKey != nil
	if err := reg.store.Put(ctx, sp); err != nil {
		return nil, newError(CodeProviderUnavailable, "the profile store failed", err)
	}
	c.log.InfoContext(ctx, "sso: profile saved", "profile", sp.ID, "issuer", sp.Issuer, "enabled", sp.Enabled)
	return publicView(sp), nil
}

// normalizeDomains lower-cases and checks email domains.
func normalizeDomains(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, d := range in {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || strings.ContainsAny(d, "@/:* ") || !strings.Contains(d, ".") || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") {
			return nil, fmt.Errorf("%q is not a domain like example.com", d)
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// publicView is the profile without its sealed secrets.
func publicView(sp *StoredProfile) *Profile {
	p := cloneStored(sp).Profile
	p.ClientSecret, p.PrivateKeyPEM = "", ""
	p.HasSecret = sp.SealedSecret != nil
	p.HasPrivateKey = sp.SealedPrivateKey != nil
	return &p
}

// Get returns the public view of a profile.
func (m *ProfileManager) Get(ctx context.Context, id string) (*Profile, error) {
	sp, err := m.c.profiles.store.Get(ctx, id)
	if errors.Is(err, ErrProfileNotFound) {
		return nil, newError(CodeProfileNotFound, fmt.Sprintf("no profile %q", clip(id)), nil)
	} else if err != nil {
		return nil, newError(CodeProviderUnavailable, "the profile store failed", err)
	}
	return publicView(sp), nil
}

// List returns the public view of every profile, ordered by ID.
func (m *ProfileManager) List(ctx context.Context) ([]*Profile, error) {
	all, err := m.c.profiles.store.List(ctx)
	if err != nil {
		return nil, newError(CodeProviderUnavailable, "the profile store failed", err)
	}
	out := make([]*Profile, len(all))
	for i, sp := range all {
		out[i] = publicView(sp)
	}
	return out, nil
}

// SetEnabled enables or disables a profile. A disabled profile is hidden
// from the picker and refuses new sign-ins, in-flight callbacks included
// (profile_disabled); its sessions are kept.
func (m *ProfileManager) SetEnabled(ctx context.Context, id string, enabled bool) (*Profile, error) {
	sp, err := m.c.profiles.store.Get(ctx, id)
	if errors.Is(err, ErrProfileNotFound) {
		return nil, newError(CodeProfileNotFound, fmt.Sprintf("no profile %q", clip(id)), nil)
	} else if err != nil {
		return nil, newError(CodeProviderUnavailable, "the profile store failed", err)
	}
	sp.Enabled = enabled
	now := m.c.cfg.Now().UTC().Truncate(time.Microsecond)
	if !now.After(sp.UpdatedAt) {
		now = sp.UpdatedAt.Add(time.Microsecond)
	}
	sp.UpdatedAt = now
	if err := m.c.profiles.store.Put(ctx, sp); err != nil {
		return nil, newError(CodeProviderUnavailable, "the profile store failed", err)
	}
	return publicView(sp), nil
}

// Sessions counts the active sessions created through a profile, for a
// delete confirmation ("this signs out N people").
func (m *ProfileManager) Sessions(ctx context.Context, id string) (int, error) {
	n, err := m.c.sessions.Count(ctx, SessionFilter{Profile: id})
	if err != nil {
		return 0, newError(CodeProviderUnavailable, "the session store failed", err)
	}
	return n, nil
}

// Delete removes a profile and revokes every session created through it,
// returning how many. Once the profile is gone no new session can start
// through it, so the revocation that follows is complete.
func (m *ProfileManager) Delete(ctx context.Context, id string) (revoked int, err error) {
	reg := m.c.profiles
	sp, err := reg.store.Get(ctx, id)
	if errors.Is(err, ErrProfileNotFound) {
		return 0, newError(CodeProfileNotFound, fmt.Sprintf("no profile %q", clip(id)), nil)
	} else if err != nil {
		return 0, newError(CodeProviderUnavailable, "the profile store failed", err)
	}
	if err := reg.store.Delete(ctx, id); err != nil && !errors.Is(err, ErrProfileNotFound) {
		return 0, newError(CodeProviderUnavailable, "the profile store failed", err)
	}
	reg.mu.Lock()
	delete(reg.cache, id)
	reg.mu.Unlock()
	m.c.disc.Invalidate(sp.Issuer)
	n, err := m.c.sessions.DeleteMatching(ctx, SessionFilter{Profile: id})
	if err != nil {
		return n, newError(CodeProviderUnavailable, "the profile is deleted but revoking its sessions failed; retry the delete of its sessions", err)
	}
	m.c.log.InfoContext(ctx, "sso: profile deleted", "profile", id, "sessions_revoked", n)
	return n, nil
}

// Check runs the connection check of a profile's issuer, for an admin's
// "Test connection" button: what discovery found, the JWKS key count, the
// signing algorithms and every problem, as data.
func (m *ProfileManager) Check(ctx context.Context, id string) (*discovery.Report, error) {
	sp, err := m.c.profiles.store.Get(ctx, id)
	if errors.Is(err, ErrProfileNotFound) {
		return nil, newError(CodeProfileNotFound, fmt.Sprintf("no profile %q", clip(id)), nil)
	} else if err != nil {
		return nil, newError(CodeProviderUnavailable, "the profile store failed", err)
	}
	return m.c.disc.Check(ctx, sp.Issuer), nil
}

// RedirectURIs lists the redirect URI to register at a provider for each
// host the application serves (seed 003's "Redirect URIs" dialog): the
// callback path on https://host, or http:// for a loopback host. With no
// hosts it returns the configured RedirectURL.
func (c *Client) RedirectURIs(hosts ...string) []string {
	if len(hosts) == 0 {
		return []string{c.cfg.redirect}
	}
	u, _ := url.Parse(c.cfg.redirect)
	out := make([]string, 0, len(hosts))
	for _, h := range hosts {
		scheme := "https"
		hn := h
		if x, _, err := net.SplitHostPort(h); err == nil {
			hn = x
		}
		if safehttp.IsLoopbackHost(hn) {
			scheme = "http"
		}
		out = append(out, scheme+"://"+h+u.EscapedPath())
	}
	return out
}

// lowerASCII lower-cases the ASCII letters of domains an admin typed
// ("Acme.com"), leaving anything else for Policy.Validate to judge.
func lowerASCII(in []string) []string {
	out := make([]string, len(in))
	for i, d := range in {
		b := []byte(strings.TrimSpace(d))
		for j, c := range b {
			if 'A' <= c && c <= 'Z' {
				b[j] = c + 'a' - 'A'
			}
		}
		out[i] = string(b)
	}
	return out
}
