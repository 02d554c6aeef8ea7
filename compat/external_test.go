package compat_test

import (
	"path/filepath"
	"testing"

	"github.com/latchkey/latchkey/internal/pgtest"
)

// TestRealmWebExternal runs compat/realm-web/external.mjs (the external providers with the
// realm-web SDK: custom tokens by HS256 key, RS256 PEM key and JWK set URL, a custom function's
// webhook, Google and Apple ID tokens, and linking each of them to an anonymous user) against
// a freshly built server on the embedded SQLite database and on PostgreSQL. The flow serves
// the JWK sets and the webhook itself, on loopback.
func TestRealmWebExternal(t *testing.T) {
	root := moduleRoot(t)
	flowDir := filepath.Join(root, "compat", "realm-web")
	ensureNodeModules(t, flowDir)
	bin := buildServer(t, root)

	t.Run("sqlite", func(t *testing.T) {
		srv := startServerEnv(t, bin, compatAdminEnv)
		runRealmWebFlow(t, flowDir, "external.mjs", srv.URL, compatAdminEnv)
		srv.Stop(t)
	})

	t.Run("postgres", func(t *testing.T) {
		srv := startServerEnv(t, bin, compatAdminEnv, "--database", pgtest.NewDatabase(t))
		runRealmWebFlow(t, flowDir, "external.mjs", srv.URL, compatAdminEnv)
		srv.Stop(t)
	})
}
