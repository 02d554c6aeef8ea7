package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
)

func TestRegister(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	register := func(t *testing.T, email, password string) *response {
		t.Helper()
		return e.do(t, "POST", userpassPath(e.AppID, "/register"), "", map[string]string{"email": email, "password": password})
	}

	t.Run("OK", func(t *testing.T) {
		email, pw := e.newEmail(), e.newPassword()
		register(t, email, pw).wantEmpty(t, http.StatusCreated)
		e.loginPassword(t, e.AppID, email, pw)
	})

	t.Run("PasswordBounds", func(t *testing.T) {
		for _, n := range []int{6, 128} {
			pw := "p!" + strings.Repeat("x", n-2)
			e.remember(&e.passwords, pw)
			email := e.newEmail()
			register(t, email, pw).wantEmpty(t, http.StatusCreated)
			e.loginPassword(t, e.AppID, email, pw)
		}
	})

	taken, takenPW := e.newEmail(), e.newPassword()
	register(t, taken, takenPW).wantEmpty(t, http.StatusCreated)

	for _, tt := range []struct {
		name     string
		email    string
		password string
		status   int
		code     string
		msg      string
	}{
		{"ErrAccountNameInUse", taken, "other password!", 409, "AccountNameInUse", "name already in use"},
		{"ErrAccountNameInUseCase", strings.ToUpper(taken), "other password!", 409, "AccountNameInUse", "name already in use"},
		{"ErrAccountNameInUseSpaces", "  " + taken + "\t", "other password!", 409, "AccountNameInUse", "name already in use"},
		{"ErrPasswordTooShort", e.newEmail(), "p! ab", 400, "BadRequest", "password must be between 6 and 128 characters"},
		{"ErrPasswordTooLong", e.newEmail(), "p!" + strings.Repeat("x", 127), 400, "BadRequest", "password must be between 6 and 128 characters"},
		{"ErrPasswordMissing", e.newEmail(), "", 400, "BadRequest", "password must be between 6 and 128 characters"},
		{"ErrEmailInvalid", "not-an-email", "good password!", 400, "BadRequest", "email invalid"},
		{"ErrEmailNoDomain", "user@", "good password!", 400, "BadRequest", "email invalid"},
		{"ErrEmailTwoAts", "a@b@example.com", "good password!", 400, "BadRequest", "email invalid"},
		{"ErrEmailWithName", "Name <name@example.com>", "good password!", 400, "BadRequest", "email invalid"},
		{"ErrEmailMissing", "", "good password!", 400, "BadRequest", "email invalid"},
		// Bidi and other invisible characters would show the address as another one.
		{"ErrEmailBidi", "ann\u202Emoc.elpmaxe@evil.example", "good password!", 400, "BadRequest", "email invalid"},
		{"ErrEmailBidiIsolate", "\u2067ann@example.com", "good password!", 400, "BadRequest", "email invalid"},
		{"ErrEmailZeroWidth", "ann\u200B@example.com", "good password!", 400, "BadRequest", "email invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.remember(&e.passwords, tt.password)
			register(t, tt.email, tt.password).wantError(t, tt.status, tt.code, tt.msg)
		})
	}

	t.Run("ErrAccountNameInUseKeepsPassword", func(t *testing.T) {
		e.loginPassword(t, e.AppID, taken, takenPW)
		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": taken, "password": "other password!"}).
			wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
	})

	t.Run("ErrProviderDisabled", func(t *testing.T) {
		app := e.CreateApp(t, "no-userpass", func(a *latchkey.App) { a.UserpassEnabled = false })
		e.do(t, "POST", userpassPath(app.ClientAppID, "/register"), "", map[string]string{"email": e.newEmail(), "password": e.newPassword()}).
			wantError(t, http.StatusBadRequest, "AuthProviderNotFound", "authentication via 'local-userpass' is unsupported")
	})

	t.Run("ErrAppNotFound", func(t *testing.T) {
		e.do(t, "POST", userpassPath("no-such-app", "/register"), "", map[string]string{"email": e.newEmail(), "password": e.newPassword()}).
			wantError(t, http.StatusNotFound, "InvalidParameter", "cannot find app using Client App ID 'no-such-app'")
	})
}

// lastMessage returns the last message sent to email, of the kind.
func lastMessage(t *testing.T, m *testserver.Mailer, email, kind string) testserver.Message {
	t.Helper()
	msg, ok := m.Last(email)
	if !ok {
		t.Fatalf("no message to %s", email)
	}
	if msg.Kind != kind {
		t.Fatalf("last message to %s is %q, want %q", email, msg.Kind, kind)
	}
	return msg
}

func TestConfirm(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	app := e.CreateApp(t, "confirm-app", func(a *latchkey.App) { a.AutoConfirm = false }).ClientAppID
	confirm := func(t *testing.T, body any) *response {
		t.Helper()
		return e.do(t, "POST", userpassPath(app, "/confirm"), "", body)
	}
	login := func(t *testing.T, email, pw string) *response {
		t.Helper()
		return e.do(t, "POST", loginPath(app, "local-userpass"), "", map[string]string{"username": email, "password": pw})
	}

	t.Run("OK", func(t *testing.T) {
		email, pw := e.newEmail(), e.newPassword()
		e.register(t, app, email, pw)
		login(t, email, pw).wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")

		msg := lastMessage(t, e.Mailer, email, latchkey.UserTokenConfirm)
		if msg.App != app {
			t.Errorf("message app = %q, want %q", msg.App, app)
		}
		body := map[string]string{"token": msg.Token, "tokenId": msg.TokenID}
		confirm(t, body).wantEmpty(t, http.StatusNoContent)
		login(t, email, pw).wantJSON(t, http.StatusOK, nil)

		confirm(t, body).wantError(t, http.StatusBadRequest, "BadRequest", "invalid token data")
		// The user is confirmed: a resend is refused.
		e.do(t, "POST", userpassPath(app, "/confirm/send"), "", map[string]string{"email": email}).
			wantError(t, http.StatusBadRequest, "UserAlreadyConfirmed", "already confirmed")
	})

	t.Run("Resend", func(t *testing.T) {
		email, pw := e.newEmail(), e.newPassword()
		e.register(t, app, email, pw)
		first := lastMessage(t, e.Mailer, email, latchkey.UserTokenConfirm)
		e.do(t, "POST", userpassPath(app, "/confirm/send"), "", map[string]string{"email": " " + strings.ToUpper(email)}).
			wantEmpty(t, http.StatusNoContent)
		msg := lastMessage(t, e.Mailer, email, latchkey.UserTokenConfirm)
		if msg.TokenID == first.TokenID || msg.Token == first.Token {
			t.Errorf("resend reused the token %q", first.TokenID)
		}
		confirm(t, map[string]string{"token": msg.Token, "tokenId": msg.TokenID}).wantEmpty(t, http.StatusNoContent)
		login(t, email, pw).wantJSON(t, http.StatusOK, nil)
	})

	t.Run("ErrAlreadyConfirmed", func(t *testing.T) {
		u := e.newUser(t, e.AppID) // the default app confirms at registration
		e.do(t, "POST", userpassPath(e.AppID, "/confirm/send"), "", map[string]string{"email": u.Email}).
			wantError(t, http.StatusBadRequest, "UserAlreadyConfirmed", "already confirmed")
	})

	t.Run("ErrUserNotFound", func(t *testing.T) {
		e.do(t, "POST", userpassPath(app, "/confirm/send"), "", map[string]string{"email": "nobody@example.com"}).
			wantError(t, http.StatusNotFound, "UserNotFound", "user not found")
	})

	email, pw := e.newEmail(), e.newPassword()
	e.register(t, app, email, pw)
	msg := lastMessage(t, e.Mailer, email, latchkey.UserTokenConfirm)
	e.do(t, "POST", userpassPath(app, "/reset/send"), "", map[string]string{"email": email}).wantEmpty(t, http.StatusNoContent)
	reset := lastMessage(t, e.Mailer, email, latchkey.UserTokenReset)
	other := e.CreateApp(t, "confirm-other", func(a *latchkey.App) { a.AutoConfirm = false }).ClientAppID

	for _, tt := range []struct {
		name string
		app  string
		body any
	}{
		{"ErrWrongToken", app, map[string]string{"token": strings.Repeat("0", len(msg.Token)), "tokenId": msg.TokenID}},
		{"ErrEmptyToken", app, map[string]string{"token": "", "tokenId": msg.TokenID}},
		{"ErrUnknownTokenID", app, map[string]string{"token": msg.Token, "tokenId": "0123456789abcdef01234567"}},
		{"ErrMalformedTokenID", app, map[string]string{"token": msg.Token, "tokenId": "not-an-id"}},
		{"ErrUppercaseTokenID", app, map[string]string{"token": msg.Token, "tokenId": strings.ToUpper(msg.TokenID)}},
		{"ErrMissingFields", app, map[string]string{}},
		{"ErrResetToken", app, map[string]string{"token": reset.Token, "tokenId": reset.TokenID}},
		{"ErrOtherApp", other, map[string]string{"token": msg.Token, "tokenId": msg.TokenID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "POST", userpassPath(tt.app, "/confirm"), "", tt.body).
				wantError(t, http.StatusBadRequest, "BadRequest", "invalid token data")
		})
	}

	t.Run("TokenStillGoodAfterFailures", func(t *testing.T) {
		login(t, email, pw).wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
		confirm(t, map[string]string{"token": msg.Token, "tokenId": msg.TokenID}).wantEmpty(t, http.StatusNoContent)
		login(t, email, pw).wantJSON(t, http.StatusOK, nil)
	})
}

func TestResetPassword(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resetPath := userpassPath(e.AppID, "/reset")
	sendReset := func(t *testing.T, email string) testserver.Message {
		t.Helper()
		e.do(t, "POST", resetPath+"/send", "", map[string]string{"email": email}).wantEmpty(t, http.StatusNoContent)
		return lastMessage(t, e.Mailer, email, latchkey.UserTokenReset)
	}

	t.Run("OK", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		other := e.loginPassword(t, e.AppID, u.Email, u.Password)
		msg := sendReset(t, u.Email)
		if msg.App != e.AppID {
			t.Errorf("message app = %q, want %q", msg.App, e.AppID)
		}
		newPW := e.newPassword()
		body := map[string]string{"password": newPW, "token": msg.Token, "tokenId": msg.TokenID}
		e.do(t, "POST", resetPath, "", body).wantEmpty(t, http.StatusNoContent)

		e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": u.Password}).
			wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
		l := e.loginPassword(t, e.AppID, u.Email, newPW)
		if l.UserID != u.UserID {
			t.Errorf("user_id = %q, want %q", l.UserID, u.UserID)
		}
		// The old sessions are over; the new one is not.
		e.wantEnded(t, u.RefreshToken)
		e.wantEnded(t, other.RefreshToken)
		e.wantLive(t, l.RefreshToken)

		body["password"] = e.newPassword()
		e.do(t, "POST", resetPath, "", body).wantError(t, http.StatusBadRequest, "BadRequest", "invalid token data")
		e.loginPassword(t, e.AppID, u.Email, newPW)
	})

	t.Run("EndsOtherResetLinks", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		first := sendReset(t, u.Email)
		second := sendReset(t, u.Email)
		newPW := e.newPassword()
		e.do(t, "POST", resetPath, "", map[string]string{"password": newPW, "token": second.Token, "tokenId": second.TokenID}).
			wantEmpty(t, http.StatusNoContent)
		// The link mailed first no longer sets the password.
		e.do(t, "POST", resetPath, "", map[string]string{"password": e.newPassword(), "token": first.Token, "tokenId": first.TokenID}).
			wantError(t, http.StatusBadRequest, "BadRequest", "invalid token data")
		e.loginPassword(t, e.AppID, u.Email, newPW)
	})

	t.Run("ErrPassword", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		msg := sendReset(t, u.Email)
		for _, pw := range []string{"p! ab", "p!" + strings.Repeat("x", 127)} {
			e.remember(&e.passwords, pw)
			e.do(t, "POST", resetPath, "", map[string]string{"password": pw, "token": msg.Token, "tokenId": msg.TokenID}).
				wantError(t, http.StatusBadRequest, "BadRequest", "password must be between 6 and 128 characters")
		}
		e.loginPassword(t, e.AppID, u.Email, u.Password)
		e.wantLive(t, u.RefreshToken)
	})

	t.Run("ErrUserNotFound", func(t *testing.T) {
		e.do(t, "POST", resetPath+"/send", "", map[string]string{"email": "nobody@example.com"}).
			wantError(t, http.StatusNotFound, "UserNotFound", "user not found")
	})

	u := e.newUser(t, e.AppID)
	msg := sendReset(t, u.Email)
	noConfirm := e.CreateApp(t, "reset-unconfirmed", func(a *latchkey.App) { a.AutoConfirm = false }).ClientAppID
	pending := e.newEmail()
	e.register(t, noConfirm, pending, e.newPassword())
	confirmMsg := lastMessage(t, e.Mailer, pending, latchkey.UserTokenConfirm)
	newPW := e.newPassword()

	for _, tt := range []struct {
		name string
		body map[string]string
	}{
		{"ErrWrongToken", map[string]string{"password": newPW, "token": strings.Repeat("0", len(msg.Token)), "tokenId": msg.TokenID}},
		{"ErrEmptyToken", map[string]string{"password": newPW, "token": "", "tokenId": msg.TokenID}},
		{"ErrUnknownTokenID", map[string]string{"password": newPW, "token": msg.Token, "tokenId": "0123456789abcdef01234567"}},
		{"ErrMalformedTokenID", map[string]string{"password": newPW, "token": msg.Token, "tokenId": "xyz"}},
		{"ErrMissingTokens", map[string]string{"password": newPW}},
		{"ErrConfirmToken", map[string]string{"password": newPW, "token": confirmMsg.Token, "tokenId": confirmMsg.TokenID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.do(t, "POST", resetPath, "", tt.body).wantError(t, http.StatusBadRequest, "BadRequest", "invalid token data")
		})
	}

	t.Run("TokenStillGoodAfterFailures", func(t *testing.T) {
		e.loginPassword(t, e.AppID, u.Email, u.Password)
		e.do(t, "POST", resetPath, "", map[string]string{"password": newPW, "token": msg.Token, "tokenId": msg.TokenID}).
			wantEmpty(t, http.StatusNoContent)
		e.loginPassword(t, e.AppID, u.Email, newPW)
	})

	t.Run("ErrAppNotFound", func(t *testing.T) {
		e.do(t, "POST", userpassPath("no-such-app", "/reset/send"), "", map[string]string{"email": u.Email}).
			wantError(t, http.StatusNotFound, "InvalidParameter", "cannot find app using Client App ID 'no-such-app'")
	})
}

// TestHideAccountExistence checks reset/send and confirm/send under both values of the app
// setting: App Services' answers by default, and the answer of a sent message for unknown
// and confirmed emails when the app hides which emails have accounts. Registration says
// that an email is taken either way.
func TestHideAccountExistence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, hide := range []bool{false, true} {
		t.Run(map[bool]string{false: "Default", true: "Hidden"}[hide], func(t *testing.T) {
			app := e.CreateApp(t, fmt.Sprintf("hide-%v", hide), func(a *latchkey.App) {
				a.AutoConfirm, a.HideAccountExistence = false, hide
			}).ClientAppID
			send := func(t *testing.T, what, email string) *response {
				t.Helper()
				return e.do(t, "POST", userpassPath(app, what), "", map[string]string{"email": email})
			}
			unknown := e.newEmail()
			confirmed, pending := e.newEmail(), e.newEmail()
			e.register(t, app, confirmed, e.newPassword())
			msg := lastMessage(t, e.Mailer, confirmed, latchkey.UserTokenConfirm)
			e.do(t, "POST", userpassPath(app, "/confirm"), "", map[string]string{"token": msg.Token, "tokenId": msg.TokenID}).
				wantEmpty(t, http.StatusNoContent)
			e.register(t, app, pending, e.newPassword())
			before := e.Mailer.Count(confirmed)

			if hide {
				send(t, "/reset/send", unknown).wantEmpty(t, http.StatusNoContent)
				send(t, "/confirm/send", unknown).wantEmpty(t, http.StatusNoContent)
				send(t, "/confirm/send", confirmed).wantEmpty(t, http.StatusNoContent)
			} else {
				send(t, "/reset/send", unknown).wantError(t, http.StatusNotFound, "UserNotFound", "user not found")
				send(t, "/confirm/send", unknown).wantError(t, http.StatusNotFound, "UserNotFound", "user not found")
				send(t, "/confirm/send", confirmed).wantError(t, http.StatusBadRequest, "UserAlreadyConfirmed", "already confirmed")
			}
			// Nothing is sent where there is nothing to send.
			if n := e.Mailer.Count(unknown); n != 0 {
				t.Errorf("%d messages to an unknown email", n)
			}
			if n := e.Mailer.Count(confirmed); n != before {
				t.Errorf("confirm/send mailed a confirmed user")
			}
			// Known emails answer the same as ever, and get their messages.
			send(t, "/reset/send", confirmed).wantEmpty(t, http.StatusNoContent)
			lastMessage(t, e.Mailer, confirmed, latchkey.UserTokenReset)
			send(t, "/confirm/send", pending).wantEmpty(t, http.StatusNoContent)
			if n := e.Mailer.Count(pending); n != 2 {
				t.Errorf("%d messages to the pending user, want 2", n)
			}
			// Bad input is refused either way, and registration still tells a taken email.
			send(t, "/reset/send", "not-an-email").wantError(t, http.StatusBadRequest, "BadRequest", "email invalid")
			e.do(t, "POST", userpassPath(app, "/register"), "", map[string]string{"email": confirmed, "password": e.newPassword()}).
				wantError(t, http.StatusConflict, "AccountNameInUse", "name already in use")
		})
	}
}
