package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/metrics"
	"github.com/latchkey/latchkey/smtp"
)

// opsRuntime is what serve runs beside the API: metrics and email delivery.
type opsRuntime struct {
	metrics    *metrics.Metrics // nil when --metrics-addr is off
	mailer     *smtp.Mailer     // nil without --smtp-host
	metricsSrv *http.Server     // the metrics listener's server, nil when off
	metricsLn  net.Listener
}

// startOps creates the metrics and the mailer, and listens on the metrics address. Metrics
// are never served on the main listener: whoever reaches the API would read them.
func (c *ServeCommand) startOps(logger *slog.Logger, store latchkey.Store, publicURL string) (*opsRuntime, error) {
	r := &opsRuntime{}
	if c.Ops.MetricsAddr != metricsOff {
		r.metrics = metrics.New()
		if ps, ok := store.(latchkey.PoolStatser); ok {
			r.metrics.WatchPools(ps)
		}
		ln, err := net.Listen("tcp", c.Ops.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("metrics-addr: listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", r.metrics.Handler())
		r.metricsLn = ln
		r.metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	}
	if c.Ops.SMTPHost != "" {
		cfg := c.mailConfig(publicURL)
		cfg.Logger, cfg.Observer = logger, r.observer()
		m, err := smtp.New(cfg)
		if err != nil {
			r.close(context.Background())
			return nil, fmt.Errorf("invalid configuration: %w", err)
		}
		r.mailer = m
	}
	return r, nil
}

// mailConfig is the mailer's configuration from the settings.
func (c *ServeCommand) mailConfig(publicURL string) smtp.Config {
	o := &c.Ops
	apps := map[string]smtp.AppConfig{}
	for app, ac := range o.MailApps {
		apps[app] = smtp.AppConfig{ConfirmURL: ac.ConfirmURL, ResetURL: ac.ResetURL}
	}
	return smtp.Config{
		Host: o.SMTPHost, Port: o.SMTPPort, Security: o.SMTPSecurity,
		Username: o.SMTPUsername, Password: o.SMTPPassword, From: o.MailFrom, Timeout: o.SMTPTimeout,
		PublicURL: publicURL, ConfirmURL: o.MailConfirmURL, ResetURL: o.MailResetURL, Apps: apps,
		TemplateDir: o.MailTemplates, ConfirmLifetime: o.ConfirmLifetime, ResetLifetime: o.ResetLifetime,
	}
}

// observer is where measurements go; without metrics, nowhere.
func (r *opsRuntime) observer() latchkey.Observer {
	if r.metrics == nil {
		return latchkey.NopObserver{}
	}
	return r.metrics
}

// sender is the service's mailer: nil, so that the service says it sends nothing, without
// --smtp-host.
func (r *opsRuntime) sender() latchkey.Mailer {
	if r.mailer == nil {
		return nil
	}
	return r.mailer
}

// serve serves the metrics listener, if any, until close.
func (r *opsRuntime) serve(stdout io.Writer, logger *slog.Logger) {
	if r.metricsSrv == nil {
		return
	}
	fmt.Fprintf(stdout, "Metrics on http://%s/metrics\n", r.metricsLn.Addr())
	logger.Info("serving metrics", "addr", r.metricsLn.Addr().String())
	go func() {
		if err := r.metricsSrv.Serve(r.metricsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics listener", "err", err)
		}
	}()
}

// close stops the metrics listener and delivers the queued email, each within ctx.
func (r *opsRuntime) close(ctx context.Context) {
	if r.metricsSrv != nil {
		r.metricsSrv.Shutdown(ctx)
	} else if r.metricsLn != nil {
		r.metricsLn.Close()
	}
	if r.mailer != nil {
		r.mailer.Close(ctx)
	}
}
