package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/latchkey/latchkey"
)

// appsCases are the cases of latchkey.AppStore.
var appsCases = []storeCase{
	{"CreateAndFind", testAppsCreateAndFind},
	{"NoAllowedOrigins", testAppsNoAllowedOrigins},
	{"ErrConflict", testAppsErrConflict},
	{"ErrNotFound", testAppsErrNotFound},
	{"Update", testAppsUpdate},
	{"KeyControls", testAppsKeyControls},
	{"UpdateErrNotFound", testAppsUpdateErrNotFound},
	{"Delete", testAppsDelete},
	{"DeleteErrNotFound", testAppsDeleteErrNotFound},
	{"FindApps", testAppsFindApps},
}

func testAppsCreateAndFind(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := &latchkey.App{
		ID:                   newID(),
		ClientAppID:          "my-app",
		Name:                 "My App",
		AutoConfirm:          true,
		AnonymousEnabled:     true,
		UserpassEnabled:      false,
		APIKeyEnabled:        true,
		PasswordMinLength:    12,
		RefreshTokenLifetime: 45 * time.Minute,
		AllowedOrigins:       []string{"https://a.example", "http://localhost:3000"},
		HideAccountExistence: true,
		KeyPrefix:            latchkey.DefaultKeyPrefix,
		CreatedAt:            now(),
	}
	want := *app
	if err := s.CreateApp(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, app); diff != "" {
		t.Fatalf("CreateApp changed its argument (-before +after):\n%s", diff)
	}

	got, err := s.FindAppByClientID(t.Context(), "my-app")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Fatalf("FindAppByClientID mismatch (-want +got):\n%s", diff)
	}
	got, err = s.FindAppByID(t.Context(), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&want, got); diff != "" {
		t.Fatalf("FindAppByID mismatch (-want +got):\n%s", diff)
	}
}

func testAppsNoAllowedOrigins(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	got, err := s.FindAppByID(t.Context(), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Empty means any origin; nil and an empty slice are the same here.
	if diff := cmp.Diff(app, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("mismatch (-want +got):\n%s", diff)
	}
}

func testAppsErrConflict(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	dup := *app
	dup.ID = newID()
	assertCode(t, s.CreateApp(t.Context(), &dup), latchkey.EConflict)

	_, err := s.FindAppByID(t.Context(), dup.ID)
	assertCode(t, err, latchkey.ENotFound)
}

func testAppsErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	mustCreateApp(t, s)
	_, err := s.FindAppByClientID(t.Context(), "no-such-app")
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindAppByID(t.Context(), newID())
	assertCode(t, err, latchkey.ENotFound)
}

func testAppsUpdate(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	upd := &latchkey.App{
		ID:                   app.ID,
		ClientAppID:          "not-written",
		Name:                 "Renamed",
		AutoConfirm:          !app.AutoConfirm,
		AnonymousEnabled:     !app.AnonymousEnabled,
		UserpassEnabled:      !app.UserpassEnabled,
		APIKeyEnabled:        !app.APIKeyEnabled,
		PasswordMinLength:    64,
		RefreshTokenLifetime: 90 * time.Minute,
		AllowedOrigins:       []string{"https://b.example", "http://localhost:8080"},
		HideAccountExistence: !app.HideAccountExistence,
		KeyPrefix:            app.KeyPrefix,
		CreatedAt:            app.CreatedAt.Add(time.Hour),
	}
	before := *upd
	if err := s.UpdateApp(t.Context(), upd); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&before, upd); diff != "" {
		t.Fatalf("UpdateApp changed its argument (-before +after):\n%s", diff)
	}

	// Every setting is written; the id, client app id and creation time are not.
	want := before
	want.ClientAppID, want.CreatedAt = app.ClientAppID, app.CreatedAt
	if diff := cmp.Diff(&want, mustFindApp(t, s, app.ID)); diff != "" {
		t.Fatalf("after UpdateApp (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(other, mustFindApp(t, s, other.ID), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("UpdateApp changed another app (-want +got):\n%s", diff)
	}

	// Clearing the origins and the flags writes them too.
	upd = &want
	upd.AllowedOrigins = nil
	upd.AutoConfirm, upd.AnonymousEnabled, upd.UserpassEnabled, upd.APIKeyEnabled = false, false, false, false
	upd.HideAccountExistence = false
	if err := s.UpdateApp(t.Context(), upd); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(upd, mustFindApp(t, s, app.ID)); diff != "" {
		t.Fatalf("after second UpdateApp (-want +got):\n%s", diff)
	}

	// Writing the same settings again still finds the app.
	if err := s.UpdateApp(t.Context(), upd); err != nil {
		t.Fatal(err)
	}
}

func testAppsKeyControls(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := newApp()
	app.KeyPrefix = "acme"
	app.MaxKeyLifetime = 90 * 24 * time.Hour
	app.Scopes = []string{"read", "write:all"}
	app.LeakSecretHash = randomBytes(t, 32)
	before := *app
	if err := s.CreateApp(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&before, app); diff != "" {
		t.Fatalf("CreateApp changed its argument (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(app, mustFindApp(t, s, app.ID)); diff != "" {
		t.Fatalf("FindAppByID mismatch (-want +got):\n%s", diff)
	}
	got, err := s.FindAppByClientID(t.Context(), app.ClientAppID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(app, got); diff != "" {
		t.Fatalf("FindAppByClientID mismatch (-want +got):\n%s", diff)
	}

	// An app without them: none come back as nil or zero, an empty list too.
	bare := newApp()
	bare.Scopes = []string{}
	if err := s.CreateApp(t.Context(), bare); err != nil {
		t.Fatal(err)
	}
	bare.Scopes = nil
	apps, err := s.FindApps(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]*latchkey.App{app, bare}, apps); diff != "" {
		t.Fatalf("FindApps mismatch (-want +got):\n%s", diff)
	}

	// UpdateApp writes them, and clears them.
	upd := *app
	upd.KeyPrefix = "other"
	upd.MaxKeyLifetime = time.Hour
	upd.Scopes = []string{"admin"}
	upd.LeakSecretHash = randomBytes(t, 32)
	if err := s.UpdateApp(t.Context(), &upd); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&upd, mustFindApp(t, s, app.ID)); diff != "" {
		t.Fatalf("after UpdateApp (-want +got):\n%s", diff)
	}
	upd.MaxKeyLifetime, upd.Scopes, upd.LeakSecretHash = 0, nil, nil
	if err := s.UpdateApp(t.Context(), &upd); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&upd, mustFindApp(t, s, app.ID)); diff != "" {
		t.Fatalf("after clearing UpdateApp (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(bare, mustFindApp(t, s, bare.ID)); diff != "" {
		t.Fatalf("UpdateApp changed another app (-want +got):\n%s", diff)
	}
}

func testAppsUpdateErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	mustCreateApp(t, s)
	app := newApp()
	assertCode(t, s.UpdateApp(t.Context(), app), latchkey.ENotFound)
	_, err := s.FindAppByID(t.Context(), app.ID)
	assertCode(t, err, latchkey.ENotFound)
}

func testAppsDelete(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	type appData struct {
		app       *latchkey.App
		user      *latchkey.User
		key       *latchkey.APIKey
		serverKey *latchkey.APIKey
		sessions  []*latchkey.Session
		tok       *latchkey.UserToken
		event     *latchkey.AuditEvent
	}
	populate := func() appData {
		var d appData
		d.app = mustCreateApp(t, s)
		d.user = mustCreateUser(t, s, d.app.ID, "ada@example.com")
		d.key = mustCreateAPIKey(t, s, d.user, "ci")
		var server *latchkey.User
		server, d.serverKey = mustCreateServerAPIKey(t, s, d.app.ID, "backend")
		d.sessions = []*latchkey.Session{
			mustCreateSession(t, s, d.user, nil),
			mustCreateSession(t, s, d.user, d.key),
			mustCreateSession(t, s, server, d.serverKey),
		}
		d.tok = mustCreateUserToken(t, s, d.user, latchkey.UserTokenConfirm)
		d.event = newAuditEvent(d.app.ID, latchkey.EventLogin, d.user.ID, d.user.ID, now())
		mustCreateAuditEvents(t, s, d.event)
		return d
	}
	gone, kept := populate(), populate()
	serverWide := newAuditEvent("", latchkey.EventAdminLogin, newID(), newID(), now())
	mustCreateAuditEvents(t, s, serverWide)

	if err := s.DeleteApp(t.Context(), gone.app.ID); err != nil {
		t.Fatal(err)
	}

	_, err := s.FindAppByID(t.Context(), gone.app.ID)
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindUserByID(t.Context(), gone.app.ID, gone.user.ID)
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindAPIKeyByHash(t.Context(), gone.app.ID, gone.key.Hash)
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindAPIKeyByHash(t.Context(), gone.app.ID, gone.serverKey.Hash)
	assertCode(t, err, latchkey.ENotFound)
	if keys := mustFindServerAPIKeys(t, s, gone.app.ID); len(keys) != 0 {
		t.Fatalf("the deleted app still has %d server keys", len(keys))
	}
	for _, sess := range gone.sessions {
		assertSessionGone(t, s, sess.ID)
	}
	_, err = s.FindUserToken(t.Context(), gone.tok.ID)
	assertCode(t, err, latchkey.ENotFound)
	if events := mustFindAuditEvents(t, s, latchkey.AuditFilter{AppID: gone.app.ID}); len(events) != 0 {
		t.Fatalf("the deleted app still has %d audit events", len(events))
	}

	// The other app, and the server-wide events, keep everything.
	mustFindApp(t, s, kept.app.ID)
	if _, err := s.FindUserByID(t.Context(), kept.app.ID, kept.user.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindAPIKeyByHash(t.Context(), kept.app.ID, kept.key.Hash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindServerAPIKey(t.Context(), kept.app.ID, kept.serverKey.ID); err != nil {
		t.Fatal(err)
	}
	for _, sess := range kept.sessions {
		assertSessionExists(t, s, sess.ID)
	}
	if _, err := s.FindUserToken(t.Context(), kept.tok.ID); err != nil {
		t.Fatal(err)
	}
	want := []*latchkey.AuditEvent{serverWide, kept.event}
	if diff := cmp.Diff(want, mustFindAuditEvents(t, s, latchkey.AuditFilter{})); diff != "" {
		t.Fatalf("audit events after DeleteApp (-want +got):\n%s", diff)
	}

	assertCode(t, s.DeleteApp(t.Context(), gone.app.ID), latchkey.ENotFound)
	// The client app id is free again.
	again := newApp()
	again.ClientAppID = gone.app.ClientAppID
	if err := s.CreateApp(t.Context(), again); err != nil {
		t.Fatal(err)
	}
}

func testAppsDeleteErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	assertCode(t, s.DeleteApp(t.Context(), newID()), latchkey.ENotFound)
	mustFindApp(t, s, app.ID)
}

func testAppsFindApps(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	apps, err := s.FindApps(t.Context())
	if err != nil {
		t.Fatal(err)
	} else if len(apps) != 0 {
		t.Fatalf("FindApps on an empty store returned %d apps", len(apps))
	}

	// Inserted out of order: the result must follow CreatedAt, not insertion.
	base := now()
	want := make([]*latchkey.App, 3)
	for _, i := range []int{2, 0, 1} {
		app := newApp()
		app.CreatedAt = base.Add(time.Duration(i) * time.Millisecond)
		if err := s.CreateApp(t.Context(), app); err != nil {
			t.Fatal(err)
		}
		want[i] = app
	}
	apps, err = s.FindApps(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, apps, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("FindApps mismatch (-want +got):\n%s", diff)
	}
}

// mustFindApp returns the app with the internal id.
func mustFindApp(t *testing.T, s latchkey.Store, id string) *latchkey.App {
	t.Helper()
	app, err := s.FindAppByID(t.Context(), id)
	if err != nil {
		t.Fatalf("FindAppByID: %v", err)
	}
	return app
}
