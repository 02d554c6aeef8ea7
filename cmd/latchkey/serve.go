package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/latchkey/latchkey/httpapi"
	"github.com/latchkey/latchkey/jose"
	"github.com/latchkey/latchkey/service"
	"github.com/latchkey/latchkey/ui"
	"github.com/latchkey/latchkey/webhook"
)

// ServeCommand runs the server until its context ends, then shuts down gracefully.
type ServeCommand struct {
	Stdout, Stderr io.Writer

	Addr      string
	DB        dbConfig
	PublicURL string
	AppID     string
	LogLevel  string
	// AuditRetention is how long audit events are kept; zero keeps them forever.
	AuditRetention time.Duration
	// AuditMaxEvents bounds the audit log's rows; the oldest beyond it go. Zero: no bound.
	AuditMaxEvents int64
	// Ops are the config file, log format, metrics and email settings (config.go).
	Ops   opsConfig
	flags *flag.FlagSet
	// PprofAddr, when set, serves Go's profiles there (pprof.go).
	PprofAddr string
	Limits    limitsConfig
	TLS       tlsConfig
}

func (c *ServeCommand) parse(args []string) error {
	fs := newFlagSet("latchkey serve", "latchkey serve [flags]",
		"Runs the server until it gets SIGINT or SIGTERM. Every flag may also be set by the\n"+
			"LATCHKEY_* variable named after it, or in the --config file; flags win, then variables.", c.Stderr)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:9090", "listen address (LATCHKEY_ADDR)")
	c.DB.register(fs)
	c.DB.registerSecret(fs)
	fs.StringVar(&c.PublicURL, "public-url", "", "base URL clients reach the server at; default http://<addr> (LATCHKEY_PUBLIC_URL)")
	fs.StringVar(&c.AppID, "app-id", "", "client app id to create with the quickstart settings if it does not exist, and to print at start; every app is served (LATCHKEY_APP_ID)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error (LATCHKEY_LOG_LEVEL)")
	fs.DurationVar(&c.AuditRetention, "audit-retention", 90*24*time.Hour, "how long audit events are kept; 0 keeps them forever (LATCHKEY_AUDIT_RETENTION)")
	fs.Int64Var(&c.AuditMaxEvents, "audit-max-events", 1_000_000, "most audit events kept; the oldest beyond it are deleted hourly; 0 keeps any number (LATCHKEY_AUDIT_MAX_EVENTS)")
	c.Ops.register(fs)
	c.Limits.register(fs)
	c.TLS.register(fs)
	fs.StringVar(&c.PprofAddr, "pprof-addr", "", "serve Go's profiles (/debug/pprof/) at this address, e.g. 127.0.0.1:6060; off by default (LATCHKEY_PPROF_ADDR)")
	c.flags = fs
	if err := c.Ops.parse(fs, args, dbEnv); err != nil {
		return err
	}
	if err := c.TLS.validate(); err != nil {
		return err
	}
	return c.Limits.validate()
}

// Run serves until ctx is done.
func (c *ServeCommand) Run(ctx context.Context, args []string) error {
	if err := c.parse(args); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	if c.Ops.PrintConfig {
		return c.printConfig(c.flags, c.Stdout)
	}
	logger, err := newFormatLogger(c.Stderr, c.LogLevel, c.Ops.LogFormat)
	if err != nil {
		return err
	}

	lock, err := c.DB.lockDataDir()
	if err != nil {
		return err
	}
	defer lock.release() // after the store's Close, deferred below
	store, secretKey, err := c.DB.openWithKey(ctx, logger)
	if err != nil {
		return err
	}
	defer store.Close()

	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	defer ln.Close()
	publicURL := strings.TrimRight(c.PublicURL, "/")
	if publicURL == "" {
		publicURL = c.TLS.scheme() + "://" + ln.Addr().String()
	}

	ops, err := c.startOps(logger, store, publicURL)
	if err != nil {
		return err
	}
	// Runs after the HTTP server's shutdown: requests in flight queue their email first.
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		ops.close(closeCtx)
	}()

	hashes, procs := c.Limits.schedulePasswordHashes()
	svc, err := service.New(ctx, service.Config{Store: store, Logger: logger, Issuer: publicURL,
		Mailer: ops.sender(), Observer: ops.observer(), Limits: c.Limits.service(), MaxConcurrentHashes: hashes,
		ConfirmTokenLifetime: c.Ops.ConfirmLifetime, ResetTokenLifetime: c.Ops.ResetLifetime, SecretKey: secretKey,
		MailLimits:    &service.MailLimits{Cooldown: c.Ops.MailCooldown, PerHour: c.Ops.MailPerHour},
		TokenVerifier: jose.New(jose.Config{Logger: logger}),
		Functions:     webhook.New(webhook.Config{Logger: logger, UserAgent: "Latchkey"})})
	if err != nil {
		return err
	}
	if ops.metrics != nil {
		ops.metrics.WatchPasswordHashes(svc.PasswordHashQueue)
		ops.metrics.WatchAudit(svc.AuditBacklog)
	}
	// Runs before the deferred store.Close: queued audit events are written first.
	defer svc.Close()
	if err := c.bootstrapAdmin(ctx, svc, logger); err != nil {
		return err
	}
	app, created, err := svc.EnsureApp(ctx, c.AppID)
	if err != nil && c.AppID != "" {
		return fmt.Errorf("--app-id %s: %w", shown(c.AppID), err)
	} else if err != nil {
		return fmt.Errorf("app: %w", err)
	}

	srv := c.Limits.httpServer(&http.Server{
		Handler: httpapi.New(httpapi.Config{
			Apps: svc.Apps, Auth: svc.Auth, Userpass: svc.Userpass, APIKeys: svc.APIKeys, Leaks: svc.Leaks,
			Admins: svc.Admins, Users: svc.Users, ServerKeys: svc.ServerKeys, Audit: svc.Audit, SigningKeys: svc.SigningKeys, Verify: svc.Verify, Providers: svc.Providers,
			Logger: logger, PublicURL: publicURL, Observer: ops.observer(), Health: svc,
			TrustedProxies: c.Limits.TrustedProxies, WriteTimeout: c.Limits.WriteTimeout,
			UI: ui.New(ui.Config{
				Apps: svc.Apps, Auth: svc.Auth, Userpass: svc.Userpass, APIKeys: svc.APIKeys, Admins: svc.Admins,
				Users: svc.Users, ServerKeys: svc.ServerKeys, Audit: svc.Audit, WebSessions: svc.WebSessions, Verify: svc.Verify, Providers: svc.Providers,
				Logger: logger, SecureCookies: strings.HasPrefix(publicURL, "https://"),
			}),
		}),
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	})
	if err := c.TLS.load(srv); err != nil {
		return err
	}

	admins, err := store.CountAdmins(ctx)
	if err != nil {
		return fmt.Errorf("count admins: %w", err)
	}
	c.printBanner(publicURL, app.ClientAppID, created, admins == 0)
	logger.Info("listening", "addr", ln.Addr().String(), "public_url", publicURL, "app", app.ClientAppID, "database", c.DB.kind(),
		"password_hashes", hashes, "gomaxprocs", procs)

	go c.sweep(ctx, svc, logger)
	ops.serve(c.Stdout, logger)
	if c.PprofAddr != "" {
		if err := servePprof(ctx, c.PprofAddr, logger); err != nil {
			return err
		}
	}

	errc := make(chan error, 1)
	go func() { errc <- c.TLS.serve(srv, ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}

	// In-flight requests finish; then the deferred Close checkpoints and closes the database.
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// printBanner tells whoever started the server where to go next: the app's id, the console,
// the app's self-service page and, while there is no admin, the command that makes one.
func (c *ServeCommand) printBanner(publicURL, appID string, created, noAdmin bool) {
	what := "serving"
	if created {
		what = "created"
	}
	fmt.Fprintf(c.Stdout, "Latchkey listening on %s\n", publicURL)
	fmt.Fprintf(c.Stdout, "App ID: %s (%s)\n", appID, what)
	if noAdmin {
		where := "--data " + shellQuote(c.DB.DataDir)
		if c.DB.isPostgres() {
			where = `--database "$LATCHKEY_DATABASE_URL"`
		} else if c.DB.Database != "" {
			where = "--database " + shellQuote(c.DB.Database)
		}
		fmt.Fprintf(c.Stdout, "No admin yet. Create one (it asks for a password):\n  latchkey admin create-user --email you@example.com %s\n", where)
	}
	fmt.Fprintf(c.Stdout, "Console: %s/console/\n", publicURL)
	fmt.Fprintf(c.Stdout, "Self-service keys: %s/app/%s/account/\n", publicURL, appID)
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%_+=:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// bootstrapAdmin creates the first admin from LATCHKEY_ADMIN_EMAIL and
// LATCHKEY_ADMIN_PASSWORD when there is no admin yet. The variables are read here rather
// than as flags so that the password never appears in a process listing.
func (c *ServeCommand) bootstrapAdmin(ctx context.Context, svc *service.Service, logger *slog.Logger) error {
	email, password := os.Getenv("LATCHKEY_ADMIN_EMAIL"), os.Getenv("LATCHKEY_ADMIN_PASSWORD")
	if email == "" && password == "" {
		return nil
	}
	if email == "" || password == "" {
		return errors.New("LATCHKEY_ADMIN_EMAIL and LATCHKEY_ADMIN_PASSWORD go together")
	}
	created, err := svc.EnsureAdmin(ctx, email, password)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if created {
		logger.Info("created the first admin", "email", email)
	}
	return nil
}

// sweep deletes expired sessions and web sessions, audit events past their retention or
// beyond the audit log's size bound, and the per-account limits and lockouts with nothing
// left to remember, once an hour.
func (c *ServeCommand) sweep(ctx context.Context, svc *service.Service, logger *slog.Logger) {
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
			c.sweepOnce(ctx, svc, logger)
		}
	}
}

// sweepOnce runs each clean-up once, logging what it deleted and what failed.
func (c *ServeCommand) sweepOnce(ctx context.Context, svc *service.Service, logger *slog.Logger) {
	run := func(what string, level slog.Level, del func() (int64, error), attrs ...any) {
		if n, err := del(); err != nil {
			logger.Warn("delete "+what, "err", err)
		} else if n > 0 {
			logger.Log(ctx, level, "deleted "+what, append([]any{"count", n}, attrs...)...)
		}
	}
	run("expired sessions", slog.LevelInfo, func() (int64, error) { return svc.DeleteExpiredSessions(ctx) })
	run("expired web sessions", slog.LevelInfo, func() (int64, error) { return svc.DeleteExpiredWebSessions(ctx) })
	run("old mail records", slog.LevelInfo, func() (int64, error) { return svc.DeleteOldMailSends(ctx) })
	if c.AuditRetention > 0 {
		run("old audit events", slog.LevelInfo, func() (int64, error) { return svc.DeleteOldAuditEvents(ctx, c.AuditRetention) })
	}
	run("idle rate limits and lockouts", slog.LevelInfo, func() (int64, error) { return svc.DeleteIdleLimits(ctx) })
	run("old key usage counts, rate windows and key changes", slog.LevelInfo, func() (int64, error) { return svc.DeleteOldKeyUsage(ctx) })
	// Reaching the bound means the log holds less than the retention: say so louder.
	run("the oldest audit events beyond audit-max-events", slog.LevelWarn,
		func() (int64, error) { return svc.DeleteExcessAuditEvents(ctx, c.AuditMaxEvents) }, "max", c.AuditMaxEvents)
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}
