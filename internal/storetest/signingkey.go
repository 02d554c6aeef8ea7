package storetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

func testSigningKey(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("CreateAndFindOldestFirst", func(t *testing.T) {
		s := open(t)
		keys, err := s.FindSigningKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		} else if len(keys) != 0 {
			t.Fatalf("an empty store has %d signing keys, want 0", len(keys))
		}

		// Inserted out of order: the result must follow CreatedAt, not insertion.
		base := now()
		want := make([]*latchkey.SigningKey, 3)
		for _, i := range []int{1, 2, 0} {
			k := &latchkey.SigningKey{
				ID:         newID(),
				Algorithm:  "ES256",
				PrivateKey: randomBytes(t, 138),
				CreatedAt:  base.Add(time.Duration(i) * time.Second),
			}
			if err := s.CreateSigningKey(t.Context(), k); err != nil {
				t.Fatal(err)
			}
			want[i] = k
		}

		keys, err = s.FindSigningKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, keys); diff != "" {
			t.Fatalf("FindSigningKeys mismatch (-want +got):\n%s", diff)
		}
	})
}

func testSigningKeyWrites(t *testing.T, open func(t *testing.T) latchkey.Store) {
	key := func(alg string, created time.Time) *latchkey.SigningKey {
		return &latchkey.SigningKey{ID: newID(), Algorithm: alg, PrivateKey: randomBytes(t, 48), CreatedAt: created}
	}
	count := func(t *testing.T, s latchkey.Store) map[string]int {
		t.Helper()
		keys, err := s.FindSigningKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, k := range keys {
			n[k.Algorithm]++
		}
		return n
	}

	t.Run("CreateIfNoneOnce", func(t *testing.T) {
		s := open(t)
		// Callers at once, as nodes starting together: one key of each algorithm results.
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for range 8 {
			wg.Go(func() {
				errs <- s.CreateSigningKeysIfNone(t.Context(), []*latchkey.SigningKey{key("ES256", now()), key("HS256", now())})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if diff := cmp.Diff(map[string]int{"ES256": 1, "HS256": 1}, count(t, s)); diff != "" {
			t.Fatalf("keys by algorithm (-want +got):\n%s", diff)
		}
	})

	t.Run("CreateIfNoneKeepsExisting", func(t *testing.T) {
		s := open(t)
		old := key("ES256", now())
		if err := s.CreateSigningKey(t.Context(), old); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateSigningKeysIfNone(t.Context(), []*latchkey.SigningKey{key("ES256", now()), key("HS256", now())}); err != nil {
			t.Fatal(err)
		}
		keys, err := s.FindSigningKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[0].ID != old.ID || keys[1].Algorithm != "HS256" {
			t.Fatalf("keys = %+v, want the old ES256 key and a new HS256 key", keys)
		}
	})

	t.Run("Rotate", func(t *testing.T) {
		s := open(t)
		base := now()
		long := key("ES256", base.Add(-3*time.Hour))
		long.RetiredAt = ptr(base.Add(-2 * time.Hour))
		first, hmac := key("ES256", base.Add(-time.Hour)), key("HS256", base.Add(-time.Hour))
		for _, k := range []*latchkey.SigningKey{long, first, hmac} {
			if err := s.CreateSigningKey(t.Context(), k); err != nil {
				t.Fatal(err)
			}
		}
		next := key("ES256", base)
		if err := s.RotateSigningKeys(t.Context(), []*latchkey.SigningKey{next},
			map[string]time.Time{"ES256": base.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		got, err := s.FindSigningKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		retired := *first
		retired.RetiredAt = ptr(base)
		want := []*latchkey.SigningKey{&retired, hmac, next}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("keys after rotation (-want +got):\n%s", diff)
		}
	})

	t.Run("ReplaceMaterial", func(t *testing.T) {
		s := open(t)
		k := key("HS256", now())
		if err := s.CreateSigningKey(t.Context(), k); err != nil {
			t.Fatal(err)
		}
		sealed := randomBytes(t, 60)
		if ok, err := s.ReplaceSigningKeyMaterial(t.Context(), k.ID, randomBytes(t, 48), sealed); err != nil || ok {
			t.Fatalf("replace with the wrong old material = %v, %v; want false, nil", ok, err)
		}
		if ok, err := s.ReplaceSigningKeyMaterial(t.Context(), k.ID, k.PrivateKey, sealed); err != nil || !ok {
			t.Fatalf("replace = %v, %v; want true, nil", ok, err)
		}
		keys, err := s.FindSigningKeys(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := keys[0].PrivateKey; !bytes.Equal(got, sealed) {
			t.Fatalf("material = %x, want %x", got, sealed)
		}
		_, err = s.ReplaceSigningKeyMaterial(t.Context(), newID(), k.PrivateKey, sealed)
		assertCode(t, err, latchkey.ENotFound)
	})
}

func ptr[T any](v T) *T { return &v }
