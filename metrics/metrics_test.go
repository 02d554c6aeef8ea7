package metrics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/metrics"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// TestScrape runs a flow through a real server, scrapes /metrics and checks the numbers.
func TestScrape(t *testing.T) {
	m := metrics.New()
	srv := testserver.New(t, testserver.Options{Observer: m})
	// Metrics have a listener of their own, as latchkey serve --metrics-addr gives them.
	metricsSrv := httptest.NewServer(m.Handler())
	t.Cleanup(metricsSrv.Close)
	m.WatchPools(srv.Store.(latchkey.PoolStatser))
	m.WatchPasswordHashes(srv.Service.PasswordHashQueue)
	m.WatchAudit(srv.Service.AuditBacklog)

	client := clientPath(srv.URL, srv.AppID)
	call(t, "POST", client("/auth/providers/anon-user/login"), "", nil, 200, nil)
	call(t, "POST", client("/auth/providers/local-userpass/register"), "", map[string]string{"email": "ann@example.com", "password": "s3cretpass"}, 201, nil)
	var login struct {
		RefreshToken string `json:"refresh_token"`
	}
	call(t, "POST", client("/auth/providers/local-userpass/login"), "", map[string]string{"username": "ann@example.com", "password": "s3cretpass"}, 200, &login)
	call(t, "POST", client("/auth/providers/local-userpass/login"), "", map[string]string{"username": "ann@example.com", "password": "wrong pass"}, 401, nil)
	call(t, "POST", client("/auth/providers/local-userpass/login"), "", map[string]string{"username": "bob@example.com", "password": "wrong pass"}, 401, nil)
	var key struct {
		ID  string `json:"_id"`
		Key string `json:"key"`
	}
	call(t, "POST", srv.URL+"/api/client/v2.0/auth/api_keys", login.RefreshToken, map[string]string{"name": "ci"}, 201, &key)
	call(t, "PUT", srv.URL+"/api/client/v2.0/auth/api_keys/"+key.ID+"/disable", login.RefreshToken, nil, 204, nil)
	call(t, "POST", client("/auth/providers/api-key/login"), "", map[string]string{"key": key.Key}, 401, nil)
	call(t, "DELETE", srv.URL+"/api/client/v2.0/auth/api_keys/"+key.ID, login.RefreshToken, nil, 204, nil)
	call(t, "GET", srv.URL+"/no/such/route/ann@example.com", "", nil, 404, nil)

	// Verify calls of a backend, with a server key: one valid, two unknown.
	ctx := context.Background()
	if _, err := srv.Service.Admins.CreateAdmin(ctx, "root@example.com", "rootpassword1"); err != nil {
		t.Fatal(err)
	}
	var admin struct {
		AccessToken string `json:"access_token"`
	}
	call(t, "POST", srv.URL+"/api/admin/v3.0/auth/providers/local-userpass/login", "", map[string]string{"username": "root@example.com", "password": "rootpassword1"}, 200, &admin)
	var serverKey struct {
		Key string `json:"key"`
	}
	call(t, "POST", srv.URL+"/api/admin/v3.0/groups/"+latchkey.GroupID+"/apps/"+srv.AppID+"/api_keys", admin.AccessToken, map[string]string{"name": "backend"}, 201, &serverKey)
	var live struct {
		Key string `json:"key"`
	}
	call(t, "POST", srv.URL+"/api/client/v2.0/auth/api_keys", login.RefreshToken, map[string]string{"name": "live"}, 201, &live)
	for _, value := range []string{live.Key, key.Key, "not a key"} {
		call(t, "POST", client("/auth/api_keys/verify"), serverKey.Key, map[string]string{"key": value}, 200, nil)
	}

	body := scrape(t, metricsSrv.URL)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}

	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"latchkey_logins_total", map[string]string{"provider": "anon-user", "outcome": "success"}, 1},
		{"latchkey_logins_total", map[string]string{"provider": "local-userpass", "outcome": "success"}, 1},
		{"latchkey_logins_total", map[string]string{"provider": "local-userpass", "outcome": "failure"}, 2},
		{"latchkey_logins_total", map[string]string{"provider": "api-key", "outcome": "failure"}, 1},
		{"latchkey_api_keys_total", map[string]string{"kind": "user", "action": "created"}, 2},
		{"latchkey_api_keys_total", map[string]string{"kind": "user", "action": "disabled"}, 1},
		{"latchkey_api_keys_total", map[string]string{"kind": "user", "action": "deleted"}, 1},
		{"latchkey_api_keys_total", map[string]string{"kind": "server", "action": "created"}, 1},
		{"latchkey_http_requests_total", map[string]string{"route": "POST /api/client/v2.0/app/{app}/auth/providers/{provider}/login", "status": "401"}, 3},
		{"latchkey_http_requests_total", map[string]string{"route": "POST /api/client/v2.0/app/{app}/auth/providers/{provider}/login", "status": "200"}, 2},
		{"latchkey_http_requests_total", map[string]string{"route": "DELETE /api/client/v2.0/auth/api_keys/{id}", "status": "204"}, 1},
		{"latchkey_http_requests_total", map[string]string{"route": "unmatched", "status": "404"}, 1},
		{"latchkey_http_request_duration_seconds", map[string]string{"route": "PUT /api/client/v2.0/auth/api_keys/{id}/disable", "status": "204"}, 1},
		{"latchkey_password_hash_queue_depth", nil, 0},
		{"latchkey_audit_events_dropped_total", nil, 0},
		{"latchkey_db_pool_connections", map[string]string{"state": "in_use"}, -1},
		{"latchkey_db_pool_max_connections", nil, -1},
		{"latchkey_rate_limited_total", nil, -2},
		{"latchkey_api_key_verifications_total", map[string]string{"code": "VALID"}, 1},
		{"latchkey_api_key_verifications_total", map[string]string{"code": "NOT_FOUND"}, 2},
		{"latchkey_api_key_verifications_total", map[string]string{"code": "RATE_LIMITED"}, 0},
	} {
		got, ok := value(families[tt.name], tt.labels)
		switch {
		case tt.want == -2: // declared, no series yet
			if families[tt.name] != nil && len(families[tt.name].Metric) > 0 {
				t.Errorf("%s: has series before any refusal", tt.name)
			}
		case !ok:
			t.Errorf("%s%v: no such series", tt.name, tt.labels)
		case tt.want >= 0 && got != tt.want:
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}

	// No label value is an id, an email or a key.
	for _, secret := range []string{"ann@example.com", "bob@example.com", key.ID, key.Key, live.Key, serverKey.Key, login.RefreshToken, srv.AppID} {
		if bytes.Contains(body, []byte(secret)) {
			t.Errorf("/metrics holds %q", secret)
		}
	}
}

// TestLabels checks that values outside the known sets cannot become labels.
func TestLabels(t *testing.T) {
	m := metrics.New()
	m.ObserveRequest("/redirect/target", 0, 0)
	m.ObserveRequest("", 999, 0)
	m.ObserveEvent(&latchkey.AuditEvent{Event: latchkey.EventLogin, Outcome: "success", Details: map[string]string{"provider": "6b08aa@example.com"}})
	m.ObserveEvent(&latchkey.AuditEvent{Event: latchkey.EventLogin, Outcome: "failure", Details: map[string]string{"provider": latchkey.ProviderCustomToken}})
	m.ObserveMail("confirm", "sent")
	m.ObserveMail("reset", "suppressed")
	m.ObserveMail("x@example.com", "whatever")
	m.ObserveRateLimited("login")

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`latchkey_http_requests_total{route="unmatched",status="200"} 1`,
		`latchkey_http_requests_total{route="unmatched",status="other"} 1`,
		`latchkey_logins_total{outcome="success",provider="other"} 1`,
		`latchkey_logins_total{outcome="failure",provider="custom-token"} 1`,
		`latchkey_logins_total{outcome="success",provider="oauth2-apple"} 0`,
		`latchkey_mail_messages_total{kind="confirm",outcome="sent"} 1`,
		`latchkey_mail_messages_total{kind="reset",outcome="suppressed"} 1`,
		`latchkey_mail_messages_total{kind="other",outcome="other"} 1`,
		`latchkey_rate_limited_total{limit="login"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "example.com") || strings.Contains(body, "/redirect/target") {
		t.Errorf("/metrics holds a value outside the known sets:\n%s", body)
	}
}

func clientPath(base, app string) func(string) string {
	return func(rest string) string { return base + "/api/client/v2.0/app/" + app + rest }
}

func call(t *testing.T, method, url, token string, body any, status int, out any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %s, want %d", method, url, resp.StatusCode, b, status)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatal(err)
		}
	}
}

func scrape(t *testing.T, base string) []byte {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /metrics: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return b
}

// value returns the value of the first series of the family whose labels include labels: a
// counter's or gauge's value, a histogram's sample count.
func value(f *dto.MetricFamily, labels map[string]string) (float64, bool) {
	if f == nil {
		return 0, false
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}
