package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/pgtest"
)

// TestMultiNode runs two latchkey processes over one PostgreSQL database, started at the same
// moment on an empty database, and uses them interchangeably.
func TestMultiNode(t *testing.T) {
	testMultiNode(t, pgtest.NewDatabase(t))
}

// TestMultiNode_PgBouncer is TestMultiNode with the nodes reaching the database through
// PgBouncer's transaction pooling, with fewer server connections than each node's pool.
func TestMultiNode_PgBouncer(t *testing.T) {
	bouncer := pgtest.NewPgBouncer(t, 2)
	testMultiNode(t, bouncer.URL(t, pgtest.NewDatabase(t)), "--db-pgbouncer")
}

func testMultiNode(t *testing.T, db string, args ...string) {
	args = append([]string{"--database", db, "--app-id", "shared-app"}, args...)
	var a, b *process
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a = start(t, privateDir(t), []string{secretKeyEnv}, args...) }()
	go func() { defer wg.Done(); b = start(t, privateDir(t), []string{secretKeyEnv}, args...) }()
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	l := a.registerAndLogIn(t, "ann@example.com")

	t.Run("KeyCreatedOnALogsInOnB", func(t *testing.T) {
		var k apiKey
		if got := a.call(t, "POST", "/api/client/v2.0/auth/api_keys", l.RefreshToken, map[string]string{"name": "from-a"}, &k); got != 201 {
			t.Fatalf("create on A: status %d", got)
		}
		var kl login
		if got := b.call(t, "POST", b.app()+"/auth/providers/api-key/login", "", map[string]string{"key": k.Key}, &kl); got != 200 || kl.UserID != l.UserID {
			t.Fatalf("key login on B: status %d, user %q; want 200 as %q", got, kl.UserID, l.UserID)
		}
		// Disabling through B ends the key session at once for A too.
		if got := b.call(t, "PUT", "/api/client/v2.0/auth/api_keys/"+k.ID+"/disable", l.RefreshToken, nil, nil); got != 204 {
			t.Fatalf("disable on B: status %d", got)
		}
		if got := a.call(t, "POST", a.app()+"/auth/providers/api-key/login", "", map[string]string{"key": k.Key}, nil); got != 401 {
			t.Fatalf("login on A with the key disabled on B: status %d, want 401", got)
		}
		if got := a.call(t, "POST", "/api/client/v2.0/auth/session", kl.RefreshToken, nil, nil); got != 401 {
			t.Fatalf("refresh on A of the key session ended on B: status %d, want 401", got)
		}
	})

	t.Run("SessionFromARefreshesOnB", func(t *testing.T) {
		var r struct {
			AccessToken string `json:"access_token"`
		}
		if got := b.call(t, "POST", "/api/client/v2.0/auth/session", l.RefreshToken, nil, &r); got != 201 {
			t.Fatalf("refresh on B: status %d", got)
		}
		// A verifies B's access token: the signing keys are shared through the database.
		if got := a.call(t, "GET", "/api/client/v2.0/auth/profile", r.AccessToken, nil, nil); got != 200 {
			t.Fatalf("profile on A with B's access token: status %d", got)
		}
		if got := b.call(t, "GET", "/api/client/v2.0/auth/profile", l.AccessToken, nil, nil); got != 200 {
			t.Fatalf("profile on B with A's access token: status %d", got)
		}
	})

	t.Run("KeyCapAcrossNodes", func(t *testing.T) {
		m := a.registerAndLogIn(t, "bob@example.com")
		count := createKeysAtOnce(t, a, b, m, 50, func(i int) string { return fmt.Sprintf("k%02d", i) })
		if count[201] != 20 || count[400] != 30 {
			t.Fatalf("statuses = %v, want 20 × 201 and 30 × 400", count)
		}
		var listed []apiKey
		if got := b.call(t, "GET", "/api/client/v2.0/auth/api_keys", m.RefreshToken, nil, &listed); got != 200 || len(listed) != 20 {
			t.Fatalf("list on B: status %d, %d keys; want 20", got, len(listed))
		}
	})

	t.Run("SameNameAcrossNodes", func(t *testing.T) {
		m := a.registerAndLogIn(t, "cy@example.com")
		count := createKeysAtOnce(t, a, b, m, 20, func(int) string { return "same" })
		if count[201] != 1 || count[409] != 19 {
			t.Fatalf("statuses = %v, want 1 × 201 and 19 × 409", count)
		}
	})
}

// createKeysAtOnce has user l create n keys at the same time, named by name, half of them
// on node a and half on node b, and counts the answers by status.
func createKeysAtOnce(t *testing.T, a, b *process, l login, n int, name func(i int) string) map[int]int {
	t.Helper()
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range statuses {
		node := a
		if i%2 == 1 {
			node = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = node.call(t, "POST", "/api/client/v2.0/auth/api_keys", l.RefreshToken, map[string]string{"name": name(i)}, nil)
		}()
	}
	wg.Wait()
	count := map[int]int{}
	for _, s := range statuses {
		count[s]++
	}
	return count
}

func TestMigrateCommand(t *testing.T) {
	t.Run("Postgres", func(t *testing.T) {
		db := pgtest.NewDatabase(t)
		for range 2 {
			out, err := exec.Command(binary, "migrate", "--database", db).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "postgres schema is up to date") {
				t.Fatalf("migrate: %v: %s", err, out)
			}
		}
	})
	t.Run("SQLite", func(t *testing.T) {
		out, err := exec.Command(binary, "migrate", "--data", privateDir(t)).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "sqlite schema is up to date") {
			t.Fatalf("migrate: %v: %s", err, out)
		}
	})
	t.Run("SQLiteURLAndPath", func(t *testing.T) {
		dir := privateDir(t)
		for _, db := range []string{"sqlite:" + filepath.Join(dir, "a.db"), "sqlite://" + filepath.Join(dir, "b.db"), filepath.Join(dir, "c.db")} {
			out, err := exec.Command(binary, "migrate", "--database", db).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "sqlite schema is up to date") {
				t.Fatalf("migrate --database %s: %v: %s", db, err, out)
			}
		}
		for _, name := range []string{"a.db", "b.db", "c.db"} {
			if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
				t.Errorf("no database file %s: %v", name, err)
			}
		}
	})
	t.Run("ErrUnreachable", func(t *testing.T) {
		out, err := exec.Command(binary, "migrate", "--database", "postgres://nobody:x@127.0.0.1:1/none?connect_timeout=2",
			"--db-connect-timeout", "300ms").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "no database after") {
			t.Fatalf("migrate against a closed port: %v: %s", err, out)
		}
	})
}

// A node started before its database waits for it, logging each try, and serves once the
// database is up.
func TestServeWaitsForDatabase(t *testing.T) {
	db, up := pgtest.NewDatabaseLater(t)
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", privateDir(t), "--database", db,
		"--db-connect-timeout", "1m")
	cmd.Env = append(os.Environ(), secretKeyEnv)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := startPiped(t, cmd)

	logs := bufio.NewScanner(stderr)
	if !logs.Scan() {
		t.Fatal("latchkey exited without a log line")
	}
	if line := logs.Text(); !strings.Contains(line, `"msg":"database not reachable; trying again"`) || !strings.Contains(line, `"try":1`) {
		t.Fatalf("first log line: %s", line)
	}
	go io.Copy(io.Discard, stderr)
	up()

	p := &process{cmd: cmd}
	lines := bufio.NewScanner(stdout)
	for p.url == "" || p.appID == "" {
		if !lines.Scan() {
			t.Fatal("latchkey exited before listening")
		}
		if url, ok := strings.CutPrefix(lines.Text(), "Latchkey listening on "); ok {
			p.url = url
		}
		if app, ok := strings.CutPrefix(lines.Text(), "App ID: "); ok {
			p.appID, _, _ = strings.Cut(app, " ")
		}
	}
	go io.Copy(io.Discard, stdout)
	p.registerAndLogIn(t, "early@example.com")
}
