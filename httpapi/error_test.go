package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/internal/teststore"
)

// stallingStore is a real store whose session and user lookups, once stall is set, wait until the
// request is given up and then fail as the store does then, with the context's error.
type stallingStore struct {
	latchkey.Store
	stall   atomic.Bool
	stalled chan struct{}
}

func (s *stallingStore) FindSessionAndUser(ctx context.Context, id string) (*latchkey.Session, *latchkey.User, error) {
	if s.stall.Load() {
		close(s.stalled)
		<-ctx.Done()
		return nil, nil, ctx.Err()
	}
	return s.Store.FindSessionAndUser(ctx, id)
}

// TestClientGoneIsNotAnInternalError checks that a request whose client hangs up while the
// store works is logged with status 499 and no "internal error", so that a load generator
// stopping (or a phone losing its signal) does not page anyone.
func TestClientGoneIsNotAnInternalError(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	store := &stallingStore{Store: teststore.Open(t), stalled: make(chan struct{})}
	t.Cleanup(func() { store.Store.Close() })
	e := &env{Server: testserver.New(t, testserver.Options{Store: store, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})}
	u := e.newUser(t, e.AppID)

	store.stall.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-store.stalled
		cancel()
	}()
	req, err := http.NewRequestWithContext(ctx, "GET", e.URL+authPath+"/profile", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+u.AccessToken)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the request was answered %d after its client gave up", resp.StatusCode)
	}

	// The access line is written once the handler returns, after the client has gone.
	waitFor(t, func() bool { return strings.Contains(logs.String(), `"status":499`) })
	if strings.Contains(logs.String(), "internal error") {
		t.Errorf("a request given up by its client was logged as an internal error:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "client closed the request") {
		t.Errorf("no debug line for the closed request:\n%s", logs.String())
	}
}

// waitFor polls cond until it holds, failing the test if it does not within ten seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
	}
}
