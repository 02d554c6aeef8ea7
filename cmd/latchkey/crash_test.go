package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/latchkey/latchkey/internal/pgtest"
)

// Load of the crash test: workers each run up to crashUsersPerWorker users through
// register, login, three key creates, a duplicate create, a disable, a key login and a
// wrong password; the server is killed once crashKillAfter requests have been answered.
const (
	crashWorkers        = 6
	crashUsersPerWorker = 60
	crashKillAfter      = 150
)

// noAnswer is the status of a request that got no answer: the server died first.
const noAnswer = 0

// crashUser is what happened to one user of the load.
type crashUser struct {
	email, password string

	register, login int
	tokens          login

	keys          [3]crashKey
	duplicate     int // a second create of keys[0]'s name
	disable       int // of keys[1]; -1 when not sent
	keyLogin      int // with keys[2]
	keyTokens     login
	wrongPassword int
}

type crashKey struct {
	name      string
	create    int
	id, value string
}

// crashTarget is a database the crash test runs on.
type crashTarget struct {
	args []string
	// check checks the database's integrity and Latchkey's invariants while no server runs.
	check func(t *testing.T)
}

// TestCrashSafety kills the server with SIGKILL in the middle of a concurrent load of
// creates, disables and logins, restarts it, and checks that every answered operation is
// there, that nothing refused or unanswered is half there, and that the database is intact.
func TestCrashSafety(t *testing.T) {
	t.Run("SQLite", func(t *testing.T) {
		data := privateDir(t)
		crashTest(t, crashTarget{
			args: []string{"--data", data},
			check: func(t *testing.T) {
				db, err := sql.Open("sqlite", filepath.Join(data, "latchkey.db"))
				if err != nil {
					t.Fatal(err)
				}
				defer db.Close()
				var result string
				if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&result); err != nil || result != "ok" {
					t.Fatalf("PRAGMA integrity_check = %q, %v; want ok", result, err)
				}
				rows, err := db.Query(`PRAGMA foreign_key_check`)
				if err != nil {
					t.Fatal(err)
				}
				if rows.Next() {
					t.Error("PRAGMA foreign_key_check found rows that reference nothing")
				}
				rows.Close()
				checkInvariants(t, func(q string) (int, error) {
					var n int
					return n, db.QueryRow(q).Scan(&n)
				})
			},
		})
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		url := pgtest.NewDatabase(t)
		crashTest(t, crashTarget{
			args: []string{"--database", url},
			check: func(t *testing.T) {
				ctx := context.Background()
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				defer conn.Close(ctx)
				// amcheck verifies every B-tree index and every table's heap.
				if _, err := conn.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS amcheck`); err != nil {
					t.Fatal(err)
				}
				var n int
				if err := conn.QueryRow(ctx, `
					SELECT count(bt_index_check(c.oid, true))
					FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
					JOIN pg_am am ON am.oid = c.relam JOIN pg_namespace ns ON ns.oid = c.relnamespace
					WHERE am.amname = 'btree' AND ns.nspname = current_schema()`).Scan(&n); err != nil || n == 0 {
					t.Fatalf("bt_index_check over %d indexes: %v", n, err)
				}
				if err := conn.QueryRow(ctx, `
					SELECT count(*) FROM pg_class c JOIN pg_namespace ns ON ns.oid = c.relnamespace,
					LATERAL verify_heapam(c.oid)
					WHERE c.relkind = 'r' AND ns.nspname = current_schema()`).Scan(&n); err != nil || n != 0 {
					t.Fatalf("verify_heapam: %d corruptions, %v", n, err)
				}
				checkInvariants(t, func(q string) (int, error) {
					var n int
					return n, conn.QueryRow(ctx, q).Scan(&n)
				})
			},
		})
	})
}

// checkInvariants runs queries that count rows no complete operation leaves behind.
func checkInvariants(t *testing.T, count func(query string) (int, error)) {
	t.Helper()
	for what, q := range map[string]string{
		"users without an identity":                 `SELECT count(*) FROM users u WHERE NOT EXISTS (SELECT 1 FROM identities i WHERE i.user_id = u.id)`,
		"sessions of a disabled key":                `SELECT count(*) FROM sessions s JOIN api_keys k ON k.id = s.api_key_id WHERE k.disabled = TRUE`,
		"key sessions of another user":              `SELECT count(*) FROM sessions s JOIN api_keys k ON k.id = s.api_key_id WHERE k.user_id <> s.user_id`,
		"users with more than 20 keys":              `SELECT count(*) FROM (SELECT user_id FROM api_keys GROUP BY user_id HAVING count(*) > 20) x`,
		"key sessions without the api-key identity": `SELECT count(*) FROM sessions s WHERE s.api_key_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM identities i WHERE i.user_id = s.user_id AND i.provider_type = 'api-key')`,
	} {
		n, err := count(q)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n != 0 {
			t.Errorf("%d %s", n, what)
		}
	}
}

func crashTest(t *testing.T, target crashTarget) {
	limits := []string{"--app-id", "crash-app", "--rate-limit-ip", "0", "--rate-limit-account", "0", "--lockout-failures", "0"}
	args := append(append([]string{}, target.args...), limits...)
	p := startWith(t, args...)
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: crashWorkers}}

	var answered atomic.Int64
	killed := make(chan struct{})
	users := make([][]*crashUser, crashWorkers)
	var wg sync.WaitGroup
	for w := range crashWorkers {
		wg.Go(func() {
			for i := range crashUsersPerWorker {
				u := &crashUser{email: fmt.Sprintf("w%d-u%d@example.com", w, i), password: "s3cretpass", disable: -1}
				users[w] = append(users[w], u)
				if !crashRun(p, client, u, &answered) {
					return // the server is gone
				}
			}
		})
	}
	done := make(chan struct{})
	go func() {
		for answered.Load() < crashKillAfter {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
		p.cmd.Process.Signal(syscall.SIGKILL)
		close(killed)
	}()
	wg.Wait()
	close(done)
	select {
	case <-killed:
	default:
		t.Fatalf("the load finished before the kill: raise crashUsersPerWorker")
	}
	p.cmd.Wait()
	t.Logf("killed after %d answered requests", answered.Load())

	target.check(t)

	p = startWith(t, args...)
	var verified int
	for _, list := range users {
		for _, u := range list {
			verified += crashVerify(t, p, u)
		}
	}
	t.Logf("verified %d answered operations", verified)
	p.stop(t)
	target.check(t)
}

// startWith starts the binary with exactly args after "serve --addr 127.0.0.1:0".
func startWith(t *testing.T, args ...string) *process {
	t.Helper()
	// start adds --data; a later --data or --database wins.
	var env []string
	if slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "postgres") }) {
		env = []string{secretKeyEnv}
	}
	return start(t, privateDir(t), env, args...)
}

// crashRun runs one user through the load's operations; false when the server stopped
// answering.
func crashRun(p *process, client *http.Client, u *crashUser, answered *atomic.Int64) bool {
	call := func(method, path, token string, body, out any) int {
		status := crashCall(client, p.url, method, path, token, body, out)
		if status != noAnswer {
			answered.Add(1)
		}
		return status
	}
	creds := map[string]string{"username": u.email, "password": u.password}
	if u.register = call("POST", p.app()+"/auth/providers/local-userpass/register", "", map[string]string{"email": u.email, "password": u.password}, nil); u.register != 201 {
		return u.register != noAnswer
	}
	if u.login = call("POST", p.app()+"/auth/providers/local-userpass/login", "", creds, &u.tokens); u.login != 200 {
		return u.login != noAnswer
	}
	for i := range u.keys {
		k := &u.keys[i]
		k.name = fmt.Sprintf("k%d", i)
		var created apiKey
		if k.create = call("POST", "/api/client/v2.0/auth/api_keys", u.tokens.RefreshToken, map[string]string{"name": k.name}, &created); k.create != 201 {
			return k.create != noAnswer
		}
		k.id, k.value = created.ID, created.Key
	}
	if u.duplicate = call("POST", "/api/client/v2.0/auth/api_keys", u.tokens.RefreshToken, map[string]string{"name": u.keys[0].name}, nil); u.duplicate == noAnswer {
		return false
	}
	if u.disable = call("PUT", "/api/client/v2.0/auth/api_keys/"+u.keys[1].id+"/disable", u.tokens.RefreshToken, nil, nil); u.disable == noAnswer {
		return false
	}
	if u.keyLogin = call("POST", p.app()+"/auth/providers/api-key/login", "", map[string]string{"key": u.keys[2].value}, &u.keyTokens); u.keyLogin == noAnswer {
		return false
	}
	u.wrongPassword = call("POST", p.app()+"/auth/providers/local-userpass/login", "", map[string]string{"username": u.email, "password": "wrongpass"}, nil)
	return u.wrongPassword != noAnswer
}

// crashCall sends a request and decodes a 2xx JSON answer into out; noAnswer when the
// server did not answer in full.
func crashCall(client *http.Client, base, method, path, token string, body, out any) int {
	var r *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return noAnswer
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return noAnswer
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			return noAnswer
		}
	}
	return resp.StatusCode
}

// crashVerify checks one user after the restart and returns how many answered operations
// it verified.
func crashVerify(t *testing.T, p *process, u *crashUser) int {
	t.Helper()
	n := 0
	loginPath := p.app() + "/auth/providers/local-userpass/login"
	creds := map[string]string{"username": u.email, "password": u.password}
	switch u.register {
	case 201:
		if got := p.call(t, "POST", loginPath, "", creds, nil); got != 200 {
			t.Errorf("%s: registered (201) but login after the restart: %d", u.email, got)
		}
		n++
	case noAnswer:
		// Either all there or not at all: a user that cannot log in must not hold its email.
		if got := p.call(t, "POST", loginPath, "", creds, nil); got == 401 {
			if got := p.call(t, "POST", p.app()+"/auth/providers/local-userpass/register", "", map[string]string{"email": u.email, "password": u.password}, nil); got != 201 {
				t.Errorf("%s: unanswered registration left the email taken (%d) but no user that logs in", u.email, got)
			}
		} else if got != 200 {
			t.Errorf("%s: unanswered registration, then login %d", u.email, got)
		}
		return n
	default:
		t.Errorf("%s: registration answered %d", u.email, u.register)
		return n
	}
	if u.login != 200 {
		return n
	}
	n++
	if got := p.call(t, "POST", "/api/client/v2.0/auth/session", u.tokens.RefreshToken, nil, nil); got != 201 {
		t.Errorf("%s: the answered login's session is gone: refresh %d", u.email, got)
		return n
	}
	var listed []struct {
		ID       string `json:"_id"`
		Name     string `json:"name"`
		Disabled bool   `json:"disabled"`
	}
	if got := p.call(t, "GET", "/api/client/v2.0/auth/api_keys", u.tokens.RefreshToken, nil, &listed); got != 200 {
		t.Fatalf("%s: list keys: %d", u.email, got)
	}
	byName := map[string]int{}
	for _, l := range listed {
		byName[l.Name]++
	}
	for i, k := range u.keys {
		switch k.create {
		case 201:
			n++
			found := false
			for _, l := range listed {
				if l.ID == k.id {
					found = l.Name == k.name
					wantDisabled := i == 1 && u.disable == 204
					if wantDisabled && !l.Disabled || i != 1 && l.Disabled {
						t.Errorf("%s: key %s disabled = %v after the restart", u.email, k.name, l.Disabled)
					}
					want := 200
					if l.Disabled {
						want = 401 // also when the disable got no answer, but took effect
					}
					if got := p.call(t, "POST", p.app()+"/auth/providers/api-key/login", "", map[string]string{"key": k.value}, nil); got != want {
						t.Errorf("%s: key %s (disabled %v) logs in with %d, want %d", u.email, k.name, l.Disabled, got, want)
					}
				}
			}
			if !found {
				t.Errorf("%s: created key %s (201) is gone", u.email, k.name)
			}
		case noAnswer:
			if byName[k.name] > 1 {
				t.Errorf("%s: unanswered create left %d keys named %s", u.email, byName[k.name], k.name)
			}
		default:
			t.Errorf("%s: create %s answered %d", u.email, k.name, k.create)
		}
	}
	switch u.duplicate {
	case 409:
		n++
	case noAnswer:
	default:
		t.Errorf("%s: duplicate create answered %d, want 409", u.email, u.duplicate)
	}
	if byName[u.keys[0].name] > 1 {
		t.Errorf("%s: %d keys named %s", u.email, byName[u.keys[0].name], u.keys[0].name)
	}
	if len(listed) > len(u.keys) {
		t.Errorf("%s: %d keys listed, more than were created", u.email, len(listed))
	}
	if u.disable == 204 {
		n++
	}
	if u.keyLogin == 200 {
		n++
		if got := p.call(t, "POST", "/api/client/v2.0/auth/session", u.keyTokens.RefreshToken, nil, nil); got != 201 {
			t.Errorf("%s: the answered key login's session is gone: refresh %d", u.email, got)
		}
	}
	return n
}
