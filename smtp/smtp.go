// Package smtp delivers Latchkey's email (confirmation and password reset messages) through
// an SMTP server, with net/smtp. Mailer implements latchkey.Mailer.
//
// Sending happens off the request path: SendConfirmation and SendPasswordReset render the
// message and queue it, and a few workers deliver the queue, retrying transient failures
// with a growing delay. The queue is bounded: when it is full a message is dropped and
// logged, and the request that caused it is not held up. Logs never hold a token, a link or
// the recipient's address.
package smtp

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

var _ latchkey.Mailer = (*Mailer)(nil)

// Connection security.
const (
	SecuritySTARTTLS = "starttls" // plain connection upgraded with STARTTLS; refused if the server does not offer it
	SecurityTLS      = "tls"      // TLS from the first byte ("implicit TLS", SMTPS)
	SecurityNone     = "none"     // no encryption: only for a relay on the same host or network
)

// Defaults of Config's zero values.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultQueueSize  = 100
	DefaultAttempts   = 4
	DefaultRetryDelay = 5 * time.Second
	DefaultWorkers    = 2
)

// Config configures a Mailer.
type Config struct {
	Host     string
	Port     int    // zero: 587 for starttls, 465 for tls, 25 for none
	Security string // starttls (the default), tls or none
	// Username and Password authenticate with AUTH PLAIN when Username is set. net/smtp
	// sends them only over TLS, or to a server on the loopback interface.
	Username, Password string
	// From is the sender, e.g. "Shop <no-reply@shop.example.com>".
	From string
	// HelloName is the name given in EHLO; empty means the machine's host name.
	HelloName string
	// Timeout bounds one delivery attempt: connecting, TLS, and the whole SMTP dialogue.
	Timeout time.Duration
	// TLSConfig is used for TLS and STARTTLS; nil verifies the server's certificate
	// against the system's roots for Host.
	TLSConfig *tls.Config

	// PublicURL is the base URL of Latchkey, for links to its own confirm and reset pages.
	PublicURL string
	// ConfirmURL and ResetURL, when set, are where links lead instead of Latchkey's pages;
	// token and tokenId are added to their query, as App Services did.
	ConfirmURL, ResetURL string
	// Apps hold per-app link settings, by client app id.
	Apps map[string]AppConfig
	// TemplateDir holds templates that replace the built-in ones; see loadTemplates.
	TemplateDir string
	// ConfirmLifetime and ResetLifetime are the tokens' lifetimes, for the messages' text.
	ConfirmLifetime, ResetLifetime time.Duration

	QueueSize  int           // messages waiting at most; zero means DefaultQueueSize
	Attempts   int           // delivery attempts per message; zero means DefaultAttempts
	RetryDelay time.Duration // before the second attempt, doubling after; zero means DefaultRetryDelay
	Workers    int           // concurrent deliveries; zero means DefaultWorkers

	Logger   *slog.Logger
	Observer latchkey.Observer
	// Now is the clock that dates the messages; nil means time.Now.
	Now func() time.Time
}

// AppConfig are one app's link settings.
type AppConfig struct {
	ConfirmURL string
	ResetURL   string
}

// Validate reports the first setting that is wrong, by name.
func (c *Config) Validate() error {
	if c.Host == "" {
		return errors.New("smtp-host: required")
	}
	switch c.Security {
	case "", SecuritySTARTTLS, SecurityTLS, SecurityNone:
	default:
		return fmt.Errorf("smtp-security %q: want starttls, tls or none", c.Security)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("smtp-port %d: want 1 to 65535", c.Port)
	}
	if c.From == "" {
		return errors.New("mail-from: required with smtp-host")
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("mail-from %q: %v", c.From, err)
	}
	if c.Password != "" && c.Username == "" {
		return errors.New("smtp-username: required with a password")
	}
	if c.PublicURL == "" && (c.ConfirmURL == "" || c.ResetURL == "") {
		return errors.New("public-url: required for links to Latchkey's pages")
	}
	for name, u := range map[string]string{"mail-confirm-url": c.ConfirmURL, "mail-reset-url": c.ResetURL} {
		if err := checkURL(u); err != nil {
			return fmt.Errorf("%s %q: %v", name, u, err)
		}
	}
	for app, ac := range c.Apps {
		for name, u := range map[string]string{"confirm-url": ac.ConfirmURL, "reset-url": ac.ResetURL} {
			if err := checkURL(u); err != nil {
				return fmt.Errorf("mail.apps.%s.%s %q: %v", app, name, u, err)
			}
		}
	}
	for name, v := range map[string]int{"smtp-queue-size": c.QueueSize, "smtp-attempts": c.Attempts} {
		if v < 0 {
			return fmt.Errorf("%s %d: must not be negative", name, v)
		}
	}
	if c.Timeout < 0 || c.RetryDelay < 0 {
		return errors.New("smtp-timeout: must not be negative")
	}
	return nil
}

func checkURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return errors.New("want an absolute http or https URL")
	}
	return nil
}

// Mailer sends messages through an SMTP server from a bounded queue.
type Mailer struct {
	cfg       Config
	addr      string
	from      *mail.Address
	tlsConfig *tls.Config
	templates *templates
	logger    *slog.Logger
	observer  latchkey.Observer

	queue   chan *outgoing
	mu      sync.RWMutex // guards closed against sends on a closed queue
	closed  bool
	stop    context.Context // ends retries' waits and attempts when Close gives up
	abandon context.CancelFunc
	done    sync.WaitGroup
}

// outgoing is a rendered message on its way.
type outgoing struct {
	id   string // Message-ID, also in the logs, so that they can be matched with the relay's
	app  string
	kind string
	to   string
	data []byte
}

// New checks the configuration, loads the templates and starts the workers.
func New(cfg Config) (*Mailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Security == "" {
		cfg.Security = SecuritySTARTTLS
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{SecuritySTARTTLS: 587, SecurityTLS: 465, SecurityNone: 25}[cfg.Security]
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.QueueSize == 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Attempts == 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HelloName == "" {
		cfg.HelloName, _ = os.Hostname()
		if cfg.HelloName == "" {
			cfg.HelloName = "localhost"
		}
	}
	from, _ := mail.ParseAddress(cfg.From)
	tmpl, err := loadTemplates(cfg.TemplateDir)
	if err != nil {
		return nil, err
	}
	tlsConfig := &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
		if tlsConfig.ServerName == "" {
			tlsConfig.ServerName = cfg.Host
		}
	}
	m := &Mailer{
		cfg:       cfg,
		addr:      net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		from:      from,
		tlsConfig: tlsConfig,
		templates: tmpl,
		logger:    cfg.Logger,
		observer:  cfg.Observer,
		queue:     make(chan *outgoing, cfg.QueueSize),
	}
	if m.logger == nil {
		m.logger = slog.New(slog.DiscardHandler)
	}
	if m.observer == nil {
		m.observer = latchkey.NopObserver{}
	}
	m.stop, m.abandon = context.WithCancel(context.Background())
	for range cfg.Workers {
		m.done.Add(1)
		go m.work()
	}
	return m, nil
}

// SendConfirmation queues a confirmation message. It fails only if the message cannot be
// rendered; delivery failures are logged and retried.
func (m *Mailer) SendConfirmation(ctx context.Context, app *latchkey.App, email, token, tokenID string) error {
	return m.enqueue(ctx, app, latchkey.UserTokenConfirm, email, token, tokenID)
}

// SendPasswordReset queues a password reset message, as SendConfirmation does.
func (m *Mailer) SendPasswordReset(ctx context.Context, app *latchkey.App, email, token, tokenID string) error {
	return m.enqueue(ctx, app, latchkey.UserTokenReset, email, token, tokenID)
}

func (m *Mailer) enqueue(ctx context.Context, app *latchkey.App, kind, email, token, tokenID string) error {
	link, err := m.link(app.ClientAppID, kind, token, tokenID)
	if err != nil {
		return err
	}
	lifetime := m.cfg.ConfirmLifetime
	if kind == latchkey.UserTokenReset {
		lifetime = m.cfg.ResetLifetime
	}
	subject, text, html, err := m.templates.forApp(app.ClientAppID, kind).render(TemplateData{
		AppName: app.Name, AppID: app.ClientAppID, Email: email, Link: link, ExpiresIn: humanDuration(lifetime),
	})
	if err != nil {
		return fmt.Errorf("smtp: render %s message: %w", kind, err)
	}
	id := "<" + randomHex(16) + "@" + domainOf(m.from.Address) + ">"
	data, err := buildMessage(m.from, email, id, subject, text, html, m.cfg.Now())
	if err != nil {
		return fmt.Errorf("smtp: build %s message: %w", kind, err)
	}
	msg := &outgoing{id: id, app: app.ClientAppID, kind: kind, to: email, data: data}

	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		m.dropped(ctx, msg, "the mailer is shutting down")
		return nil
	}
	select {
	case m.queue <- msg:
	default:
		m.dropped(ctx, msg, "the mail queue is full")
	}
	return nil
}

func (m *Mailer) dropped(ctx context.Context, msg *outgoing, why string) {
	m.observer.ObserveMail(msg.kind, latchkey.MailDropped)
	m.logger.ErrorContext(ctx, "mail not sent: "+why, "app", msg.app, "kind", msg.kind, "message_id", msg.id)
}

// link is the confirmation or reset link: the app's URL, else the server's, else Latchkey's
// own page, with token and tokenId in the query.
func (m *Mailer) link(clientAppID, kind, token, tokenID string) (string, error) {
	ac := m.cfg.Apps[clientAppID]
	base, page := ac.ConfirmURL, "confirm"
	if base == "" {
		base = m.cfg.ConfirmURL
	}
	if kind == latchkey.UserTokenReset {
		base, page = ac.ResetURL, "reset"
		if base == "" {
			base = m.cfg.ResetURL
		}
	}
	if base == "" {
		base = strings.TrimRight(m.cfg.PublicURL, "/") + "/app/" + url.PathEscape(clientAppID) + "/" + page
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("smtp: link: %w", err)
	}
	q := u.Query()
	q.Set("token", token)
	q.Set("tokenId", tokenID)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Close stops taking messages and waits until the queue is delivered or ctx ends; then the
// attempts under way are abandoned and what is left is logged as not sent.
func (m *Mailer) Close(ctx context.Context) error {
	m.mu.Lock()
	if !m.closed {
		m.closed = true
		close(m.queue)
	}
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.done.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		m.abandon()
		<-done
		return ctx.Err()
	}
}

func (m *Mailer) work() {
	defer m.done.Done()
	for msg := range m.queue {
		if m.stop.Err() != nil {
			m.dropped(context.Background(), msg, "the mailer stopped before sending it")
			continue
		}
		m.deliver(msg)
	}
}

// deliver tries a message until it is sent, refused for good, or out of attempts.
func (m *Mailer) deliver(msg *outgoing) {
	delay := m.cfg.RetryDelay
	for attempt := 1; ; attempt++ {
		err := m.send(m.stop, msg)
		if err == nil {
			m.observer.ObserveMail(msg.kind, latchkey.MailSent)
			m.logger.Info("mail sent", "app", msg.app, "kind", msg.kind, "message_id", msg.id, "attempt", attempt)
			return
		}
		attrs := []any{"app", msg.app, "kind", msg.kind, "message_id", msg.id, "attempt", attempt, "err", redact(err, msg.to)}
		if permanent(err) || attempt >= m.cfg.Attempts || m.stop.Err() != nil {
			m.observer.ObserveMail(msg.kind, latchkey.MailFailed)
			m.logger.Error("mail not sent", attrs...)
			return
		}
		m.observer.ObserveMail(msg.kind, latchkey.MailRetried)
		m.logger.Warn("mail attempt failed; retrying", append(attrs, "retry_in", delay)...)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-m.stop.Done():
			t.Stop()
		}
		delay *= 2
	}
}

// send makes one delivery attempt, bounded by the timeout as a whole.
func (m *Mailer) send(ctx context.Context, msg *outgoing) error {
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	dialer := &net.Dialer{}
	var conn net.Conn
	var err error
	if m.cfg.Security == SecurityTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: m.tlsConfig}).DialContext(ctx, "tcp", m.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", m.addr)
	}
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	// Closing the connection interrupts a dialogue that ctx ended early (Close).
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(m.cfg.HelloName); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if m.cfg.Security == SecuritySTARTTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return permanentError{errors.New("the server does not offer STARTTLS (set smtp-security to tls or none)")}
		}
		if err := c.StartTLS(m.tlsConfig); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if m.cfg.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(msg.to); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg.data); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The message is accepted; a failed QUIT does not undo that.
	c.Quit()
	return nil
}

// permanentError is a failure that another attempt would repeat.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// permanent reports whether err should not be retried: a 5xx reply from the server, or a
// configuration problem found on the way.
func permanent(err error) bool {
	var p permanentError
	var reply *textproto.Error
	return errors.As(err, &p) || (errors.As(err, &reply) && reply.Code >= 500)
}

// redact returns err's text without the recipient's address, which a server's reply may
// repeat.
func redact(err error, to string) string {
	return regexp.MustCompile(`(?i)`+regexp.QuoteMeta(to)).ReplaceAllString(err.Error(), "<recipient>")
}

func domainOf(address string) string {
	_, domain, _ := strings.Cut(address, "@")
	return domain
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
