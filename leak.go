package latchkey

import "context"

// LeakService answers secret-scanning services that found key values in public places, and
// gives an admin the secret that authenticates their reports.
type LeakService interface {
	// CheckLeakSecret verifies the app's leak-report secret. Errors: EUnauthenticated.
	CheckLeakSecret(ctx context.Context, app *App, secret string) error
	// ReportLeakedKeys disables every key of the app whose current or previous value is in
	// values, ends its sessions, and reports for each value whether it was a live key.
	ReportLeakedKeys(ctx context.Context, app *App, values []string) ([]bool, error)
	// RotateLeakSecret makes a new secret for the app's leak reports and returns it, the only
	// time it is shown; the old one stops working. It needs an admin access caller in the
	// context; appID is the app's internal id or client app id.
	// Errors: EUnauthenticated, EAppNotFound.
	RotateLeakSecret(ctx context.Context, appID string) (string, error)
}
