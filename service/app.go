package service

import (
	"context"

	"github.com/latchkey/latchkey"
)

var _ latchkey.AppService = (*Apps)(nil)

// Apps finds an app for the client API and manages apps for an admin.
type Apps struct{ *core }

// FindAppByClientID returns the app with the given client app id.
func (s *Apps) FindAppByClientID(ctx context.Context, clientAppID string) (*latchkey.App, error) {
	app, err := s.appByClientID(ctx, clientAppID)
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, latchkey.Errorf(latchkey.EAppNotFound, "cannot find app using Client App ID '%s'", clientAppID)
	}
	return app, err
}

// FindApps returns every app, oldest first.
func (s *Apps) FindApps(ctx context.Context) ([]*latchkey.App, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	return s.store.FindApps(ctx)
}

// FindApp returns an app by its internal id or its client app id.
func (s *Apps) FindApp(ctx context.Context, id string) (*latchkey.App, error) {
	return s.adminApp(ctx, id)
}

// adminApp returns an app by its internal id or its client app id, for an admin caller: the
// first step of every admin call about one app.
func (s *core) adminApp(ctx context.Context, id string) (*latchkey.App, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	return s.findApp(ctx, id)
}

func (s *core) findApp(ctx context.Context, id string) (*latchkey.App, error) {
	var app *latchkey.App
	var err error
	if latchkey.IsID(id) {
		app, err = s.store.FindAppByID(ctx, id)
	}
	if app == nil && (err == nil || latchkey.ErrorCode(err) == latchkey.ENotFound) {
		app, err = s.store.FindAppByClientID(ctx, id)
	}
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil, latchkey.Errorf(latchkey.EAppNotFound, "cannot find app using ID '%s'", id)
	}
	return app, err
}

// CreateApp creates an app; unset settings take the quickstart defaults of NewDefaultApp
// only when the caller passes them so.
func (s *Apps) CreateApp(ctx context.Context, app *latchkey.App) error {
	if _, err := requireAdmin(ctx); err != nil {
		return err
	}
	err := s.createApp(ctx, app)
	if latchkey.ErrorCode(err) == latchkey.EConflict {
		err = latchkey.Errorf(latchkey.EConflict, "an app with client app id '%s' already exists", app.ClientAppID)
	}
	s.audit(ctx, app, latchkey.EventAppCreated, err, "app", app.ID, map[string]string{"client_app_id": app.ClientAppID})
	return err
}

// UpdateApp changes an app's settings.
func (s *Apps) UpdateApp(ctx context.Context, id string, upd latchkey.AppSettings) (*latchkey.App, error) {
	app, err := s.adminApp(ctx, id)
	if err != nil {
		return nil, err
	}
	changed := *app
	changed.Apply(upd)
	if err := changed.Validate(); err != nil {
		return nil, err
	}
	err = s.store.UpdateApp(ctx, &changed)
	s.apps.forget()
	s.audit(ctx, app, latchkey.EventAppUpdated, err, "app", app.ID, nil)
	if err != nil {
		return nil, err
	}
	return &changed, nil
}

// DeleteApp deletes an app with everything in it.
func (s *Apps) DeleteApp(ctx context.Context, id string) error {
	app, err := s.adminApp(ctx, id)
	if err != nil {
		return err
	}
	// Events about the app still queued would otherwise be written after it is gone.
	if err := s.auditor.flush(ctx); err != nil {
		return err
	}
	err = s.store.DeleteApp(ctx, app.ID)
	s.apps.forget()
	// The app's own events went with it; this one is kept server-wide.
	s.audit(ctx, nil, latchkey.EventAppDeleted, err, "app", app.ID, map[string]string{"client_app_id": app.ClientAppID})
	return err
}

// createApp creates an app: zero settings take their defaults, and an empty client app id a
// generated one. It asks for no caller; the callers decide who may.
func (s *core) createApp(ctx context.Context, app *latchkey.App) error {
	if err := s.prepareApp(app); err != nil {
		return err
	}
	return s.store.CreateApp(ctx, app)
}

// BootstrapApp creates an app as Apps.CreateApp does, but with no admin caller and no audit
// event: it is for start-up and for tools and tests that own the store, never for a request.
func (s *Service) BootstrapApp(ctx context.Context, app *latchkey.App) error {
	return s.createApp(ctx, app)
}

// prepareApp gives a new app its id, creation time and the defaults of its unset settings,
// and validates it.
func (s *core) prepareApp(app *latchkey.App) error {
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
	err = s.createApp(ctx, app)
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
