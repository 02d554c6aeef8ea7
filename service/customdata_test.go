package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/teststore"
)

// userDataOf returns the user_data claim of an access token.
func userDataOf(t *testing.T, token string) any {
	t.Helper()
	c := claimsOf(t, token)
	ud, ok := c["user_data"]
	if !ok {
		t.Fatal("access token has no user_data claim")
	}
	return ud
}

// jsonValue decodes s, for comparing JSON values whatever their spelling.
func jsonValue(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCustomData sets a user's custom data as an admin and finds it in the access tokens of
// a refresh and of a new login, in the admin's read and in verify_token; an empty object
// clears it. A refresh reads the session and its user, custom data included, in one read.
func TestCustomData(t *testing.T) {
	store := &sessionUserStore{Store: teststore.Open(t)}
	f := newFixtureOn(t, store, nil)
	refreshCtx, login := f.login(t, "ann@example.com")
	admin := adminContext(t, f.svc)
	if got, want := userDataOf(t, login.AccessToken), jsonValue(t, `{}`); !cmp.Equal(got, want) {
		t.Fatalf("user_data before = %v, want %v", got, want)
	}
	if got, err := f.svc.Users.FindUserCustomData(admin, f.app.ID, login.UserID); err != nil || string(got) != "{}" {
		t.Fatalf("FindUserCustomData before = %s, %v; want {}", got, err)
	}

	const data = `{"plan":"pro","limits":{"seats":5},"tags":["a","<b>"]}`
	if err := f.svc.Users.SetUserCustomData(admin, f.app.ID, login.UserID, json.RawMessage(data)); err != nil {
		t.Fatal(err)
	}
	want := jsonValue(t, data)

	t.Run("Refresh", func(t *testing.T) {
		auth, err := f.svc.Auth.Authenticate(context.Background(), login.RefreshToken, latchkey.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		store.reads.Store(0)
		access, err := f.svc.Auth.Refresh(latchkey.NewContextWithAuth(context.Background(), auth))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, userDataOf(t, access)); diff != "" {
			t.Fatalf("refreshed user_data mismatch (-want +got):\n%s", diff)
		}
		if got := store.reads.Load(); got != 0 {
			t.Fatalf("refresh made %d reads of its own, want 0: the authentication read the user", got)
		}
		// The access token's own authentication (the profile path) stays one read.
		store.reads.Store(0)
		if _, err := f.svc.Auth.Authenticate(context.Background(), access, latchkey.AccessToken); err != nil {
			t.Fatal(err)
		}
		if got := store.reads.Load(); got != 1 {
			t.Fatalf("access token authentication made %d reads, want 1", got)
		}
		claims, err := f.svc.Users.VerifyToken(admin, f.app.ID, access)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(claims["user_data"])
		if diff := cmp.Diff(want, jsonValue(t, string(b))); diff != "" {
			t.Fatalf("verify_token user_data mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("Login", func(t *testing.T) {
		_, again := f.login(t, "ann@example.com")
		if diff := cmp.Diff(want, userDataOf(t, again.AccessToken)); diff != "" {
			t.Fatalf("login user_data mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("Find", func(t *testing.T) {
		got, err := f.svc.Users.FindUserCustomData(admin, f.app.ID, login.UserID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, jsonValue(t, string(got))); diff != "" {
			t.Fatalf("FindUserCustomData mismatch (-want +got):\n%s", diff)
		}
	})
	t.Run("Audit", func(t *testing.T) {
		events, err := f.store.FindAuditEvents(context.Background(), latchkey.AuditFilter{AppID: f.app.ID, Event: latchkey.EventUserCustomDataSet})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) != 1 || events[0].SubjectID != login.UserID || events[0].Outcome != latchkey.OutcomeSuccess || events[0].ActorType != latchkey.ActorAdmin {
			t.Fatalf("events = %+v, want one admin success about the user", events)
		}
		if strings.Contains(events[0].Details["bytes"], "pro") {
			t.Fatal("the audit event holds the custom data")
		}
	})
	t.Run("EmptyObjectClears", func(t *testing.T) {
		if err := f.svc.Users.SetUserCustomData(admin, f.app.ID, login.UserID, json.RawMessage(` { } `)); err != nil {
			t.Fatal(err)
		}
		access, err := f.svc.Auth.Refresh(refreshCtx)
		if err != nil {
			t.Fatal(err)
		}
		if got := userDataOf(t, access); !cmp.Equal(got, map[string]any{}) {
			t.Fatalf("user_data after clearing = %v, want {}", got)
		}
		if u, err := f.store.FindUserByID(context.Background(), f.app.ID, login.UserID); err != nil || u.CustomData != nil {
			t.Fatalf("stored custom data after clearing = %s, %v; want none", u.CustomData, err)
		}
	})
}

// TestSetUserCustomData_Input checks what custom data is refused and how the rest is
// normalized for both stores.
func TestSetUserCustomData_Input(t *testing.T) {
	f := newFixture(t, nil)
	_, login := f.login(t, "ann@example.com")
	admin := adminContext(t, f.svc)
	set := func(data string) error {
		return f.svc.Users.SetUserCustomData(admin, f.app.ID, login.UserID, json.RawMessage(data))
	}
	stored := func(t *testing.T) string {
		t.Helper()
		got, err := f.svc.Users.FindUserCustomData(admin, f.app.ID, login.UserID)
		if err != nil {
			t.Fatal(err)
		}
		return string(got)
	}
	// A value of exactly the limit: {"s":"xxx…"} is 8 bytes around the string.
	atLimit := `{"s":"` + strings.Repeat("x", latchkey.MaxCustomDataBytes-8) + `"}`

	for _, tc := range []struct{ name, in string }{
		{"ErrArray", `[1]`},
		{"ErrNull", `null`},
		{"ErrString", `"x"`},
		{"ErrNumber", `1`},
		{"ErrEmpty", ``},
		{"ErrTrailing", `{"a":1} {"b":2}`},
		{"ErrMalformed", `{"a":}`},
		{"ErrTooLarge", `{"s":"` + strings.Repeat("x", latchkey.MaxCustomDataBytes-7) + `"}`},
		{"ErrNULInString", `{"a":"x\u0000y"}`},
		{"ErrNULInKey", `{"a\u0000":1}`},
		{"ErrNULNested", `{"a":[{"b":"\u0000"}]}`},
		{"ErrNumberOutOfRange", `{"n":1e400}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := set(`{"kept":true}`); err != nil {
				t.Fatal(err)
			}
			wantCode(t, set(tc.in), latchkey.EInvalid)
			if got := stored(t); got != `{"kept":true}` {
				t.Fatalf("custom data after a refused set = %s, want it unchanged", got)
			}
		})
	}
	for _, tc := range []struct{ name, in, want string }{
		{"AtLimit", atLimit, atLimit},
		{"Compacted", "{ \"a\" : [ 1 , 2 ] }", `{"a":[1,2]}`},
		{"LastDuplicateKeyWins", `{"a":1,"a":2}`, `{"a":2}`},
		{"HTMLNotEscaped", `{"a":"<b>&"}`, `{"a":"<b>&"}`},
		{"ExponentAsDouble", `{"tiny":1e-20000,"e":1E3}`, `{"e":1000,"tiny":0}`},
		{"LoneSurrogateReplaced", `{"s":"\ud800"}`, `{"s":"` + "\uFFFD" + `"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := set(tc.in); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(jsonValue(t, tc.want), jsonValue(t, stored(t))); diff != "" {
				t.Fatalf("stored mismatch (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("NumberTextKept", func(t *testing.T) {
		// Past a double's precision, and with its trailing zero: the text is kept.
		for _, n := range []string{"12345678901234567890123", "1.50"} {
			if err := set(`{"n":` + n + `}`); err != nil {
				t.Fatal(err)
			}
			if got := stored(t); !strings.Contains(got, n) {
				t.Fatalf("stored %s, want the number %s as given", got, n)
			}
		}
	})
	t.Run("ErrUserNotFound", func(t *testing.T) {
		wantCode(t, f.svc.Users.SetUserCustomData(admin, f.app.ID, latchkey.NewID(f.Now()), json.RawMessage(`{"a":1}`)), latchkey.EUserNotFound)
		_, err := f.svc.Users.FindUserCustomData(admin, f.app.ID, "not-an-id")
		wantCode(t, err, latchkey.EUserNotFound)
	})
	t.Run("ErrUnauthenticated", func(t *testing.T) {
		wantCode(t, f.svc.Users.SetUserCustomData(context.Background(), f.app.ID, login.UserID, json.RawMessage(`{"a":1}`)), latchkey.EUnauthenticated)
	})
}
