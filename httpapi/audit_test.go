package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// auditUA is the User-Agent of every request whose audit event the test checks.
const auditUA = "latchkey-audit-test/1.0"

// auditEvent is an audit event as the admin API shows it.
type auditEvent struct {
	ID        string            `json:"_id"`
	Time      string            `json:"time"`
	AppID     string            `json:"app_id"`
	Event     string            `json:"event"`
	Outcome   string            `json:"outcome"`
	Actor     party             `json:"actor"`
	Subject   party             `json:"subject"`
	IP        string            `json:"ip"`
	UserAgent string            `json:"user_agent"`
	RequestID string            `json:"request_id"`
	Details   map[string]string `json:"details"`
}

// party is an event's actor or subject.
type party struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// anyID stands for an id the test cannot know, such as that of a key that was refused.
const anyID = "<any id>"

// wantEvent is an expected audit event.
type wantEvent struct {
	r       *response // the request that caused it; nil for none
	app     string    // internal app id; "" for server-wide events
	event   string
	outcome string
	actor   party
	subject party
	details map[string]string // exactly these, plus a non-empty "error" on failures
}

// view returns w as the API should show it, taking from got what the test cannot know.
func (w wantEvent) view(got auditEvent) auditEvent {
	v := auditEvent{
		ID: got.ID, Time: got.Time, AppID: w.app, Event: w.event, Outcome: w.outcome,
		Actor: w.actor, Subject: w.subject, Details: w.details,
	}
	if w.r != nil {
		v.IP, v.UserAgent, v.RequestID = "127.0.0.1", auditUA, w.r.Header.Get("X-Request-Id")
	}
	if w.outcome == latchkey.OutcomeFailure && got.Details["error"] != "" {
		v.Details = map[string]string{"error": got.Details["error"]}
		for k, val := range w.details {
			v.Details[k] = val
		}
	}
	if w.subject.ID == anyID && hex24.MatchString(got.Subject.ID) {
		v.Subject.ID = got.Subject.ID
	}
	return v
}

// wantEvents checks newest-first events against want, listed oldest first.
func wantEvents(t *testing.T, newestFirst []auditEvent, want []wantEvent) {
	t.Helper()
	got := slices.Clone(newestFirst)
	slices.Reverse(got)
	views := make([]auditEvent, len(want))
	for i, w := range want {
		var g auditEvent
		if i < len(got) {
			g = got[i]
		}
		views[i] = w.view(g)
	}
	if got == nil {
		got = []auditEvent{}
	}
	if diff := cmp.Diff(views, got); diff != "" {
		t.Errorf("audit events, oldest first (-want +got):\n%s", diff)
	}
}

func filterWant(want []wantEvent, keep func(wantEvent) bool) []wantEvent {
	var out []wantEvent
	for _, w := range want {
		if keep(w) {
			out = append(out, w)
		}
	}
	return out
}

// doUA is do with the audit test's User-Agent.
func (e *env) doUA(t *testing.T, method, path, token string, body any) *response {
	t.Helper()
	req := e.newRequest(t, method, path, body)
	req.Header.Set("User-Agent", auditUA)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return e.send(t, req)
}

// findAudit reads one page of audit events.
func (e *env) findAudit(t *testing.T, admin, path string) ([]auditEvent, *response) {
	t.Helper()
	var events []auditEvent
	r := e.do(t, "GET", path, admin, nil)
	r.wantJSON(t, http.StatusOK, &events)
	return events, r
}

func d(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func userP(id string) party   { return party{latchkey.ActorUser, id} }
func adminP(id string) party  { return party{latchkey.ActorAdmin, id} }
func apiKeyP(id string) party { return party{"api_key", id} }

var anonymous = party{Type: latchkey.ActorAnonymous}

const (
	success = latchkey.OutcomeSuccess
	failure = latchkey.OutcomeFailure
)

// TestAudit drives the seed's whole flow through the client API, then admin actions, and
// checks the audit log: the events in order, who did what from where, the filters, and that
// no secret used on the way shows anywhere in it.
func TestAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	start := e.Clock.Now().Add(-time.Second)
	rootAdmin, err := e.Service.Admins.CreateAdmin(ctx, rootEmail, rootPassword)
	if err != nil {
		t.Fatal(err)
	}
	e.remember(&e.passwords, rootPassword)
	app := e.App.ID
	var tokens []string
	loginOf := func(r *response) login {
		t.Helper()
		var l login
		r.wantJSON(t, http.StatusOK, &l)
		tokens = append(tokens, l.AccessToken, l.RefreshToken)
		return l
	}

	// The seed's flow, through the client API.
	email, pw, wrongPW := e.newEmail(), e.newPassword(), e.newPassword()
	rRegister := e.doUA(t, "POST", userpassPath(e.AppID, "/register"), "", map[string]string{"email": email, "password": pw})
	rRegister.wantEmpty(t, http.StatusCreated)
	rLogin := e.doUA(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": email, "password": pw})
	l := loginOf(rLogin)
	uid := l.UserID
	rFailedLogin := e.doUA(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": email, "password": wrongPW})
	rFailedLogin.wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
	rCreateKey := e.doUA(t, "POST", keysPath, l.RefreshToken, map[string]string{"name": "seed-key"})
	var k apiKey
	rCreateKey.wantJSON(t, http.StatusCreated, &k)
	e.remember(&e.keys, k.Key)
	e.doUA(t, "GET", keyPath(k.ID), l.RefreshToken, nil).wantJSON(t, http.StatusOK, nil)
	e.doUA(t, "GET", keysPath, l.RefreshToken, nil).wantJSON(t, http.StatusOK, nil)
	rDisableKey := e.doUA(t, "PUT", keyPath(k.ID)+"/disable", l.RefreshToken, nil)
	rDisableKey.wantEmpty(t, http.StatusNoContent)
	rEnableKey := e.doUA(t, "PUT", keyPath(k.ID)+"/enable", l.RefreshToken, nil)
	rEnableKey.wantEmpty(t, http.StatusNoContent)
	rKeyLogin := e.doUA(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": k.Key})
	keySession := loginOf(rKeyLogin)
	rLogout := e.doUA(t, "DELETE", authPath+"/session", keySession.RefreshToken, nil)
	rLogout.wantEmpty(t, http.StatusNoContent)
	rDeleteKey := e.doUA(t, "DELETE", keyPath(k.ID), l.RefreshToken, nil)
	rDeleteKey.wantEmpty(t, http.StatusNoContent)
	rDeleteUser := e.doUA(t, "DELETE", authPath+"/delete", l.AccessToken, nil)
	rDeleteUser.wantEmpty(t, http.StatusNoContent)

	// Admin actions.
	adminWrongPW := e.newPassword()
	rAdminFail := e.doUA(t, "POST", adminLoginPath, "", map[string]string{"username": rootEmail, "password": adminWrongPW})
	rAdminFail.wantError(t, http.StatusUnauthorized, "InvalidPassword", "unauthorized")
	rAdminLogin := e.doUA(t, "POST", adminLoginPath, "", map[string]string{"username": rootEmail, "password": rootPassword})
	admin := loginOf(rAdminLogin)
	tok := admin.AccessToken
	aid := rootAdmin.ID

	email2, pw2 := e.newEmail(), e.newPassword()
	rRegister2 := e.doUA(t, "POST", userpassPath(e.AppID, "/register"), "", map[string]string{"email": email2, "password": pw2})
	rRegister2.wantEmpty(t, http.StatusCreated)
	rLogin2 := e.doUA(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": email2, "password": pw2})
	l2 := loginOf(rLogin2)
	uid2 := l2.UserID
	rCreateKey2 := e.doUA(t, "POST", keysPath, l2.RefreshToken, map[string]string{"name": "second-key"})
	var k2 apiKey
	rCreateKey2.wantJSON(t, http.StatusCreated, &k2)
	e.remember(&e.keys, k2.Key)

	rServerKey := e.doUA(t, "POST", adminAppPath(app, "/api_keys"), tok, map[string]string{"name": "seed-server"})
	var sk apiKey
	rServerKey.wantJSON(t, http.StatusCreated, &sk)
	e.remember(&e.keys, sk.Key)
	rServerKeyDup := e.doUA(t, "POST", adminAppPath(app, "/api_keys"), tok, map[string]string{"name": "seed-server"})
	rServerKeyDup.wantErrorBody(t, http.StatusConflict, "APIKeyAlreadyExists")
	rServerKeyDisable := e.doUA(t, "PUT", adminAppPath(app, "/api_keys/"+sk.ID+"/disable"), tok, nil)
	rServerKeyDisable.wantEmpty(t, http.StatusNoContent)
	rServerKeyEnable := e.doUA(t, "PUT", adminAppPath(app, "/api_keys/"+sk.ID+"/enable"), tok, nil)
	rServerKeyEnable.wantEmpty(t, http.StatusNoContent)
	rServerLogin := e.doUA(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": sk.Key})
	serverUID := loginOf(rServerLogin).UserID
	rSettings := e.doUA(t, "PATCH", adminAppPath(app, "/settings"), tok, map[string]int{"password_min_length": 8})
	rSettings.wantJSON(t, http.StatusOK, nil)
	rDisableKey2 := e.doUA(t, "PUT", adminUserPath(app, uid2, "/api_keys/"+k2.ID+"/disable"), tok, nil)
	rDisableKey2.wantEmpty(t, http.StatusNoContent)
	rDeleteKey2 := e.doUA(t, "DELETE", adminUserPath(app, uid2, "/api_keys/"+k2.ID), tok, nil)
	rDeleteKey2.wantEmpty(t, http.StatusNoContent)
	rDisableUser := e.doUA(t, "PUT", adminUserPath(app, uid2, "/disable"), tok, nil)
	rDisableUser.wantEmpty(t, http.StatusNoContent)
	rEnableUser := e.doUA(t, "PUT", adminUserPath(app, uid2, "/enable"), tok, nil)
	rEnableUser.wantEmpty(t, http.StatusNoContent)
	rRevoke := e.doUA(t, "PUT", adminUserPath(app, uid2, "/logout"), tok, nil)
	rRevoke.wantEmpty(t, http.StatusNoContent)
	rDeleteUser2 := e.doUA(t, "DELETE", adminUserPath(app, uid2, ""), tok, nil)
	rDeleteUser2.wantEmpty(t, http.StatusNoContent)
	rServerKeyDelete := e.doUA(t, "DELETE", adminAppPath(app, "/api_keys/"+sk.ID), tok, nil)
	rServerKeyDelete.wantEmpty(t, http.StatusNoContent)

	if err := e.Service.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	end := e.Clock.Now().Add(time.Second)

	wantApp := []wantEvent{
		{rRegister, app, "register", success, anonymous, userP(uid), d("email", email)},
		{rLogin, app, "login", success, userP(uid), userP(uid), d("provider", "local-userpass")},
		{rFailedLogin, app, "login", failure, anonymous, userP(""), d("provider", "local-userpass", "email", email)},
		{rCreateKey, app, "api_key_created", success, userP(uid), apiKeyP(k.ID), d("name", "seed-key")},
		{rDisableKey, app, "api_key_disabled", success, userP(uid), apiKeyP(k.ID), nil},
		{rEnableKey, app, "api_key_enabled", success, userP(uid), apiKeyP(k.ID), nil},
		{rKeyLogin, app, "login", success, userP(uid), userP(uid), d("provider", "api-key", "api_key_id", k.ID)},
		{rLogout, app, "logout", success, userP(uid), userP(uid), nil},
		{rDeleteKey, app, "api_key_deleted", success, userP(uid), apiKeyP(k.ID), nil},
		{rDeleteUser, app, "user_deleted", success, userP(uid), userP(uid), nil},

		{rRegister2, app, "register", success, anonymous, userP(uid2), d("email", email2)},
		{rLogin2, app, "login", success, userP(uid2), userP(uid2), d("provider", "local-userpass")},
		{rCreateKey2, app, "api_key_created", success, userP(uid2), apiKeyP(k2.ID), d("name", "second-key")},
		{rServerKey, app, "server_api_key_created", success, adminP(aid), apiKeyP(sk.ID), d("name", "seed-server")},
		{rServerKeyDup, app, "server_api_key_created", failure, adminP(aid), apiKeyP(anyID), d("name", "seed-server")},
		{rServerKeyDisable, app, "server_api_key_disabled", success, adminP(aid), apiKeyP(sk.ID), nil},
		{rServerKeyEnable, app, "server_api_key_enabled", success, adminP(aid), apiKeyP(sk.ID), nil},
		{rServerLogin, app, "login", success, userP(serverUID), userP(serverUID), d("provider", "api-key", "api_key_id", sk.ID)},
		{rSettings, app, "app_updated", success, adminP(aid), party{"app", app}, nil},
		{rDisableKey2, app, "api_key_disabled", success, adminP(aid), apiKeyP(k2.ID), d("user_id", uid2)},
		{rDeleteKey2, app, "api_key_deleted", success, adminP(aid), apiKeyP(k2.ID), d("user_id", uid2)},
		{rDisableUser, app, "user_disabled", success, adminP(aid), userP(uid2), nil},
		{rEnableUser, app, "user_enabled", success, adminP(aid), userP(uid2), nil},
		{rRevoke, app, "sessions_revoked", success, adminP(aid), userP(uid2), nil},
		{rDeleteUser2, app, "user_deleted", success, adminP(aid), userP(uid2), nil},
		{rServerKeyDelete, app, "server_api_key_deleted", success, adminP(aid), apiKeyP(sk.ID), nil},
	}
	wantAll := slices.Concat(
		[]wantEvent{{nil, "", "admin_created", success, party{Type: latchkey.ActorSystem}, party{"admin", aid}, d("email", rootEmail)}},
		wantApp[:10],
		[]wantEvent{
			{rAdminFail, "", "admin_login", failure, anonymous, party{Type: "admin"}, d("email", rootEmail)},
			{rAdminLogin, "", "admin_login", success, adminP(aid), adminP(aid), nil},
		},
		wantApp[10:],
	)
	appAudit := adminAppPath(app, "/audit")
	var bodies [][]byte

	appEvents, r := e.findAudit(t, tok, appAudit)
	bodies = append(bodies, r.Body)
	t.Run("App", func(t *testing.T) {
		wantEvents(t, appEvents, wantApp)
		prev := start
		for i := len(appEvents) - 1; i >= 0; i-- {
			at, err := time.Parse(time.RFC3339Nano, appEvents[i].Time)
			if err != nil || at.Before(prev) || at.After(end) {
				t.Errorf("event %s at %q (%v), want a time from %v, at or after the previous one, before %v", appEvents[i].Event, appEvents[i].Time, err, prev, end)
			}
			prev = at
		}
		byClientID, r := e.findAudit(t, tok, adminAppPath(e.AppID, "/audit"))
		bodies = append(bodies, r.Body)
		wantEvents(t, byClientID, wantApp)
	})

	t.Run("Global", func(t *testing.T) {
		all, r := e.findAudit(t, tok, adminPath+"/audit")
		bodies = append(bodies, r.Body)
		wantEvents(t, all, wantAll)
		byApp, r := e.findAudit(t, tok, adminPath+"/audit?app="+e.AppID)
		bodies = append(bodies, r.Body)
		wantEvents(t, byApp, wantApp)
		logins, r := e.findAudit(t, tok, adminPath+"/audit?event=admin_login")
		bodies = append(bodies, r.Body)
		wantEvents(t, logins, filterWant(wantAll, func(w wantEvent) bool { return w.event == "admin_login" }))
	})

	t.Run("Filters", func(t *testing.T) {
		for _, tt := range []struct {
			name, query string
			keep        func(wantEvent) bool
		}{
			{"Event", "?event=login", func(w wantEvent) bool { return w.event == "login" }},
			{"EventKeyCreated", "?event=api_key_created", func(w wantEvent) bool { return w.event == "api_key_created" }},
			{"EventNone", "?event=no_such_event", func(w wantEvent) bool { return false }},
			{"User", "?user=" + uid, func(w wantEvent) bool { return w.actor.ID == uid || w.subject.ID == uid }},
			{"UserByAdmin", "?user=" + uid2, func(w wantEvent) bool { return w.actor.ID == uid2 || w.subject.ID == uid2 }},
			{"Admin", "?user=" + aid, func(w wantEvent) bool { return w.actor.ID == aid || w.subject.ID == aid }},
			{"UserAndEvent", "?user=" + uid + "&event=login", func(w wantEvent) bool { return w.event == "login" && w.actor.ID == uid }},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, r := e.findAudit(t, tok, appAudit+tt.query)
				bodies = append(bodies, r.Body)
				wantEvents(t, got, filterWant(wantApp, tt.keep))
			})
		}
	})

	t.Run("Time", func(t *testing.T) {
		chron := slices.Clone(appEvents)
		slices.Reverse(chron)
		if len(chron) != len(wantApp) {
			t.Skip("the event list is wrong already")
		}
		times := make([]time.Time, len(chron))
		for i, ev := range chron {
			times[i], _ = time.Parse(time.RFC3339Nano, ev.Time)
		}
		from, to := chron[3].Time, chron[9].Time
		var want []wantEvent
		for i, w := range wantApp {
			if !times[i].Before(times[3]) && times[i].Before(times[9]) {
				want = append(want, w)
			}
		}
		for _, tt := range []struct {
			name, query string
			want        []wantEvent
		}{
			{"FromTo", "?from=" + url.QueryEscape(from) + "&to=" + url.QueryEscape(to), want},
			{"FromStart", "?from=" + url.QueryEscape(start.UTC().Format(time.RFC3339)), wantApp},
			{"ToStart", "?to=" + url.QueryEscape(start.UTC().Format(time.RFC3339)), nil},
			{"FromEnd", "?from=" + url.QueryEscape(end.UTC().Format(time.RFC3339Nano)), nil},
			{"ToEnd", "?to=" + url.QueryEscape(end.Format(time.RFC3339)), wantApp},
		} {
			t.Run(tt.name, func(t *testing.T) {
				got, r := e.findAudit(t, tok, appAudit+tt.query)
				bodies = append(bodies, r.Body)
				wantEvents(t, got, tt.want)
			})
		}
	})

	t.Run("Paging", func(t *testing.T) {
		for _, path := range []string{appAudit, adminPath + "/audit"} {
			var got []auditEvent
			before := ""
			for range 20 {
				q := "?limit=4"
				if before != "" {
					q += "&before=" + before
				}
				page, r := e.findAudit(t, tok, path+q)
				bodies = append(bodies, r.Body)
				if len(page) > 4 {
					t.Fatalf("page of %d events, want at most 4", len(page))
				}
				if len(page) == 0 {
					break
				}
				got = append(got, page...)
				before = page[len(page)-1].ID
			}
			want := wantApp
			if path != appAudit {
				want = wantAll
			}
			wantEvents(t, got, want)
		}
		newest, _ := e.findAudit(t, tok, appAudit+"?limit=1")
		wantEvents(t, newest, wantApp[len(wantApp)-1:])
		// Paging composes with filters.
		logins, _ := e.findAudit(t, tok, appAudit+"?event=login&limit=2")
		if len(logins) == 2 {
			older, _ := e.findAudit(t, tok, appAudit+"?event=login&before="+logins[1].ID)
			wantEvents(t, append(logins, older...), filterWant(wantApp, func(w wantEvent) bool { return w.event == "login" }))
		} else {
			t.Errorf("login page = %d events, want 2", len(logins))
		}
	})

	for _, tt := range []struct {
		name, path string
		status     int
		code, msg  string
	}{
		{"ErrLimitWord", appAudit + "?limit=abc", 400, "BadRequest", ""},
		{"ErrLimitNegative", appAudit + "?limit=-1", 400, "BadRequest", ""},
		{"ErrFromWord", appAudit + "?from=yesterday", 400, "BadRequest", "from must be an RFC 3339 time"},
		{"ErrFromDate", appAudit + "?from=2024-01-01", 400, "BadRequest", "from must be an RFC 3339 time"},
		{"ErrToUnix", appAudit + "?to=1700000000", 400, "BadRequest", "to must be an RFC 3339 time"},
		{"ErrBefore", appAudit + "?before=nope", 400, "BadRequest", "invalid paging cursor"},
		{"ErrGlobalBefore", adminPath + "/audit?before=nope", 400, "BadRequest", "invalid paging cursor"},
		{"ErrGlobalUnknownApp", adminPath + "/audit?app=no-such-app", 404, "InvalidParameter", "cannot find app using ID 'no-such-app'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "GET", tt.path, tok, nil)
			if tt.msg == "" {
				r.wantErrorBody(t, tt.status, tt.code)
			} else {
				r.wantError(t, tt.status, tt.code, tt.msg)
			}
		})
	}

	t.Run("NoSecrets", func(t *testing.T) {
		stored, err := e.Store.FindAuditEvents(ctx, latchkey.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(wantAll) {
			t.Errorf("store holds %d events, want %d", len(stored), len(wantAll))
		}
		storedJSON, err := json.Marshal(stored)
		if err != nil {
			t.Fatal(err)
		}
		secrets := map[string]string{
			"password": pw, "wrong password": wrongPW, "second password": pw2,
			"admin password": rootPassword, "wrong admin password": adminWrongPW,
			"key": k.Key, "second key": k2.Key, "server key": sk.Key,
		}
		for i, tok := range tokens {
			secrets["token "+string(rune('a'+i))] = tok
			// The signature alone is as secret as the whole token.
			secrets["token signature "+string(rune('a'+i))] = tok[strings.LastIndex(tok, ".")+1:]
		}
		if len(tokens) != 10 {
			t.Errorf("%d tokens collected, want 10", len(tokens))
		}
		for what, secret := range secrets {
			if len(secret) < 6 {
				t.Fatalf("%s %q is too short to look for", what, secret)
			}
			for i, body := range append(bodies, storedJSON) {
				if bytes.Contains(body, []byte(secret)) {
					t.Errorf("audit body %d holds the %s", i, what)
				}
			}
		}
		if len(bodies) < 20 {
			t.Errorf("only %d audit bodies checked", len(bodies))
		}
	})
}

// TestAuditDeletedApp checks that an app's events go with the app, and that its deletion is
// kept server-wide.
func TestAuditDeletedApp(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	tok := admin.AccessToken
	app := e.createApp(t, tok, map[string]any{"client_app_id": "short-lived"})
	e.newUser(t, app.ClientAppID)
	rDelete := e.do(t, "DELETE", adminAppPath(app.ID, ""), tok, nil)
	rDelete.wantEmpty(t, http.StatusNoContent)
	if err := e.Service.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.do(t, "GET", adminAppPath(app.ID, "/audit"), tok, nil).wantErrorBody(t, http.StatusNotFound, "InvalidParameter")
	all, _ := e.findAudit(t, tok, adminPath+"/audit")
	for _, ev := range all {
		if ev.AppID == app.ID {
			t.Errorf("event %+v of the deleted app kept", ev)
		}
	}
	deleted, _ := e.findAudit(t, tok, adminPath+"/audit?event=app_deleted")
	if len(deleted) != 1 || deleted[0].Subject != (party{"app", app.ID}) || deleted[0].Actor != adminP(admin.UserID) ||
		deleted[0].RequestID != rDelete.Header.Get("X-Request-Id") || deleted[0].Details["client_app_id"] != "short-lived" {
		t.Errorf("app_deleted events = %+v", deleted)
	}
}

// TestAuditAdminSession checks that an admin ending its session is recorded, as every admin
// action is.
func TestAuditAdminSession(t *testing.T) {
	t.Parallel()
	e, admin := newAdminEnv(t)
	other := e.adminLogin(t, rootEmail, rootPassword)
	rLogout := e.doUA(t, "DELETE", adminPath+"/auth/session", other.RefreshToken, nil)
	rLogout.wantEmpty(t, http.StatusNoContent)
	all, _ := e.findAudit(t, admin.AccessToken, adminPath+"/audit")
	var found []auditEvent
	for _, ev := range all {
		if ev.RequestID == rLogout.Header.Get("X-Request-Id") {
			found = append(found, ev)
		}
	}
	if len(found) != 1 || found[0].Actor != adminP(admin.UserID) || found[0].Outcome != success || found[0].UserAgent != auditUA {
		t.Errorf("events of the admin logout request = %+v, want one success event by admin %s", found, admin.UserID)
	}
}

// TestAuditFailedKeyLogin checks the login events of refused API keys: a key that exists
// but is disabled is named, as on a successful login ("key id when a key was used").
func TestAuditFailedKeyLogin(t *testing.T) {
	t.Parallel()
	e, tok := newAdminEnvToken(t)
	u := e.newUser(t, e.AppID)
	k := e.createKey(t, u.RefreshToken, "refused")
	sk := e.createServerKey(t, tok, e.App.ID, "refused")
	e.do(t, "PUT", keyPath(k.ID)+"/disable", u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
	e.do(t, "PUT", adminAppPath(e.App.ID, "/api_keys/"+sk.ID+"/disable"), tok, nil).wantEmpty(t, http.StatusNoContent)
	for _, tt := range []struct {
		name, key, keyID string
	}{
		{"UserKeyDisabled", k.Key, k.ID},
		{"ServerKeyDisabled", sk.Key, sk.ID},
		{"Unknown", "no-such-key-value", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.doUA(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": tt.key})
			r.wantError(t, http.StatusUnauthorized, "AuthError", "unauthorized")
			logins, _ := e.findAudit(t, tok, adminAppPath(e.App.ID, "/audit?event=login&limit=1"))
			want := wantEvent{r, e.App.ID, "login", failure, anonymous, userP(""), d("provider", "api-key")}
			if tt.keyID != "" {
				want.details["api_key_id"] = tt.keyID
			}
			wantEvents(t, logins, []wantEvent{want})
		})
	}
	// Not even a key value that matched nothing is kept: it may be a mistyped real one.
	_, r := e.findAudit(t, tok, adminPath+"/audit")
	for _, secret := range []string{k.Key, sk.Key, "no-such-key-value"} {
		if bytes.Contains(r.Body, []byte(secret)) {
			t.Errorf("audit log holds the key value %q", secret)
		}
	}
}
