package client_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

func TestAdminAuditEvents(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)
	store := client.NewMemoryStore()
	a := mustLogInAdmin(t, srv, client.WithTokenStore(store))
	start := srv.Clock.Now().Add(-time.Second)

	// The seed's flow, with a failed login and admin actions.
	app := mustNewApp(t, srv)
	ann := mustRegister(t, app)
	email := mustProfileEmail(t, a.Users(srv.AppID), ann.ID())
	if _, err := mustNewApp(t, srv).LogIn(ctx, client.EmailPasswordCredentials(email, "wrong-password")); err == nil {
		t.Fatal("a wrong password logged in")
	}
	key := mustCreateKey(t, ann, "laptop")
	keyUser := mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(key.Value))
	serverKey, err := a.ServerAPIKeys(srv.AppID).Create(ctx, "backend")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Users(srv.AppID).Disable(ctx, ann.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateApp(ctx, "audit-other", client.AppSettingsUpdate{}); err != nil {
		t.Fatal(err)
	}

	t.Run("App", func(t *testing.T) {
		events, err := a.AuditEvents(ctx, client.AuditFilter{App: srv.AppID})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range events {
			names = append(names, e.Event+"/"+e.Outcome)
			if e.AppID != srv.App.ID || !latchkey.IsID(e.ID) || e.Time.Before(start) || e.RequestID == "" || e.IP == "" {
				t.Errorf("event = %+v", e)
			}
		}
		slices.Reverse(names) // oldest first, to read like the flow
		want := []string{
			"register/success", "login/success", "login/failure", "api_key_created/success", "login/success",
			"server_api_key_created/success", "user_disabled/success",
		}
		if !slices.Equal(names, want) {
			t.Fatalf("events = %v, want %v", names, want)
		}
		if e := events[0]; e.Actor.Type != "admin" || e.Actor.ID != a.UserID() || e.Subject != (client.AuditParty{Type: "user", ID: ann.ID()}) {
			t.Fatalf("user_disabled event = %+v", e)
		}
	})
	t.Run("Filters", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			filter client.AuditFilter
			want   int
		}{
			{"Event", client.AuditFilter{App: srv.AppID, Event: "login"}, 3},
			{"User", client.AuditFilter{User: ann.ID()}, 5}, // register, login, key created, key login (actor), disabled
			{"From", client.AuditFilter{From: srv.Clock.Now().Add(time.Hour)}, 0},
			{"To", client.AuditFilter{To: start}, 0},
			{"Window", client.AuditFilter{App: srv.AppID, From: start, To: srv.Clock.Now().Add(time.Hour)}, 7},
			{"ServerWide", client.AuditFilter{Event: "admin_login"}, 1},
			{"OtherApp", client.AuditFilter{App: "audit-other"}, 1},
		} {
			t.Run(c.name, func(t *testing.T) {
				events, err := a.AuditEvents(ctx, c.filter)
				if err != nil {
					t.Fatal(err)
				}
				if len(events) != c.want {
					t.Fatalf("%d events, want %d: %+v", len(events), c.want, events)
				}
			})
		}
		if events, _ := a.AuditEvents(ctx, client.AuditFilter{Event: "admin_login"}); events[0].AppID != "" || events[0].Subject.ID != a.UserID() {
			t.Fatalf("admin_login event = %+v", events[0])
		}
	})
	t.Run("Paging", func(t *testing.T) {
		all, err := a.AuditEvents(ctx, client.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var paged []client.AuditEvent
		f := client.AuditFilter{Limit: 3}
		for {
			page, err := a.AuditEvents(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 3 {
				t.Fatalf("a page of %d events with limit 3", len(page))
			}
			paged = append(paged, page...)
			if len(page) < 3 {
				break
			}
			f.Before = page[len(page)-1].ID
		}
		if len(paged) != len(all) || len(all) < 10 {
			t.Fatalf("paged through %d events, listed %d", len(paged), len(all))
		}
		for i := range all {
			if paged[i].ID != all[i].ID || (i > 0 && all[i].ID >= all[i-1].ID) {
				t.Fatalf("event %d: paged %s, listed %s; want the same, newest first", i, paged[i].ID, all[i].ID)
			}
		}
	})
	t.Run("NoSecrets", func(t *testing.T) {
		events, err := a.AuditEvents(ctx, client.AuditFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(events)
		if err != nil {
			t.Fatal(err)
		}
		s := savedSession(t, store, srv)
		for _, secret := range []string{
			password, "wrong-password", rootPassword, key.Value, serverKey.Value,
			keyUser.AccessToken(), keyUser.RefreshToken(), s.AccessToken, s.RefreshToken,
		} {
			if secret != "" && strings.Contains(string(b), secret) {
				t.Fatalf("the audit log holds a secret: %s", b)
			}
		}
	})
	t.Run("Errors", func(t *testing.T) {
		_, err := a.AuditEvents(ctx, client.AuditFilter{App: "nope"})
		wantError(t, err, 404, client.ErrInvalidParameter)
		_, err = a.AuditEvents(ctx, client.AuditFilter{Before: "bad-cursor"})
		wantError(t, err, 400, client.ErrBadRequest)
	})
}
