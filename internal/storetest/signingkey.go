package storetest

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// signingKeysCases are the cases of latchkey.SigningKeyStore: the writes that nodes
// starting or rotating together serialize.
var signingKeysCases = []storeCase{
	{"CreateAndFindOldestFirst", testSigningKeysCreateAndFindOldestFirst},
	{"CreateIfNoneOnce", testSigningKeysCreateIfNoneOnce},
	{"CreateIfNoneKeepsExisting", testSigningKeysCreateIfNoneKeepsExisting},
	{"Rotate", testSigningKeysRotate},
	{"ReplaceMaterial", testSigningKeysReplaceMaterial},
}

func testSigningKeysCreateAndFindOldestFirst(t *testing.T, open func(t *testing.T) latchkey.Store) {
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
}

func testSigningKeysCreateIfNoneOnce(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	// Callers at once, as nodes starting together: one key of each algorithm results.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			errs <- s.CreateSigningKeysIfNone(t.Context(), []*latchkey.SigningKey{newSigningKey(t, "ES256", now()), newSigningKey(t, "HS256", now())})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(map[string]int{"ES256": 1, "HS256": 1}, countSigningKeys(t, s)); diff != "" {
		t.Fatalf("keys by algorithm (-want +got):\n%s", diff)
	}
}

func testSigningKeysCreateIfNoneKeepsExisting(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	old := newSigningKey(t, "ES256", now())
	if err := s.CreateSigningKey(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSigningKeysIfNone(t.Context(), []*latchkey.SigningKey{newSigningKey(t, "ES256", now()), newSigningKey(t, "HS256", now())}); err != nil {
		t.Fatal(err)
	}
	keys, err := s.FindSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != old.ID || keys[1].Algorithm != "HS256" {
		t.Fatalf("keys = %+v, want the old ES256 key and a new HS256 key", keys)
	}
}

func testSigningKeysRotate(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	base := now()
	long := newSigningKey(t, "ES256", base.Add(-3*time.Hour))
	long.RetiredAt = ptr(base.Add(-2 * time.Hour))
	first, hmac := newSigningKey(t, "ES256", base.Add(-time.Hour)), newSigningKey(t, "HS256", base.Add(-time.Hour))
	for _, k := range []*latchkey.SigningKey{long, first, hmac} {
		if err := s.CreateSigningKey(t.Context(), k); err != nil {
			t.Fatal(err)
		}
	}
	next := newSigningKey(t, "ES256", base)
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
}

func testSigningKeysReplaceMaterial(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	k := newSigningKey(t, "HS256", now())
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
}

// newSigningKey returns a signing key of the algorithm created at created, not yet stored.
func newSigningKey(t *testing.T, alg string, created time.Time) *latchkey.SigningKey {
	return &latchkey.SigningKey{ID: newID(), Algorithm: alg, PrivateKey: randomBytes(t, 48), CreatedAt: created}
}

// countSigningKeys returns how many signing keys the store holds of each algorithm.
func countSigningKeys(t *testing.T, s latchkey.Store) map[string]int {
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

func ptr[T any](v T) *T { return &v }
