package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
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
