package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/latchkey/latchkey/service"
)

// This file holds serve's settings beyond the basics: the config file and its precedence,
// --print-config, the log format, metrics and email delivery. Precedence, highest first:
// command-line flags, LATCHKEY_* environment variables, the config file, defaults.

// opsConfig are the settings that this file adds to serve.
type opsConfig struct {
	ConfigFile  string
	PrintConfig bool
	LogFormat   string
	MetricsAddr string

	SMTPHost         string
	SMTPPort         int
	SMTPSecurity     string
	SMTPUsername     string
	SMTPPasswordFile string
	SMTPTimeout      time.Duration
	MailFrom         string
	MailConfirmURL   string
	MailResetURL     string
	MailTemplates    string
	ConfirmLifetime  time.Duration
	ResetLifetime    time.Duration
	MailCooldown     time.Duration
	MailPerHour      int

	// SMTPPassword comes from LATCHKEY_SMTP_PASSWORD or the password file, never a flag.
	SMTPPassword string
	// MailApps are per-app link settings, from the config file's [mail.apps.<client app id>].
	MailApps map[string]mailAppConfig

	// sources says where each flag's value came from, for --print-config.
	sources map[string]string
}

type mailAppConfig struct {
	ConfirmURL string
	ResetURL   string
}

// Names of settings read from the environment only, so that they never show in a process
// listing or a config file.
const (
	envSMTPPassword  = "LATCHKEY_SMTP_PASSWORD"
	envAdminEmail    = "LATCHKEY_ADMIN_EMAIL"
	envAdminPassword = "LATCHKEY_ADMIN_PASSWORD"
)

// metricsOff is the --metrics-addr value that serves no metrics, and its default: metrics are
// an operator's choice, on an address the operator picks, never the public listener.
const metricsOff = "off"

func (c *opsConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.ConfigFile, "config", "", "TOML config file; flags and LATCHKEY_* variables override it (LATCHKEY_CONFIG)")
	fs.BoolVar(&c.PrintConfig, "print-config", false, "print the effective configuration, secrets redacted, and exit")
	fs.StringVar(&c.LogFormat, "log-format", "json", "json or text (LATCHKEY_LOG_FORMAT)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", metricsOff, "serve /metrics on a listener of its own at this address, e.g. 127.0.0.1:9100; 'off' serves none. Never on the main listener (LATCHKEY_METRICS_ADDR)")
	fs.StringVar(&c.SMTPHost, "smtp-host", "", "SMTP server for confirmation and reset emails; empty sends none (LATCHKEY_SMTP_HOST)")
	fs.IntVar(&c.SMTPPort, "smtp-port", 0, "SMTP port; default 587 for starttls, 465 for tls, 25 for none (LATCHKEY_SMTP_PORT)")
	fs.StringVar(&c.SMTPSecurity, "smtp-security", "starttls", "starttls, tls (implicit TLS) or none (LATCHKEY_SMTP_SECURITY)")
	fs.StringVar(&c.SMTPUsername, "smtp-username", "", "SMTP AUTH user; the password is LATCHKEY_SMTP_PASSWORD or --smtp-password-file (LATCHKEY_SMTP_USERNAME)")
	fs.StringVar(&c.SMTPPasswordFile, "smtp-password-file", "", "file whose first line is the SMTP password (LATCHKEY_SMTP_PASSWORD_FILE)")
	fs.DurationVar(&c.SMTPTimeout, "smtp-timeout", 10*time.Second, "bound on one delivery attempt (LATCHKEY_SMTP_TIMEOUT)")
	fs.StringVar(&c.MailFrom, "mail-from", "", "sender of emails, e.g. 'Shop <no-reply@shop.example.com>' (LATCHKEY_MAIL_FROM)")
	fs.StringVar(&c.MailConfirmURL, "mail-confirm-url", "", "where confirmation links lead instead of Latchkey's page (LATCHKEY_MAIL_CONFIRM_URL)")
	fs.StringVar(&c.MailResetURL, "mail-reset-url", "", "where reset links lead instead of Latchkey's page (LATCHKEY_MAIL_RESET_URL)")
	fs.StringVar(&c.MailTemplates, "mail-templates", "", "directory of templates replacing the built-in ones (LATCHKEY_MAIL_TEMPLATES)")
	fs.DurationVar(&c.ConfirmLifetime, "confirm-token-lifetime", 24*time.Hour, "lifetime of email confirmation links (LATCHKEY_CONFIRM_TOKEN_LIFETIME)")
	fs.DurationVar(&c.ResetLifetime, "reset-token-lifetime", 30*time.Minute, "lifetime of password reset links (LATCHKEY_RESET_TOKEN_LIFETIME)")
	fs.DurationVar(&c.MailCooldown, "mail-cooldown", service.DefaultMailLimits().Cooldown, "least time between two confirmation or reset emails to one address; 0 for none (LATCHKEY_MAIL_COOLDOWN)")
	fs.IntVar(&c.MailPerHour, "mail-per-hour", service.DefaultMailLimits().PerHour, "most confirmation, and most reset, emails to one address in an hour; 0 for no cap (LATCHKEY_MAIL_PER_HOUR)")
}

// parse reads the flags, then the environment, then the config file, each setting only what
// the ones before it left unset.
func (c *opsConfig) parse(fs *flag.FlagSet, args []string, rename map[string]string) error {
	rename = maps.Clone(rename)
	rename["print-config"] = "" // what one call does: never from the environment
	c.sources = map[string]string{}
	if err := parseCommandLine(fs, args); err != nil {
		return err
	}
	if err := checkNoArgs(fs); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) { c.sources[f.Name] = "flag" })
	if err := parseFlags(fs, nil, rename); err != nil {
		return err
	}
	fs.Visit(func(f *flag.Flag) {
		if c.sources[f.Name] == "" {
			c.sources[f.Name] = envName(f.Name, rename)
		}
	})
	if c.ConfigFile != "" {
		if err := c.loadFile(fs, c.ConfigFile); err != nil {
			return err
		}
	}
	c.SMTPPassword = os.Getenv(envSMTPPassword)
	return nil
}

func envName(flagName string, rename map[string]string) string {
	if name, ok := rename[flagName]; ok {
		return name
	}
	return "LATCHKEY_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// loadFile sets, from a TOML file, each flag that flags and variables left unset. A key is a
// flag's name; tables prefix their keys, so [smtp] host = "…" is smtp-host, and '_' may stand
// for '-'. [mail.apps.<client app id>] holds confirm-url and reset-url. An unknown key is an
// error naming it.
func (c *opsConfig) loadFile(fs *flag.FlagSet, path string) error {
	var raw map[string]any
	if _, err := toml.DecodeFile(path, &raw); err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	settings := map[string]any{}
	if err := c.flatten(raw, "", settings); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	for _, key := range slices.Sorted(maps.Keys(settings)) {
		name := strings.ReplaceAll(key, ".", "-")
		f := fs.Lookup(name)
		if f == nil || name == "config" || name == "print-config" {
			hint := ""
			if name == "smtp-password" || name == "admin-password" || name == "admin-email" || name == "secret-key" {
				hint = " (secrets come from the environment, or smtp.password-file and secret-key-file)"
			}
			return fmt.Errorf("config file %s: unknown setting %s%s", path, key, hint)
		}
		var value, written string
		switch v := settings[key].(type) {
		case string:
			value, written = v, strconv.Quote(v)
		case int64, bool:
			value = fmt.Sprint(v)
			written = value
		default:
			return fmt.Errorf("config file %s: %s: want a string, an integer or a boolean", path, key)
		}
		if c.sources[name] != "" {
			continue // a flag or a variable set it
		}
		if err := fs.Set(name, value); err != nil {
			return badValue(fs, f, fmt.Sprintf("%s: %s = %s", path, key, written), err)
		}
		c.sources[name] = "file"
	}
	return nil
}

// flatten turns nested tables into dotted keys, and takes [mail.apps.*] apart.
func (c *opsConfig) flatten(table map[string]any, prefix string, out map[string]any) error {
	for k, v := range table {
		key := prefix + strings.ReplaceAll(k, "_", "-")
		if key == "mail.apps" {
			if err := c.loadMailApps(v); err != nil {
				return err
			}
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			if err := c.flatten(sub, key+".", out); err != nil {
				return err
			}
			continue
		}
		out[key] = v
	}
	return nil
}

func (c *opsConfig) loadMailApps(v any) error {
	apps, ok := v.(map[string]any)
	if !ok {
		return errors.New("mail.apps: want a table of apps")
	}
	c.MailApps = map[string]mailAppConfig{}
	for app, v := range apps {
		settings, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("mail.apps.%s: want a table", app)
		}
		var ac mailAppConfig
		for k, v := range settings {
			s, ok := v.(string)
			switch strings.ReplaceAll(k, "_", "-") {
			case "confirm-url":
				ac.ConfirmURL = s
			case "reset-url":
				ac.ResetURL = s
			default:
				return fmt.Errorf("unknown setting mail.apps.%s.%s", app, k)
			}
			if !ok {
				return fmt.Errorf("mail.apps.%s.%s: want a string", app, k)
			}
		}
		c.MailApps[app] = ac
	}
	return nil
}

// validate checks the settings that parsing cannot, naming the first one that is wrong.
func (c *ServeCommand) validate() error {
	o := &c.Ops
	var l slog.Level
	if err := l.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return fmt.Errorf("log-level: log level %q is not debug, info, warn or error", c.LogLevel)
	}
	if o.LogFormat != "json" && o.LogFormat != "text" {
		return fmt.Errorf("log-format %q: want json or text", o.LogFormat)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return fmt.Errorf("addr %q: %v", c.Addr, err)
	}
	if o.MetricsAddr != metricsOff {
		// Empty once meant /metrics on the main listener, which publishes them with the API:
		// refused rather than quietly turned off, so that a scraper's target is not lost unseen.
		if o.MetricsAddr == "" {
			return errors.New("metrics-addr is empty: /metrics is no longer served on the main listener; set a host:port of its own, e.g. 127.0.0.1:9100, or off")
		}
		_, port, err := net.SplitHostPort(o.MetricsAddr)
		if err != nil {
			return fmt.Errorf("metrics-addr %q: want host:port, or off: %v", o.MetricsAddr, err)
		}
		if o.MetricsAddr == c.Addr && port != "0" {
			return fmt.Errorf("metrics-addr %q: the same as addr; metrics need a listener of their own", o.MetricsAddr)
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("public-url %q: want an absolute http or https URL", c.PublicURL)
		}
	}
	if c.DB.MaxConns < 0 {
		return fmt.Errorf("db-max-conns %d: want 0 (the URL's pool_max_conns, else 10) or more", c.DB.MaxConns)
	}
	for name, d := range map[string]time.Duration{"db-statement-timeout": c.DB.StatementTimeout,
		"db-max-conn-lifetime": c.DB.MaxConnLifetime, "db-max-conn-idle-time": c.DB.MaxConnIdleTime,
		"db-connect-timeout": c.DB.ConnectTimeout} {
		if d < 0 {
			return fmt.Errorf("%s %v: want 0 or more", name, d)
		}
	}
	if c.DB.AcquireTimeout <= 0 {
		return fmt.Errorf("db-acquire-timeout %v: want more than 0", c.DB.AcquireTimeout)
	}
	if c.AuditRetention < 0 {
		return fmt.Errorf("audit-retention %v: want 0 (forever) or more", c.AuditRetention)
	}
	if c.AuditMaxEvents < 0 {
		return fmt.Errorf("audit-max-events %d: want 0 (no bound) or more", c.AuditMaxEvents)
	}
	if o.ConfirmLifetime <= 0 || o.ResetLifetime <= 0 {
		return errors.New("confirm-token-lifetime and reset-token-lifetime: want more than 0")
	}
	if o.MailCooldown < 0 || o.MailPerHour < 0 {
		return errors.New("mail-cooldown and mail-per-hour: want 0 (no limit) or more")
	}
	if o.SMTPTimeout <= 0 {
		return fmt.Errorf("smtp-timeout %v: want more than 0", o.SMTPTimeout)
	}
	if o.SMTPPasswordFile != "" && o.SMTPPassword != "" {
		return fmt.Errorf("smtp-password-file and %s are both set: keep one", envSMTPPassword)
	}
	if o.SMTPPasswordFile != "" {
		b, err := os.ReadFile(o.SMTPPasswordFile)
		if err != nil {
			return fmt.Errorf("smtp-password-file: %v", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		o.SMTPPassword = strings.TrimRight(line, "\r")
	}
	if o.SMTPHost == "" {
		for name, v := range map[string]string{"mail-from": o.MailFrom, "smtp-username": o.SMTPUsername, "mail-templates": o.MailTemplates} {
			if v != "" {
				return fmt.Errorf("%s is set but smtp-host is not: set smtp-host to send email", name)
			}
		}
		return nil
	}
	cfg := c.mailConfig("https://latchkey.invalid")
	return cfg.Validate()
}

// printConfig writes the effective configuration as a config file would hold it, each value
// with where it came from, secrets redacted.
func (c *ServeCommand) printConfig(fs *flag.FlagSet, w io.Writer) error {
	o := &c.Ops
	fmt.Fprintln(w, "# Latchkey's effective configuration (latchkey serve --print-config).")
	fmt.Fprintln(w, "# Precedence: flags, then LATCHKEY_* environment variables, then the config file, then defaults.")
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != "print-config" && f.Name != "config" {
			names = append(names, f.Name)
		}
	})
	sort.Strings(names)
	for _, name := range names {
		f := fs.Lookup(name)
		value := f.Value.String()
		if name == "database" {
			value = redactURL(value)
		}
		source := o.sources[name]
		if param := dbURLParams[name]; source == "" && param != "" {
			if v, ok := c.DB.urlParam(param); ok {
				source = "default: the database URL's " + param + "=" + v
			}
		}
		if source == "" {
			source = "default"
		} else if source == "file" {
			source = "file " + o.ConfigFile
		}
		fmt.Fprintf(w, "%s = %s  # %s\n", name, tomlValue(f, value), source)
	}
	fmt.Fprintln(w, "\n# From the environment only:")
	for _, env := range []struct{ setting, name string }{
		{"admin-email", envAdminEmail}, {"admin-password", envAdminPassword}, {"secret-key", envSecretKey}, {"smtp-password", envSMTPPassword},
	} {
		v, set := os.LookupEnv(env.name)
		switch {
		case !set:
			fmt.Fprintf(w, "# %s: not set (%s)\n", env.setting, env.name)
		case env.setting == "admin-email":
			fmt.Fprintf(w, "# %s = %s  (%s)\n", env.setting, strconv.Quote(v), env.name)
		default:
			fmt.Fprintf(w, "# %s = \"[redacted]\"  (%s)\n", env.setting, env.name)
		}
	}
	if o.SMTPPasswordFile != "" {
		fmt.Fprintf(w, "# smtp-password = \"[redacted]\"  (read from %s)\n", o.SMTPPasswordFile)
	}
	for _, app := range slices.Sorted(maps.Keys(o.MailApps)) {
		ac := o.MailApps[app]
		fmt.Fprintf(w, "\n[mail.apps.%s]  # file %s\nconfirm-url = %s\nreset-url = %s\n", strconv.Quote(app), o.ConfigFile, strconv.Quote(ac.ConfirmURL), strconv.Quote(ac.ResetURL))
	}
	return nil
}

// tomlValue writes a flag's value as TOML: numbers and booleans bare, the rest quoted.
func tomlValue(f *flag.Flag, value string) string {
	if isBoolFlag(f) {
		return value
	}
	if _, ok := f.Value.(interface{ Get() any }); ok {
		switch f.Value.(flag.Getter).Get().(type) {
		case int, int64, uint, uint64:
			return value
		}
	}
	return strconv.Quote(value)
}

// redactURL hides a database URL's password, in the user info or in the query.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" {
		return s
	}
	q := u.Query()
	for k := range q {
		if strings.EqualFold(k, "password") {
			q.Set(k, "xxxxx")
		}
	}
	if len(q) > 0 {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// newFormatLogger is newLogger with the --log-format choice.
func newFormatLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	logger, err := newLogger(w, level)
	if err != nil || format != "text" {
		return logger, err
	}
	var l slog.Level
	l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
