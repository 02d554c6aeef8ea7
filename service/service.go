// Package service holds Latchkey's rules: who may do what, key hashing, limits, sessions and
// tokens. It implements the root package's service interfaces over a latchkey.Store; the
// stores hold no policy.
package service

import (
	"cmp"
	"context"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// Config are the dependencies and settings of a Service.
type Config struct {
	Store  latchkey.Store
	Logger *slog.Logger
	Mailer latchkey.Mailer // nil: messages are not sent, and a warning is logged
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Issuer is the "iss" claim of tokens: the public base URL.
	Issuer string
	// MaxConcurrentHashes bounds how many password hashes run at once (each takes about
	// 19 MiB and a core for about 20 ms); zero means one fewer than GOMAXPROCS, at least one,
	// so that a flood of password logins always leaves a core to key logins and tokens.
	MaxConcurrentHashes int
	// PasswordHashMemory is the argon2id memory of new password hashes, in KiB; zero means
	// 19 MiB, OWASP's minimum. Only tests set it, lower, so that their thousands of
	// registrations and logins do not spend minutes hashing. A hash verifies with the
	// parameters it was made with.
	PasswordHashMemory uint32
	// Observer receives audit events for metrics; nil discards them.
	Observer latchkey.Observer
	// ConfirmTokenLifetime and ResetTokenLifetime bound the email/password provider's
	// tokens; zero means 24 hours and 30 minutes.
	ConfirmTokenLifetime, ResetTokenLifetime time.Duration
	// Limits are the brute-force limits of the credential endpoints; nil means
	// DefaultLimits().
	Limits *Limits
	// MailLimits bound the messages one recipient receives; nil means DefaultMailLimits().
	MailLimits *MailLimits
	// SecretKey encrypts the token signing keys in the store (AES-256-GCM under a key
	// derived with HKDF-SHA256); at least MinSecretKeyLen bytes, and the same on every node
	// of one database. Required.
	SecretKey []byte
	// TokenVerifier checks the custom tokens and Google's and Apple's ID tokens of the
	// external providers; nil refuses their logins as unsupported.
	TokenVerifier latchkey.TokenVerifier
	// Functions call the custom-function provider's webhooks; nil refuses its logins as
	// unsupported.
	Functions latchkey.FunctionCaller
}

// core is what every service shares: the store, the clock, the token signer, the password
// hasher, the app cache, the auditor and the limits. The exported services embed it, so that
// a rule written once (an admin's app lookup, an audit record, a rate limit) serves each.
type core struct {
	store   latchkey.Store
	logger  *slog.Logger
	mailer  latchkey.Mailer
	now     func() time.Time
	issuer  string
	hasher  *passwordHasher
	tokens  *tokenSigner
	apps    *appCache
	auditor *auditor
	limits  *limiter
	// lastTouch remembers when this node last wrote each key's last use.
	lastTouch sync.Map
	observer  latchkey.Observer
	// tokenLifetimes are the lifetimes of confirm and reset tokens, by kind.
	tokenLifetimes map[string]time.Duration
	// mailLimit bounds the messages to one recipient.
	mailLimit latchkey.MailLimit
	// verify is this node's state of verify calls.
	verify *verifier
	// externalTokens and functions serve the external providers' logins; nil when not given.
	externalTokens latchkey.TokenVerifier
	functions      latchkey.FunctionCaller
}

// Service carries every service of the root package by its noun, over one shared core, and
// the operations that serve the whole server: start-up (EnsureApp, EnsureAdmin,
// BootstrapApp), the hourly sweeps, readiness and Close.
type Service struct {
	*core

	Auth        *Auth
	Userpass    *Userpass
	APIKeys     *APIKeys
	Leaks       *Leaks
	Apps        *Apps
	Admins      *Admins
	Users       *Users
	ServerKeys  *ServerKeys
	Audit       *Audit
	SigningKeys *SigningKeys
	WebSessions *WebSessions
	Verify      *Verify
	Providers   *AuthProviders
}

// New returns the services over one core and loads (or, on first start, creates) the token signing keys.
func New(ctx context.Context, cfg Config) (*Service, error) {
	s := &core{
		store:  cfg.Store,
		logger: cfg.Logger,
		mailer: cfg.Mailer,
		now:    cfg.Now,
		issuer: cfg.Issuer,

		externalTokens: cfg.TokenVerifier,
		functions:      cfg.Functions,
	}
	if s.observer = cfg.Observer; s.observer == nil {
		s.observer = latchkey.NopObserver{}
	}
	s.tokenLifetimes = map[string]time.Duration{
		latchkey.UserTokenConfirm: cmp.Or(cfg.ConfirmTokenLifetime, confirmTokenLifetime),
		latchkey.UserTokenReset:   cmp.Or(cfg.ResetTokenLifetime, resetTokenLifetime),
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.mailer == nil {
		s.mailer = unconfiguredMailer{logger: s.logger}
	}
	n := cfg.MaxConcurrentHashes
	if n <= 0 {
		n = max(1, runtime.GOMAXPROCS(0)-1)
	}
	s.hasher = newPasswordHasher(n, cfg.PasswordHashMemory)
	s.apps = newAppCache()
	limits := DefaultLimits()
	if cfg.Limits != nil {
		limits = *cfg.Limits
	}
	s.limits = newLimiter(limits)
	mailLimits := DefaultMailLimits()
	if cfg.MailLimits != nil {
		mailLimits = *cfg.MailLimits
	}
	s.mailLimit = mailLimits.limit()
	tokens, err := newTokenSigner(ctx, cfg.Store, cfg.SecretKey, s.now)
	if err != nil {
		return nil, err
	}
	s.tokens = tokens
	s.auditor = newAuditor(cfg.Store, s.logger)
	s.verify = newVerifier(cfg.Store, s)
	// The services write through the store that keeps the key cache true on this node.
	s.store = cachedStore{Store: cfg.Store, keys: s.verify.keys}
	return &Service{
		core:        s,
		Auth:        &Auth{s},
		Userpass:    &Userpass{s},
		APIKeys:     &APIKeys{s},
		Leaks:       &Leaks{s},
		Apps:        &Apps{s},
		Admins:      &Admins{s},
		Users:       &Users{s},
		ServerKeys:  &ServerKeys{s},
		Audit:       &Audit{s},
		SigningKeys: &SigningKeys{s},
		WebSessions: &WebSessions{s},
		Verify:      &Verify{s},
		Providers:   &AuthProviders{s},
	}, nil
}

// Close writes the audit events still queued, waiting up to 10 s for a database that is away.
// Call it before closing the store.
func (s *Service) Close() error {
	s.verify.close()
	s.auditor.close()
	return nil
}

// DeleteExpiredSessions removes sessions whose refresh tokens have expired.
func (s *Service) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	return s.store.DeleteExpiredSessions(ctx, s.now())
}

// unconfiguredMailer stands in until email delivery is configured: it says that a message
// was not sent, and never logs the token.
type unconfiguredMailer struct{ logger *slog.Logger }

func (m unconfiguredMailer) SendConfirmation(ctx context.Context, app *latchkey.App, email, token, tokenID string) error {
	m.logger.WarnContext(ctx, "email delivery is not configured: confirmation message not sent", "app", app.ClientAppID)
	return nil
}

func (m unconfiguredMailer) SendPasswordReset(ctx context.Context, app *latchkey.App, email, token, tokenID string) error {
	m.logger.WarnContext(ctx, "email delivery is not configured: password reset message not sent", "app", app.ClientAppID)
	return nil
}
