package sqlstore

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ssokit/ssokit/claims"
	"github.com/ssokit/ssokit/discovery"
	"github.com/ssokit/ssokit/provisioning"
	"github.com/ssokit/ssokit/ssoclient"
)

// fullProfile has every public field of Profile set (checked by
// TestFullProfileIsFull, so a field added later is round-tripped too).
func fullProfile(id string) *ssoclient.StoredProfile {
	return &ssoclient.StoredProfile{
		Profile: ssoclient.Profile{
			ID:            id,
			Organization:  "org-42",
			DisplayName:   "Acme Okta — «ünïcödé» 🚀",
			Issuer:        "https://acme.okta.com/oauth2/default",
			ClientID:      "0oa1b2c3",
			KeyID:         "kid-1",
			AuthMethod:    ssoclient.AuthMethod("private_key_jwt"),
			Scopes:        []string{"openid", "profile", "email", "groups"},
			Claims:        claims.Mapping{Subject: "oid", Email: "mail", EmailVerified: "ev", Username: "upn", Name: "dn", Picture: "pic", Locale: "loc", Groups: "roles"},
			Policy:        provisioning.Policy{AllowedDomains: []string{"acme.com", "acme.co.uk"}, EmailTrust: claims.TrustProvider, Mode: provisioning.ModeMatchOnly},
			Enabled:       true,
			Domains:       []string{"acme.com"},
			ButtonText:    "Sign in with Acme",
			LogoURL:       "https://acme.com/logo.png",
			Vendor:        discovery.Vendor("okta"),
			HasSecret:     true,
			HasPrivateKey: true,
			CreatedAt:     time.Date(2025, 1, 2, 3, 4, 5, 123456789, time.UTC),
			UpdatedAt:     time.Date(2025, 6, 7, 8, 9, 10, 987654321, time.FixedZone("CEST", 2*3600)),
		},
		SealedSecret:     []byte{0, 1, 2, 0xff, 0xfe, 'x', 0},
		SealedPrivateKey: bytes.Repeat([]byte{0x80, 0x00, 0x7f}, 1000),
	}
}

func TestFullProfileIsFull(t *testing.T) {
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		for i := range v.NumField() {
			f, fv := v.Type().Field(i), v.Field(i)
			if f.Tag.Get("json") == "-" && fv.Type() == reflect.TypeFor[ssoclient.Secret]() {
				continue // the secrets in the clear, which are never stored
			}
			if fv.Kind() == reflect.Struct && fv.Type() != reflect.TypeFor[time.Time]() {
				check(path+f.Name+".", fv)
				continue
			}
			if fv.IsZero() {
				t.Errorf("fullProfile leaves %s%s zero: set it so the round trip covers it", path, f.Name)
			}
		}
	}
	check("", reflect.ValueOf(*fullProfile("x")))
}

// TestProfileRoundTrip: every public field, and the sealed secret and key
// byte for byte, come back from Get and List.
func TestProfileRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		ps := open(t).Profiles()
		ctx := t.Context()
		want := fullProfile("acme")
		if err := ps.Put(ctx, want); err != nil {
			t.Fatal(err)
		}
		got, err := ps.Get(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("Get differs from what was Put (-want +got):\n%s", d)
		}
		list, err := ps.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]*ssoclient.StoredProfile{want}, list); d != "" {
			t.Errorf("List differs (-want +got):\n%s", d)
		}
	})
}

// TestProfileSecretsInTheClearAreNotStored: a store only ever keeps the
// sealed forms.
func TestProfileSecretsInTheClearAreNotStored(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		s := open(t)
		p := fullProfile("acme")
		p.ClientSecret = "clear-secret-value"
		p.PrivateKeyPEM = "-----BEGIN PRIVATE KEY-----clear"
		if err := s.Profiles().Put(t.Context(), p); err != nil {
			t.Fatal(err)
		}
		got, err := s.Profiles().Get(t.Context(), "acme")
		if err != nil {
			t.Fatal(err)
		}
		if got.ClientSecret != "" || got.PrivateKeyPEM != "" {
			t.Error("a secret in the clear came back from the store")
		}
		var data string
		q := "SELECT CAST(data AS TEXT) FROM " + s.q.prefix + "profiles"
		if err := s.db.QueryRowContext(t.Context(), q).Scan(&data); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(data, "clear") || !strings.Contains(data, "0oa1b2c3") {
			t.Errorf("stored profile JSON %s: want the public fields and no secret", data)
		}
	})
}

// TestProfilePutReplacesWholly: a Put is the whole new record; fields and
// sealed values it leaves out are gone.
func TestProfilePutReplacesWholly(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		ps := open(t).Profiles()
		ctx := t.Context()
		if err := ps.Put(ctx, fullProfile("acme")); err != nil {
			t.Fatal(err)
		}
		small := &ssoclient.StoredProfile{Profile: ssoclient.Profile{ID: "acme", DisplayName: "Acme", Issuer: "https://idp.acme.com", ClientID: "c"}}
		if err := ps.Put(ctx, small); err != nil {
			t.Fatal(err)
		}
		got, err := ps.Get(ctx, "acme")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(small, got); d != "" {
			t.Errorf("after replacing, Get (-want +got):\n%s", d)
		}
		if got.SealedSecret != nil || got.SealedPrivateKey != nil {
			t.Errorf("sealed values = %v, %v; want nil (none)", got.SealedSecret, got.SealedPrivateKey)
		}
		// An empty sealed value is none.
		small.SealedSecret = []byte{}
		if err := ps.Put(ctx, small); err != nil {
			t.Fatal(err)
		}
		if got, err := ps.Get(ctx, "acme"); err != nil || got.SealedSecret != nil {
			t.Errorf("empty SealedSecret read back as %#v, %v; want nil", got.SealedSecret, err)
		}
	})
}

func TestProfileListOrderAndDelete(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		ps := open(t).Profiles()
		ctx := t.Context()
		if list, err := ps.List(ctx); err != nil || len(list) != 0 {
			t.Fatalf("List of an empty store = %v, %v", list, err)
		}
		// Byte order, as Go compares strings, whatever the database's
		// collation would say.
		ids := []string{"b", "B", "a", "_x", "Z", "a-1", "a_1", "a1", "é", "zz", "A"}
		for _, id := range ids {
			if err := ps.Put(ctx, &ssoclient.StoredProfile{Profile: ssoclient.Profile{ID: id, DisplayName: "n-" + id}}); err != nil {
				t.Fatal(err)
			}
		}
		want := slices.Sorted(slices.Values(ids))
		listIDs := func() []string {
			list, err := ps.List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range list {
				if p.DisplayName != "n-"+p.ID {
					t.Errorf("profile %q has DisplayName %q", p.ID, p.DisplayName)
				}
				out = append(out, p.ID)
			}
			return out
		}
		if got := listIDs(); !slices.Equal(got, want) {
			t.Errorf("List order %q; want %q", got, want)
		}

		if err := ps.Delete(ctx, "a_1"); err != nil {
			t.Fatal(err)
		}
		if _, err := ps.Get(ctx, "a_1"); !errors.Is(err, ssoclient.ErrProfileNotFound) {
			t.Errorf("Get after Delete = %v; want ErrProfileNotFound", err)
		}
		if err := ps.Delete(ctx, "a_1"); !errors.Is(err, ssoclient.ErrProfileNotFound) {
			t.Errorf("Delete twice = %v; want ErrProfileNotFound", err)
		}
		if err := ps.Delete(ctx, "A_1"); !errors.Is(err, ssoclient.ErrProfileNotFound) {
			t.Errorf("Delete of an ID in other case = %v; want ErrProfileNotFound (IDs are case-sensitive)", err)
		}
		if got := listIDs(); len(got) != len(ids)-1 || slices.Contains(got, "a_1") {
			t.Errorf("List after Delete = %q", got)
		}
		if _, err := ps.Get(ctx, "nope"); !errors.Is(err, ssoclient.ErrProfileNotFound) {
			t.Errorf("Get(unknown) = %v; want ErrProfileNotFound", err)
		}
	})
}

// TestProfileOddText: text the JSON escapes (a NUL, quotes, a lone
// surrogate's replacement) round-trips in both databases alike.
func TestProfileOddText(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		ps := open(t).Profiles()
		want := &ssoclient.StoredProfile{Profile: ssoclient.Profile{
			ID: "odd", DisplayName: "a\x00b \"q\" \\ <tag> \u2028 \ufffd", ButtonText: "'; DROP TABLE x; --",
		}}
		if err := ps.Put(t.Context(), want); err != nil {
			t.Fatal(err)
		}
		got, err := ps.Get(t.Context(), "odd")
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("(-want +got):\n%s", d)
		}
	})
}

// TestPostgresIDCollation: profile IDs are ordered byte by byte whatever
// the database's locale, because the column's collation is "C" (a
// database in C.UTF-8 would pass the order test without it).
func TestPostgresIDCollation(t *testing.T) {
	s := openTestPostgres(t)
	var coll string
	err := s.db.QueryRowContext(t.Context(), `SELECT collation_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1 AND column_name = 'id'`, s.q.prefix+"profiles").Scan(&coll)
	if err != nil || coll != "C" {
		t.Errorf("collation of the profiles' id = %q, %v; want C", coll, err)
	}
}

func TestProfilePutRefusesNoID(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		ps := open(t).Profiles()
		if err := ps.Put(t.Context(), &ssoclient.StoredProfile{Profile: ssoclient.Profile{DisplayName: "x"}}); err == nil {
			t.Error("Put without an ID succeeded")
		}
		if err := ps.Put(t.Context(), nil); err == nil {
			t.Error("Put(nil) succeeded")
		}
		if list, err := ps.List(t.Context()); err != nil || len(list) != 0 {
			t.Errorf("List = %v, %v; want nothing stored", list, err)
		}
	})
}

// TestProfilePutIsAtomic: readers racing many replacements always see one
// whole version, its JSON and sealed columns together.
func TestProfilePutIsAtomic(t *testing.T) {
	forEach(t, func(t *testing.T, open func(*testing.T) *Store) {
		ps := open(t).Profiles()
		ctx := t.Context()
		version := func(n int) *ssoclient.StoredProfile {
			v := fmt.Sprint("v", n)
			p := &ssoclient.StoredProfile{Profile: ssoclient.Profile{ID: "p", DisplayName: v, ClientID: v, Scopes: []string{v}}}
			p.SealedSecret = []byte(v + "-secret")
			if n%2 == 0 {
				p.SealedPrivateKey = []byte(v + "-key")
			}
			return p
		}
		if err := ps.Put(ctx, version(0)); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range 4 {
			wg.Go(func() {
				for n := 1 + w; n <= 200; n += 4 {
					if err := ps.Put(ctx, version(n)); err != nil {
						t.Errorf("Put: %v", err)
						return
					}
				}
			})
		}
		var readers sync.WaitGroup
		for range 4 {
			readers.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					got, err := ps.Get(ctx, "p")
					if err != nil {
						t.Errorf("Get: %v", err)
						return
					}
					var n int
					fmt.Sscanf(got.DisplayName, "v%d", &n)
					if d := cmp.Diff(version(n), got); d != "" {
						t.Errorf("Get saw a mix of versions (-version %d +got):\n%s", n, d)
						return
					}
				}
			})
		}
		wg.Wait()
		close(stop)
		readers.Wait()
	})
}
