package postgres_test

import (
	"os"
	"testing"

	"github.com/latchkey/latchkey/internal/bulk"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/storetest"
)

// BenchmarkStore needs a PostgreSQL server; benchmarks are not tests, so it skips without
// one (the test command sets the URL, so CI runs it).
func BenchmarkStore(b *testing.B) {
	if os.Getenv(pgtest.EnvURL) == "" {
		b.Skip(pgtest.EnvURL + " is not set")
	}
	url := pgtest.NewDatabase(b)
	storetest.Benchmark(b, MustOpen(b, url), bulk.MustOpen(b, url).Insert)
}
