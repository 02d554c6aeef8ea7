package httpapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/postgres"
)

// wantUnavailable checks the answer of a request that the database could not serve: 503
// ServiceUnavailable in JSON, with a Retry-After in whole seconds.
func (r *response) wantUnavailable(t *testing.T) {
	t.Helper()
	r.wantErrorBody(t, http.StatusServiceUnavailable, "ServiceUnavailable")
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Errorf("%v: Retry-After = %q, want a number of seconds", r, r.Header.Get("Retry-After"))
	}
}

// TestDatabaseOutage stops the PostgreSQL server under a running Latchkey (a cluster of the
// test's own): every request that needs the database answers 503 with Retry-After, /readyz
// says not ready, and all is well again once the server is back.
func TestDatabaseOutage(t *testing.T) {
	cluster := pgtest.NewCluster(t)
	store, err := postgres.Open(context.Background(), postgres.Config{URL: cluster.NewDatabase()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	e := &env{Server: testserver.New(t, testserver.Options{Store: store})}
	u := e.newUser(t, e.AppID)
	k := e.createKey(t, u.RefreshToken, "ci")

	cluster.Stop()
	e.do(t, "GET", keysPath, u.RefreshToken, nil).wantUnavailable(t)
	e.do(t, "POST", keysPath, u.RefreshToken, map[string]string{"name": "other"}).wantUnavailable(t)
	e.do(t, "POST", authPath+"/session", u.RefreshToken, nil).wantUnavailable(t)
	e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": k.Key}).wantUnavailable(t)
	e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": u.Password}).wantUnavailable(t)
	e.do(t, "GET", "/readyz", "", nil).wantJSON(t, http.StatusServiceUnavailable, nil)

	cluster.Start()
	// A connection that the stop ended and the pool still holds answers once with 503, as
	// Retry-After invites the client to try again.
	r := e.do(t, "GET", keysPath, u.RefreshToken, nil)
	for i := 0; i < 20 && r.Status == http.StatusServiceUnavailable; i++ {
		r = e.do(t, "GET", keysPath, u.RefreshToken, nil)
	}
	r.wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", "/readyz", "", nil).wantJSON(t, http.StatusOK, nil)
}

// TestRequestDeadline holds a lock that a request needs: the request gives up at its
// deadline, under the server's write timeout, and answers 503 in JSON rather than having its
// connection cut without an answer.
func TestRequestDeadline(t *testing.T) {
	url := pgtest.NewDatabase(t)
	store, err := postgres.Open(context.Background(), postgres.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// A deadline of 1.5 s, well under the statement timeout, which would answer 500.
	e := &env{Server: testserver.New(t, testserver.Options{Store: store, WriteTimeout: 3 * time.Second})}
	u := e.newUser(t, e.AppID)
	e.createKey(t, u.RefreshToken, "ci")

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}

	e.do(t, "GET", keysPath, u.RefreshToken, nil).wantUnavailable(t)

	tx.Rollback(ctx)
	e.do(t, "GET", keysPath, u.RefreshToken, nil).wantJSON(t, http.StatusOK, nil)
}
