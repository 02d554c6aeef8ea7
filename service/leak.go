package service

import (
	"context"
	"crypto/subtle"
	"encoding/hex"

	"github.com/latchkey/latchkey"
)

var _ latchkey.LeakService = (*Leaks)(nil)

// Leaks answers secret scanners' reports of leaked key values, and gives an admin the secret
// that authenticates them.
type Leaks struct{ *core }

// CheckLeakSecret verifies the secret that authenticates the app's leak reports.
func (s *Leaks) CheckLeakSecret(ctx context.Context, app *latchkey.App, secret string) error {
	if len(app.LeakSecretHash) == 0 || subtle.ConstantTimeCompare(app.LeakSecretHash, hashKey(secret)) != 1 {
		return latchkey.Errorf(latchkey.EUnauthenticated, "invalid leak report secret")
	}
	return nil
}

// ReportLeakedKeys acts on values that a secret scanner found in public: a key whose current
// value leaked is disabled (ending its sessions); a key whose previous value leaked during a
// rotation's grace period loses that grace at once. It reports which values were live keys.
func (s *Leaks) ReportLeakedKeys(ctx context.Context, app *latchkey.App, values []string) ([]bool, error) {
	if len(values) > maxLeakReport {
		return nil, latchkey.Errorf(latchkey.EBadRequest, "a report may carry at most %d keys", maxLeakReport)
	}
	found := make([]bool, len(values))
	for i, v := range values {
		if !latchkey.CheckKeyValue(v) {
			continue
		}
		hash := hashKey(v)
		k, err := s.store.FindAPIKeyByHash(ctx, app.ID, hash)
		if latchkey.ErrorCode(err) == latchkey.ENotFound {
			continue
		} else if err != nil {
			return nil, err
		}
		now := s.now()
		switch {
		case subtle.ConstantTimeCompare(k.Hash, hash) == 1:
			err = s.store.SetAPIKeyDisabled(ctx, k.UserID, k.ID, true)
		case k.PreviousExpiresAt != nil && now.Before(*k.PreviousExpiresAt):
			// Only if it is still the previous value: a rotation since the read keeps its own.
			err = s.store.EndAPIKeyGrace(ctx, k.UserID, k.ID, hash, now)
		default:
			continue // an old value whose grace is over: already refused
		}
		s.audit(ctx, app, latchkey.EventAPIKeyLeaked, err, "api_key", k.ID, map[string]string{"user_id": k.UserID})
		if err != nil {
			return nil, err
		}
		found[i] = true
	}
	return found, nil
}

// RotateLeakSecret makes a new secret for the app's leak reports; the old one stops working.
func (s *Leaks) RotateLeakSecret(ctx context.Context, appID string) (string, error) {
	app, err := s.adminApp(ctx, appID)
	if err != nil {
		return "", err
	}
	secret := "lkleak_" + hex.EncodeToString(randomBytes(32))
	app.LeakSecretHash = hashKey(secret)
	err = s.store.UpdateApp(ctx, app)
	s.apps.forget()
	s.audit(ctx, app, latchkey.EventLeakSecretRotated, err, "app", app.ID, nil)
	if err != nil {
		return "", err
	}
	return secret, nil
}
