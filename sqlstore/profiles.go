package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ssokit/ssokit/ssoclient"
)

// ProfileStore is the Store's ssoclient.ProfileStore. A row holds the
// profile's public JSON (which has no secret in it: Profile.ClientSecret
// and PrivateKeyPEM, the secrets in the clear, are never stored) and the
// sealed secret and key in columns of their own.
type ProfileStore struct{ s *Store }

var _ ssoclient.ProfileStore = (*ProfileStore)(nil)

// Get implements ssoclient.ProfileStore.
func (p *ProfileStore) Get(ctx context.Context, id string) (*ssoclient.StoredProfile, error) {
	sp, err := scanProfile(p.s.db.QueryRowContext(ctx, p.s.q.getProfile, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ssoclient.ErrProfileNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading profile %q: %w", id, err)
	}
	return sp, nil
}

// List implements ssoclient.ProfileStore: ordered by ID, byte by byte.
func (p *ProfileStore) List(ctx context.Context) ([]*ssoclient.StoredProfile, error) {
	rows, err := p.s.db.QueryContext(ctx, p.s.q.listProfiles)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: listing profiles: %w", err)
	}
	defer rows.Close()
	out := []*ssoclient.StoredProfile{}
	for rows.Next() {
		sp, err := scanProfile(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlstore: listing profiles: %w", err)
		}
		out = append(out, sp)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: listing profiles: %w", err)
	}
	return out, nil
}

// Put implements ssoclient.ProfileStore with one upsert statement. An
// empty sealed value is stored as none (NULL) and read back as nil.
func (p *ProfileStore) Put(ctx context.Context, sp *ssoclient.StoredProfile) error {
	if sp == nil || sp.ID == "" {
		return errors.New("sqlstore: storing a profile without an ID")
	}
	data, err := json.Marshal(&sp.Profile)
	if err != nil {
		return fmt.Errorf("sqlstore: storing profile %q: %w", sp.ID, err)
	}
	_, err = p.s.db.ExecContext(ctx, p.s.q.putProfile, sp.ID, string(data),
		nullIfNone(sp.SealedSecret), nullIfNone(sp.SealedPrivateKey), p.s.timeArg(time.Now()))
	if err != nil {
		return fmt.Errorf("sqlstore: storing profile %q: %w", sp.ID, err)
	}
	return nil
}

// Delete implements ssoclient.ProfileStore.
func (p *ProfileStore) Delete(ctx context.Context, id string) error {
	res, err := p.s.db.ExecContext(ctx, p.s.q.deleteProfile, id)
	if err != nil {
		return fmt.Errorf("sqlstore: deleting profile %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlstore: deleting profile %q: %w", id, err)
	}
	if n == 0 {
		return ssoclient.ErrProfileNotFound
	}
	return nil
}

func scanProfile(row interface{ Scan(...any) error }) (*ssoclient.StoredProfile, error) {
	var (
		data           []byte
		secret, keyPEM []byte
	)
	if err := row.Scan(&data, &secret, &keyPEM); err != nil {
		return nil, err
	}
	sp := &ssoclient.StoredProfile{}
	if err := json.Unmarshal(data, &sp.Profile); err != nil {
		return nil, fmt.Errorf("profile JSON: %w", err)
	}
	if len(secret) > 0 {
		sp.SealedSecret = secret
	}
	if len(keyPEM) > 0 {
		sp.SealedPrivateKey = keyPEM
	}
	return sp, nil
}

// nullIfNone is nil (SQL NULL) for an empty b.
func nullIfNone(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
