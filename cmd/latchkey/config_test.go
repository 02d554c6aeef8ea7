package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/smtptest"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestConfigPrecedence checks the one order: flags, then variables, then the file, then
// defaults.
func TestConfigPrecedence(t *testing.T) {
	file := writeFile(t, privateDir(t), "latchkey.toml", `
addr = "127.0.0.1:1111"
app-id = "from-file"
log_level = "warn"
public-url = "https://file.example.com"

[db]
max-conns = 7
pgbouncer = true
acquire_timeout = "2s"
statement-timeout = "0s"

[smtp]
host = "smtp.file.example.com"
port = 2525

[mail]
from = "Shop <no-reply@shop.example.com>"
cooldown = "2m"
per-hour = 3

[mail.apps.shop]
confirm-url = "https://shop.example.com/confirm"
`)
	t.Setenv("LATCHKEY_CONFIG", file)
	t.Setenv("LATCHKEY_APP_ID", "from-env")
	t.Setenv("LATCHKEY_LOG_LEVEL", "error")
	t.Setenv("LATCHKEY_SMTP_PORT", "2626")
	t.Setenv("LATCHKEY_MAIL_PER_HOUR", "4")
	t.Setenv("LATCHKEY_DB_MAX_CONN_LIFETIME", "10m")
	c := &ServeCommand{Stdout: io.Discard, Stderr: io.Discard}
	if err := c.parse([]string{"--log-level", "debug", "--smtp-port=2727"}); err != nil {
		t.Fatal(err)
	}
	if err := c.validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, got, want, source string }{
		{"addr", c.Addr, "127.0.0.1:1111", "file"},
		{"app-id", c.AppID, "from-env", "LATCHKEY_APP_ID"},
		{"log-level", c.LogLevel, "debug", "flag"},
		{"public-url", c.PublicURL, "https://file.example.com", "file"},
		{"db-max-conns", strconv.Itoa(c.DB.MaxConns), "7", "file"},
		{"db-pgbouncer", strconv.FormatBool(c.DB.PgBouncer), "true", "file"},
		{"db-acquire-timeout", c.DB.AcquireTimeout.String(), "2s", "file"},
		{"db-statement-timeout", c.DB.StatementTimeout.String(), "0s", "file"},
		{"db-max-conn-lifetime", c.DB.MaxConnLifetime.String(), "10m0s", "LATCHKEY_DB_MAX_CONN_LIFETIME"},
		{"db-connect-timeout", c.DB.ConnectTimeout.String(), "1m0s", ""},
		{"smtp-host", c.Ops.SMTPHost, "smtp.file.example.com", "file"},
		{"smtp-port", strconv.Itoa(c.Ops.SMTPPort), "2727", "flag"},
		{"mail-from", c.Ops.MailFrom, "Shop <no-reply@shop.example.com>", "file"},
		{"mail-cooldown", c.Ops.MailCooldown.String(), "2m0s", "file"},
		{"mail-per-hour", strconv.Itoa(c.Ops.MailPerHour), "4", "LATCHKEY_MAIL_PER_HOUR"},
		{"log-format", c.Ops.LogFormat, "json", ""},
		{"data", c.DB.DataDir, "./latchkey-data", ""},
		{"config", c.Ops.ConfigFile, file, "LATCHKEY_CONFIG"},
	} {
		if tt.got != tt.want || c.Ops.sources[tt.name] != tt.source {
			t.Errorf("%s = %q from %q, want %q from %q", tt.name, tt.got, c.Ops.sources[tt.name], tt.want, tt.source)
		}
	}
	if got := c.Ops.MailApps["shop"].ConfirmURL; got != "https://shop.example.com/confirm" {
		t.Errorf("mail.apps.shop.confirm-url = %q", got)
	}
}

// TestConfigInvalid checks that a wrong setting stops serve at once, naming the setting.
func TestConfigInvalid(t *testing.T) {
	dir := privateDir(t)
	for _, tt := range []struct {
		name string
		args []string
		file string
		want string
	}{
		{"LogFormat", []string{"--log-format", "xml"}, "", "log-format"},
		{"LogLevel", []string{"--log-level", "loud"}, "", "log-level"},
		{"MetricsAddr", []string{"--metrics-addr", "9100"}, "", "metrics-addr"},
		{"PublicURL", []string{"--public-url", "auth.example.com"}, "", "public-url"},
		{"DBMaxConns", []string{"--db-max-conns", "-1"}, "", "db-max-conns"},
		{"DBStatementTimeout", []string{"--db-statement-timeout", "-1s"}, "", "db-statement-timeout"},
		{"DBAcquireTimeout", []string{"--db-acquire-timeout", "0"}, "", "db-acquire-timeout"},
		{"DBConnectTimeout", []string{"--db-connect-timeout", "-1s"}, "", "db-connect-timeout"},
		{"AuditMaxEvents", []string{"--audit-max-events", "-1"}, "", "audit-max-events"},
		{"SMTPWithoutFrom", []string{"--smtp-host", "mail.example.com"}, "", "mail-from"},
		{"SMTPSecurity", []string{"--smtp-host", "m", "--mail-from", "a@b.c", "--smtp-security", "ssl"}, "", "smtp-security"},
		{"MailWithoutSMTP", []string{"--mail-from", "a@b.c"}, "", "smtp-host"},
		{"PasswordFile", []string{"--smtp-host", "m", "--mail-from", "a@b.c", "--smtp-password-file", filepath.Join(dir, "none")}, "", "smtp-password-file"},
		{"ConfirmURL", []string{"--smtp-host", "m", "--mail-from", "a@b.c", "--mail-confirm-url", "/confirm"}, "", "mail-confirm-url"},
		{"BadFlagValue", []string{"--smtp-port", "many"}, "", "smtp-port"},
		{"MailCooldown", []string{"--mail-cooldown", "-1s"}, "", "mail-cooldown"},
		{"MailPerHour", []string{"--mail-per-hour", "-1"}, "", "mail-per-hour"},
		{"FileUnknownKey", nil, "[smtp]\nhots = \"x\"\n", "smtp.hots"},
		{"FileBadValue", nil, "db-max-conns = \"many\"\n", "db-max-conns"},
		{"FileBadType", nil, "addr = 1.5\n", "addr"},
		{"FileSecret", nil, "[smtp]\npassword = \"x\"\n", "smtp.password"},
		{"FileAppSetting", nil, "[mail.apps.shop]\nconfirm = \"x\"\n", "mail.apps.shop.confirm"},
		{"FileSyntax", nil, "addr = \n", "config file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if tt.file != "" {
				args = append(args, "--config", writeFile(t, dir, tt.name+".toml", tt.file))
			}
			var stderr bytes.Buffer
			c := &ServeCommand{Stdout: io.Discard, Stderr: &stderr}
			err := c.parse(args)
			if err == nil {
				err = c.validate()
			}
			if err == nil || !strings.Contains(err.Error()+stderr.String(), tt.want) {
				t.Errorf("serve %q: %v, want an error naming %s", args, err, tt.want)
			}
		})
	}
}

// TestPrintConfig checks --print-config: every setting with its source, and no secret.
func TestPrintConfig(t *testing.T) {
	dir := privateDir(t)
	file := writeFile(t, dir, "latchkey.toml", "[smtp]\nhost = \"smtp.example.com\"\nusername = \"latchkey\"\n[mail]\nfrom = \"no-reply@example.com\"\n")
	cmd := exec.Command(binary, "serve", "--config", file, "--print-config")
	cmd.Env = append(os.Environ(),
		"LATCHKEY_DATABASE_URL=postgres://latchkey:db-secret-1@db.internal:5432/latchkey?sslmode=require&password=db-secret-2&pool_max_conns=4",
		"LATCHKEY_ADMIN_EMAIL=root@example.com", "LATCHKEY_ADMIN_PASSWORD=admin-secret-3",
		"LATCHKEY_SMTP_PASSWORD=smtp-secret-4",
	)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("print-config: %v\n%s", err, out)
	}
	for _, secret := range []string{"db-secret-1", "db-secret-2", "admin-secret-3", "smtp-secret-4"} {
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("--print-config shows %s:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		`database = "postgres://latchkey:xxxxx@db.internal:5432/latchkey?password=xxxxx&pool_max_conns=4&sslmode=require"  # LATCHKEY_DATABASE_URL`,
		`db-max-conns = 0  # default: the database URL's pool_max_conns=4`,
		`db-max-conn-lifetime = "0s"  # default`,
		`db-pgbouncer = false  # default`,
		`smtp-host = "smtp.example.com"  # file ` + file,
		`smtp-port = 0  # default`,
		`# admin-email = "root@example.com"  (LATCHKEY_ADMIN_EMAIL)`,
		`# admin-password = "[redacted]"  (LATCHKEY_ADMIN_PASSWORD)`,
		`# smtp-password = "[redacted]"  (LATCHKEY_SMTP_PASSWORD)`,
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("--print-config lacks %s:\n%s", want, out)
		}
	}
	// It opens no database: the data directory is never made.
	if _, err := os.Stat("latchkey-data"); err == nil {
		t.Error("--print-config created ./latchkey-data")
	}
}

// TestServeOperations runs the binary with email, a metrics listener and text logs, and
// uses them as an operator would.
func TestServeOperations(t *testing.T) {
	mail := smtptest.Start(t, smtptest.Options{Security: smtptest.Plain})
	dir := privateDir(t)
	file := writeFile(t, dir, "latchkey.toml", `
log-format = "text"
metrics-addr = "127.0.0.1:0"
[smtp]
host = "127.0.0.1"
port = `+strconv.Itoa(mail.Port)+`
security = "none"
[mail]
from = "Ops <no-reply@ops.example.com>"
[mail.apps.ops-app]
reset-url = "https://ops.example.com/reset"
`)
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", dir, "--app-id", "ops-app", "--config", file)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	stdout := startPiped(t, cmd)
	var base, metricsURL string
	lines := bufio.NewScanner(stdout)
	for base == "" || metricsURL == "" {
		if !lines.Scan() {
			t.Fatalf("latchkey exited before listening: %s", stderr.String())
		}
		if u, ok := strings.CutPrefix(lines.Text(), "Latchkey listening on "); ok {
			base = u
		}
		if u, ok := strings.CutPrefix(lines.Text(), "Metrics on "); ok {
			metricsURL = u
		}
	}
	go io.Copy(io.Discard, stdout)
	p := &process{url: base, appID: "ops-app"}

	// A password reset by email, with the link of the app's own page.
	l := p.registerAndLogIn(t, "ann@example.com")
	if got := p.call(t, "POST", p.app()+"/auth/providers/local-userpass/reset/send", "", map[string]string{"email": "ann@example.com"}, nil); got != 204 {
		t.Fatalf("reset/send: %d", got)
	}
	text := mail.Last(t, "ann@example.com").Text(t)
	var link *url.URL
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "https://ops.example.com/reset?") {
			link, _ = url.Parse(f)
		}
	}
	if link == nil {
		t.Fatalf("no link to the app's reset page in\n%s", text)
	}
	q := link.Query()
	body := map[string]string{"password": "n3w password", "token": q.Get("token"), "tokenId": q.Get("tokenId")}
	if got := p.call(t, "POST", p.app()+"/auth/providers/local-userpass/reset", "", body, nil); got != 204 {
		t.Fatalf("reset: %d", got)
	}
	if got := p.call(t, "POST", p.app()+"/auth/providers/local-userpass/login", "", map[string]string{"username": "ann@example.com", "password": "n3w password"}, nil); got != 200 {
		t.Fatalf("login with the new password: %d", got)
	}

	// Health on the main listener; metrics only on their own.
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/openapi.json": 200, "/metrics": 404} {
		if got := get(t, base+path); got.status != want {
			t.Errorf("GET %s: %d, want %d", path, got.status, want)
		}
	}
	m := get(t, metricsURL)
	for _, want := range []string{
		`latchkey_mail_messages_total{kind="reset",outcome="sent"} 1`,
		`latchkey_logins_total{outcome="success",provider="local-userpass"} 2`,
		`latchkey_db_pool_max_connections{pool="write"} 1`,
		`latchkey_password_hash_queue_depth 0`,
	} {
		if m.status != 200 || !strings.Contains(m.body, want) {
			t.Errorf("GET %s lacks %s", metricsURL, want)
		}
	}

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no exit within 15s of SIGTERM")
	}

	// Text logs: one line per request with its route pattern, and no secret.
	logs := stderr.String()
	if !strings.Contains(logs, `msg=request`) || !strings.Contains(logs, `route="POST /api/client/v2.0/app/{app}/auth/providers/local-userpass/reset"`) ||
		!strings.Contains(logs, "status=204") || !strings.Contains(logs, "app=ops-app") {
		t.Errorf("no text request line with route, status and app in\n%s", logs)
	}
	for _, secret := range []string{"s3cretpass", "n3w password", q.Get("token"), l.RefreshToken, "ann@example.com"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}
}

type got struct {
	status int
	body   string
}

func get(t *testing.T, u string) got {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return got{resp.StatusCode, string(b)}
}
