package storetest

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey"
)

// healthCases check what /readyz and /metrics ask of a store, beyond latchkey.Store:
// readiness and pool statistics.
var healthCases = []storeCase{
	{"Ready", testHealthReady},
	{"PoolStats", testHealthPoolStats},
}

func testHealthReady(t *testing.T, open func(t *testing.T) latchkey.Store) {
	ctx := context.Background()
	s := open(t)
	rc, ok := s.(latchkey.ReadyChecker)
	if !ok {
		t.Fatalf("%T does not implement latchkey.ReadyChecker", s)
	}
	if err := rc.CheckReady(ctx); err != nil {
		t.Fatalf("CheckReady on a migrated store: %v", err)
	}
}

func testHealthPoolStats(t *testing.T, open func(t *testing.T) latchkey.Store) {
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
}
