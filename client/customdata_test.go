package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
	"github.com/latchkey/latchkey/internal/testidp"
)

// tokenUserData returns the user_data claim of an access token, without verifying it.
func tokenUserData(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		UserData json.RawMessage `json:"user_data"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return string(c.UserData)
}

func TestAdminUserCustomData(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)
	users := mustLogInAdmin(t, srv).Users(srv.AppID)
	ann := mustRegister(t, mustNewApp(t, srv))

	t.Run("OK", func(t *testing.T) {
		if got, err := users.CustomData(ctx, ann.ID()); err != nil || string(got) != "{}" {
			t.Fatalf("CustomData before = %s, %v; want {}", got, err)
		}
		if err := users.SetCustomData(ctx, ann.ID(), json.RawMessage(`{"plan":"pro"}`)); err != nil {
			t.Fatal(err)
		}
		if got, err := users.CustomData(ctx, ann.ID()); err != nil || string(got) != `{"plan":"pro"}` {
			t.Fatalf("CustomData = %s, %v; want {\"plan\":\"pro\"}", got, err)
		}
		// The user's next access token carries it.
		if err := ann.RefreshAccessToken(ctx); err != nil {
			t.Fatal(err)
		}
		if got := tokenUserData(t, ann.AccessToken()); got != `{"plan":"pro"}` {
			t.Fatalf("user_data = %s, want {\"plan\":\"pro\"}", got)
		}
		if err := users.ClearCustomData(ctx, ann.ID()); err != nil {
			t.Fatal(err)
		}
		if got, err := users.CustomData(ctx, ann.ID()); err != nil || string(got) != "{}" {
			t.Fatalf("CustomData after clearing = %s, %v; want {}", got, err)
		}
	})
	t.Run("ErrInvalidParameter", func(t *testing.T) {
		for _, data := range []string{`[1]`, `{"s":"` + strings.Repeat("x", latchkey.MaxCustomDataBytes) + `"}`} {
			if err := users.SetCustomData(ctx, ann.ID(), json.RawMessage(data)); !errors.Is(err, client.ErrInvalidParameter) {
				t.Fatalf("SetCustomData(%.20s…) = %v, want ErrInvalidParameter", data, err)
			}
		}
		if err := users.SetCustomData(ctx, ann.ID(), nil); !errors.Is(err, client.ErrInvalidParameter) {
			t.Fatalf("SetCustomData(nil) = %v, want ErrInvalidParameter", err)
		}
	})
	t.Run("ErrUserNotFound", func(t *testing.T) {
		missing := latchkey.NewID(srv.Clock.Now())
		if _, err := users.CustomData(ctx, missing); !errors.Is(err, client.ErrUserNotFound) {
			t.Fatalf("CustomData = %v, want ErrUserNotFound", err)
		}
		if err := users.SetCustomData(ctx, missing, json.RawMessage(`{"a":1}`)); !errors.Is(err, client.ErrUserNotFound) {
			t.Fatalf("SetCustomData = %v, want ErrUserNotFound", err)
		}
	})
}

func TestUser_CustomData(t *testing.T) {
	ctx := context.Background()
	srv := newExternalServer(t, testidp.New(t), nil)
	users := mustLogInAdmin(t, srv).Users(srv.AppID)

	t.Run("FromFunction", func(t *testing.T) {
		u := mustLogIn(t, mustNewApp(t, srv), client.FunctionCredentials(map[string]any{
			"username": "cd", "custom_data": map[string]any{"plan": "pro", "seats": 3},
		}))
		if got, want := u.CustomData(), (map[string]any{"plan": "pro", "seats": float64(3)}); !maps.Equal(got, want) {
			t.Errorf("CustomData() = %v, want %v", got, want)
		}
	})

	t.Run("Refresh", func(t *testing.T) {
		u := mustRegister(t, mustNewApp(t, srv))
		if got := u.CustomData(); got == nil || len(got) != 0 {
			t.Errorf("CustomData() of a user without any = %#v, want an empty map", got)
		}
		if err := users.SetCustomData(ctx, u.ID(), json.RawMessage(`{"plan":"team"}`)); err != nil {
			t.Fatal(err)
		}
		// The access token is the one of the login until it is refreshed.
		if got := u.CustomData(); len(got) != 0 {
			t.Errorf("CustomData() before the refresh = %v, want the login's, empty", got)
		}
		srv.Clock.Advance(time.Second) // a new iat, so a new token
		got, err := u.RefreshCustomData(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := (map[string]any{"plan": "team"}); !maps.Equal(got, want) || !maps.Equal(u.CustomData(), want) {
			t.Errorf("RefreshCustomData() = %v, CustomData() = %v; want %v", got, u.CustomData(), want)
		}
	})

	t.Run("ErrNotLoggedIn", func(t *testing.T) {
		u := mustRegister(t, mustNewApp(t, srv))
		if err := u.LogOut(ctx); err != nil {
			t.Fatal(err)
		}
		if got := u.CustomData(); got == nil || len(got) != 0 {
			t.Errorf("CustomData() of a logged-out user = %#v, want an empty map", got)
		}
		if _, err := u.RefreshCustomData(ctx); !errors.Is(err, client.ErrNotLoggedIn) {
			t.Errorf("RefreshCustomData() = %v, want ErrNotLoggedIn", err)
		}
	})
}
