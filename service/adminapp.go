package service

import (
	"context"
	"encoding/hex"

	"github.com/latchkey/latchkey"
)

// AdminFindApps returns every app.
func (s *Service) AdminFindApps(ctx context.Context) ([]*latchkey.App, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	return s.store.FindApps(ctx)
}

// AdminFindApp returns an app by its internal id or its client app id.
func (s *Service) AdminFindApp(ctx context.Context, id string) (*latchkey.App, error) {
	if _, err := requireAdmin(ctx); err != nil {
		return nil, err
	}
	return s.findApp(ctx, id)
}

func (s *Service) findApp(ctx context.Context, id string) (*latchkey.App, error) {
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

// AdminCreateApp creates an app; unset settings take the quickstart defaults of
// NewDefaultApp only when the caller passes them so.
func (s *Service) AdminCreateApp(ctx context.Context, app *latchkey.App) error {
	if _, err := requireAdmin(ctx); err != nil {
		return err
	}
	err := s.CreateApp(ctx, app)
	if latchkey.ErrorCode(err) == latchkey.EConflict {
		err = latchkey.Errorf(latchkey.EConflict, "an app with client app id '%s' already exists", app.ClientAppID)
	}
	s.audit(ctx, app, latchkey.EventAppCreated, err, "app", app.ID, map[string]string{"client_app_id": app.ClientAppID})
	return err
}

// AdminUpdateApp changes an app's settings.
func (s *Service) AdminUpdateApp(ctx context.Context, id string, upd latchkey.AppSettings) (*latchkey.App, error) {
	app, err := s.AdminFindApp(ctx, id)
	if err != nil {
		return nil, err
	}
	changed := *app
	setIf(&changed.Name, upd.Name)
	setIf(&changed.AutoConfirm, upd.AutoConfirm)
	setIf(&changed.AnonymousEnabled, upd.AnonymousEnabled)
	setIf(&changed.UserpassEnabled, upd.UserpassEnabled)
	setIf(&changed.APIKeyEnabled, upd.APIKeyEnabled)
	setIf(&changed.PasswordMinLength, upd.PasswordMinLength)
	setIf(&changed.RefreshTokenLifetime, upd.RefreshTokenLifetime)
	setIf(&changed.AllowedOrigins, upd.AllowedOrigins)
	setIf(&changed.HideAccountExistence, upd.HideAccountExistence)
	setIf(&changed.KeyPrefix, upd.KeyPrefix)
	setIf(&changed.MaxKeyLifetime, upd.MaxKeyLifetime)
	setIf(&changed.Scopes, upd.Scopes)
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

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// AdminDeleteApp deletes an app with everything in it.
func (s *Service) AdminDeleteApp(ctx context.Context, id string) error {
	app, err := s.AdminFindApp(ctx, id)
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

// RotateLeakSecret makes a new secret for the app's leak reports; the old one stops working.
func (s *Service) RotateLeakSecret(ctx context.Context, appID string) (string, error) {
	app, err := s.AdminFindApp(ctx, appID)
	if err != nil {
		return "", err
	}
	secret := "lkleak_" + hex.EncodeToString(randomBytes(32))
	app.LeakSecretHash = hashKey(secret)
	err = s.store.UpdateApp(ctx, app)
	s.apps.forget()
	s.audit(ctx, app, latchkey.EventLeakSecretRotated, err, "app", app.ID, nil)
	if err != nil {
		return "", err
	}
	return secret, nil
}
