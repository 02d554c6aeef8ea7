package main

import (
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
)

// TestVerifyNodeKilled runs two latchkey processes over one PostgreSQL database that answer
// verifies of one key with remaining uses, and kills one of them outright in the middle.
// No use is granted twice: the VALID answers of both nodes never pass the uses the key had,
// and every use taken was answered but for the calls the killed node was answering. The
// usage counts in the database hold every valid answer but those the killed node gave in
// its last second (and the flush under way).
func TestVerifyNodeKilled(t *testing.T) {
	const (
		uses    = 20_000
		workers = 8 // per node
	)
	args := []string{"--database", pgtest.NewDatabase(t), "--app-id", "verify-kill",
		"--rate-limit-ip", "0", "--rate-limit-account", "0", "--lockout-failures", "0"}
	env := append([]string{secretKeyEnv}, bootstrapEnv...)
	a := start(t, privateDir(t), env, args...)
	b := start(t, privateDir(t), env, args...)
	defer b.stop(t)

	var admin login
	if got := b.call(t, "POST", "/api/admin/v3.0/auth/providers/local-userpass/login", "",
		map[string]string{"username": adminEmail, "password": adminPassword}, &admin); got != 200 {
		t.Fatalf("admin login: %d", got)
	}
	appPath := "/api/admin/v3.0/groups/" + latchkey.GroupID + "/apps/verify-kill"
	var serverKey apiKey
	if got := b.call(t, "POST", appPath+"/api_keys", admin.AccessToken, map[string]string{"name": "backend"}, &serverKey); got != 201 {
		t.Fatalf("server key: %d", got)
	}
	l := b.registerAndLogIn(t, "ann@example.com")
	var k apiKey
	if got := b.call(t, "POST", "/api/client/v2.0/auth/api_keys", l.RefreshToken, map[string]string{"name": "metered"}, &k); got != 201 {
		t.Fatalf("create key: %d", got)
	}
	keyPath := appPath + "/users/" + l.UserID + "/api_keys/" + k.ID
	if got := b.call(t, "PATCH", keyPath, admin.AccessToken, map[string]any{"remaining": uses}, nil); got != 200 {
		t.Fatalf("set remaining: %d", got)
	}

	type tally struct {
		valid     atomic.Int64
		exhausted atomic.Bool
		mu        sync.Mutex
		times     []time.Time // of the valid answers
	}
	var onA, onB tally
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 2 * workers}}
	run := func(p *process, n *tally) {
		for !n.exhausted.Load() {
			var ans struct {
				Code string `json:"code"`
			}
			status := crashCall(client, p.url, "POST", p.app()+"/auth/api_keys/verify", serverKey.Key, map[string]string{"key": k.Key}, &ans)
			switch {
			case status == noAnswer:
				return // the node is gone
			case status != 200:
				t.Errorf("verify on %s: status %d", p.url, status)
				return
			case ans.Code == latchkey.VerifyValid:
				n.valid.Add(1)
				n.mu.Lock()
				n.times = append(n.times, time.Now())
				n.mu.Unlock()
			case ans.Code == latchkey.VerifyUsageExceeded:
				n.exhausted.Store(true)
			default:
				t.Errorf("verify: code %s", ans.Code)
				return
			}
		}
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { run(a, &onA) })
		wg.Go(func() { run(b, &onB) })
	}
	// Kill node a once it has answered for a while, so that it has written counts.
	for onA.valid.Load() < uses/8 && !onA.exhausted.Load() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond)
	killedAt := time.Now()
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if !onB.exhausted.Load() {
		t.Fatal("node b stopped before the key's uses ran out")
	}
	valid := onA.valid.Load() + onB.valid.Load()
	t.Logf("valid answers: %d on the killed node, %d on the other, of %d uses", onA.valid.Load(), onB.valid.Load(), uses)
	// Every use was answered once at most; the calls in flight on the killed node may have
	// taken a use and died unanswered.
	if valid > uses || valid < uses-workers {
		t.Fatalf("%d valid answers for %d uses, want %d to %d", valid, uses, uses-workers, uses)
	}

	var usage []struct {
		Valid int64 `json:"valid"`
	}
	if got := b.call(t, "GET", keyPath+"/usage", admin.AccessToken, nil, &usage); got != 200 {
		t.Fatalf("usage: %d", got)
	}
	var counted int64
	for _, u := range usage {
		counted += u.Valid
	}
	var beforeLastSecond int64
	for _, at := range onA.times {
		if at.Before(killedAt.Add(-time.Second - 250*time.Millisecond)) {
			beforeLastSecond++
		}
	}
	t.Logf("usage counts %d valid; the killed node answered %d of its valid calls over a second before it died", counted, beforeLastSecond)
	if counted < onB.valid.Load()+beforeLastSecond || counted > valid+workers {
		t.Fatalf("usage counts %d valid, want %d to %d", counted, onB.valid.Load()+beforeLastSecond, valid+workers)
	}
}
