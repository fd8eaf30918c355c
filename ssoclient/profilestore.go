package ssoclient

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/discovery"
	"github.com/ssokit/ssokit/provisioning"
)

// Profile is one SSO connection: an organisation's identity provider and
// how its sign-ins are handled (seed 003's "SSO profile", seed 002's
// "identity provider"). One Client serves many profiles.
//
// Its JSON form is the public view an admin console shows: it never
// carries the client secret or the private key, only whether one is set.
type Profile struct {
	// ID identifies the profile in URLs ({mount}/login?profile=ID): short,
	// URL-safe, stable.
	ID string `json:"id"`
	// Organization is the application's identifier of the organisation
	// that owns the profile (free-form; "" for none).
	Organization string `json:"organization,omitempty"`
	// DisplayName is shown in the provider picker ("Acme Okta").
	DisplayName string `json:"display_name"`
	// Issuer is anything discovery.NormalizeIssuer accepts; it is stored
	// normalised.
	Issuer   string `json:"issuer"`
	ClientID string `json:"client_id"`
	// ClientSecret is write-only: sealed at rest, never returned. Leaving
	// it empty when editing keeps the stored one.
	ClientSecret Secret `json:"-"`
	// PrivateKeyPEM is an RSA private key (PKCS#1 or PKCS#8 PEM) for
	// private_key_jwt; write-only like ClientSecret.
	PrivateKeyPEM Secret `json:"-"`
	// KeyID is the private key's kid at the provider.
	KeyID      string     `json:"key_id,omitempty"`
	AuthMethod AuthMethod `json:"auth_method,omitempty"`
	// Scopes default to openid profile email.
	Scopes []string       `json:"scopes,omitempty"`
	Claims claims.Mapping `json:"claims"`
	// Policy decides who may sign in through the profile.
	Policy  provisioning.Policy `json:"policy"`
	Enabled bool                `json:"enabled"`
	// Domains are the organisation's verified email domains: home-realm
	// discovery ({mount}/login?email=) offers the profile to these.
	Domains []string `json:"domains,omitempty"`
	// ButtonText and LogoURL dress the profile's button in the picker.
	ButtonText string `json:"button_text,omitempty"`
	LogoURL    string `json:"logo_url,omitempty"`

	// Vendor is detected from the issuer's host, for display only.
	Vendor discovery.Vendor `json:"vendor"`
	// HasSecret and HasPrivateKey tell whether a secret or key is stored.
	HasSecret     bool      `json:"has_secret"`
	HasPrivateKey bool      `json:"has_private_key"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// StoredProfile is what a ProfileStore keeps: the profile without its
// secrets, which travel sealed (AES-256-GCM under Config.SecretKeys).
type StoredProfile struct {
	Profile
	// SealedSecret and SealedPrivateKey are nil when none is set.
	SealedSecret     []byte `json:"-"`
	SealedPrivateKey []byte `json:"-"`
}

// ErrProfileNotFound is what a ProfileStore returns for an unknown ID.
var ErrProfileNotFound = errors.New("ssoclient: profile not found")

// ProfileStore keeps SSO profiles. Implementations must be safe for
// concurrent use. The Client seals secrets before Put and opens them after
// Get: a store never sees a secret in the clear. An in-memory store is
// NewMemoryProfileStore; a SQL one is in the nested module
// github.com/ssokit/ssokit/sqlstore.
type ProfileStore interface {
	// Get returns the profile with this ID, or ErrProfileNotFound.
	Get(ctx context.Context, id string) (*StoredProfile, error)
	// List returns every profile, ordered by ID.
	List(ctx context.Context) ([]*StoredProfile, error)
	// Put creates or wholly replaces the profile with p.ID, atomically:
	// readers see the old record or the new one, never a mix.
	Put(ctx context.Context, p *StoredProfile) error
	// Delete removes the profile, or returns ErrProfileNotFound.
	Delete(ctx context.Context, id string) error
}

// MemoryProfileStore is a ProfileStore in memory, for tests and
// single-process applications that configure profiles in code.
type MemoryProfileStore struct {
	mu sync.RWMutex
	m  map[string]*StoredProfile
}

// NewMemoryProfileStore returns an empty store.
func NewMemoryProfileStore() *MemoryProfileStore {
	return &MemoryProfileStore{m: map[string]*StoredProfile{}}
}

// Get implements ProfileStore.
func (s *MemoryProfileStore) Get(_ context.Context, id string) (*StoredProfile, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p, ok := s.m[id]
	if !ok {
		return nil, ErrProfileNotFound
	}
	return cloneStored(p), nil
}

// List implements ProfileStore.
func (s *MemoryProfileStore) List(_ context.Context) ([]*StoredProfile, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]*StoredProfile, 0, len(s.m))
	for _, p := range s.m {
		out = append(out, cloneStored(p))
	}
	slices.SortFunc(out, func(a, b *StoredProfile) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	return out, nil
}

// Put implements ProfileStore.
func (s *MemoryProfileStore) Put(_ context.Context, p *StoredProfile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[p.ID] = cloneStored(p)
	return nil
}

// Delete implements ProfileStore.
func (s *MemoryProfileStore) Delete(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok {
		return ErrProfileNotFound
	}
	delete(s.m, id)
	return nil
}

// cloneStored copies p deeply enough that callers cannot change what a
// store holds.
func cloneStored(p *StoredProfile) *StoredProfile {
	c := *p
	c.Scopes = slices.Clone(p.Scopes)
	c.Domains = slices.Clone(p.Domains)
	c.Policy.AllowedDomains = slices.Clone(p.Policy.AllowedDomains)
	c.SealedSecret = slices.Clone(p.SealedSecret)
	c.SealedPrivateKey = slices.Clone(p.SealedPrivateKey)
	return &c
}
