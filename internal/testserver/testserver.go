// Package testserver starts a complete Latchkey server for tests: a real store, the real
// service and the real HTTP API, listening on a loopback port.
package testserver

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/httpapi"
	"github.com/latchkey/latchkey/internal/teststore"
	"github.com/latchkey/latchkey/jose"
	"github.com/latchkey/latchkey/service"
	"github.com/latchkey/latchkey/ui"
	"github.com/latchkey/latchkey/webhook"
)

// Server is a running test server.
type Server struct {
	URL     string // base URL, e.g. http://127.0.0.1:41234
	AppID   string // client app id of the default app
	App     *latchkey.App
	Service *service.Service
	Store   latchkey.Store
	Mailer  *Mailer
	Clock   *Clock
}

// Options change how New builds the server.
type Options struct {
	// Store is used instead of a fresh store from teststore.Open; the test owns closing it.
	Store latchkey.Store
	// AppID is the client app id of the default app; default "test-app".
	AppID string
	// NewMailer, if not nil, makes the mailer that sends the messages, given the server's
	// URL, instead of the recording Server.Mailer, which then stays empty.
	NewMailer func(url string) latchkey.Mailer
	// Observer, if not nil, receives the service's and the HTTP server's measurements.
	Observer latchkey.Observer
	// Logger, if not nil, receives the service's and the HTTP server's logs.
	Logger *slog.Logger
	// Limits are the service's brute-force limits; nil means GenerousLimits, so that tests
	// may log in hundreds of times from 127.0.0.1.
	Limits *service.Limits
	// MailLimits are the service's per-recipient mail limits; nil means GenerousMailLimits,
	// so that tests may ask for several messages to one address in a row.
	MailLimits *service.MailLimits
	// TrustedProxies are the HTTP server's trusted proxies; nil trusts nobody.
	TrustedProxies []netip.Prefix
	// WriteTimeout, if not zero, is the HTTP server's write timeout, and so sets each
	// request's deadline as serve does.
	WriteTimeout time.Duration
}

// SecretKey seals the signing keys of every test server, so that servers over one store
// (restarts, nodes) share them.
var SecretKey = []byte("the test servers' secret key, 32+ bytes")

// CheapPasswordHashMemory is the argon2id memory of the test servers' password hashes, in
// KiB: far below production's 19 MiB, so that a login costs microseconds rather than 20 ms.
// The service's own password tests keep the real parameters.
const CheapPasswordHashMemory = 64

// GenerousLimits are limits that no test reaches by accident but that still run on every
// request.
func GenerousLimits() *service.Limits {
	return &service.Limits{
		PerIP:           service.Rate{N: 1_000_000, Per: time.Second},
		PerAccount:      service.Rate{N: 1_000_000, Per: time.Second},
		LockoutFailures: 1000,
		LockoutDuration: time.Minute,
	}
}

// GenerousMailLimits are mail limits that no test reaches by accident but that still run on
// every message.
func GenerousMailLimits() *service.MailLimits {
	return &service.MailLimits{PerHour: 1_000_000}
}

// New starts a server and stops it when the test ends.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx := context.Background()
	store := opts.Store
	if store == nil {
		store = teststore.Open(t)
	}
	if opts.AppID == "" {
		opts.AppID = "test-app"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	url := "http://" + ln.Addr().String()
	clock := &Clock{}
	mailer := &Mailer{}
	var sender latchkey.Mailer = mailer
	if opts.NewMailer != nil {
		sender = opts.NewMailer(url)
	}
	if opts.Limits == nil {
		opts.Limits = GenerousLimits()
	}
	if opts.MailLimits == nil {
		opts.MailLimits = GenerousMailLimits()
	}
	svc, err := service.New(ctx, service.Config{Store: store, Mailer: sender, Now: clock.Now, Issuer: url, Observer: opts.Observer, Logger: opts.Logger, Limits: opts.Limits,
		MailLimits: opts.MailLimits, SecretKey: SecretKey, PasswordHashMemory: CheapPasswordHashMemory,
		TokenVerifier: jose.New(jose.Config{Now: clock.Now, Logger: opts.Logger}),
		Functions:     webhook.New(webhook.Config{Now: clock.Now, Logger: opts.Logger})})
	if err != nil {
		t.Fatalf("service: %v", err)
	}
	t.Cleanup(func() { svc.Close() })
	app, _, err := svc.EnsureApp(ctx, opts.AppID)
	if err != nil {
		t.Fatalf("app: %v", err)
	}
	api := APIConfig(svc)
	api.PublicURL, api.Now, api.Observer, api.Health, api.Logger = url, clock.Now, opts.Observer, svc, opts.Logger
	api.TrustedProxies, api.WriteTimeout = opts.TrustedProxies, opts.WriteTimeout
	pages := UIConfig(svc)
	pages.Now = clock.Now
	api.UI = ui.New(pages)
	srv := &http.Server{
		Handler:           httpapi.New(api),
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      opts.WriteTimeout,
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &Server{URL: url, AppID: app.ClientAppID, App: app, Service: svc, Store: store, Mailer: mailer, Clock: clock}
}

// APIConfig returns the configuration of an API handler with every service of svc, for tests
// that build a handler of their own; the other settings are left zero.
func APIConfig(svc *service.Service) httpapi.Config {
	return httpapi.Config{
		Apps: svc.Apps, Auth: svc.Auth, Userpass: svc.Userpass, APIKeys: svc.APIKeys, Leaks: svc.Leaks,
		Admins: svc.Admins, Users: svc.Users, ServerKeys: svc.ServerKeys, Audit: svc.Audit, SigningKeys: svc.SigningKeys, Verify: svc.Verify,
		Providers: svc.Providers,
	}
}

// UIConfig returns the configuration of the pages with every service of svc that they use.
func UIConfig(svc *service.Service) ui.Config {
	return ui.Config{
		Apps: svc.Apps, Auth: svc.Auth, Userpass: svc.Userpass, APIKeys: svc.APIKeys, Admins: svc.Admins,
		Users: svc.Users, ServerKeys: svc.ServerKeys, Audit: svc.Audit, WebSessions: svc.WebSessions, Verify: svc.Verify,
		Providers: svc.Providers,
	}
}

// SigningKeys returns the store's signing keys with their material decrypted, for tests that
// forge tokens with the server's own keys.
func (s *Server) SigningKeys(t testing.TB) []*latchkey.SigningKey {
	t.Helper()
	keys, err := s.Store.FindSigningKeys(context.Background())
	if err != nil {
		t.Fatalf("signing keys: %v", err)
	}
	for _, k := range keys {
		if k.PrivateKey, err = service.OpenSigningKey(SecretKey, k); err != nil {
			t.Fatalf("signing keys: %v", err)
		}
	}
	return keys
}

// CreateApp creates another app with the quickstart settings, changed by edit if not nil.
func (s *Server) CreateApp(t testing.TB, clientAppID string, edit func(*latchkey.App)) *latchkey.App {
	t.Helper()
	app := service.NewDefaultApp(clientAppID)
	if edit != nil {
		edit(app)
	}
	if err := s.Service.BootstrapApp(context.Background(), app); err != nil {
		t.Fatalf("create app: %v", err)
	}
	return app
}

// Clock is the server's clock: real time plus an offset that tests can advance, or, once
// frozen, a fixed time plus that offset.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
	frozen *time.Time
}

// Now returns the shifted time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.frozen != nil {
		return c.frozen.Add(c.offset)
	}
	return time.Now().Add(c.offset)
}

// Freeze stops the clock at the current time, for tests whose outcome depends on exactly how
// much time passed (a rate limit's wait); Advance still moves it.
func (c *Clock) Freeze() {
	c.mu.Lock()
	now := time.Now()
	c.frozen = &now
	c.mu.Unlock()
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Message is one message the server asked to send.
type Message struct {
	Kind    string // latchkey.UserTokenConfirm or latchkey.UserTokenReset
	App     string
	Email   string
	Token   string
	TokenID string
}

// Mailer records messages instead of sending them: Latchkey has no mail delivery yet, and
// tests need the tokens the messages would carry.
type Mailer struct {
	mu       sync.Mutex
	messages []Message
}

// SendConfirmation records a confirmation message.
func (m *Mailer) SendConfirmation(ctx context.Context, app *latchkey.App, email, token, tokenID string) error {
	m.record(Message{latchkey.UserTokenConfirm, app.ClientAppID, email, token, tokenID})
	return nil
}

// SendPasswordReset records a reset message.
func (m *Mailer) SendPasswordReset(ctx context.Context, app *latchkey.App, email, token, tokenID string) error {
	m.record(Message{latchkey.UserTokenReset, app.ClientAppID, email, token, tokenID})
	return nil
}

func (m *Mailer) record(msg Message) {
	m.mu.Lock()
	m.messages = append(m.messages, msg)
	m.mu.Unlock()
}

// Count returns how many messages were sent to email.
func (m *Mailer) Count(email string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, msg := range m.messages {
		if msg.Email == email {
			n++
		}
	}
	return n
}

// Last returns the last message sent to email, and whether there was one.
func (m *Mailer) Last(email string) (Message, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.messages) - 1; i >= 0; i-- {
		if m.messages[i].Email == email {
			return m.messages[i], true
		}
	}
	return Message{}, false
}
