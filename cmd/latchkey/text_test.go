package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/sqlite"
)

// TestCLIShowsHiddenRunes checks that the admin CLI's text output writes out the bidi
// controls of a stored email and audit detail instead of printing them to the terminal.
func TestCLIShowsHiddenRunes(t *testing.T) {
	const (
		spoof   = "eve\u202Emoc.elpmaxe@example.com"
		visible = `eve\u{202E}moc.elpmaxe@example.com`
	)
	data := privateDir(t)
	start(t, data, bootstrapEnv, "--app-id", "cli-app").stop(t)

	// Written straight to the database, past the service, which refuses such an email.
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(data, "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	app, err := store.FindAppByClientID(ctx, "cli-app")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	u := &latchkey.User{ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeNormal, Email: spoof, Confirmed: true, CreatedAt: now}
	u.Identities = []*latchkey.Identity{{ID: latchkey.NewID(now), UserID: u.ID, ProviderType: latchkey.ProviderUserpass, ProviderID: latchkey.NewID(now), CreatedAt: now}}
	if err := store.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	e := &latchkey.AuditEvent{ID: latchkey.NewID(now), Time: now, AppID: app.ID, Event: latchkey.EventLogin, Outcome: latchkey.OutcomeFailure,
		ActorType: latchkey.ActorAnonymous, SubjectType: "user", IP: "192.0.2.1", Details: map[string]string{"email": spoof, "\x1b[2J": "\x1b[31mred"}}
	if err := store.CreateAuditEvents(ctx, []*latchkey.AuditEvent{e}); err != nil {
		t.Fatal(err)
	}
	store.Close()

	p := start(t, data, nil, "--app-id", "cli-app")
	root := newCLIUser(t)
	root.ok(adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"UsersList", []string{"admin", "users", "list", "--app", "cli-app"}, visible},
		{"UsersGet", []string{"admin", "users", "get", u.ID, "--app", "cli-app"}, visible},
		{"Audit", []string{"admin", "audit", "--app", "cli-app", "--event", "login"}, `\u{001B}[2J=\u{001B}[31mred email=` + visible},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := root.ok("", tt.args...)
			if !strings.Contains(r.stdout, tt.want) || strings.ContainsAny(r.stdout, "\u202E\x1b") {
				t.Fatalf("latchkey %s printed %q, want %s written out", strings.Join(tt.args, " "), r.stdout, tt.want)
			}
		})
	}
}
