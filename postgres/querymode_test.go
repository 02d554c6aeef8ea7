package postgres_test

import (
	"context"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/bulk"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/storetest"
	"github.com/latchkey/latchkey/postgres"
)

// queryExecModes are pgx's ways of sending a statement, which a URL picks with
// default_query_exec_mode; cache_statement is the default.
var queryExecModes = []string{"cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"}

// withParam returns the URL with a query parameter set.
func withParam(t testing.TB, rawURL, name, value string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(name, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// The store behaves the same in pgx's text modes, which send every value as text typed by
// its Go type, not by its column. (TestStore runs the default mode, TestStore_PgBouncer
// cache_describe.)
func TestStore_QueryExecModes(t *testing.T) {
	for _, mode := range []string{"exec", "simple_protocol"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) latchkey.Store {
				return MustOpen(t, withParam(t, pgtest.NewDatabase(t), "default_query_exec_mode", mode))
			})
		})
	}
}

// Every query mode writes a list of scopes as a JSON array, an empty one too: in the text
// modes a Go slice went out as a PostgreSQL array literal, which JSONB read as an empty
// object ('{}') or refused.
func TestScopes_QueryExecModes(t *testing.T) {
	for _, mode := range queryExecModes {
		t.Run(mode, func(t *testing.T) {
			dbURL := pgtest.NewDatabase(t)
			modeURL := withParam(t, dbURL, "default_query_exec_mode", mode)
			s := MustOpen(t, modeURL)
			ctx := context.Background()
			scopes := []string{"read", `write:"all"`}

			u := MustCreateUser(t, s)
			app, err := s.FindAppByID(ctx, u.AppID)
			if err != nil {
				t.Fatal(err)
			}
			app.Scopes = scopes
			if err := s.UpdateApp(ctx, app); err != nil {
				t.Fatal(err)
			}
			scoped, bare := NewAPIKey(u, "scoped"), NewAPIKey(u, "bare")
			scoped.Scopes = scopes
			for _, k := range []*latchkey.APIKey{scoped, bare} {
				if err := s.CreateAPIKey(ctx, k, latchkey.MaxAPIKeysPerUser); err != nil {
					t.Fatal(err)
				}
			}
			bulkKey := NewAPIKey(u, "bulk")
			bulkKey.Scopes = scopes
			if err := bulk.MustOpen(t, modeURL).Insert(ctx, nil, []*latchkey.APIKey{bulkKey}); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			sessions := []*latchkey.Session{
				{ID: latchkey.NewID(now), AppID: u.AppID, UserID: u.ID, DeviceID: latchkey.ZeroID,
					Provider: latchkey.ProviderUserpass, CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
				{ID: latchkey.NewID(now), AppID: u.AppID, UserID: u.ID, DeviceID: latchkey.ZeroID,
					Provider: latchkey.ProviderAPIKey, APIKeyID: scoped.ID, KeyHash: scoped.Hash, Scopes: scopes,
					CreatedAt: now, ExpiresAt: now.Add(time.Hour)},
			}
			for _, sess := range sessions {
				if err := s.CreateSession(ctx, sess); err != nil {
					t.Fatal(err)
				}
			}

			conn := MustConnect(t, dbURL)
			var got string
			if err := conn.QueryRow(ctx, `SELECT string_agg(t || ' ' || scopes::text, ', ' ORDER BY t, scopes::text) FROM (
				SELECT 'app' AS t, scopes FROM apps
				UNION ALL SELECT 'key', scopes FROM api_keys
				UNION ALL SELECT 'session', scopes FROM sessions) x`).Scan(&got); err != nil {
				t.Fatal(err)
			}
			want := `app ["read", "write:\"all\""], key ["read", "write:\"all\""], key ["read", "write:\"all\""], key [], ` +
				`session ["read", "write:\"all\""], session []`
			if got != want {
				t.Fatalf("scopes columns:\n got %s\nwant %s", got, want)
			}

			if app, err := s.FindAppByID(ctx, u.AppID); err != nil {
				t.Fatal(err)
			} else if !slices.Equal(app.Scopes, scopes) {
				t.Errorf("app scopes = %q, want %q", app.Scopes, scopes)
			}
			if sess, err := s.FindSession(ctx, sessions[1].ID); err != nil {
				t.Fatal(err)
			} else if !slices.Equal(sess.Scopes, scopes) {
				t.Errorf("session scopes = %q, want %q", sess.Scopes, scopes)
			}
		})
	}
}

// MustOpenConfig opens a store with the given configuration and closes it when the test ends.
func MustOpenConfig(t testing.TB, cfg postgres.Config) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
