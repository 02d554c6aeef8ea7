package smtp_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/smtptest"
	"github.com/latchkey/latchkey/smtp"
)

var testApp = &latchkey.App{ClientAppID: "shop", Name: "The Shop"}

// observer counts mail outcomes.
type observer struct {
	latchkey.NopObserver
	mu     sync.Mutex
	counts map[string]int
}

func (o *observer) ObserveMail(kind, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.counts == nil {
		o.counts = map[string]int{}
	}
	o.counts[kind+"/"+outcome]++
}

func (o *observer) count(key string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts[key]
}

// syncBuffer is a log destination for several goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// config returns a mailer configuration for the test server.
func config(srv *smtptest.Server, security string) smtp.Config {
	return smtp.Config{
		Host: srv.Host, Port: srv.Port, Security: security, TLSConfig: srv.ClientTLS,
		From: "The Shop <no-reply@shop.example.com>", PublicURL: "https://auth.example.com",
		ConfirmLifetime: 24 * time.Hour, ResetLifetime: 30 * time.Minute,
		Timeout: 2 * time.Second, RetryDelay: 10 * time.Millisecond,
	}
}

// MustNew starts a mailer and closes it when the test ends.
func MustNew(t *testing.T, cfg smtp.Config) *smtp.Mailer {
	t.Helper()
	m, err := smtp.New(cfg)
	if err != nil {
		t.Fatalf("smtp.New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		m.Close(ctx)
	})
	return m
}

// parts returns the text and HTML parts of a multipart/alternative message.
func parts(t *testing.T, msg smtptest.Message) (header map[string]string, text, html string) {
	t.Helper()
	m := msg.Parsed(t)
	header = map[string]string{}
	dec := new(mime.WordDecoder)
	for k := range m.Header {
		v, err := dec.DecodeHeader(m.Header.Get(k))
		if err != nil {
			t.Fatal(err)
		}
		header[k] = v
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q, want multipart/alternative", m.Header.Get("Content-Type"))
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		switch ct := p.Header.Get("Content-Type"); ct {
		case "text/plain; charset=utf-8":
			text = string(b)
		case "text/html; charset=utf-8":
			html = string(b)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	return header, text, html
}

// linkIn returns the first https link in a text body.
func linkIn(t *testing.T, text string) *url.URL {
	t.Helper()
	for _, f := range strings.Fields(text) {
		if strings.HasPrefix(f, "https://") || strings.HasPrefix(f, "http://") {
			u, err := url.Parse(f)
			if err != nil {
				t.Fatal(err)
			}
			return u
		}
	}
	t.Fatalf("no link in %q", text)
	return nil
}

func TestSend(t *testing.T) {
	for _, security := range []string{smtptest.Plain, smtptest.STARTTLS, smtptest.TLS} {
		t.Run(security, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Options{Security: security, Username: "mailer", Password: "smtp secret"})
			cfg := config(srv, security)
			cfg.Username, cfg.Password = "mailer", "smtp secret"
			m := MustNew(t, cfg)
			if err := m.SendConfirmation(context.Background(), testApp, "ann@example.com", "tok123", "6b08aa0000000000000000aa"); err != nil {
				t.Fatal(err)
			}
			msg := srv.Last(t, "ann@example.com")
			if msg.TLS != (security != smtptest.Plain) || msg.User != "mailer" || msg.From != "no-reply@shop.example.com" {
				t.Errorf("received TLS %v, user %q, from %q; want TLS %v, user mailer", msg.TLS, msg.User, msg.From, security != smtptest.Plain)
			}
			header, text, html := parts(t, msg)
			if header["Subject"] != "Confirm your email address for The Shop" || header["To"] != "<ann@example.com>" ||
				header["From"] != `"The Shop" <no-reply@shop.example.com>` || header["Auto-Submitted"] != "auto-generated" {
				t.Errorf("headers = %v", header)
			}
			link := linkIn(t, text)
			if link.Scheme+"://"+link.Host+link.Path != "https://auth.example.com/app/shop/confirm" ||
				link.Query().Get("token") != "tok123" || link.Query().Get("tokenId") != "6b08aa0000000000000000aa" {
				t.Errorf("link = %s", link)
			}
			if !strings.Contains(text, "expires in 24 hours") {
				t.Errorf("text does not give the lifetime: %q", text)
			}
			if !strings.Contains(html, `href="`+strings.ReplaceAll(link.String(), "&", "&amp;")+`"`) {
				t.Errorf("HTML lacks the link %s: %s", link, html)
			}
		})
	}
}

func TestReset(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m := MustNew(t, config(srv, smtp.SecurityNone))
	if err := m.SendPasswordReset(context.Background(), testApp, "ann@example.com", "tok", "6b08aa0000000000000000aa"); err != nil {
		t.Fatal(err)
	}
	header, text, _ := parts(t, srv.Last(t, "ann@example.com"))
	if header["Subject"] != "Reset your The Shop password" || !strings.Contains(text, "expires in 30 minutes") {
		t.Errorf("subject %q, text %q", header["Subject"], text)
	}
	if got := linkIn(t, text); got.Path != "/app/shop/reset" {
		t.Errorf("link = %s, want the reset page", got)
	}
}

func TestRetry(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	srv.FailNext(2)
	o := &observer{}
	cfg := config(srv, smtp.SecurityNone)
	cfg.Observer = o
	m := MustNew(t, cfg)
	m.SendConfirmation(context.Background(), testApp, "ann@example.com", "tok", "6b08aa0000000000000000aa")
	srv.Last(t, "ann@example.com")
	waitFor(t, func() bool { return o.count("confirm/sent") == 1 })
	if got := o.count("confirm/retried"); got != 2 {
		t.Errorf("retried = %d, want 2", got)
	}
}

func TestFailure(t *testing.T) {
	t.Run("Permanent", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{})
		srv.Reject("ann@example.com")
		var logs syncBuffer
		o := &observer{}
		cfg := config(srv, smtp.SecurityNone)
		cfg.Observer, cfg.Logger = o, slog.New(slog.NewTextHandler(&logs, nil))
		m := MustNew(t, cfg)
		m.SendPasswordReset(context.Background(), testApp, "ann@example.com", "secret-token-value", "6b08aa0000000000000000aa")
		waitFor(t, func() bool { return o.count("reset/failed") == 1 })
		if got := o.count("reset/retried"); got != 0 {
			t.Errorf("a 550 was retried %d times", got)
		}
		// The server's reply names the address; the log must not.
		for _, secret := range []string{"ann@example.com", "secret-token-value", "tokenId"} {
			if strings.Contains(logs.String(), secret) {
				t.Errorf("log holds %q:\n%s", secret, logs.String())
			}
		}
		if !strings.Contains(logs.String(), "550") {
			t.Errorf("log does not give the server's code:\n%s", logs.String())
		}
	})

	t.Run("GivesUp", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{})
		srv.FailNext(10)
		o := &observer{}
		cfg := config(srv, smtp.SecurityNone)
		cfg.Observer, cfg.Attempts = o, 3
		m := MustNew(t, cfg)
		m.SendConfirmation(context.Background(), testApp, "ann@example.com", "tok", "6b08aa0000000000000000aa")
		waitFor(t, func() bool { return o.count("confirm/failed") == 1 })
		if got := o.count("confirm/retried"); got != 2 {
			t.Errorf("retried = %d, want 2 (3 attempts)", got)
		}
	})

	t.Run("NoSTARTTLS", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{Security: smtptest.Plain})
		o := &observer{}
		cfg := config(srv, smtp.SecuritySTARTTLS)
		cfg.Observer = o
		m := MustNew(t, cfg)
		m.SendConfirmation(context.Background(), testApp, "ann@example.com", "tok", "6b08aa0000000000000000aa")
		waitFor(t, func() bool { return o.count("confirm/failed") == 1 })
		if len(srv.Messages()) != 0 || o.count("confirm/retried") != 0 {
			t.Errorf("sent without the STARTTLS the configuration asks for")
		}
	})
}

// TestSlowServer checks that a server that stops answering never holds up the caller, and
// that a full queue drops messages rather than waiting: five sends all return while the
// server holds the first delivery.
func TestSlowServer(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	waiting, release := srv.Hold(t)
	o := &observer{}
	cfg := config(srv, smtp.SecurityNone)
	cfg.Observer, cfg.QueueSize, cfg.Workers = o, 2, 1
	m := MustNew(t, cfg)
	if err := m.SendConfirmation(context.Background(), testApp, "ann@example.com", "tok", "6b08aa0000000000000000aa"); err != nil {
		t.Fatalf("send 0: %v", err)
	}
	<-waiting // the one worker is in the held delivery
	for i := 1; i < 5; i++ {
		if err := m.SendConfirmation(context.Background(), testApp, "ann@example.com", "tok", "6b08aa0000000000000000aa"); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	// One in delivery, two queued, the rest dropped: all five sends returned before the
	// server answered at all.
	if got := o.count("confirm/dropped"); got != 2 {
		t.Errorf("dropped = %d, want 2 with a queue of 2 behind one held delivery", got)
	}
	release()
	srv.Wait(t, 3)
}

// TestMessageDate checks that a message is dated by the mailer's clock.
func TestMessageDate(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	cfg := config(srv, smtp.SecurityNone)
	at := time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC)
	cfg.Now = func() time.Time { return at }
	m := MustNew(t, cfg)
	if err := m.SendConfirmation(context.Background(), testApp, "ann@example.com", "tok", "6b08aa0000000000000000aa"); err != nil {
		t.Fatal(err)
	}
	msg := srv.Wait(t, 1)[0]
	if got, want := msg.Parsed(t).Header.Get("Date"), at.Format(time.RFC1123Z); got != want {
		t.Errorf("Date = %q, want %q", got, want)
	}
}

func TestClose(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m, err := smtp.New(config(srv, smtp.SecurityNone))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		m.SendConfirmation(context.Background(), testApp, "ann@example.com", "tok", "6b08aa0000000000000000aa")
	}
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(srv.Messages()); got != 3 {
		t.Errorf("after Close, %d messages delivered, want the 3 queued", got)
	}
	// After Close, sends are dropped, not panics.
	if err := m.SendConfirmation(context.Background(), testApp, "ann@example.com", "tok", "6b08aa0000000000000000aa"); err != nil {
		t.Fatal(err)
	}
}

func TestTemplatesAndLinks(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("confirm.subject.txt", "Welcome to {{.AppName}}\r\nBcc: evil@example.com")
	write("shop/confirm.txt", "Shop: {{.Link}}")
	write("shop/confirm.html", `<a href="{{.Link}}">{{.AppName}}</a>`)

	srv := smtptest.Start(t, smtptest.Options{})
	cfg := config(srv, smtp.SecurityNone)
	cfg.TemplateDir = dir
	cfg.Apps = map[string]smtp.AppConfig{"shop": {ConfirmURL: "https://shop.example.com/confirm?lang=en"}}
	m := MustNew(t, cfg)
	evil := &latchkey.App{ClientAppID: "other", Name: `<script>x</script>`}
	m.SendConfirmation(context.Background(), testApp, "ann@example.com", "tok", "6b08aa0000000000000000aa")
	m.SendConfirmation(context.Background(), evil, "bob@example.com", "tok", "6b08aa0000000000000000aa")

	header, text, html := parts(t, srv.Last(t, "ann@example.com"))
	if header["Subject"] != "Welcome to The Shop Bcc: evil@example.com" || header["Bcc"] != "" {
		t.Errorf("subject = %q, Bcc = %q: a template must not add a header", header["Subject"], header["Bcc"])
	}
	link := linkIn(t, text)
	if !strings.HasPrefix(text, "Shop: ") || link.Host != "shop.example.com" || link.Query().Get("lang") != "en" || link.Query().Get("token") != "tok" {
		t.Errorf("app template text %q, link %s", text, link)
	}
	if !strings.Contains(html, ">The Shop</a>") {
		t.Errorf("app HTML template not used: %s", html)
	}

	_, text, html = parts(t, srv.Last(t, "bob@example.com"))
	if link := linkIn(t, text); link.Host != "auth.example.com" || link.Path != "/app/other/confirm" {
		t.Errorf("other app's link = %s, want Latchkey's page", link)
	}
	if strings.Contains(html, "<script>") {
		t.Errorf("HTML body does not escape the app name: %s", html)
	}
}

func TestConfigValidate(t *testing.T) {
	ok := smtp.Config{Host: "mail.example.com", From: "no-reply@example.com", PublicURL: "https://auth.example.com"}
	for _, tt := range []struct {
		name string
		edit func(*smtp.Config)
		want string
	}{
		{"Host", func(c *smtp.Config) { c.Host = "" }, "smtp-host"},
		{"Security", func(c *smtp.Config) { c.Security = "ssl" }, "smtp-security"},
		{"Port", func(c *smtp.Config) { c.Port = 70000 }, "smtp-port"},
		{"From", func(c *smtp.Config) { c.From = "not an address" }, "mail-from"},
		{"FromMissing", func(c *smtp.Config) { c.From = "" }, "mail-from"},
		{"PasswordWithoutUser", func(c *smtp.Config) { c.Password = "x" }, "smtp-username"},
		{"ConfirmURL", func(c *smtp.Config) { c.ConfirmURL = "ftp://x" }, "mail-confirm-url"},
		{"AppURL", func(c *smtp.Config) { c.Apps = map[string]smtp.AppConfig{"shop": {ResetURL: "/relative"}} }, "mail.apps.shop.reset-url"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error naming %s", err, tt.want)
			}
		})
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate() = %v for a good configuration", err)
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "reset.html"), []byte("{{.Nope"), 0o644)
	c := ok
	c.TemplateDir = bad
	if _, err := smtp.New(c); err == nil || !strings.Contains(err.Error(), "reset.html") {
		t.Errorf("New with a broken template = %v, want an error naming reset.html", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
