package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// webSessionsCases are the cases of latchkey.WebSessionStore: a web session ends with the
// session it rides on, however that ends.
var webSessionsCases = []storeCase{
	{"CreateAndFind", testWebSessionsCreateAndFind},
	{"ErrConflict", testWebSessionsErrConflict},
	{"ErrNotFound", testWebSessionsErrNotFound},
	{"Touch", testWebSessionsTouch},
	{"FlashTakenOnce", testWebSessionsFlashTakenOnce},
	{"EndsWithItsSession", testWebSessionsEndsWithItsSession},
	{"DeleteLeavesItsSession", testWebSessionsDeleteLeavesItsSession},
	{"DeleteExpired", testWebSessionsDeleteExpired},
}

func testWebSessionsCreateAndFind(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	a := mustCreateAdmin(t, s, "root@example.com")
	adminSess := mustCreateAdminSession(t, s, a.ID)
	sess := mustCreateSession(t, s, u, nil)

	console := newWebSession(t, "", adminSess.ID, "")
	console.Flash = []byte("sealed")
	before := *console
	if err := s.CreateWebSession(t.Context(), console); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&before, console); diff != "" {
		t.Fatalf("CreateWebSession changed its argument (-before +after):\n%s", diff)
	}
	account := mustCreateWebSession(t, s, app.ID, "", sess.ID)
	for _, want := range []*latchkey.WebSession{console, account} {
		if diff := cmp.Diff(want, mustFindWebSession(t, s, want.IDHash)); diff != "" {
			t.Fatalf("FindWebSession mismatch (-want +got):\n%s", diff)
		}
	}
}

func testWebSessionsErrConflict(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	a := mustCreateAdmin(t, s, "root@example.com")
	ws := mustCreateWebSession(t, s, "", mustCreateAdminSession(t, s, a.ID).ID, "")
	dup := newWebSession(t, "", mustCreateAdminSession(t, s, a.ID).ID, "")
	dup.IDHash = ws.IDHash
	assertCode(t, s.CreateWebSession(t.Context(), dup), latchkey.EConflict)
	if diff := cmp.Diff(ws, mustFindWebSession(t, s, ws.IDHash)); diff != "" {
		t.Fatalf("the conflict changed the web session (-want +got):\n%s", diff)
	}
}

func testWebSessionsErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	// A web session rides on a session that exists.
	assertCode(t, s.CreateWebSession(t.Context(), newWebSession(t, "", newID(), "")), latchkey.ENotFound)
	assertCode(t, s.CreateWebSession(t.Context(), newWebSession(t, app.ID, "", newID())), latchkey.ENotFound)
	h := randomBytes(t, 32)
	_, err := s.FindWebSession(t.Context(), h)
	assertCode(t, err, latchkey.ENotFound)
	assertCode(t, s.TouchWebSession(t.Context(), h, now(), now()), latchkey.ENotFound)
	assertCode(t, s.SetWebSessionFlash(t.Context(), h, []byte("x")), latchkey.ENotFound)
	_, err = s.TakeWebSessionFlash(t.Context(), h)
	assertCode(t, err, latchkey.ENotFound)
	assertCode(t, s.DeleteWebSession(t.Context(), h), latchkey.ENotFound)
}

func testWebSessionsTouch(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	a := mustCreateAdmin(t, s, "root@example.com")
	ws := mustCreateWebSession(t, s, "", mustCreateAdminSession(t, s, a.ID).ID, "")
	ws.LastSeenAt, ws.ExpiresAt = ws.LastSeenAt.Add(time.Minute), ws.ExpiresAt.Add(time.Minute)
	if err := s.TouchWebSession(t.Context(), ws.IDHash, ws.LastSeenAt, ws.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ws, mustFindWebSession(t, s, ws.IDHash)); diff != "" {
		t.Fatalf("after TouchWebSession (-want +got):\n%s", diff)
	}
}

func testWebSessionsFlashTakenOnce(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	a := mustCreateAdmin(t, s, "root@example.com")
	ws := mustCreateWebSession(t, s, "", mustCreateAdminSession(t, s, a.ID).ID, "")
	if got, err := s.TakeWebSessionFlash(t.Context(), ws.IDHash); err != nil || got != nil {
		t.Fatalf("TakeWebSessionFlash without a flash = %q, %v; want nil", got, err)
	}
	for round := range 3 {
		if err := s.SetWebSessionFlash(t.Context(), ws.IDHash, []byte("sealed message")); err != nil {
			t.Fatal(err)
		}
		if got := mustFindWebSession(t, s, ws.IDHash).Flash; string(got) != "sealed message" {
			t.Fatalf("FindWebSession flash = %q", got)
		}
		// Of concurrent takes, one gets the flash.
		const n = 8
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			got int
		)
		for range n {
			wg.Go(func() {
				f, err := s.TakeWebSessionFlash(t.Context(), ws.IDHash)
				if err != nil {
					t.Errorf("TakeWebSessionFlash: %v", err)
				}
				if f != nil {
					if string(f) != "sealed message" {
						t.Errorf("TakeWebSessionFlash = %q", f)
					}
					mu.Lock()
					got++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if got != 1 {
			t.Fatalf("round %d: %d takes got the flash, want 1", round, got)
		}
		if f := mustFindWebSession(t, s, ws.IDHash).Flash; f != nil {
			t.Fatalf("flash after the take = %q, want nil", f)
		}
	}
}

func testWebSessionsEndsWithItsSession(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	ctx := t.Context()
	a := mustCreateAdmin(t, s, "root@example.com")
	k := mustCreateAPIKey(t, s, u, "k")
	for _, tt := range []struct {
		name string
		end  func(adminSess *latchkey.AdminSession, sess *latchkey.Session) error
	}{
		{"DeleteAdminSession", func(as *latchkey.AdminSession, _ *latchkey.Session) error { return s.DeleteAdminSession(ctx, as.ID) }},
		{"DeleteSession", func(_ *latchkey.AdminSession, ss *latchkey.Session) error { return s.DeleteSession(ctx, ss.ID) }},
		{"DeleteUserSessions", func(_ *latchkey.AdminSession, ss *latchkey.Session) error {
			_, err := s.DeleteUserSessions(ctx, ss.UserID)
			return err
		}},
		{"SetUserDisabled", func(_ *latchkey.AdminSession, ss *latchkey.Session) error {
			if err := s.SetUserDisabled(ctx, app.ID, ss.UserID, true); err != nil {
				return err
			}
			return s.SetUserDisabled(ctx, app.ID, ss.UserID, false)
		}},
		{"SetAPIKeyDisabled", func(_ *latchkey.AdminSession, ss *latchkey.Session) error {
			if err := s.SetAPIKeyDisabled(ctx, u.ID, k.ID, true); err != nil {
				return err
			}
			return s.SetAPIKeyDisabled(ctx, u.ID, k.ID, false)
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			adminSess := mustCreateAdminSession(t, s, a.ID)
			var sess *latchkey.Session
			if tt.name == "SetAPIKeyDisabled" {
				sess = mustCreateSession(t, s, u, k)
			} else {
				sess = mustCreateSession(t, s, u, nil)
			}
			console := mustCreateWebSession(t, s, "", adminSess.ID, "")
			account := mustCreateWebSession(t, s, app.ID, "", sess.ID)
			if err := tt.end(adminSess, sess); err != nil {
				t.Fatal(err)
			}
			ended := account
			if tt.name == "DeleteAdminSession" {
				ended = console
			}
			for _, ws := range []*latchkey.WebSession{console, account} {
				_, err := s.FindWebSession(ctx, ws.IDHash)
				if ws == ended {
					assertCode(t, err, latchkey.ENotFound)
				} else if err != nil {
					t.Fatalf("the other web session went too: %v", err)
				}
			}
		})
	}
	t.Run("DeleteApp", func(t *testing.T) {
		other := mustCreateApp(t, s)
		sess := mustCreateSession(t, s, mustCreateUser(t, s, other.ID, "bo@example.com"), nil)
		ws := mustCreateWebSession(t, s, other.ID, "", sess.ID)
		if err := s.DeleteApp(ctx, other.ID); err != nil {
			t.Fatal(err)
		}
		_, err := s.FindWebSession(ctx, ws.IDHash)
		assertCode(t, err, latchkey.ENotFound)
	})
}

func testWebSessionsDeleteLeavesItsSession(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	a := mustCreateAdmin(t, s, "root@example.com")
	adminSess := mustCreateAdminSession(t, s, a.ID)
	ws := mustCreateWebSession(t, s, "", adminSess.ID, "")
	if err := s.DeleteWebSession(t.Context(), ws.IDHash); err != nil {
		t.Fatal(err)
	}
	_, err := s.FindWebSession(t.Context(), ws.IDHash)
	assertCode(t, err, latchkey.ENotFound)
	if _, err := s.FindAdminSession(t.Context(), adminSess.ID); err != nil {
		t.Fatalf("the admin session went with the web session: %v", err)
	}
}

func testWebSessionsDeleteExpired(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	ctx := t.Context()
	a := mustCreateAdmin(t, s, "root@example.com")
	cutoff := now()

	liveAdmin, expiredAdmin := mustCreateAdminSession(t, s, a.ID), mustCreateAdminSession(t, s, a.ID)
	liveSess, expiredSess := mustCreateSession(t, s, u, nil), mustCreateSession(t, s, u, nil)
	// A session with no web session is not the sweep's.
	plain := mustCreateSession(t, s, u, nil)
	live := []*latchkey.WebSession{
		mustCreateWebSession(t, s, "", liveAdmin.ID, ""),
		mustCreateWebSession(t, s, app.ID, "", liveSess.ID),
	}
	var expired []*latchkey.WebSession
	for _, ws := range []*latchkey.WebSession{
		newWebSession(t, "", expiredAdmin.ID, ""),
		newWebSession(t, app.ID, "", expiredSess.ID),
	} {
		ws.ExpiresAt = cutoff.Add(-time.Millisecond)
		if err := s.CreateWebSession(ctx, ws); err != nil {
			t.Fatal(err)
		}
		expired = append(expired, ws)
	}
	// One that ends exactly at the cutoff has not expired before it.
	atCutoff := newWebSession(t, "", liveAdmin.ID, "")
	atCutoff.ExpiresAt = cutoff
	if err := s.CreateWebSession(ctx, atCutoff); err != nil {
		t.Fatal(err)
	}
	live = append(live, atCutoff)

	n, err := s.DeleteExpiredWebSessions(ctx, cutoff)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("DeleteExpiredWebSessions = %d, want 2", n)
	}
	for _, ws := range expired {
		_, err := s.FindWebSession(ctx, ws.IDHash)
		assertCode(t, err, latchkey.ENotFound)
	}
	for _, ws := range live {
		mustFindWebSession(t, s, ws.IDHash)
	}
	// The sessions the expired ones rode on went with them; no one holds their tokens.
	_, err = s.FindAdminSession(ctx, expiredAdmin.ID)
	assertCode(t, err, latchkey.ENotFound)
	assertSessionGone(t, s, expiredSess.ID)
	if _, err := s.FindAdminSession(ctx, liveAdmin.ID); err != nil {
		t.Fatalf("live admin session: %v", err)
	}
	assertSessionExists(t, s, liveSess.ID)
	assertSessionExists(t, s, plain.ID)
}

// newWebSession returns a live web session on the admin session or the user's session,
// not yet stored.
func newWebSession(t *testing.T, appID, adminSessionID, sessionID string) *latchkey.WebSession {
	n := now()
	return &latchkey.WebSession{
		IDHash:         randomBytes(t, 32),
		AppID:          appID,
		AdminSessionID: adminSessionID,
		SessionID:      sessionID,
		Email:          "someone@example.com",
		CreatedAt:      n,
		LastSeenAt:     n,
		ExpiresAt:      n.Add(latchkey.WebSessionIdle),
	}
}

// mustCreateWebSession creates a live web session on the admin session or the user's
// session.
func mustCreateWebSession(t *testing.T, s latchkey.Store, appID, adminSessionID, sessionID string) *latchkey.WebSession {
	t.Helper()
	ws := newWebSession(t, appID, adminSessionID, sessionID)
	if err := s.CreateWebSession(t.Context(), ws); err != nil {
		t.Fatalf("CreateWebSession: %v", err)
	}
	return ws
}

func mustFindWebSession(t *testing.T, s latchkey.Store, idHash []byte) *latchkey.WebSession {
	t.Helper()
	ws, err := s.FindWebSession(t.Context(), idHash)
	if err != nil {
		t.Fatalf("FindWebSession: %v", err)
	}
	return ws
}

// mustCreateAdminSession creates a live session of the admin.
func mustCreateAdminSession(t *testing.T, s latchkey.Store, adminID string) *latchkey.AdminSession {
	t.Helper()
	sess := newAdminSession(adminID)
	if err := s.CreateAdminSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateAdminSession: %v", err)
	}
	return sess
}
