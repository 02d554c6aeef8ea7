package service

import (
	"context"

	"github.com/latchkey/latchkey"
)

// BeginPasswordCheckForTest reserves a password check of the email in the app as a password
// login does, and returns its end: a test that never calls it plays a node that died.
func BeginPasswordCheckForTest(ctx context.Context, s *Service, app *latchkey.App, email string) (done func(error), err error) {
	return s.beginPasswordCheck(ctx, app, emailAccount(app, email), normalizeEmail(email))
}
