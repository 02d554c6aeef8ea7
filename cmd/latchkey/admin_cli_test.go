package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/client"
)

// The first admin of the CLI tests' servers.
const (
	adminEmail    = "root@example.com"
	adminPassword = "rootpassword1"
)

// bootstrapEnv makes the first admin on a server's first start.
var bootstrapEnv = []string{"LATCHKEY_ADMIN_EMAIL=" + adminEmail, "LATCHKEY_ADMIN_PASSWORD=" + adminPassword}

// cliApp is an app as `admin apps ... --json` prints it.
type cliApp struct {
	ID          string `json:"_id"`
	ClientAppID string `json:"client_app_id"`
	Name        string `json:"name"`
}

// cliUserInfo is a user as `admin users ... --json` prints it.
type cliUserInfo struct {
	ID           string            `json:"_id"`
	Type         string            `json:"type"`
	Disabled     bool              `json:"disabled"`
	Data         map[string]string `json:"data"`
	APIKeyCount  *int              `json:"api_key_count"`
	SessionCount *int              `json:"session_count"`
}

// cliEvent is an audit event as `admin audit --json` prints it.
type cliEvent struct {
	ID      string            `json:"_id"`
	AppID   string            `json:"app_id"`
	Event   string            `json:"event"`
	Outcome string            `json:"outcome"`
	Actor   map[string]string `json:"actor"`
	Subject map[string]string `json:"subject"`
	Details map[string]string `json:"details"`
}

// fresh zeroes *p and returns p, so that decoding JSON into a reused variable leaves
// nothing of the previous value behind.
func fresh[T any](p *T) *T {
	var zero T
	*p = zero
	return p
}

// valueLine returns the value of the "name  value" line of a key/value table.
func valueLine(t *testing.T, out, name string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %q line in:\n%s", name, out)
	return ""
}

// TestAdminCLIFlow runs the whole admin flow through the CLI: log in, create an app and
// change its settings, create a server key and log in with it, manage a user and its keys,
// read the audit log, delete, log out.
func TestAdminCLIFlow(t *testing.T) {
	ctx := context.Background()
	p := start(t, privateDir(t), bootstrapEnv, "--app-id", "cli-app")
	root := newCLIUser(t)
	var outputs []result // everything printed but a new key's value, to check that no secret leaked
	keep := func(r result) result { outputs = append(outputs, r); return r }

	keep(root.fails("not logged in as an admin", "", "admin", "apps", "list"))
	r := keep(root.ok(adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail))
	if !strings.HasPrefix(r.stdout, "Logged in to "+p.url+" as admin "+adminEmail+" (") {
		t.Fatalf("admin login printed %q", r.stdout)
	}
	adminCreds := filepath.Join(root.dir, "admin-credentials.json")
	if fi, err := os.Stat(adminCreds); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("admin credentials file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(root.dir, "credentials.json")); !os.IsNotExist(err) {
		t.Fatalf("admin login wrote the user commands' credentials file: %v", err)
	}
	var who adminWhoamiOutput
	keep(root.okJSON(&who, "", "admin", "whoami", "--json"))
	if who.Email != adminEmail || len(who.UserID) != 24 || who.URL != p.url || who.GroupID == "" {
		t.Fatalf("admin whoami = %+v", who)
	}
	if r := keep(root.ok("", "admin", "whoami")); !strings.Contains(r.stdout, adminEmail) || !strings.Contains(r.stdout, who.UserID) {
		t.Fatalf("admin whoami printed %q", r.stdout)
	}

	// Signing keys: a rotation keeps the old access-token key listed until its tokens expire.
	r = keep(root.ok("", "admin", "signing-keys", "list"))
	if strings.Count(r.stdout, "current") != 2 || strings.Contains(r.stdout, "retired") {
		t.Fatalf("signing-keys list printed %q, want two current keys", r.stdout)
	}
	var rotated []struct{ ID, Algorithm, State string }
	keep(root.okJSON(&rotated, "", "admin", "signing-keys", "rotate", "--json"))
	if len(rotated) != 4 {
		t.Fatalf("signing-keys rotate --json = %+v, want 2 current and 2 retired keys", rotated)
	}
	r = keep(root.ok("", "admin", "signing-keys", "list"))
	if strings.Count(r.stdout, "current") != 2 || strings.Count(r.stdout, "retired") != 2 {
		t.Fatalf("signing-keys list after the rotation printed %q", r.stdout)
	}

	// Apps.
	var shop cliApp
	keep(root.okJSON(&shop, "", "admin", "apps", "create", "--client-app-id", "shop", "--name", "The shop", "--json"))
	if shop.ClientAppID != "shop" || shop.Name != "The shop" || len(shop.ID) != 24 {
		t.Fatalf("apps create --json = %+v", shop)
	}
	if r := keep(root.ok("", "admin", "apps", "create")); !strings.HasPrefix(r.stdout, "Created app latchkey-") {
		t.Fatalf("apps create printed %q", r.stdout)
	}
	var apps []cliApp
	keep(root.okJSON(&apps, "", "admin", "apps", "list", "--json"))
	if len(apps) != 3 || apps[0].ClientAppID != "cli-app" || apps[1].ID != shop.ID {
		t.Fatalf("apps list --json = %+v", apps)
	}
	r = keep(root.ok("", "admin", "apps", "list"))
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 4 || strings.Join(strings.Fields(lines[0]), " ") != "ID CLIENT APP ID NAME CREATED" ||
		!strings.Contains(lines[2], "The shop") {
		t.Fatalf("apps list printed:\n%s", r.stdout)
	}
	var got cliApp
	keep(root.okJSON(&got, "", "admin", "apps", "get", "shop", "--json"))
	if got != shop {
		t.Fatalf("apps get --json = %+v, want %+v", got, shop)
	}
	if r := keep(root.ok("", "admin", "apps", "get", shop.ID)); valueLine(t, r.stdout, "client app id") != "shop" {
		t.Fatalf("apps get printed:\n%s", r.stdout)
	}

	var settings client.AppSettings
	keep(root.okJSON(&settings, "", "admin", "apps", "settings", "shop", "--json",
		"--set", "auto_confirm=false", "--set", "password_min_length=8", "--set", "refresh_token_lifetime_seconds=86400",
		"--set", "allowed_origins=https://a.example.com, https://b.example.com", "--set", "anon_user_enabled=false",
		"--set", "hide_account_existence=true"))
	want := client.AppSettings{
		Name: "The shop", LocalUserpassEnabled: true, APIKeyEnabled: true, PasswordMinLength: 8,
		RefreshTokenLifetimeSeconds: 86400, AllowedOrigins: []string{"https://a.example.com", "https://b.example.com"},
	}
	if settings.Name != want.Name || settings.AutoConfirm || settings.AnonUserEnabled || !settings.LocalUserpassEnabled ||
		settings.PasswordMinLength != 8 || settings.RefreshTokenLifetimeSeconds != 86400 || !slices.Equal(settings.AllowedOrigins, want.AllowedOrigins) ||
		!settings.HideAccountExistence {
		t.Fatalf("apps settings --set --json = %+v", settings)
	}
	r = keep(root.ok("", "admin", "apps", "settings", "shop"))
	if valueLine(t, r.stdout, "password_min_length") != "8" || valueLine(t, r.stdout, "refresh_token_lifetime_seconds") != "86400 (1d)" ||
		valueLine(t, r.stdout, "auto_confirm") != "false" || valueLine(t, r.stdout, "allowed_origins") != "https://a.example.com,https://b.example.com" ||
		valueLine(t, r.stdout, "hide_account_existence") != "true" {
		t.Fatalf("apps settings printed:\n%s", r.stdout)
	}
	keep(root.ok("", "admin", "apps", "settings", "shop", "--set", "auto_confirm=true", "--set", "allowed_origins="))
	keep(root.fails("password minimum length must be between 6 and 128 (InvalidParameter)", "", "admin", "apps", "settings", "shop", "--set", "password_min_length=3"))
	keep(root.fails(`unknown setting "colour"`, "", "admin", "apps", "settings", "shop", "--set", "colour=blue"))
	keep(root.fails(`"maybe" is not true or false`, "", "admin", "apps", "settings", "shop", "--set", "auto_confirm=maybe"))

	// A server key: its value once, with a warning; logging in with it gives a server user.
	r = root.ok("", "admin", "server-keys", "create", "backend", "--app", "shop")
	serverKeyID, serverKey := valueLine(t, r.stdout, "id"), valueLine(t, r.stdout, "key")
	if len(serverKey) < 27 || !strings.Contains(r.stderr, "shown only once") {
		t.Fatalf("server-keys create printed %q, %q", r.stdout, r.stderr)
	}
	var keys []cliKey
	keep(root.okJSON(fresh(&keys), "", "admin", "server-keys", "list", "--app", "shop", "--json"))
	if len(keys) != 1 || keys[0].ID != serverKeyID || keys[0].Name != "backend" || keys[0].Key != nil {
		t.Fatalf("server-keys list --json = %+v", keys)
	}
	if r := keep(root.ok("", "admin", "server-keys", "list", "--app", "shop")); !strings.Contains(r.stdout, serverKeyID) || !strings.Contains(r.stdout, "backend") {
		t.Fatalf("server-keys list printed:\n%s", r.stdout)
	}
	if r := keep(root.ok("", "admin", "server-keys", "get", serverKeyID, "--app", "shop")); valueLine(t, r.stdout, "enabled") != "yes" {
		t.Fatalf("server-keys get printed:\n%s", r.stdout)
	}
	if r := keep(root.ok("", "admin", "server-keys", "disable", serverKeyID, "--app", "shop")); r.stdout != "Disabled server API key "+serverKeyID+".\n" {
		t.Fatalf("server-keys disable printed %q", r.stdout)
	}
	shopApp, err := client.NewApp(p.url, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shopApp.LogIn(ctx, client.APIKeyCredentials(serverKey)); err == nil {
		t.Fatal("a disabled server key logged in")
	}
	keep(root.ok("", "admin", "server-keys", "enable", serverKeyID, "--app", "shop"))
	serverUser, err := shopApp.LogIn(ctx, client.APIKeyCredentials(serverKey))
	if err != nil {
		t.Fatalf("log in with the server key: %v", err)
	}
	if profile, err := serverUser.Profile(ctx); err != nil || profile.Type != "server" {
		t.Fatalf("the server key user's profile: %+v, %v; want type server", profile, err)
	}

	// A user of the app, registered through the user commands.
	ann := newCLIUser(t)
	keep(ann.ok("s3cretpass\n", "register", "--url", p.url, "--app", "shop", "--email", "ann@example.com"))
	keep(ann.ok("s3cretpass\n", "login", "--email", "ann@example.com"))
	var annKey cliKey
	ann.okJSON(&annKey, "", "keys", "create", "laptop", "--json")

	var users []cliUserInfo
	keep(root.okJSON(fresh(&users), "", "admin", "users", "list", "--app", "shop", "--json"))
	if len(users) != 2 || users[0].Type != "server" || users[1].Data["email"] != "ann@example.com" {
		t.Fatalf("users list --json = %+v", users)
	}
	annID := users[1].ID
	keep(root.okJSON(fresh(&users), "", "admin", "users", "list", "--app", "shop", "--email", "ann@example.com", "--json"))
	if len(users) != 1 || users[0].ID != annID {
		t.Fatalf("users list --email = %+v", users)
	}
	keep(root.okJSON(fresh(&users), "", "admin", "users", "list", "--app", "shop", "--provider", "api-key", "--json"))
	if len(users) != 1 || users[0].Type != "server" {
		t.Fatalf("users list --provider api-key = %+v", users)
	}
	serverUserID := users[0].ID
	r = keep(root.ok("", "admin", "users", "list", "--app", "shop", "--limit", "1"))
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 2 ||
		strings.Join(strings.Fields(lines[0]), " ") != "ID EMAIL TYPE PROVIDERS DISABLED CREATED" || !strings.Contains(r.stderr, "--after "+serverUserID) {
		t.Fatalf("users list --limit 1 printed:\n%s\n%s", r.stdout, r.stderr)
	}
	keep(root.okJSON(fresh(&users), "", "admin", "users", "list", "--app", "shop", "--after", serverUserID, "--json"))
	if len(users) != 1 || users[0].ID != annID {
		t.Fatalf("users list --after = %+v", users)
	}
	var annInfo cliUserInfo
	keep(root.okJSON(&annInfo, "", "admin", "users", "get", annID, "--app", "shop", "--json"))
	if annInfo.APIKeyCount == nil || *annInfo.APIKeyCount != 1 || annInfo.SessionCount == nil || *annInfo.SessionCount != 1 {
		t.Fatalf("users get --json = %+v", annInfo)
	}
	if r := keep(root.ok("", "admin", "users", "get", annID, "--app", "shop")); valueLine(t, r.stdout, "email") != "ann@example.com" ||
		valueLine(t, r.stdout, "api keys") != "1" || valueLine(t, r.stdout, "providers") != "local-userpass" {
		t.Fatalf("users get printed:\n%s", r.stdout)
	}

	// The user's keys.
	keep(root.okJSON(fresh(&keys), "", "admin", "user-keys", "list", "--app", "shop", "--user", annID, "--json"))
	if len(keys) != 1 || keys[0].ID != annKey.ID || keys[0].Key != nil {
		t.Fatalf("user-keys list --json = %+v", keys)
	}
	keyUser := newCLIUser(t)
	keep(root.ok("", "admin", "user-keys", "disable", annKey.ID, "--app", "shop", "--user", annID))
	keep(keyUser.fails("(AuthError)", *annKey.Key+"\n", "login", "--url", p.url, "--app", "shop", "--api-key"))
	if r := keep(root.ok("", "admin", "user-keys", "enable", annKey.ID, "--app", "shop", "--user", annID)); r.stdout != "Enabled API key "+annKey.ID+" of user "+annID+".\n" {
		t.Fatalf("user-keys enable printed %q", r.stdout)
	}
	keep(keyUser.ok(*annKey.Key+"\n", "login", "--url", p.url, "--app", "shop", "--api-key"))

	// Disable, enable, log out.
	keep(root.ok("", "admin", "users", "disable", annID, "--app", "shop"))
	keep(ann.fails("the session has ended", "", "keys", "list"))
	keep(ann.fails("(UserDisabled)", "s3cretpass\n", "login", "--email", "ann@example.com"))
	keep(root.okJSON(fresh(&users), "", "admin", "users", "list", "--app", "shop", "--disabled", "--json"))
	if len(users) != 1 || users[0].ID != annID || !users[0].Disabled {
		t.Fatalf("users list --disabled = %+v", users)
	}
	keep(root.okJSON(fresh(&users), "", "admin", "users", "list", "--app", "shop", "--disabled=false", "--json"))
	if len(users) != 1 || users[0].ID == annID {
		t.Fatalf("users list --disabled=false = %+v", users)
	}
	keep(root.ok("", "admin", "users", "enable", annID, "--app", "shop"))
	keep(ann.ok("s3cretpass\n", "login", "--email", "ann@example.com"))
	if r := keep(root.ok("", "admin", "users", "logout", annID, "--app", "shop")); r.stdout != "Logged out user "+annID+".\n" {
		t.Fatalf("users logout printed %q", r.stdout)
	}
	keep(ann.fails("the session has ended", "", "keys", "list"))

	// Deletes: refused without a terminal or --yes, then done.
	keep(root.fails("refusing to delete without confirmation", "y\n", "admin", "user-keys", "delete", annKey.ID, "--app", "shop", "--user", annID))
	keep(root.ok("", "admin", "user-keys", "delete", annKey.ID, "--app", "shop", "--user", annID, "--yes"))
	keep(root.fails("API key not found (APIKeyNotFound)", "", "admin", "user-keys", "disable", annKey.ID, "--app", "shop", "--user", annID))
	keep(root.fails("refusing to delete without confirmation", "", "admin", "users", "delete", annID, "--app", "shop"))
	if r := keep(root.ok("", "admin", "users", "delete", annID, "--app", "shop", "--yes")); r.stdout != "Deleted user "+annID+".\n" {
		t.Fatalf("users delete printed %q", r.stdout)
	}
	keep(root.fails("user not found (UserNotFound)", "", "admin", "users", "get", annID, "--app", "shop"))
	keep(root.fails("refusing to delete without confirmation", "", "admin", "server-keys", "delete", serverKeyID, "--app", "shop"))
	keep(root.ok("", "admin", "server-keys", "delete", serverKeyID, "--app", "shop", "--yes"))
	keep(root.fails("API key not found (APIKeyNotFound)", "", "admin", "server-keys", "get", serverKeyID, "--app", "shop"))

	// The audit log holds the flow.
	var events []cliEvent
	keep(root.okJSON(fresh(&events), "", "admin", "audit", "--app", "shop", "--json"))
	var names []string
	for _, e := range events {
		if e.AppID != shop.ID {
			t.Fatalf("audit --app shop listed another app's event: %+v", e)
		}
		names = append(names, e.Event+"/"+e.Outcome)
	}
	for _, want := range []string{
		"app_created/success", "app_updated/success", "server_api_key_created/success",
		"server_api_key_disabled/success", "login/failure", "register/success", "api_key_created/success",
		"api_key_disabled/success", "user_disabled/success", "user_enabled/success", "sessions_revoked/success",
		"api_key_deleted/success", "user_deleted/success", "server_api_key_deleted/success",
	} {
		if !slices.Contains(names, want) {
			t.Errorf("audit --app shop lacks %s: %v", want, names)
		}
	}
	keep(root.okJSON(fresh(&events), "", "admin", "audit", "--user", annID, "--event", "user_disabled", "--json"))
	if len(events) != 1 || events[0].Subject["id"] != annID || events[0].Actor["type"] != "admin" || events[0].Actor["id"] != who.UserID {
		t.Fatalf("audit --user --event = %+v", events)
	}
	keep(root.okJSON(fresh(&events), "", "admin", "audit", "--event", "admin_login", "--from", "1h", "--json"))
	if len(events) != 1 || events[0].AppID != "" {
		t.Fatalf("audit --event admin_login = %+v", events)
	}
	keep(root.okJSON(fresh(&events), "", "admin", "audit", "--to", "2000-01-01T00:00:00Z", "--json"))
	if len(events) != 0 {
		t.Fatalf("audit --to 2000 = %+v", events)
	}
	r = keep(root.ok("", "admin", "audit", "--app", "shop", "--limit", "2"))
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME") ||
		!strings.Contains(lines[1], "server_api_key_deleted") || !strings.Contains(r.stderr, "--before ") {
		t.Fatalf("audit --limit 2 printed:\n%s\n%s", r.stdout, r.stderr)
	}

	// Deleting an app.
	keep(root.fails("refusing to delete without confirmation", "", "admin", "apps", "delete", "shop"))
	if r := keep(root.ok("", "admin", "apps", "delete", "shop", "--yes")); r.stdout != "Deleted app shop.\n" {
		t.Fatalf("apps delete printed %q", r.stdout)
	}
	keep(root.fails("cannot find app using ID 'shop' (InvalidParameter)", "", "admin", "apps", "get", "shop"))

	// No output showed the password, a token or (after its creation) a key value.
	secrets := []string{adminPassword, "s3cretpass", serverKey, *annKey.Key}
	for _, path := range []string{adminCreds, filepath.Join(ann.dir, "credentials.json"), filepath.Join(keyUser.dir, "credentials.json")} {
		secrets = append(secrets, fileTokens(t, path)...)
	}
	if len(secrets) < 8 {
		t.Fatalf("found only %d secrets to look for", len(secrets))
	}
	secrets = append(secrets, "eyJ") // the start of every JWT, so no earlier token either
	for _, r := range outputs {
		for _, s := range secrets {
			if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
				t.Fatalf("a secret was printed:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
			}
		}
	}

	// Logging out ends the admin session.
	refresh := fileTokens(t, adminCreds)[1]
	if r := root.ok("", "admin", "logout"); r.stdout != "Logged out.\n" {
		t.Fatalf("admin logout printed %q", r.stdout)
	}
	if got := p.call(t, "POST", "/api/admin/v3.0/auth/session", refresh, nil, nil); got != 401 {
		t.Fatalf("admin refresh after logout: status %d, want 401", got)
	}
	root.fails("not logged in as an admin", "", "admin", "apps", "list")
	if r := root.ok("", "admin", "logout"); r.stdout != "Not logged in.\n" {
		t.Fatalf("second admin logout printed %q", r.stdout)
	}
}

// fileTokens returns the access and refresh tokens of every session in a credentials file.
func fileTokens(t *testing.T, path string) []string {
	t.Helper()
	var tokens []string
	for _, state := range readCredentials(t, path) {
		for _, u := range state.Users {
			if u.AccessToken != "" {
				tokens = append(tokens, u.AccessToken, u.RefreshToken)
			}
		}
	}
	return tokens
}

// readCredentials returns the sessions that a credentials file holds, by app.
func readCredentials(t *testing.T, path string) map[string]client.State {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Apps map[string]client.State `json:"apps"`
	}
	if err := json.Unmarshal(b, &file); err != nil {
		t.Fatal(err)
	}
	return file.Apps
}

func TestAdminCLIErrors(t *testing.T) {
	dir := privateDir(t)
	root := newCLIUser(t)
	// The first admin, made on the database before the first start: migrate makes it.
	root.ok("", "migrate", "--data", dir)
	r := root.ok(adminPassword+"\n", "admin", "create-user", "--email", adminEmail, "--data", dir)
	if !strings.HasPrefix(r.stdout, "created admin "+adminEmail) {
		t.Fatalf("create-user printed %q", r.stdout)
	}
	root.fails("name already in use", adminPassword+"\n", "admin", "create-user", "--email", adminEmail, "--data", dir)
	root.fails("password must be between 10 and 128 characters", "short\n", "admin", "create-user", "--email", "other@example.com", "--data", dir)
	p := start(t, dir, nil, "--app-id", "cli-app")

	t.Run("NotLoggedIn", func(t *testing.T) {
		root.fails("not logged in as an admin", "", "admin", "whoami")
		root.fails("not logged in as an admin", "", "admin", "audit")
		root.fails("not logged in as an admin", "", "admin", "users", "list", "--app", "cli-app")
	})
	t.Run("Login", func(t *testing.T) {
		root.fails("unauthorized (InvalidPassword)", "wrong-password\n", "admin", "login", "--url", p.url, "--email", adminEmail)
		root.fails("no password on standard input", "", "admin", "login", "--url", p.url, "--email", adminEmail)
		root.fails("--email is required", adminPassword+"\n", "admin", "login", "--url", p.url)
		root.fails("--url is required", adminPassword+"\n", "admin", "login", "--email", adminEmail)
		// An app user is no admin.
		u := newCLIUser(t)
		u.ok("s3cretpass\n", "register", "--url", p.url, "--app", p.appID, "--email", "ann@example.com")
		u.fails("(InvalidPassword)", "s3cretpass\n", "admin", "login", "--url", p.url, "--email", "ann@example.com")
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		newCLIUser(t).fails("latchkey: admin login: cannot reach Latchkey at http://"+addr+": is it running?\n", adminPassword+"\n", "admin", "login", "--url", "http://"+addr, "--email", adminEmail)
	})

	root.ok(adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail)
	// --url is remembered.
	root.ok(adminPassword+"\n", "admin", "login", "--email", adminEmail)
	t.Run("Commands", func(t *testing.T) {
		const zeroID = "000000000000000000000000"
		root.fails("admin users list: --app is required", "", "admin", "users", "list")
		root.fails("admin user-keys list: --user is required", "", "admin", "user-keys", "list", "--app", "cli-app")
		root.fails("cannot find app using ID 'nope' (InvalidParameter)", "", "admin", "users", "list", "--app", "nope")
		root.fails("user not found (UserNotFound)", "", "admin", "users", "get", zeroID, "--app", "cli-app")
		root.fails("user not found (UserNotFound)", "", "admin", "users", "disable", zeroID, "--app", "cli-app")
		root.fails("user not found (UserNotFound)", "", "admin", "user-keys", "list", "--app", "cli-app", "--user", zeroID)
		root.fails("API key not found (APIKeyNotFound)", "", "admin", "server-keys", "get", zeroID, "--app", "cli-app")
		root.fails("API key not found (APIKeyNotFound)", "", "admin", "server-keys", "enable", zeroID, "--app", "cli-app")
		root.ok("", "admin", "server-keys", "create", "dup", "--app", "cli-app")
		root.fails("API key with name already exists (APIKeyAlreadyExists)", "", "admin", "server-keys", "create", "dup", "--app", "cli-app")
		root.fails("'name' is a required string\n", "", "admin", "server-keys", "create", "", "--app", "cli-app")
		root.fails("latchkey: admin apps create: an app with client app id 'cli-app' already exists\n", "", "admin", "apps", "create", "--client-app-id", "cli-app")
		root.fails("(InvalidParameter)", "", "admin", "apps", "create", "--client-app-id", "Bad Id")
		root.fails("invalid paging cursor (BadRequest)", "", "admin", "users", "list", "--app", "cli-app", "--after", "nope")
		root.fails("invalid paging cursor (BadRequest)", "", "admin", "audit", "--before", "nope")
		root.fails("admin audit: --limit must be from 1 to 1000", "", "admin", "audit", "--limit", "-1")
		root.fails("admin users list: --limit must be from 1 to 1000", "", "admin", "users", "list", "--app", "cli-app", "--limit", "1001")
		root.fails("--from yesterday: expected an RFC 3339 time", "", "admin", "audit", "--from", "yesterday")
		root.fails(`--disabled maybe: expected true or false`, "", "admin", "users", "list", "--app", "cli-app", "--disabled=maybe")
		root.fails(`want KEY=VALUE`, "", "admin", "apps", "settings", "cli-app", "--set", "auto_confirm")
		root.fails("missing APP", "", "admin", "apps", "get")
		root.fails(`unexpected argument "b"`, "", "admin", "apps", "get", "a", "b")
		root.fails("flag provided but not defined: -nope", "", "admin", "apps", "list", "--nope")
		root.fails(`latchkey: admin: unknown command "apps rotate"`, "", "admin", "apps", "rotate")
		root.fails(`latchkey: admin: unknown command "frobnicate"`, "", "admin", "frobnicate")
		root.fails("latchkey: admin apps: no command given", "", "admin", "apps")
		root.fails("latchkey: admin: no command given", "", "admin")
	})
	t.Run("PerCallFlagsIgnoreTheEnvironment", func(t *testing.T) {
		// LATCHKEY_APP (the user commands' app) must not pick an admin command's app, nor
		// LATCHKEY_YES confirm a delete.
		cmd := exec.Command(binary, "admin", "users", "list")
		cmd.Env = append(root.env(), "LATCHKEY_APP=cli-app", "LATCHKEY_YES=true")
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--app is required") {
			t.Fatalf("users list with LATCHKEY_APP: %v, %s", err, out)
		}
		cmd = exec.Command(binary, "admin", "apps", "delete", "cli-app")
		cmd.Env = append(root.env(), "LATCHKEY_YES=true")
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "refusing to delete without confirmation") {
			t.Fatalf("apps delete with LATCHKEY_YES=true: %v, %s", err, out)
		}
		root.ok("", "admin", "apps", "get", "cli-app")
	})
	t.Run("SessionEnded", func(t *testing.T) {
		other := newCLIUser(t)
		other.ok(adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail)
		// Replace the tokens with ones the server refuses, as it does once the session ends.
		path := filepath.Join(other.dir, "admin-credentials.json")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		tokens := fileTokens(t, path)
		s := strings.NewReplacer(tokens[0], "x.y.z", tokens[1], "x.y.z").Replace(string(b))
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		other.fails("the admin session has ended, so you are logged out: run latchkey admin login again", "", "admin", "apps", "list")
		other.fails("not logged in as an admin", "", "admin", "apps", "list")
	})
}

func TestAdminCLIHelp(t *testing.T) {
	u := newCLIUser(t)
	var commands [][]string
	for name := range adminCommands {
		commands = append(commands, strings.Fields(name))
	}
	commands = append(commands, []string{"create-user"})
	for _, args := range commands {
		for _, help := range []string{"--help", "-h"} {
			r := u.ok("", append(append([]string{"admin"}, args...), help)...)
			want := "Usage: latchkey admin " + strings.Join(args, " ")
			if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "-config-dir") && args[0] != "create-user" {
				t.Errorf("latchkey admin %s %s printed %q, want %q and the flags", strings.Join(args, " "), help, r.stderr, want)
			}
		}
	}
	for group := range adminGroups {
		if r := u.ok("", "admin", group, "--help"); !strings.Contains(r.stdout, "  "+group+" list") {
			t.Errorf("admin %s --help printed %q", group, r.stdout)
		}
	}
	if r := u.ok("", "admin", "--help"); !strings.Contains(r.stdout, "server-keys create NAME") || !strings.Contains(r.stdout, "audit [--app APP]") {
		t.Errorf("admin --help printed %q", r.stdout)
	}
	if r := u.ok("", "help"); !strings.Contains(r.stdout, "latchkey admin") {
		t.Errorf("help printed %q", r.stdout)
	}
}
