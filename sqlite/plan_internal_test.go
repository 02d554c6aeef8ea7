package sqlite

import (
	"context"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/bulk"
	"github.com/latchkey/latchkey/internal/storetest"
)

// fullScan matches a query plan step that reads a large table whole.
var fullScan = regexp.MustCompile(`^SCAN (users|identities|api_keys|sessions)\b`)

// appUsers matches a step that finds users by app alone. An app may hold nearly all of them:
// the step reads them all when the plan then sorts them or collects them for a subquery.
var appUsers = regexp.MustCompile(`^SEARCH users USING (COVERING )?INDEX \S+ \(app_id=\?\)$`)

// TestQueryPlans seeds a store with tens of thousands of users, keys and sessions, analyzes
// it, and asks SQLite for the plan of every admin filter, the server-key statements, the
// app-wide deletes and the hot queries: none may scan a large table. The planner chooses
// from real statistics (ANALYZE).
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "data", "latchkey.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w := storetest.SeedPlans(t, s, bulk.MustOpen(t, path).Insert)
	for _, q := range []string{
		`INSERT INTO sessions (id, app_id, user_id, device_id, provider, created_at, expires_at)
			SELECT substr(hex(randomblob(12)), 1, 24), app_id, id, '000000000000000000000000', 'local-userpass', 0, 1
			FROM users`,
		`ANALYZE`,
	} {
		if _, err := s.write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}

	queries := []string{
		`SELECT COUNT(*) FROM api_keys WHERE ` + serverKeysOf,
		`SELECT ` + apiKeyColumns + ` FROM api_keys WHERE ` + serverKeysOf + ` ORDER BY created_at, rowid`,
		`SELECT ` + apiKeyColumns + ` FROM api_keys WHERE ` + serverKeysOf + ` AND id = ?`,
		`DELETE FROM sessions WHERE app_id = ?`,
		`DELETE FROM api_keys WHERE app_id = ?`,
	}
	for _, f := range w.UserFilters() {
		q, _ := findUsersQuery(f)
		queries = append(queries, q)
	}
	for _, q := range append(readQueries, writeQueries...) {
		if !strings.HasPrefix(strings.TrimSpace(q), "INSERT") {
			queries = append(queries, q)
		}
	}
	for _, q := range queries {
		args := make([]any, strings.Count(q, "?"))
		for i := range args {
			args[i] = w.Big.ID
		}
		rows, err := s.read.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatalf("EXPLAIN QUERY PLAN %s: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, notUsed int
			var detail string
			if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		collects := slices.ContainsFunc(plan, func(step string) bool {
			return step == "USE TEMP B-TREE FOR ORDER BY" || strings.HasPrefix(step, "LIST SUBQUERY")
		})
		for _, step := range plan {
			if fullScan.MatchString(step) || (collects && appUsers.MatchString(step)) {
				t.Errorf("%q in the plan of\n%s\nplan: %q", step, q, plan)
			}
		}
		// An external login finds its identity by the unique index, not among every
		// identity of the provider type.
		if q == findUserByIdentityQuery && !slices.ContainsFunc(plan, func(step string) bool {
			return strings.HasPrefix(step, "SEARCH identities USING INDEX identities_provider_id_external_id ")
		}) {
			t.Errorf("the plan of FindUserByIdentity does not use identities_provider_id_external_id: %q", plan)
		}
	}
}
