// Package testenv says what a test does when a part outside Go that it needs is missing:
// PostgreSQL, PgBouncer, Chromium, Node.js, nginx, curl.
package testenv

import "testing"

// Missing ends a test that needs a part that is not installed. Under go test -short, the
// quick loop that needs only Go, it skips the test. Otherwise it fails it: a test that skips
// passes without testing anything, and ./scripts/test installs every part.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if testing.Short() {
		t.Skipf("-short, and "+format, args...)
	}
	t.Fatalf(format, args...)
}
