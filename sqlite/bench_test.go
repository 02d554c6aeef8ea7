package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/internal/bulk"
	"github.com/latchkey/latchkey/internal/storetest"
	"github.com/latchkey/latchkey/sqlite"
)

func BenchmarkStore(b *testing.B) {
	path := filepath.Join(b.TempDir(), "data", "latchkey.db")
	s, err := sqlite.Open(b.Context(), path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	storetest.Benchmark(b, s, bulk.MustOpen(b, path).Insert)
}
