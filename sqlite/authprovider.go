package sqlite

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/dbval"
	"github.com/latchkey/latchkey/internal/storeerr"
)

// authProviderColumns are the columns scanAuthProvider reads, in its order, which is also
// the order of CreateAuthProvider's insert.
const authProviderColumns = `app_id, type, disabled, config, metadata_fields, sealed_secrets,
	created_at, updated_at`

// CreateAuthProvider inserts an app's external provider.
// Errors: EConflict when the app has one of the type; ENotFound when the app does not exist.
func (s *Store) CreateAuthProvider(ctx context.Context, p *latchkey.AuthProvider) error {
	config, fields, err := dbval.EncodeAuthProvider(p)
	if err != nil {
		return wrap("create auth provider", err)
	}
	return s.execInsert(ctx, "create auth provider", "auth provider", storeerr.AppNotFound,
		`INSERT INTO auth_providers (`+authProviderColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		p.AppID, p.Type, p.Disabled, config, fields, nullBytes(p.SealedSecrets),
		millis(p.CreatedAt), millis(p.UpdatedAt))
}

// UpdateAuthProvider writes every field of the app's provider of p.Type but CreatedAt.
// Errors: ENotFound when the app has none of the type.
func (s *Store) UpdateAuthProvider(ctx context.Context, p *latchkey.AuthProvider) error {
	config, fields, err := dbval.EncodeAuthProvider(p)
	if err != nil {
		return wrap("update auth provider", err)
	}
	return s.execOne(ctx, "update auth provider", storeerr.AuthProviderNotFound,
		`UPDATE auth_providers SET disabled = ?, config = ?, metadata_fields = ?, sealed_secrets = ?,
		updated_at = ? WHERE app_id = ? AND type = ?`,
		p.Disabled, config, fields, nullBytes(p.SealedSecrets), millis(p.UpdatedAt), p.AppID, p.Type)
}

// FindAuthProvider returns the app's provider of the type.
func (s *Store) FindAuthProvider(ctx context.Context, appID, typ string) (*latchkey.AuthProvider, error) {
	p, err := scanAuthProvider(s.read.QueryRowContext(ctx, `SELECT `+authProviderColumns+`
		FROM auth_providers WHERE app_id = ? AND type = ?`, appID, typ))
	return p, wrap("find auth provider", noRow(err, storeerr.AuthProviderNotFound))
}

// FindAuthProviders returns the app's providers, by type.
func (s *Store) FindAuthProviders(ctx context.Context, appID string) ([]*latchkey.AuthProvider, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+authProviderColumns+`
		FROM auth_providers WHERE app_id = ? ORDER BY type`, appID)
	list, err := scanAll(rows, err, scanAuthProvider)
	return list, wrap("find auth providers", err)
}

// DeleteAuthProvider deletes the app's provider of the type; its users' identities stay.
// Errors: ENotFound when the app has none of the type.
func (s *Store) DeleteAuthProvider(ctx context.Context, appID, typ string) error {
	return s.execOne(ctx, "delete auth provider", storeerr.AuthProviderNotFound,
		`DELETE FROM auth_providers WHERE app_id = ? AND type = ?`, appID, typ)
}

// scanAuthProvider reads one row of authProviderColumns.
func scanAuthProvider(row rowScanner) (*latchkey.AuthProvider, error) {
	var (
		p                    latchkey.AuthProvider
		config, fields       string
		createdAt, updatedAt int64
	)
	if err := row.Scan(&p.AppID, &p.Type, &p.Disabled, &config, &fields, &p.SealedSecrets,
		&createdAt, &updatedAt); err != nil {
		return nil, err
	}
	if err := dbval.DecodeAuthProvider(&p, config, fields); err != nil {
		return nil, err
	}
	p.SealedSecrets = nullBytes(p.SealedSecrets)
	p.CreatedAt = fromMillis(createdAt)
	p.UpdatedAt = fromMillis(updatedAt)
	return &p, nil
}
