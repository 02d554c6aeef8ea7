package client

import "context"

// Result is the outcome of an asynchronous call: its value, or an error.
//
// The asynchronous forms (CreateAsync, FetchAllAsync, LogInAsync, ...) return a channel
// rather than take a callback, as the Realm SDKs' createAsync(name, callback) do, because a
// channel is what Go code waits on: it composes with select, timeouts and other channels,
// and the caller decides on which goroutine the result is handled, where a callback would
// run on the SDK's. Each channel is buffered: it receives exactly one value and is then
// closed, so the call's goroutine never blocks on a caller that stops listening. The context
// cancels the call as it does the blocking form.
type Result[T any] struct {
	Value T
	Err   error
}

// async runs f on its own goroutine and delivers its result on a buffered channel.
func async[T any](ctx context.Context, f func(context.Context) (T, error)) <-chan Result[T] {
	ch := make(chan Result[T], 1)
	go func() {
		v, err := f(ctx)
		ch <- Result[T]{Value: v, Err: err}
		close(ch)
	}()
	return ch
}

// asyncErr is async for calls without a value.
func asyncErr(ctx context.Context, f func(context.Context) error) <-chan error {
	ch := make(chan error, 1)
	go func() {
		ch <- f(ctx)
		close(ch)
	}()
	return ch
}
