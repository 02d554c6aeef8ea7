package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
)

// spoofEmail shows as "eve@example.com" with its bidi override honoured; stored before the
// service refused such emails, or written past it.
const (
	spoofEmail   = "eve\u202Emoc.elpmaxe@example.com"
	spoofVisible = `eve\u{202E}moc.elpmaxe@example.com`
)

// storeSpoofUser writes a user with spoofEmail straight to the store, past the service's rules.
func storeSpoofUser(t *testing.T, srv *testserver.Server) *latchkey.User {
	t.Helper()
	now := srv.Clock.Now()
	u := &latchkey.User{ID: latchkey.NewID(now), AppID: srv.App.ID, Type: latchkey.UserTypeNormal, Email: spoofEmail, Confirmed: true, CreatedAt: now}
	u.Identities = []*latchkey.Identity{{ID: latchkey.NewID(now), UserID: u.ID, ProviderType: latchkey.ProviderUserpass, ProviderID: latchkey.NewID(now), CreatedAt: now}}
	if err := srv.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestHiddenRunesShownVisibly checks that the console writes out the bidi controls of a
// stored email and audit detail instead of letting the browser apply them.
func TestHiddenRunesShownVisibly(t *testing.T) {
	srv := newConsoleServer(t)
	u := storeSpoofUser(t, srv)
	e := &latchkey.AuditEvent{
		ID: latchkey.NewID(srv.Clock.Now()), Time: srv.Clock.Now(), AppID: srv.App.ID, Event: latchkey.EventLogin,
		Outcome: latchkey.OutcomeFailure, ActorType: latchkey.ActorAnonymous, SubjectType: "user", IP: "192.0.2.1\u2067",
		Details: map[string]string{"email": spoofEmail, "provider\u200F": "local-userpass"},
	}
	if err := srv.Store.CreateAuditEvents(context.Background(), []*latchkey.AuditEvent{e}); err != nil {
		t.Fatal(err)
	}
	b := newClient(t, srv.URL, nil)
	signInAdmin(t, b)
	app := "/console/apps/" + srv.AppID
	for _, tt := range []struct {
		name, path string
		want       []string
	}{
		{"Users", app + "/users", []string{spoofVisible}},
		{"User", app + "/users/" + u.ID, []string{"<title>" + spoofVisible + " · Latchkey</title>", "<h2>" + spoofVisible}},
		{"Audit", "/console/audit", []string{"email=" + spoofVisible, `provider\u{200F}=local-userpass`, `192.0.2.1\u{2067}`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := b.get(tt.path)
			if a.status != 200 {
				t.Fatalf("GET %s: %d", tt.path, a.status)
			}
			hidden := func(r rune) bool { return latchkey.Hidden(r) && r != '\n' && r != '\t' && r != '\r' }
			if i := strings.IndexFunc(a.body, hidden); i >= 0 {
				t.Errorf("GET %s: the page holds %U after %q", tt.path, []rune(a.body[i:])[0], a.body[max(0, i-40):i])
			}
			for _, want := range tt.want {
				if !strings.Contains(a.body, want) {
					t.Errorf("GET %s lacks %s", tt.path, want)
				}
			}
		})
	}
}
