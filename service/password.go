package service

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync/atomic"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's minimum recommendation (19 MiB, 2 iterations, 1 lane).
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// passwordHasher hashes and verifies passwords with argon2id, bounding how many hashes run at
// once so that a burst of logins cannot exhaust memory.
type passwordHasher struct {
	slots chan struct{}
	// memory is the argon2id memory of new hashes, in KiB.
	memory uint32
	// waiting counts the hashes queued for a slot, for metrics.
	waiting atomic.Int64
	// dummy is a real hash compared against when a login names no user, so that unknown
	// emails take as long as wrong passwords.
	dummy string
}

// newPasswordHasher returns a hasher running at most concurrency hashes at once, whose new
// hashes take memory KiB; zero means argonMemory.
func newPasswordHasher(concurrency int, memory uint32) *passwordHasher {
	h := &passwordHasher{slots: make(chan struct{}, concurrency), memory: cmp.Or(memory, argonMemory)}
	h.dummy = h.encode(randomBytes(argonSaltLen), make([]byte, argonKeyLen))
	return h
}

func (h *passwordHasher) acquire(ctx context.Context) error {
	h.waiting.Add(1)
	defer h.waiting.Add(-1)
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *passwordHasher) release() { <-h.slots }

// Hash returns the encoded argon2id hash of password.
func (h *passwordHasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	salt := randomBytes(argonSaltLen)
	key := argon2.IDKey([]byte(password), salt, argonTime, h.memory, argonThreads, argonKeyLen)
	return h.encode(salt, key), nil
}

// Verify reports whether password matches the encoded hash, in constant time. An empty
// encoded hash is compared against a dummy so that the time taken does not tell.
func (h *passwordHasher) Verify(ctx context.Context, password, encoded string) (bool, error) {
	if encoded == "" {
		encoded = h.dummy
	}
	var m, t uint32
	var p uint8
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || parts[2] != "v=19" {
		return false, fmt.Errorf("password hash: unknown format")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, fmt.Errorf("password hash: parameters: %w", err)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("password hash: salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, fmt.Errorf("password hash: key: %w", err)
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1 && encoded != h.dummy, nil
}

func (h *passwordHasher) encode(salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", h.memory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("service: crypto/rand failed: " + err.Error())
	}
	return b
}
