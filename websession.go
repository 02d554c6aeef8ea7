package latchkey

import (
	"context"
	"time"
)

// Lifetimes of a web session: a browser signed in to the console or to an app's
// self-service page.
const (
	WebSessionIdle     = 2 * time.Hour  // a web session unused this long ends
	WebSessionLifetime = 12 * time.Hour // and none lasts longer than this
	// WebSessionTouchEvery is how often a web session in use records that it was seen: at
	// most once a minute, so that a page view costs no write.
	WebSessionTouchEvery = time.Minute
)

// WebSession is a signed-in browser, kept in the store so that every node serves it. The
// browser's cookie holds a random token; the store keeps only its SHA-256. A web session
// rides on a refresh session that the sign-in opened, an admin session for the console or
// the user's session for an app's page, and holds no token of it: ending that session (a
// sign-out, an admin removed, a user disabled, a revocation) ends the web session with it.
type WebSession struct {
	// IDHash is the SHA-256 of the cookie's token.
	IDHash []byte
	// AppID is the app of a self-service session; "" for the console.
	AppID string
	// AdminSessionID is the admin session of a console session; SessionID the user's
	// session of a self-service one. Exactly one is set.
	AdminSessionID string
	SessionID      string
	// Email is shown in the pages' header.
	Email string
	// Flash is the message for the next page, sealed by the pages with a key that only the
	// cookie's token gives; nil when there is none.
	Flash      []byte
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the earlier of CreatedAt+WebSessionLifetime and LastSeenAt+WebSessionIdle.
	ExpiresAt time.Time
}

// WebSessionAuth is the caller of a live web session.
type WebSessionAuth struct {
	Session *WebSession
	// Admin is set for a console session, as an admin access token would have it.
	Admin *AdminAuth
	// User is set for a self-service session: the user's refresh session, as the client
	// API's key calls have it.
	User *Auth
}

// WebSessionService keeps the signed-in browsers of the console and the self-service pages.
// A token is the random value of a browser's cookie; only its hash reaches the store.
type WebSessionService interface {
	// CreateWebSession signs a browser in with token, on the refresh session of the caller
	// in ctx: an admin refresh caller for the console, a user refresh caller for the user's
	// app. Errors: EUnauthenticated.
	CreateWebSession(ctx context.Context, token, email string) error
	// AuthenticateWebSession returns the caller of the web session of token, for the console
	// when app is nil or else for app's self-service page. A web session past its lifetimes,
	// or whose refresh session has ended or whose user is disabled, ends here.
	// Errors: ENotFound when there is no such web session (of the area); EUnauthenticated
	// when it has just ended.
	AuthenticateWebSession(ctx context.Context, app *App, token string) (*WebSessionAuth, error)
	// EndWebSession signs the browser of token out: it ends the web session and the
	// refresh session it rides on, on every node. The caller in ctx must be the web
	// session's (from AuthenticateWebSession). Errors: EUnauthenticated.
	EndWebSession(ctx context.Context, token string) error
	// SetWebSessionFlash keeps a sealed message for the next page of token's web session.
	// Errors: ENotFound.
	SetWebSessionFlash(ctx context.Context, token string, flash []byte) error
	// TakeWebSessionFlash returns the web session's message and forgets it, so that only one
	// page shows it; nil when there is none. Errors: ENotFound.
	TakeWebSessionFlash(ctx context.Context, token string) ([]byte, error)
}
