package storetest

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey"
)

// testHealth checks what /readyz and /metrics ask of a store: readiness and pool statistics.
func testHealth(t *testing.T, open func(t *testing.T) latchkey.Store) {
	ctx := context.Background()

	t.Run("Ready", func(t *testing.T) {
		s := open(t)
		rc, ok := s.(latchkey.ReadyChecker)
		if !ok {
			t.Fatalf("%T does not implement latchkey.ReadyChecker", s)
		}
		if err := rc.CheckReady(ctx); err != nil {
			t.Fatalf("CheckReady on a migrated store: %v", err)
		}
	})

	t.Run("PoolStats", func(t *testing.T) {
		s := open(t)
		ps, ok := s.(latchkey.PoolStatser)
		if !ok {
			t.Fatalf("%T does not implement latchkey.PoolStatser", s)
		}
		mustCreateApp(t, s)
		stats := ps.PoolStats()
		if len(stats) == 0 {
			t.Fatal("PoolStats reports no pool")
		}
		for name, st := range stats {
			if st.MaxOpen <= 0 || st.Open < 0 || st.InUse < 0 || st.Idle < 0 || st.InUse+st.Idle != st.Open {
				t.Errorf("pool %q: %+v, want MaxOpen > 0 and InUse + Idle = Open", name, st)
			}
		}
	})
}
