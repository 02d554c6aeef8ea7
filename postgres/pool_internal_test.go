package postgres

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/pgtest"
)

// Calls within one slice share one deadline, which leaves each of them at least the timeout
// and at most a tenth more; a later call gets the next slice's.
func TestAcquireDeadline_Shared(t *testing.T) {
	var d acquireDeadline
	const timeout = time.Hour
	first, ok := d.get(context.Background(), timeout)
	second, ok2 := d.get(context.Background(), timeout)
	after := time.Now()
	if !ok || !ok2 {
		t.Fatalf("get without a deadline of the caller's: shared %v, %v; want true", ok, ok2)
	}
	if first != second {
		t.Fatal("two calls in one slice got two contexts")
	}
	end, ok := first.Deadline()
	if !ok || end.Before(after.Add(timeout)) || end.After(after.Add(timeout+timeout/10)) {
		t.Fatalf("deadline %v after the call, want between %v and %v", end.Sub(after), timeout, timeout+timeout/10)
	}

	d.cur.Load().renewAt = time.Now() // the slice is over
	if third, _ := d.get(context.Background(), timeout); third == first {
		t.Fatal("a call after the slice got the old slice's context")
	}
}

// A caller whose own deadline comes before the shared one does not get it: its acquire
// needs a timer of its own, or it could wait past its deadline.
func TestAcquireDeadline_CallerDeadlineFirst(t *testing.T) {
	var d acquireDeadline
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, shared := d.get(ctx, time.Hour); shared {
		t.Error("a caller with a minute left got an hour's shared deadline")
	}
	later, cancel2 := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel2()
	if _, shared := d.get(later, time.Hour); !shared {
		t.Error("a caller with two hours left did not get the hour's shared deadline")
	}
}

// holdOnly returns a store whose pool has one connection, and that connection, taken.
func holdOnly(t *testing.T, acquireTimeout time.Duration) (*Store, func()) {
	t.Helper()
	s, err := Open(context.Background(), Config{URL: pgtest.NewDatabase(t), MaxConns: 1, AcquireTimeout: acquireTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	held, err := s.acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s, held.Release
}

// With the pool's one connection taken, a caller waits for the acquire timeout and fails as
// unavailable.
func TestAcquire_PoolTaken(t *testing.T) {
	s, release := holdOnly(t, 100*time.Millisecond)
	defer release()
	_, err := s.acquire(context.Background())
	if got := latchkey.ErrorCode(err); got != latchkey.EServiceUnavailable {
		t.Fatalf("acquire with the pool taken: %v (code %q), want %q", err, got, latchkey.EServiceUnavailable)
	}
}

// A caller whose deadline comes before the acquire timeout fails at its deadline: with an
// hour's timeout, waiting on the shared deadline instead would hang the test.
func TestAcquire_CallerDeadline(t *testing.T) {
	s, release := holdOnly(t, time.Hour)
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire with a caller's deadline before the timeout: %v, want its deadline", err)
	}
}

// A caller that gives up while it waits gets its context's error, not a connection, and the
// connection that comes free goes back to the pool.
func TestAcquire_CancelledWhileWaiting(t *testing.T) {
	s, release := holdOnly(t, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		conn, err := s.acquire(ctx)
		if err == nil {
			conn.Release()
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond) // let it start waiting; cancelled before, it fails the same
	cancel()
	release()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire cancelled while waiting: %v, want context.Canceled", err)
	}
	if idle := s.pool.Stat().IdleConns(); idle != 1 {
		t.Errorf("idle connections after the cancelled wait: %d, want 1", idle)
	}
}

// A caller already cancelled takes no connection.
func TestAcquire_Cancelled(t *testing.T) {
	s, err := Open(context.Background(), Config{URL: pgtest.NewDatabase(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("acquire with a cancelled context: %v, want context.Canceled", err)
	}
}
