package latchkey

import "context"

type contextKey int

const authContextKey contextKey = iota

// NewContextWithAuth returns a context carrying the verified caller.
func NewContextWithAuth(ctx context.Context, auth *Auth) context.Context {
	return context.WithValue(ctx, authContextKey, auth)
}

// AuthFromContext returns the verified caller, or nil.
func AuthFromContext(ctx context.Context) *Auth {
	auth, _ := ctx.Value(authContextKey).(*Auth)
	return auth
}
