// Package metrics exports Latchkey's measurements in the Prometheus format, with
// prometheus/client_golang. Metrics implements latchkey.Observer; cmd/latchkey hands it to
// the service (events), the HTTP server (requests) and the mailer (messages), and serves
// Handler at /metrics.
//
// Label values come from small fixed sets: route patterns, provider names, outcomes, status
// codes. Anything else is folded into "other", so that no id, email or key can become a
// label and no caller can grow the number of series.
package metrics

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

var _ latchkey.Observer = (*Metrics)(nil)

// Metrics holds Latchkey's collectors in a registry of its own.
type Metrics struct {
	reg         *prometheus.Registry
	requests    *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	logins      *prometheus.CounterVec
	keys        *prometheus.CounterVec
	rateLimited *prometheus.CounterVec
	mail        *prometheus.CounterVec
	verify      *prometheus.CounterVec
}

// verifyCodes are the answers of a verify call.
var verifyCodes = []string{latchkey.VerifyValid, latchkey.VerifyNotFound, latchkey.VerifyDisabled, latchkey.VerifyExpired,
	latchkey.VerifyUserDisabled, latchkey.VerifyInsufficientScopes, latchkey.VerifyUsageExceeded, latchkey.VerifyRateLimited}

// unmatched is the route label of requests that matched no route.
const unmatched = "unmatched"

// other is the label value that stands for any value outside a label's known set.
const other = "other"

// New returns Metrics with the Go runtime and process collectors registered.
func New() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "latchkey_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern and status code.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route", "status"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_logins_total",
			Help: "App user logins, by provider and outcome (success or failure).",
		}, []string{"provider", "outcome"}),
		keys: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_api_keys_total",
			Help: "API key changes that succeeded, by kind (user or server) and action.",
		}, []string{"kind", "action"}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_rate_limited_total",
			Help: "Requests refused by a rate limit, by limit.",
		}, []string{"limit"}),
		mail: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_mail_messages_total",
			Help: "Email messages, by kind (confirm or reset) and outcome (sent, retried, failed, dropped, suppressed).",
		}, []string{"kind", "outcome"}),
		verify: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_api_key_verifications_total",
			Help: "Verify calls of apps' backends, by answer code (VALID, NOT_FOUND, DISABLED, EXPIRED, USER_DISABLED, INSUFFICIENT_SCOPES, USAGE_EXCEEDED, RATE_LIMITED).",
		}, []string{"code"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.logins, m.keys, m.rateLimited, m.mail, m.verify,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	// Series that exist from the start, so that rates over them work before the first event.
	for _, p := range providers {
		for _, o := range []string{latchkey.OutcomeSuccess, latchkey.OutcomeFailure} {
			m.logins.WithLabelValues(p, o)
		}
	}
	for _, ka := range keyActions {
		m.keys.WithLabelValues(ka.kind, ka.action)
	}
	for _, c := range verifyCodes {
		m.verify.WithLabelValues(c)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format (or OpenMetrics when asked).
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}

// Registry is where the collectors are registered, for adding more.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// ObserveRequest counts a request and its latency under its route pattern.
func (m *Metrics) ObserveRequest(route string, status int, d time.Duration) {
	// A pattern is "METHOD /path"; anything else (none, or a redirect target) is not one.
	if method, path, ok := strings.Cut(route, " "); !ok || method == "" || !strings.HasPrefix(path, "/") {
		route = unmatched
	}
	if status == 0 {
		status = http.StatusOK // a handler that wrote nothing answered 200
	}
	code := other
	if status >= 100 && status <= 599 {
		code = strconv.Itoa(status)
	}
	m.requests.WithLabelValues(route, code).Inc()
	m.duration.WithLabelValues(route, code).Observe(d.Seconds())
}

var providers = slices.Concat(latchkey.BuiltinProviders, latchkey.ExternalProviders)

type keyAction struct{ kind, action string }

// keyActions are the audit events counted as key changes.
var keyActions = map[string]keyAction{
	latchkey.EventAPIKeyCreated:     {"user", "created"},
	latchkey.EventAPIKeyDisabled:    {"user", "disabled"},
	latchkey.EventAPIKeyEnabled:     {"user", "enabled"},
	latchkey.EventAPIKeyDeleted:     {"user", "deleted"},
	latchkey.EventAPIKeyRotated:     {"user", "rotated"},
	latchkey.EventAPIKeyLeaked:      {"user", "leaked"},
	latchkey.EventServerKeyCreated:  {"server", "created"},
	latchkey.EventServerKeyDisabled: {"server", "disabled"},
	latchkey.EventServerKeyEnabled:  {"server", "enabled"},
	latchkey.EventServerKeyDeleted:  {"server", "deleted"},
}

// ObserveEvent counts logins by provider and outcome, and key changes that succeeded.
func (m *Metrics) ObserveEvent(e *latchkey.AuditEvent) {
	switch {
	case e.Event == latchkey.EventLogin:
		m.logins.WithLabelValues(oneOf(e.Details["provider"], providers...), oneOf(e.Outcome, latchkey.OutcomeSuccess, latchkey.OutcomeFailure)).Inc()
	case e.Outcome == latchkey.OutcomeSuccess:
		if ka, ok := keyActions[e.Event]; ok {
			m.keys.WithLabelValues(ka.kind, ka.action).Inc()
		}
	}
}

// ObserveMail counts what became of a message.
func (m *Metrics) ObserveMail(kind, outcome string) {
	m.mail.WithLabelValues(oneOf(kind, latchkey.UserTokenConfirm, latchkey.UserTokenReset),
		oneOf(outcome, latchkey.MailSent, latchkey.MailRetried, latchkey.MailFailed, latchkey.MailDropped, latchkey.MailSuppressed)).Inc()
}

// ObserveRateLimited counts a request refused by the named limit.
func (m *Metrics) ObserveRateLimited(limit string) {
	if len(limit) > 64 {
		limit = other
	}
	m.rateLimited.WithLabelValues(limit).Inc()
}

// ObserveVerify counts a verify call's answer.
func (m *Metrics) ObserveVerify(code string) {
	m.verify.WithLabelValues(oneOf(code, verifyCodes...)).Inc()
}

// WatchPasswordHashes exports the password hash queue: how many hashes wait for a slot and
// how many run, read from queue at each scrape.
func (m *Metrics) WatchPasswordHashes(queue func() (waiting, running int)) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "latchkey_password_hash_queue_depth",
			Help: "Password hashes waiting for one of the bounded hashing slots.",
		}, func() float64 { w, _ := queue(); return float64(w) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "latchkey_password_hashes_running",
			Help: "Password hashes running now.",
		}, func() float64 { _, r := queue(); return float64(r) }),
	)
}

// WatchAudit exports the audit writer's backlog: events waiting for the database, and events
// dropped in all (past the bound on waiting events, or at a shutdown the database did not
// come back for).
func (m *Metrics) WatchAudit(backlog func() (pending int, dropped int64)) {
	m.reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "latchkey_audit_events_pending",
			Help: "Audit events waiting to be written, e.g. while the database is away.",
		}, func() float64 { p, _ := backlog(); return float64(p) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "latchkey_audit_events_dropped_total",
			Help: "Audit events dropped because too many waited for the database, or at shutdown.",
		}, func() float64 { _, d := backlog(); return float64(d) }),
	)
}

// WatchPools exports the store's connection pool statistics, read at each scrape.
func (m *Metrics) WatchPools(store latchkey.PoolStatser) {
	m.reg.MustRegister(&poolCollector{store: store})
}

func oneOf(v string, known ...string) string {
	for _, k := range known {
		if v == k {
			return v
		}
	}
	return other
}
