package service

import (
	"sync"
	"sync/atomic"
)

// lazyLoop is a background goroutine that starts with the first call that needs it and runs
// until close: a server that never verifies a key runs none of the verify machinery (the
// key cache's feed reader, the usage writer, the lease batcher).
type lazyLoop struct {
	mu      sync.Mutex
	running atomic.Bool
	closed  bool
	stop    chan struct{}
	done    chan struct{}
}

func newLazyLoop() *lazyLoop {
	return &lazyLoop{stop: make(chan struct{}), done: make(chan struct{})}
}

// start runs run, which must return once stop is closed, unless it has run already; false
// once closed and never started.
func (l *lazyLoop) start(run func(stop <-chan struct{})) bool {
	if l.running.Load() {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	if !l.running.Load() {
		l.running.Store(true)
		go func() {
			defer close(l.done)
			run(l.stop)
		}()
	}
	return true
}

// started tells whether the loop has started (it may have stopped since).
func (l *lazyLoop) started() bool { return l.running.Load() }

// stopping is closed when close begins.
func (l *lazyLoop) stopping() <-chan struct{} { return l.stop }

// close stops the loop and waits for it to return; it tells whether the loop had run. Later
// calls do nothing.
func (l *lazyLoop) close() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.closed = true
	close(l.stop)
	if l.running.Load() {
		<-l.done
		return true
	}
	return false
}
