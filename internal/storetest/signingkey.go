package storetest

import (
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
