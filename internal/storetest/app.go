package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/latchkey/latchkey"
)

func testApp(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("CreateAndFind", func(t *testing.T) {
		s := open(t)
		app := &latchkey.App{
			ID:                   newID(),
			ClientAppID:          "my-app",
			Name:                 "My App",
			AutoConfirm:          true,
			AnonymousEnabled:     true,
			UserpassEnabled:      false,
			APIKeyEnabled:        true,
			RefreshTokenLifetime: 45 * time.Minute,
			AllowedOrigins:       []string{"https://a.example", "http://localhost:3000"},
			CreatedAt:            now(),
		}
		want := *app
		if err := s.CreateApp(t.Context(), app); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&want, app); diff != "" {
			t.Fatalf("CreateApp changed its argument (-before +after):\n%s", diff)
		}

		got, err := s.FindAppByClientID(t.Context(), "my-app")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Fatalf("FindAppByClientID mismatch (-want +got):\n%s", diff)
		}
		got, err = s.FindAppByID(t.Context(), app.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Fatalf("FindAppByID mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("NoAllowedOrigins", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		got, err := s.FindAppByID(t.Context(), app.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Empty means any origin; nil and an empty slice are the same here.
		if diff := cmp.Diff(app, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		dup := *app
		dup.ID = newID()
		assertCode(t, s.CreateApp(t.Context(), &dup), latchkey.EConflict)

		_, err := s.FindAppByID(t.Context(), dup.ID)
		assertCode(t, err, latchkey.ENotFound)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		mustCreateApp(t, s)
		_, err := s.FindAppByClientID(t.Context(), "no-such-app")
		assertCode(t, err, latchkey.ENotFound)
		_, err = s.FindAppByID(t.Context(), newID())
		assertCode(t, err, latchkey.ENotFound)
	})

	t.Run("FindApps", func(t *testing.T) {
		s := open(t)
		apps, err := s.FindApps(t.Context())
		if err != nil {
			t.Fatal(err)
		} else if len(apps) != 0 {
			t.Fatalf("FindApps on an empty store returned %d apps", len(apps))
		}

		// Inserted out of order: the result must follow CreatedAt, not insertion.
		base := now()
		want := make([]*latchkey.App, 3)
		for _, i := range []int{2, 0, 1} {
			app := newApp()
			app.CreatedAt = base.Add(time.Duration(i) * time.Millisecond)
			if err := s.CreateApp(t.Context(), app); err != nil {
				t.Fatal(err)
			}
			want[i] = app
		}
		apps, err = s.FindApps(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, apps, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("FindApps mismatch (-want +got):\n%s", diff)
		}
	})
}
