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

// TestOddTextRefused sends paths, queries and forms that are not valid UTF-8 or hold NUL,
// which PostgreSQL refuses to store or compare: each is refused with 404 or 400 before a
// store sees it, never a 500 (run on both stores).
func TestOddTextRefused(t *testing.T) {
	srv := newConsoleServer(t)
	b := newClient(t, srv.URL, nil)
	account := "/app/" + srv.AppID + "/account/"
	signIn := b.csrf("/console/sign-in")
	accountSignIn := b.csrf(account)
	for _, tt := range []struct {
		name string
		do   func() answer
		want int
	}{
		{"AdminSignInNUL", func() answer {
			return b.post("/console/sign-in", form("csrf", signIn, "email", "a\x00@example.com", "password", "x"))
		}, 400},
		{"AccountSignInNUL", func() answer {
			return b.post(account+"sign-in", form("csrf", accountSignIn, "email", "a\x00@example.com", "password", "x"))
		}, 400},
		{"AccountPath", func() answer { return b.get("/app/a%00b/account/") }, 404},
		{"LinkPageQuery", func() answer { return b.get("/app/" + srv.AppID + "/confirm?token=%ff&tokenId=x") }, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if a := tt.do(); a.status != tt.want {
				t.Errorf("%d, want %d\n%s", a.status, tt.want, a.body)
			}
		})
	}
	csrf := signInAdmin(t, b)
	for _, tt := range []struct {
		name string
		do   func() answer
		want int
	}{
		{"AuditQueryNUL", func() answer { return b.get("/console/audit?event=%00") }, 400},
		{"AuditQueryNotUTF8", func() answer { return b.get("/console/audit?event=%ff") }, 400},
		{"AppNameNotUTF8", func() answer {
			return b.post("/console/apps", form("csrf", csrf, "client_app_id", "odd", "name", "x\xff"))
		}, 400},
		{"AppPath", func() answer { return b.get("/console/apps/a%00b") }, 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if a := tt.do(); a.status != tt.want {
				t.Errorf("%d, want %d\n%s", a.status, tt.want, a.body)
			}
		})
	}
}
