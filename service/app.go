package service

import (
	"context"

	"github.com/latchkey/latchkey"
)

// FindAppByClientID returns the app with the given client app id.
func (s *Service) FindAppByClientID(ctx context.Context, clientAppID string) (*latchkey.App, error) {
	app, err := s.appByClientID(ctx, clientAppID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, latchkey.Errorf(latchkey.EAppNotFound, "cannot find app using Client App ID '%s'", clientAppID)
	}
	return app, err
}

// FindApps returns every app, oldest first.
func (s *Service) FindApps(ctx context.Context) ([]*latchkey.App, error) {
	return s.store.FindApps(ctx)
}

// CreateApp creates an app. Zero settings take their defaults, and an empty client app id a
// generated one.
func (s *Service) CreateApp(ctx context.Context, app *latchkey.App) error {
	if err := s.prepareApp(app); err != nil {
		return err
	}
	return s.store.CreateApp(ctx, app)
}

// prepareApp gives a new app its id, creation time and the defaults of its unset settings,
// and validates it.
func (s *Service) prepareApp(app *latchkey.App) error {
	now := s.now()
	app.ID = latchkey.NewID(now)
	app.CreatedAt = now
	if app.ClientAppID == "" {
		app.ClientAppID = "latchkey-" + randomLetters(5)
	}
	if app.Name == "" {
		app.Name = app.ClientAppID
	}
	if app.RefreshTokenLifetime == 0 {
		app.RefreshTokenLifetime = latchkey.DefaultRefreshTokenLifetime
	}
	if app.PasswordMinLength == 0 {
		app.PasswordMinLength = latchkey.MinPasswordLength
	}
	if app.KeyPrefix == "" {
		app.KeyPrefix = latchkey.DefaultKeyPrefix
	}
	return app.Validate()
}

// EnsureApp returns the app to serve at start: the one with clientAppID, created with the
// quickstart defaults if it does not exist; with an empty clientAppID, the oldest app, or a
// new one with a generated id when there is none. created tells whether it was made now.
// Nodes starting at once on an empty database end with one app, which each of them returns.
func (s *Service) EnsureApp(ctx context.Context, clientAppID string) (app *latchkey.App, created bool, err error) {
	if clientAppID == "" {
		apps, err := s.store.FindApps(ctx)
		if err != nil {
			return nil, false, err
		} else if len(apps) > 0 {
			return apps[0], false, nil
		}
		// The store checks again, in one step with the insert: another node may be creating
		// its own first app at this moment.
		app = NewDefaultApp("")
		if err := s.prepareApp(app); err != nil {
			return nil, false, err
		}
		return s.store.CreateFirstApp(ctx, app)
	}
	app, err = s.store.FindAppByClientID(ctx, clientAppID)
	if latchkey.ErrorCode(err) != latchkey.ENotFound {
		return app, false, err
	}
	app = NewDefaultApp(clientAppID)
	err = s.CreateApp(ctx, app)
	if latchkey.ErrorCode(err) == latchkey.EConflict {
		// Another node created it at the same moment.
		app, err = s.store.FindAppByClientID(ctx, clientAppID)
		return app, false, err
	}
	return app, err == nil, err
}

// NewDefaultApp returns an app with the quickstart settings: every provider enabled and
// email/password users confirmed at registration.
func NewDefaultApp(clientAppID string) *latchkey.App {
	return &latchkey.App{
		ClientAppID:          clientAppID,
		AutoConfirm:          true,
		AnonymousEnabled:     true,
		UserpassEnabled:      true,
		APIKeyEnabled:        true,
		PasswordMinLength:    latchkey.MinPasswordLength,
		KeyPrefix:            latchkey.DefaultKeyPrefix,
		RefreshTokenLifetime: latchkey.DefaultRefreshTokenLifetime,
	}
}

func randomLetters(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	b := randomBytes(n)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b)
}
