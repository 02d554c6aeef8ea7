package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/internal/teststore"
	"github.com/latchkey/latchkey/postgres"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	store := teststore.Open(t)
	e := &env{Server: testserver.New(t, testserver.Options{Store: store})}

	t.Run("OK", func(t *testing.T) {
		var got struct{ Status string }
		e.do(t, "GET", "/healthz", "", nil).wantJSON(t, http.StatusOK, &got)
		if got.Status != "ok" {
			t.Errorf("/healthz status = %q, want ok", got.Status)
		}
		e.do(t, "GET", "/readyz", "", nil).wantJSON(t, http.StatusOK, &got)
		if got.Status != "ok" {
			t.Errorf("/readyz status = %q, want ok", got.Status)
		}
	})

	t.Run("DatabaseStopped", func(t *testing.T) {
		store.Close()
		var got struct{ Status, Reason string }
		e.do(t, "GET", "/readyz", "", nil).wantJSON(t, http.StatusServiceUnavailable, &got)
		if got.Status != "unavailable" || got.Reason == "" {
			t.Errorf("/readyz = %+v, want status unavailable and a reason", got)
		}
		// The process still serves: alive, not ready.
		e.do(t, "GET", "/healthz", "", nil).wantJSON(t, http.StatusOK, nil)
	})
}

// syncBuffer is a log destination that handlers may write to from several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestAccessLog checks the one line per request: its request id, route pattern, status,
// latency and app, and no secret.
func TestAccessLog(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	e := &env{Server: testserver.New(t, testserver.Options{Logger: slog.New(slog.NewJSONHandler(&logs, nil))})}
	u := e.newUser(t, e.AppID)
	k := e.createKey(t, u.RefreshToken, "ci")
	e.loginKey(t, e.AppID, k.Key)
	r := e.do(t, "GET", keyPath(k.ID), u.RefreshToken, nil)
	r.wantJSON(t, http.StatusOK, nil)

	var line map[string]any
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, r.Header.Get("X-Request-Id")) && strings.Contains(l, `"msg":"request"`) {
			mustUnmarshal(t, []byte(l), &line)
		}
	}
	if line == nil {
		t.Fatalf("no request line with id %s in\n%s", r.Header.Get("X-Request-Id"), logs.String())
	}
	want := map[string]any{"route": "GET /api/client/v2.0/auth/api_keys/{id}", "status": float64(200), "app": e.AppID, "method": "GET"}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("log line %s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration"].(float64); !ok {
		t.Errorf("log line has no numeric duration: %v", line)
	}
	for _, secret := range []string{u.Password, u.RefreshToken, u.AccessToken, k.Key} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds the secret %q", secret)
		}
	}
}

// TestOpenAPIServed checks that /openapi.json is the committed document.
func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, err := http.Get(e.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || json.Unmarshal(body, &doc) != nil || doc.OpenAPI != "3.1.0" {
		t.Fatalf("GET /openapi.json: %d %s, openapi %q", resp.StatusCode, resp.Header.Get("Content-Type"), doc.OpenAPI)
	}
}

// TestHealthPostgres stops a PostgreSQL database under a running server (its connections are
// ended and no new ones allowed), then lets it back.
func TestHealthPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.NewDatabase(t)
	store, err := postgres.Open(ctx, postgres.Config{URL: dbURL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{Server: testserver.New(t, testserver.Options{Store: store})}
	e.do(t, "GET", "/readyz", "", nil).wantJSON(t, http.StatusOK, nil)

	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := pgx.Connect(ctx, os.Getenv(pgtest.EnvURL))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := admin.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`ALTER DATABASE ` + pgx.Identifier{name}.Sanitize() + ` ALLOW_CONNECTIONS false`)
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, name)

	var got struct{ Status, Reason string }
	e.do(t, "GET", "/readyz", "", nil).wantJSON(t, http.StatusServiceUnavailable, &got)
	if got.Status != "unavailable" {
		t.Errorf("/readyz = %+v with the database stopped, want unavailable", got)
	}
	e.do(t, "GET", "/healthz", "", nil).wantJSON(t, http.StatusOK, nil)

	exec(`ALTER DATABASE ` + pgx.Identifier{name}.Sanitize() + ` ALLOW_CONNECTIONS true`)
	e.do(t, "GET", "/readyz", "", nil).wantJSON(t, http.StatusOK, nil)
}
