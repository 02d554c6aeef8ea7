package service

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestPasswordHasher(t *testing.T) {
	h := newPasswordHasher(1, 0)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		enc, err := h.Hash(ctx, "s3cretpass")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(enc, "s3cretpass") {
			t.Fatalf("encoded hash %q is not argon2id with OWASP's minimum parameters", enc)
		}
		if ok, err := h.Verify(ctx, "s3cretpass", enc); !ok || err != nil {
			t.Fatalf("Verify(right password) = %v, %v", ok, err)
		}
		if ok, _ := h.Verify(ctx, "wrong", enc); ok {
			t.Fatal("Verify(wrong password) = true")
		}
	})
	t.Run("NoHashNeverMatches", func(t *testing.T) {
		if ok, err := h.Verify(ctx, "", ""); ok || err != nil {
			t.Fatalf("Verify against no hash = %v, %v; want false, nil", ok, err)
		}
	})
	t.Run("Bounded", func(t *testing.T) {
		// With the only slot taken, a hash waits for it and gives up with its context.
		if err := h.acquire(ctx); err != nil {
			t.Fatal(err)
		}
		defer h.release()
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := h.Hash(cancelled, "s3cretpass"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Hash with no free slot = %v, want context.Canceled", err)
		}
	})
}
