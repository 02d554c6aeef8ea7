package service

import (
	"context"
	"fmt"

	"github.com/latchkey/latchkey"
)

var _ latchkey.ReadyChecker = (*Service)(nil)

// CheckReady reports whether the service can serve: its store answers and is fully migrated.
func (s *Service) CheckReady(ctx context.Context) error {
	if rc, ok := s.store.(latchkey.ReadyChecker); ok {
		return rc.CheckReady(ctx)
	}
	if _, err := s.store.FindSigningKeys(ctx); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// PasswordHashQueue returns how many password hashes wait for a slot and how many run.
func (s *Service) PasswordHashQueue() (waiting, running int) {
	return int(s.hasher.waiting.Load()), len(s.hasher.slots)
}
