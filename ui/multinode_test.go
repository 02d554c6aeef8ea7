package ui_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/internal/teststore"
)

// Two nodes over one database: each its own service and pages, sharing only the store, as
// behind a load balancer that sends each request anywhere.

type nodes struct {
	a, b *testserver.Server
	raw  *sql.DB // the database itself, to read rows as they are stored

	userCookie string // the cookie value of a signed-in user, for TestWebSessionsEndEverywhere
}

func newNodes(t *testing.T) *nodes {
	t.Helper()
	stores, raw := teststore.OpenSharedRaw(t, 2)
	n := &nodes{
		a:   testserver.New(t, testserver.Options{Store: stores[0]}),
		b:   testserver.New(t, testserver.Options{Store: stores[1]}),
		raw: raw,
	}
	ctx := context.Background()
	if _, err := n.a.Service.Admins.CreateAdmin(ctx, adminEmail, adminPassword); err != nil {
		t.Fatal(err)
	}
	if err := n.a.Service.Userpass.Register(ctx, n.a.App, userEmail, userPassword); err != nil {
		t.Fatal(err)
	}
	return n
}

// advance moves both nodes' clocks.
func (n *nodes) advance(d time.Duration) {
	n.a.Clock.Advance(d)
	n.b.Clock.Advance(d)
}

// browser returns one browser as it reaches node a and node b: one cookie jar, since
// cookies do not tell ports apart.
func (n *nodes) browser(t *testing.T) (onA, onB *client) {
	onA = newClient(t, n.a.URL, nil)
	return onA, &client{t: t, base: n.b.URL, c: onA.c}
}

// cookie returns the browser's session cookie value for a path.
func cookie(t *testing.T, b *client, path string) string {
	t.Helper()
	u, _ := url.Parse(b.base + path)
	for _, c := range b.c.Jar.Cookies(u) {
		return c.Value
	}
	t.Fatalf("no cookie for %s", path)
	return ""
}

// webSession returns the stored web session of a cookie value, or nil when there is none.
func (n *nodes) webSession(t *testing.T, value string) *latchkey.WebSession {
	t.Helper()
	h := sha256.Sum256([]byte(value))
	ws, err := n.a.Store.FindWebSession(context.Background(), h[:])
	if latchkey.ErrorCode(err) == latchkey.ENotFound {
		return nil
	} else if err != nil {
		t.Fatal(err)
	}
	return ws
}

// mustWebSession returns the stored web session of a cookie value.
func (n *nodes) mustWebSession(t *testing.T, value string) *latchkey.WebSession {
	t.Helper()
	ws := n.webSession(t, value)
	if ws == nil {
		t.Fatal("no web session stored under the SHA-256 of the cookie value")
	}
	return ws
}

// webSessionRows returns every value of every stored web session row, as text.
func (n *nodes) webSessionRows(t *testing.T) []string {
	t.Helper()
	rows, err := n.raw.Query(`SELECT * FROM web_sessions`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var values []string
	for rows.Next() {
		dest := make([]any, len(cols))
		for i := range dest {
			dest[i] = new(any)
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		for _, d := range dest {
			switch v := (*d.(*any)).(type) {
			case []byte:
				values = append(values, string(v))
			default:
				values = append(values, fmt.Sprint(v))
			}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return values
}

// consoleOpens reports whether a console page opens, and where it sends the browser if not.
func consoleOpens(t *testing.T, b *client) (bool, string) {
	t.Helper()
	a := b.get("/console/apps")
	if a.status == http.StatusOK && strings.Contains(a.body, adminEmail) {
		return true, ""
	}
	if a.status != http.StatusSeeOther {
		t.Fatalf("GET /console/apps: %d\n%s", a.status, a.body)
	}
	return false, a.header.Get("Location")
}

// accountOpens reports whether the account page shows the user's keys.
func accountOpens(t *testing.T, b *client, app string) bool {
	t.Helper()
	a := b.get("/app/" + app + "/account/")
	if a.status != http.StatusOK {
		t.Fatalf("GET account: %d\n%s", a.status, a.body)
	}
	return strings.Contains(a.body, "Your API keys") && !strings.Contains(a.body, "Sign in to manage your API keys")
}

var secretPattern = regexp.MustCompile(`id="secret-value"[^>]*value="([^"]+)"`)

func TestWebSessionsAcrossNodes(t *testing.T) {
	t.Run("Console", func(t *testing.T) {
		n := newNodes(t)
		onA, onB := n.browser(t)
		tok := signInAdmin(t, onA)
		value := cookie(t, onA, "/console/")
		if ok, _ := consoleOpens(t, onB); !ok {
			t.Fatal("node b does not know the session signed in on node a")
		}
		// A form of node a's page, sent to node b.
		if a := onB.post("/console/apps/"+n.a.AppID+"/server-keys", form("csrf", tok, "name", "from-a")); a.status != http.StatusSeeOther {
			t.Fatalf("create a server key on node b with node a's CSRF token: %d\n%s", a.status, a.body)
		}
		// The key value waits for the next page sealed: the row holds neither it nor the cookie.
		keys, err := n.a.Store.FindServerAPIKeys(context.Background(), n.a.App.ID)
		if err != nil || len(keys) != 1 {
			t.Fatalf("server keys: %v, %v", keys, err)
		}
		for _, v := range n.webSessionRows(t) {
			if strings.Contains(v, value) || strings.Contains(v, keys[0].Start) {
				t.Fatalf("a web session row holds the cookie value or the key value: %q", v)
			}
		}
		// Node a shows it, once.
		page := onA.get("/console/apps/" + n.a.AppID + "/server-keys")
		if m := secretPattern.FindStringSubmatch(page.body); m == nil || !strings.HasPrefix(m[1], keys[0].Start) {
			t.Fatalf("node a does not show the key value made on node b:\n%s", page.body)
		}
		if page := onB.get("/console/apps/" + n.a.AppID + "/server-keys"); strings.Contains(page.body, "secret-value") {
			t.Fatal("the key value is shown a second time")
		}

		// Signing out on node b ends the session on node a at once, and its admin session.
		ws := n.mustWebSession(t, value)
		if a := onB.post("/console/sign-out", form("csrf", tok)); a.status != http.StatusSeeOther {
			t.Fatalf("sign out on node b: %d", a.status)
		}
		replay := newClient(t, n.a.URL, nil)
		u, _ := url.Parse(n.a.URL + "/console/")
		replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "latchkey_console", Value: value, Path: "/console/"}})
		if ok, _ := consoleOpens(t, replay); ok {
			t.Fatal("node a still opens the console for a session signed out on node b")
		}
		if _, err := n.a.Store.FindAdminSession(context.Background(), ws.AdminSessionID); latchkey.ErrorCode(err) != latchkey.ENotFound {
			t.Fatalf("the admin session outlived the sign-out: %v", err)
		}
		if n.webSession(t, value) != nil {
			t.Fatal("the web session row outlived the sign-out")
		}
	})

	t.Run("Account", func(t *testing.T) {
		n := newNodes(t)
		onA, onB := n.browser(t)
		account := "/app/" + n.a.AppID + "/account/"
		tok := signInUser(t, onA, n.a.AppID)
		value := cookie(t, onA, account)
		if !accountOpens(t, onB, n.a.AppID) {
			t.Fatal("node b does not know the session signed in on node a")
		}
		if a := onB.post(account+"keys", form("csrf", tok, "name", "from-a")); a.status != http.StatusSeeOther {
			t.Fatalf("create a key on node b with node a's CSRF token: %d\n%s", a.status, a.body)
		}
		for _, v := range n.webSessionRows(t) {
			if strings.Contains(v, value) || strings.Contains(v, "lk_") {
				t.Fatalf("a web session row holds the cookie value or a key value: %q", v)
			}
		}
		page := onA.get(account)
		if m := secretPattern.FindStringSubmatch(page.body); m == nil || !latchkey.CheckKeyValue(m[1]) {
			t.Fatalf("node a does not show the key value made on node b:\n%s", page.body)
		}
		if a := onA.post(account+"sign-out", form("csrf", tok)); a.status != http.StatusSeeOther {
			t.Fatalf("sign out on node a: %d", a.status)
		}
		replay, _ := n.browser(t)
		u, _ := url.Parse(n.b.URL + account)
		replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "latchkey_account", Value: value, Path: account}})
		replay.base = n.b.URL
		if accountOpens(t, replay, n.a.AppID) {
			t.Fatal("node b still opens the account page for a session signed out on node a")
		}
	})

	t.Run("CookieValueNeverStored", func(t *testing.T) {
		n := newNodes(t)
		onA, _ := n.browser(t)
		signInAdmin(t, onA)
		signInUser(t, onA, n.a.AppID)
		values := []string{cookie(t, onA, "/console/"), cookie(t, onA, "/app/"+n.a.AppID+"/account/")}
		rows := n.webSessionRows(t)
		if len(rows) == 0 {
			t.Fatal("no web session rows")
		}
		for _, value := range values {
			for _, v := range rows {
				if strings.Contains(v, value) {
					t.Fatalf("a web session row holds the cookie value %q: %q", value, v)
				}
			}
			// The row is keyed by the value's SHA-256.
			n.mustWebSession(t, value)
		}
	})
}

// TestWebSessionsEndEverywhere: what ends a user's or an admin's session on one node ends
// the browser session on both.
func TestWebSessionsEndEverywhere(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name string
		end  func(t *testing.T, n *nodes, consoleOnB *client, tok string)
	}{
		{"UserDisabledInConsole", func(t *testing.T, n *nodes, console *client, tok string) {
			if a := console.post("/console/apps/"+n.a.AppID+"/users/"+userID(t, n)+"/disable", form("csrf", tok)); a.status != http.StatusSeeOther {
				t.Fatalf("disable: %d\n%s", a.status, a.body)
			}
		}},
		{"SessionsRevokedInConsole", func(t *testing.T, n *nodes, console *client, tok string) {
			if a := console.post("/console/apps/"+n.a.AppID+"/users/"+userID(t, n)+"/logout", form("csrf", tok)); a.status != http.StatusSeeOther {
				t.Fatalf("revoke: %d\n%s", a.status, a.body)
			}
		}},
		{"UserSignsOutOfTheAPI", func(t *testing.T, n *nodes, _ *client, _ string) {
			ws := n.mustWebSession(t, n.userCookie)
			if err := n.b.Store.DeleteSession(ctx, ws.SessionID); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newNodes(t)
			userOnA, userOnB := n.browser(t)
			signInUser(t, userOnA, n.a.AppID)
			n.userCookie = cookie(t, userOnA, "/app/"+n.a.AppID+"/account/")
			_, console := n.browser(t)
			tok := signInAdmin(t, console)
			for _, b := range []*client{userOnA, userOnB} {
				if !accountOpens(t, b, n.a.AppID) {
					t.Fatalf("%s does not open the account page before", b.base)
				}
			}
			tt.end(t, n, console, tok)
			for _, b := range []*client{userOnA, userOnB} {
				if accountOpens(t, b, n.a.AppID) {
					t.Fatalf("%s still opens the account page", b.base)
				}
			}
			if n.webSession(t, n.userCookie) != nil {
				t.Fatal("the web session row outlived its session")
			}
		})
	}

	for _, tt := range []struct {
		name string
		end  func(t *testing.T, n *nodes, ws *latchkey.WebSession)
	}{
		{"AdminSessionRevoked", func(t *testing.T, n *nodes, ws *latchkey.WebSession) {
			if err := n.b.Store.DeleteAdminSession(ctx, ws.AdminSessionID); err != nil {
				t.Fatal(err)
			}
		}},
		{"AdminRemoved", func(t *testing.T, n *nodes, ws *latchkey.WebSession) {
			// No command removes an admin; an operator deletes the row.
			if _, err := n.raw.Exec(`DELETE FROM admins WHERE email = '` + adminEmail + `'`); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newNodes(t)
			onA, onB := n.browser(t)
			signInAdmin(t, onA)
			value := cookie(t, onA, "/console/")
			for _, b := range []*client{onA, onB} {
				if ok, _ := consoleOpens(t, b); !ok {
					t.Fatalf("%s does not open the console before", b.base)
				}
			}
			tt.end(t, n, n.mustWebSession(t, value))
			for _, b := range []*client{onA, onB} {
				if ok, _ := consoleOpens(t, b); ok {
					t.Fatalf("%s still opens the console", b.base)
				}
			}
		})
	}
}

func userID(t *testing.T, n *nodes) string {
	t.Helper()
	u, err := n.a.Store.FindUserByEmail(context.Background(), n.a.App.ID, userEmail)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestWebSessionExpiry: a session ends unused for WebSessionIdle or WebSessionLifetime
// after sign-in, on every node, by the servers' clocks; page views record the last use at
// most once a minute.
func TestWebSessionExpiry(t *testing.T) {
	t.Run("Idle", func(t *testing.T) {
		n := newNodes(t)
		onA, onB := n.browser(t)
		signInAdmin(t, onA)
		value := cookie(t, onA, "/console/")
		ws := n.mustWebSession(t, value)
		n.advance(latchkey.WebSessionIdle - time.Second)
		if ok, _ := consoleOpens(t, onB); !ok {
			t.Fatal("the session ended before it was unused for WebSessionIdle")
		}
		n.advance(latchkey.WebSessionIdle - time.Second)
		if ok, _ := consoleOpens(t, onA); !ok {
			t.Fatal("a page view did not keep the session alive")
		}
		n.advance(latchkey.WebSessionIdle)
		if ok, loc := consoleOpens(t, onB); ok || loc != "/console/sign-in?ended=1" {
			t.Fatalf("after WebSessionIdle unused: opens %v, to %q; want the sign-in page saying it ended", ok, loc)
		}
		if ok, _ := consoleOpens(t, onA); ok {
			t.Fatal("node a still opens an expired session")
		}
		if _, err := n.a.Store.FindAdminSession(context.Background(), ws.AdminSessionID); latchkey.ErrorCode(err) != latchkey.ENotFound {
			t.Fatalf("the admin session outlived its web session: %v", err)
		}
	})

	t.Run("Lifetime", func(t *testing.T) {
		n := newNodes(t)
		onA, onB := n.browser(t)
		account := "/app/" + n.a.AppID + "/account/"
		signInUser(t, onA, n.a.AppID)
		step := latchkey.WebSessionIdle / 2
		for elapsed := step; elapsed < latchkey.WebSessionLifetime; elapsed += step {
			n.advance(step)
			if !accountOpens(t, onB, n.a.AppID) {
				t.Fatalf("the session ended %v after sign-in, in use", elapsed)
			}
		}
		n.advance(step)
		if accountOpens(t, onA, n.a.AppID) {
			t.Fatal("the session outlived WebSessionLifetime")
		}
		if a := onA.get(account); !strings.Contains(a.body, "Sign in to manage your API keys") {
			t.Fatalf("after the lifetime, the account page is not the sign-in page:\n%s", a.body)
		}
	})

	t.Run("SeenAtMostOnceAMinute", func(t *testing.T) {
		n := newNodes(t)
		onA, onB := n.browser(t)
		signInAdmin(t, onA)
		value := cookie(t, onA, "/console/")
		seen := n.mustWebSession(t, value).LastSeenAt
		n.advance(latchkey.WebSessionTouchEvery - time.Second)
		consoleOpens(t, onB)
		if got := n.mustWebSession(t, value).LastSeenAt; !got.Equal(seen) {
			t.Fatalf("a page view within a minute wrote the last use: %v, was %v", got, seen)
		}
		n.advance(time.Second)
		consoleOpens(t, onB)
		ws := n.mustWebSession(t, value)
		if !ws.LastSeenAt.After(seen) || !ws.ExpiresAt.Equal(ws.LastSeenAt.Add(latchkey.WebSessionIdle)) {
			t.Fatalf("after a minute, last use %v (was %v), expiry %v", ws.LastSeenAt, seen, ws.ExpiresAt)
		}
	})

	t.Run("Swept", func(t *testing.T) {
		n := newNodes(t)
		onA, _ := n.browser(t)
		signInAdmin(t, onA)
		value := cookie(t, onA, "/console/")
		n.advance(latchkey.WebSessionIdle + time.Second)
		got, err := n.b.Service.DeleteExpiredWebSessions(context.Background())
		if err != nil || got != 1 {
			t.Fatalf("DeleteExpiredWebSessions = %d, %v; want 1", got, err)
		}
		if n.webSession(t, value) != nil {
			t.Fatal("the expired web session is still stored")
		}
	})
}
