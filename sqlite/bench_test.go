package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/internal/storetest"
	"github.com/latchkey/latchkey/sqlite"
)

func BenchmarkStore(b *testing.B) {
	s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "data", "latchkey.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.Benchmark(b, s)
}
