package service

import (
	"context"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.SigningKeyService = (*SigningKeys)(nil)

// SigningKeys shows and rotates the token signing keys for an admin.
type SigningKeys struct{ *core }

// FindSigningKeys lists the signing keys that sign or still verify, newest first, without
// their material.
func (s *SigningKeys) FindSigningKeys(ctx context.Context) ([]*latchkey.SigningKeyInfo, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	return s.signingKeyInfos(ctx)
}

func (s *core) signingKeyInfos(ctx context.Context) ([]*latchkey.SigningKeyInfo, error) {
	keys, err := s.store.FindSigningKeys(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	infos := []*latchkey.SigningKeyInfo{}
	for _, k := range slices.Backward(keys) {
		info := &latchkey.SigningKeyInfo{ID: k.ID, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt, State: latchkey.SigningKeyCurrent}
		if k.RetiredAt != nil {
			until := verifiesUntil(k)
			if !now.Before(until) {
				continue // verifies nothing any more; the next rotation deletes it
			}
			info.State, info.RetiredAt, info.VerifiesUntil = latchkey.SigningKeyRetired, k.RetiredAt, &until
		}
		infos = append(infos, info)
	}
	return infos, nil
}

// RotateSigningKeys makes a new ES256 key for access tokens and a new HS256 key for refresh
// tokens. Both sign on this node at once, and on the others within keyRefreshInterval; the
// old ones verify until the tokens they signed have expired (verifyLifetime). Keys past that
// are deleted.
func (s *SigningKeys) RotateSigningKeys(ctx context.Context) ([]*latchkey.SigningKeyInfo, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	var keys []*latchkey.SigningKey
	deleteBefore := map[string]time.Time{}
	now := s.now()
	for _, alg := range []string{signingAlgorithm, refreshAlgorithm} {
		k, err := s.tokens.newKey(alg)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		deleteBefore[alg] = now.Add(-verifyLifetime(alg))
	}
	err := s.store.RotateSigningKeys(ctx, keys, deleteBefore)
	if err == nil {
		err = s.tokens.reload(ctx)
	}
	s.audit(ctx, nil, latchkey.EventSigningKeysRotated, err, "signing_keys", keys[0].ID,
		map[string]string{"access_kid": keys[0].ID, "refresh_kid": keys[1].ID})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "rotated the signing keys", "access_kid", keys[0].ID, "refresh_kid", keys[1].ID)
	return s.signingKeyInfos(ctx)
}
