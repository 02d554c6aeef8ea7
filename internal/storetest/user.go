package storetest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/latchkey/latchkey"
)

// usersCases are the cases of latchkey.UserStore: users with their identities, and the
// methods behind the admin API's user listing and controls.
var usersCases = []storeCase{
	{"CreateAndFind", testUsersCreateAndFind},
	{"Flags", testUsersFlags},
	{"ErrConflict", testUsersErrConflict},
	{"SameEmailOtherApp", testUsersSameEmailOtherApp},
	{"UsersWithoutEmail", testUsersUsersWithoutEmail},
	{"ErrNotFound", testUsersErrNotFound},
	{"IdentitiesOldestFirst", testUsersIdentitiesOldestFirst},
	{"AddIdentity", testUsersAddIdentity},
	{"AddIdentityIdempotent", testUsersAddIdentityIdempotent},
	{"DeleteUser", testUsersDeleteUser},
	{"DeleteUserErrNotFound", testUsersDeleteUserErrNotFound},
	{"FindUsers", testUsersFindUsers},
	{"FindUsersPaging", testUsersFindUsersPaging},
	{"FindUserStats", testUsersFindUserStats},
	{"SetUserDisabled", testUsersSetUserDisabled},
	{"SetUserDisabledErrNotFound", testUsersSetUserDisabledErrNotFound},
	{"DeleteUserSessions", testUsersDeleteUserSessions},
	{"SetUserCustomData", testUsersSetUserCustomData},
	{"SetUserCustomDataErrNotFound", testUsersSetUserCustomDataErrNotFound},
	{"CreateUserWithCustomData", testUsersCreateUserWithCustomData},
}

func testUsersCreateAndFind(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	created := now()
	u := &latchkey.User{
		ID:           newID(),
		AppID:        app.ID,
		Type:         latchkey.UserTypeNormal,
		Email:        "ada@example.com",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		CreatedAt:    created,
	}
	u.Identities = []*latchkey.Identity{{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderUserpass,
		ProviderID: u.Email, CreatedAt: created,
	}}
	before := cloneUser(u)
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, u); diff != "" {
		t.Fatalf("CreateUser changed its argument (-before +after):\n%s", diff)
	}

	got := mustFindUser(t, s, app.ID, u.ID)
	if diff := cmp.Diff(u, got); diff != "" {
		t.Fatalf("FindUserByID mismatch (-want +got):\n%s", diff)
	}
	got, err := s.FindUserByEmail(t.Context(), app.ID, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(u, got); diff != "" {
		t.Fatalf("FindUserByEmail mismatch (-want +got):\n%s", diff)
	}
}

func testUsersFlags(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := &latchkey.User{
		ID:        newID(),
		AppID:     app.ID,
		Type:      latchkey.UserTypeServer,
		Confirmed: true,
		Disabled:  true,
		CreatedAt: now(),
	}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	got := mustFindUser(t, s, app.ID, u.ID)
	if got.Type != latchkey.UserTypeServer || !got.Confirmed || !got.Disabled {
		t.Fatalf("got Type=%q Confirmed=%v Disabled=%v, want %q true true",
			got.Type, got.Confirmed, got.Disabled, latchkey.UserTypeServer)
	}
	if len(got.Identities) != 0 {
		t.Fatalf("got %d identities, want 0", len(got.Identities))
	}
}

func testUsersErrConflict(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	mustCreateUser(t, s, app.ID, "ada@example.com")

	dup := &latchkey.User{
		ID: newID(), AppID: app.ID, Type: latchkey.UserTypeNormal,
		Email: "ada@example.com", CreatedAt: now(),
	}
	dup.Identities = []*latchkey.Identity{{
		ID: newID(), UserID: dup.ID, ProviderType: latchkey.ProviderUserpass,
		ProviderID: dup.Email, CreatedAt: now(),
	}}
	assertCode(t, s.CreateUser(t.Context(), dup), latchkey.EConflict)
	_, err := s.FindUserByID(t.Context(), app.ID, dup.ID)
	assertCode(t, err, latchkey.ENotFound)
}

func testUsersSameEmailOtherApp(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app1, app2 := mustCreateApp(t, s), mustCreateApp(t, s)
	u1 := mustCreateUser(t, s, app1.ID, "ada@example.com")
	u2 := mustCreateUser(t, s, app2.ID, "ada@example.com")

	for _, want := range []*latchkey.User{u1, u2} {
		got, err := s.FindUserByEmail(t.Context(), want.AppID, "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != want.ID {
			t.Fatalf("FindUserByEmail in app %s = user %s, want %s", want.AppID, got.ID, want.ID)
		}
	}
}

func testUsersUsersWithoutEmail(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	// Several users without email must not collide on the per-app email uniqueness.
	mustCreateUser(t, s, app.ID, "")
	mustCreateUser(t, s, app.ID, "")
	_, err := s.FindUserByEmail(t.Context(), app.ID, "")
	assertCode(t, err, latchkey.ENotFound)
}

func testUsersErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "ada@example.com")

	_, err := s.FindUserByID(t.Context(), app.ID, newID())
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindUserByEmail(t.Context(), app.ID, "bob@example.com")
	assertCode(t, err, latchkey.ENotFound)
	// A user is found only through its own app.
	_, err = s.FindUserByID(t.Context(), other.ID, u.ID)
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindUserByEmail(t.Context(), other.ID, "ada@example.com")
	assertCode(t, err, latchkey.ENotFound)
}

func testUsersIdentitiesOldestFirst(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	base := now()
	u := &latchkey.User{
		ID: newID(), AppID: app.ID, Type: latchkey.UserTypeNormal,
		Email: "ada@example.com", CreatedAt: base,
	}
	later := &latchkey.Identity{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderUserpass,
		ProviderID: u.Email, CreatedAt: base.Add(time.Millisecond),
	}
	earlier := &latchkey.Identity{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderAnonymous,
		ProviderID: newID(), CreatedAt: base,
	}
	u.Identities = []*latchkey.Identity{later, earlier}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}

	assertIdentities(t, s, u, []*latchkey.Identity{earlier, later})
}

func testUsersAddIdentity(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "")
	ident := &latchkey.Identity{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderAPIKey,
		ProviderID: newID(), CreatedAt: u.CreatedAt.Add(time.Millisecond),
	}
	if err := s.AddIdentity(t.Context(), ident); err != nil {
		t.Fatal(err)
	}

	assertIdentities(t, s, u, append(u.Identities, ident))
}

func testUsersAddIdentityIdempotent(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "")
	// A second identity of a provider type the user already has changes nothing.
	again := &latchkey.Identity{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderAnonymous,
		ProviderID: newID(), CreatedAt: now(),
	}
	if err := s.AddIdentity(t.Context(), again); err != nil {
		t.Fatal(err)
	}
	if err := s.AddIdentity(t.Context(), again); err != nil {
		t.Fatal(err)
	}

	assertIdentities(t, s, u, u.Identities)
}

func testUsersDeleteUser(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	key := mustCreateAPIKey(t, s, u, "ci")
	keySess := mustCreateSession(t, s, u, key)
	sess := mustCreateSession(t, s, u, nil)
	tok := mustCreateUserToken(t, s, u, latchkey.UserTokenReset)

	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	otherKey := mustCreateAPIKey(t, s, other, "ci")
	otherSess := mustCreateSession(t, s, other, otherKey)
	otherTok := mustCreateUserToken(t, s, other, latchkey.UserTokenReset)

	if err := s.DeleteUser(t.Context(), app.ID, u.ID); err != nil {
		t.Fatal(err)
	}

	_, err := s.FindUserByID(t.Context(), app.ID, u.ID)
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindUserByEmail(t.Context(), app.ID, u.Email)
	assertCode(t, err, latchkey.ENotFound)
	keys, err := s.FindAPIKeys(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	} else if len(keys) != 0 {
		t.Fatalf("the deleted user still has %d API keys", len(keys))
	}
	_, err = s.FindAPIKeyByHash(t.Context(), app.ID, key.Hash)
	assertCode(t, err, latchkey.ENotFound)
	assertSessionGone(t, s, keySess.ID)
	assertSessionGone(t, s, sess.ID)
	_, err = s.FindUserToken(t.Context(), tok.ID)
	assertCode(t, err, latchkey.ENotFound)

	// The other user keeps everything.
	if _, err := s.FindUserByID(t.Context(), app.ID, other.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindAPIKey(t.Context(), other.ID, otherKey.ID); err != nil {
		t.Fatal(err)
	}
	assertSessionExists(t, s, otherSess.ID)
	if _, err := s.FindUserToken(t.Context(), otherTok.ID); err != nil {
		t.Fatal(err)
	}

	// The email is free again.
	mustCreateUser(t, s, app.ID, u.Email)
}

func testUsersDeleteUserErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "")

	assertCode(t, s.DeleteUser(t.Context(), app.ID, newID()), latchkey.ENotFound)
	// A user is deleted only through its own app.
	assertCode(t, s.DeleteUser(t.Context(), other.ID, u.ID), latchkey.ENotFound)
	if _, err := s.FindUserByID(t.Context(), app.ID, u.ID); err != nil {
		t.Fatal(err)
	}
}

func testUsersFindUsers(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	ada := mustCreateUser(t, s, app.ID, "ada@example.com")
	bob := newUser(app.ID, "bob@example.com")
	bob.Disabled = true
	if err := s.CreateUser(t.Context(), bob); err != nil {
		t.Fatal(err)
	}
	anon := mustCreateUser(t, s, app.ID, "")
	server, _ := mustCreateServerAPIKey(t, s, app.ID, "backend")
	// A user with two identities is one user, not two rows.
	both := mustCreateUser(t, s, app.ID, "cy@example.com")
	ident := &latchkey.Identity{
		ID: newID(), UserID: both.ID, ProviderType: latchkey.ProviderAnonymous,
		ProviderID: newID(), CreatedAt: both.CreatedAt.Add(time.Millisecond),
	}
	if err := s.AddIdentity(t.Context(), ident); err != nil {
		t.Fatal(err)
	}
	both.Identities = append(both.Identities, ident)
	mustCreateUser(t, s, other.ID, "ada@example.com")

	ptr := func(v string) *string { return &v }
	yes, no := true, false
	for _, tt := range []struct {
		name   string
		filter latchkey.UserFilter
		want   []*latchkey.User
	}{
		{"All", latchkey.UserFilter{}, []*latchkey.User{ada, bob, anon, server, both}},
		{"Email", latchkey.UserFilter{Email: ptr("ada@example.com")}, []*latchkey.User{ada}},
		{"EmailNone", latchkey.UserFilter{Email: ptr("nobody@example.com")}, nil},
		{"ProviderUserpass", latchkey.UserFilter{Provider: ptr(latchkey.ProviderUserpass)}, []*latchkey.User{ada, bob, both}},
		{"ProviderAnonymous", latchkey.UserFilter{Provider: ptr(latchkey.ProviderAnonymous)}, []*latchkey.User{anon, both}},
		{"ProviderAPIKey", latchkey.UserFilter{Provider: ptr(latchkey.ProviderAPIKey)}, []*latchkey.User{server}},
		{"Disabled", latchkey.UserFilter{Disabled: &yes}, []*latchkey.User{bob}},
		{"Enabled", latchkey.UserFilter{Disabled: &no}, []*latchkey.User{ada, anon, server, both}},
		{"TypeServer", latchkey.UserFilter{Type: ptr(latchkey.UserTypeServer)}, []*latchkey.User{server}},
		{"TypeNormal", latchkey.UserFilter{Type: ptr(latchkey.UserTypeNormal)}, []*latchkey.User{ada, bob, anon, both}},
		{"Combined", latchkey.UserFilter{Provider: ptr(latchkey.ProviderUserpass), Disabled: &no}, []*latchkey.User{ada, both}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.filter.AppID = app.ID
			want := slices.Clone(tt.want)
			slices.SortFunc(want, func(a, b *latchkey.User) int { return strings.Compare(a.ID, b.ID) })
			got := mustFindUsers(t, s, tt.filter)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("FindUsers(%+v) mismatch (-want +got):\n%s", tt.filter, diff)
			}
		})
	}

	t.Run("OtherApp", func(t *testing.T) {
		if got := mustFindUsers(t, s, latchkey.UserFilter{AppID: newID()}); len(got) != 0 {
			t.Fatalf("FindUsers of an unknown app returned %d users", len(got))
		}
		got := mustFindUsers(t, s, latchkey.UserFilter{AppID: other.ID})
		if len(got) != 1 || got[0].AppID != other.ID {
			t.Fatalf("FindUsers of the other app = %v, want its one user", got)
		}
	})
}

func testUsersFindUsersPaging(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	var all []*latchkey.User
	for range 5 {
		all = append(all, mustCreateUser(t, s, app.ID, ""))
	}
	mustCreateUser(t, s, mustCreateApp(t, s).ID, "")
	slices.SortFunc(all, func(a, b *latchkey.User) int { return strings.Compare(a.ID, b.ID) })

	if diff := cmp.Diff(all, mustFindUsers(t, s, latchkey.UserFilter{AppID: app.ID})); diff != "" {
		t.Fatalf("FindUsers without a limit (-want +got):\n%s", diff)
	}
	var after string
	for i, want := range [][]*latchkey.User{all[0:2], all[2:4], all[4:5], nil} {
		got := mustFindUsers(t, s, latchkey.UserFilter{AppID: app.ID, After: after, Limit: 2})
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("page %d (-want +got):\n%s", i, diff)
		}
		if len(got) > 0 {
			after = got[len(got)-1].ID
		}
	}
}

func testUsersFindUserStats(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	mustCreateAPIKey(t, s, u, "deploy")
	mustCreateSession(t, s, u, nil)
	mustCreateSession(t, s, u, k)
	at := now()
	expired := newSession(u, nil)
	expired.CreatedAt, expired.ExpiresAt = at.Add(-2*time.Hour), at
	if err := s.CreateSession(t.Context(), expired); err != nil {
		t.Fatal(err)
	}
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	mustCreateAPIKey(t, s, other, "ci")
	mustCreateSession(t, s, other, nil)

	got, err := s.FindUserStats(t.Context(), u.ID, at)
	if err != nil {
		t.Fatal(err)
	}
	// A session that expires at t is no longer live.
	if want := (latchkey.UserStats{APIKeys: 2, Sessions: 2}); got != want {
		t.Fatalf("FindUserStats = %+v, want %+v", got, want)
	}

	fresh := mustCreateUser(t, s, app.ID, "cy@example.com")
	if got, err := s.FindUserStats(t.Context(), fresh.ID, at); err != nil {
		t.Fatal(err)
	} else if got != (latchkey.UserStats{}) {
		t.Fatalf("FindUserStats of a new user = %+v, want zeros", got)
	}
}

func testUsersSetUserDisabled(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	sess := mustCreateSession(t, s, u, nil)
	keySess := mustCreateSession(t, s, u, k)
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	otherSess := mustCreateSession(t, s, other, nil)

	if err := s.SetUserDisabled(t.Context(), app.ID, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := mustFindUser(t, s, app.ID, u.ID); !got.Disabled {
		t.Fatal("user not disabled")
	}
	// Every session of the user ends; its keys stay, enabled.
	assertSessionGone(t, s, sess.ID)
	assertSessionGone(t, s, keySess.ID)
	if got := mustFindAPIKey(t, s, u.ID, k.ID); got.Disabled {
		t.Fatal("disabling the user disabled its key")
	}
	assertSessionExists(t, s, otherSess.ID)
	if got := mustFindUser(t, s, app.ID, other.ID); got.Disabled {
		t.Fatal("another user was disabled")
	}
	// Disabling a disabled user succeeds.
	if err := s.SetUserDisabled(t.Context(), app.ID, u.ID, true); err != nil {
		t.Fatal(err)
	}

	// Enabling keeps the sessions there are.
	if err := s.SetUserDisabled(t.Context(), app.ID, other.ID, false); err != nil {
		t.Fatal(err)
	}
	assertSessionExists(t, s, otherSess.ID)
	if err := s.SetUserDisabled(t.Context(), app.ID, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if got := mustFindUser(t, s, app.ID, u.ID); got.Disabled {
		t.Fatal("user still disabled")
	}
}

func testUsersSetUserDisabledErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "ada@example.com")
	sess := mustCreateSession(t, s, u, nil)

	assertCode(t, s.SetUserDisabled(t.Context(), app.ID, newID(), true), latchkey.ENotFound)
	// A user is disabled only through its own app.
	assertCode(t, s.SetUserDisabled(t.Context(), other.ID, u.ID, true), latchkey.ENotFound)
	if got := mustFindUser(t, s, app.ID, u.ID); got.Disabled {
		t.Fatal("user disabled through another app")
	}
	assertSessionExists(t, s, sess.ID)
}

func testUsersDeleteUserSessions(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	expired := newSession(u, nil)
	expired.CreatedAt, expired.ExpiresAt = now().Add(-2*time.Hour), now().Add(-time.Hour)
	if err := s.CreateSession(t.Context(), expired); err != nil {
		t.Fatal(err)
	}
	sessions := []*latchkey.Session{mustCreateSession(t, s, u, nil), mustCreateSession(t, s, u, k), expired}
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	otherSess := mustCreateSession(t, s, other, nil)

	n, err := s.DeleteUserSessions(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	} else if n != int64(len(sessions)) {
		t.Fatalf("DeleteUserSessions = %d, want %d", n, len(sessions))
	}
	for _, sess := range sessions {
		assertSessionGone(t, s, sess.ID)
	}
	assertSessionExists(t, s, otherSess.ID)
	mustFindAPIKey(t, s, u.ID, k.ID)

	// None left is not an error.
	if n, err := s.DeleteUserSessions(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	} else if n != 0 {
		t.Fatalf("second DeleteUserSessions = %d, want 0", n)
	}
}

func testUsersSetUserCustomData(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	k := mustCreateAPIKey(t, s, u, "ci")
	sess := mustCreateSession(t, s, u, nil)
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	if got := mustFindUser(t, s, app.ID, u.ID).CustomData; got != nil {
		t.Fatalf("new user's custom data = %s, want nil", got)
	}

	const data = `{"plan":"pro","n":1.5,"tags":["a","é"],"nested":{"ok":true,"none":null}}`
	if err := s.SetUserCustomData(t.Context(), app.ID, u.ID, []byte(data)); err != nil {
		t.Fatal(err)
	}
	// Every read of the user carries it: by id, by email, with a session (the refresh path)
	// and with a key (the API key login).
	assertJSON(t, "FindUserByID", mustFindUser(t, s, app.ID, u.ID).CustomData, data)
	byEmail, err := s.FindUserByEmail(t.Context(), app.ID, u.Email)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, "FindUserByEmail", byEmail.CustomData, data)
	_, withSession, err := s.FindSessionAndUser(t.Context(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, "FindSessionAndUser", withSession.CustomData, data)
	if got := len(withSession.Identities); got != 1 {
		t.Fatalf("FindSessionAndUser: %d identities, want 1", got)
	}
	_, withKey, err := s.FindAPIKeyAndUser(t.Context(), app.ID, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, "FindAPIKeyAndUser", withKey.CustomData, data)
	if got := mustFindUser(t, s, app.ID, other.ID).CustomData; got != nil {
		t.Fatalf("other user's custom data = %s, want nil", got)
	}
	// A listing leaves it out: a page of users would carry up to 16 KiB each.
	for _, lu := range mustFindUsers(t, s, latchkey.UserFilter{AppID: app.ID}) {
		if lu.CustomData != nil {
			t.Fatalf("FindUsers: user %s has custom data %s, want nil", lu.ID, lu.CustomData)
		}
	}

	// Replacing replaces; nil clears.
	if err := s.SetUserCustomData(t.Context(), app.ID, u.ID, []byte(`{"plan":"free"}`)); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, "after replace", mustFindUser(t, s, app.ID, u.ID).CustomData, `{"plan":"free"}`)
	if err := s.SetUserCustomData(t.Context(), app.ID, u.ID, nil); err != nil {
		t.Fatal(err)
	}
	if got := mustFindUser(t, s, app.ID, u.ID).CustomData; got != nil {
		t.Fatalf("cleared custom data = %s, want nil", got)
	}
}

func testUsersSetUserCustomDataErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	u := mustCreateUser(t, s, app.ID, "ada@example.com")

	assertCode(t, s.SetUserCustomData(t.Context(), app.ID, newID(), []byte(`{"a":1}`)), latchkey.ENotFound)
	// A user's custom data is set only through its own app.
	assertCode(t, s.SetUserCustomData(t.Context(), other.ID, u.ID, []byte(`{"a":1}`)), latchkey.ENotFound)
	if got := mustFindUser(t, s, app.ID, u.ID).CustomData; got != nil {
		t.Fatalf("custom data set through another app: %s", got)
	}
}

// testUsersCreateUserWithCustomData creates a user with its custom data in the one insert.
func testUsersCreateUserWithCustomData(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, _ := openWithUser(t, open)
	const data = `{"plan":"pro","seats":5}`
	u := newUser(app.ID, "carol@example.com")
	u.CustomData = []byte(data)
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	assertJSON(t, "FindUserByID", mustFindUser(t, s, app.ID, u.ID).CustomData, data)
}

// assertJSON checks that got is the JSON value want: stores may print it differently
// (PostgreSQL's JSONB adds spaces and orders keys).
func assertJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: custom data %q is not JSON: %v", what, got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(w, g); diff != "" {
		t.Fatalf("%s: custom data mismatch (-want +got):\n%s", what, diff)
	}
}

// newUser returns an email/password user of the app, not yet stored.
func newUser(appID, email string) *latchkey.User {
	u := &latchkey.User{
		ID: newID(), AppID: appID, Type: latchkey.UserTypeNormal, Email: email,
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", CreatedAt: now(),
	}
	u.Identities = []*latchkey.Identity{{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderUserpass,
		ProviderID: email, CreatedAt: u.CreatedAt,
	}}
	return u
}

// mustFindUser returns a user of the app.
func mustFindUser(t *testing.T, s latchkey.Store, appID, id string) *latchkey.User {
	t.Helper()
	u, err := s.FindUserByID(t.Context(), appID, id)
	if err != nil {
		t.Fatalf("FindUserByID: %v", err)
	}
	return u
}

// assertIdentities checks the user's identities as the store returns them, in order.
func assertIdentities(t *testing.T, s latchkey.Store, u *latchkey.User, want []*latchkey.Identity) {
	t.Helper()
	if diff := cmp.Diff(want, mustFindUser(t, s, u.AppID, u.ID).Identities); diff != "" {
		t.Fatalf("identities mismatch (-want +got):\n%s", diff)
	}
}

// mustFindUsers returns the users that match the filter.
func mustFindUsers(t *testing.T, s latchkey.Store, filter latchkey.UserFilter) []*latchkey.User {
	t.Helper()
	users, err := s.FindUsers(t.Context(), filter)
	if err != nil {
		t.Fatalf("FindUsers: %v", err)
	}
	return users
}

// cloneUser returns a deep copy of u.
func cloneUser(u *latchkey.User) *latchkey.User {
	c := *u
	c.Identities = nil
	for _, ident := range u.Identities {
		i := *ident
		c.Identities = append(c.Identities, &i)
	}
	return &c
}

// userTokensCases are the cases of latchkey.UserTokenStore: confirmation and reset tokens,
// each used once.
var userTokensCases = []storeCase{
	{"CreateAndFind", testUserTokensCreateAndFind},
	{"FindExpired", testUserTokensFindExpired},
	{"ErrNotFound", testUserTokensErrNotFound},
	{"Confirm", testUserTokensConfirm},
	{"ConfirmSingleUse", testUserTokensConfirmSingleUse},
	{"Reset", testUserTokensReset},
	{"ResetEndsOtherResetTokens", testUserTokensResetEndsOtherResetTokens},
	{"ResetSingleUse", testUserTokensResetSingleUse},
}

func testUserTokensCreateAndFind(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	tok := mustCreateUserToken(t, s, u, latchkey.UserTokenConfirm)

	got, err := s.FindUserToken(t.Context(), tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(tok, got); diff != "" {
		t.Fatalf("FindUserToken mismatch (-want +got):\n%s", diff)
	}
}

func testUserTokensFindExpired(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	tok := &latchkey.UserToken{
		ID: newID(), UserID: u.ID, Kind: latchkey.UserTokenReset, Hash: randomBytes(t, 32),
		CreatedAt: now().Add(-2 * time.Hour), ExpiresAt: now().Add(-time.Hour),
	}
	if err := s.CreateUserToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	// Expiry is the service's rule: the store still returns the token.
	if _, err := s.FindUserToken(t.Context(), tok.ID); err != nil {
		t.Fatal(err)
	}
}

func testUserTokensErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	_, err := s.FindUserToken(t.Context(), newID())
	assertCode(t, err, latchkey.ENotFound)
	assertCode(t, s.ConfirmUserWithToken(t.Context(), newID()), latchkey.ENotFound)
	assertCode(t, s.ResetPasswordWithToken(t.Context(), newID(), "hash"), latchkey.ENotFound)
}

func testUserTokensConfirm(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	tok := mustCreateUserToken(t, s, u, latchkey.UserTokenConfirm)

	if err := s.ConfirmUserWithToken(t.Context(), tok.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindUserByID(t.Context(), app.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	} else if !got.Confirmed {
		t.Fatal("user not confirmed")
	}
	_, err = s.FindUserToken(t.Context(), tok.ID)
	assertCode(t, err, latchkey.ENotFound)
}

func testUserTokensConfirmSingleUse(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, u := openWithUser(t, open)
	tok := mustCreateUserToken(t, s, u, latchkey.UserTokenConfirm)

	if err := s.ConfirmUserWithToken(t.Context(), tok.ID); err != nil {
		t.Fatal(err)
	}
	assertCode(t, s.ConfirmUserWithToken(t.Context(), tok.ID), latchkey.ENotFound)
}

func testUserTokensReset(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	key := mustCreateAPIKey(t, s, u, "ci")
	sess := mustCreateSession(t, s, u, nil)
	keySess := mustCreateSession(t, s, u, key)
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	otherSess := mustCreateSession(t, s, other, nil)
	tok := mustCreateUserToken(t, s, u, latchkey.UserTokenReset)

	if err := s.ResetPasswordWithToken(t.Context(), tok.ID, "new-hash"); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindUserByID(t.Context(), app.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	} else if got.PasswordHash != "new-hash" {
		t.Fatalf("PasswordHash = %q, want %q", got.PasswordHash, "new-hash")
	}
	_, err = s.FindUserToken(t.Context(), tok.ID)
	assertCode(t, err, latchkey.ENotFound)
	// Every session of the user ends; other users' sessions do not.
	assertSessionGone(t, s, sess.ID)
	assertSessionGone(t, s, keySess.ID)
	assertSessionExists(t, s, otherSess.ID)
	if got, err := s.FindUserByID(t.Context(), app.ID, other.ID); err != nil {
		t.Fatal(err)
	} else if got.PasswordHash != other.PasswordHash {
		t.Fatal("the other user's password hash changed")
	}
}

func testUserTokensResetEndsOtherResetTokens(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	first := mustCreateUserToken(t, s, u, latchkey.UserTokenReset)
	used := mustCreateUserToken(t, s, u, latchkey.UserTokenReset)
	confirm := mustCreateUserToken(t, s, u, latchkey.UserTokenConfirm)
	other := mustCreateUser(t, s, app.ID, "bob@example.com")
	otherReset := mustCreateUserToken(t, s, other, latchkey.UserTokenReset)

	if err := s.ResetPasswordWithToken(t.Context(), used.ID, "new-hash"); err != nil {
		t.Fatal(err)
	}
	// The link mailed earlier is spent with the one used; confirmation tokens and other
	// users' tokens stay.
	_, err := s.FindUserToken(t.Context(), first.ID)
	assertCode(t, err, latchkey.ENotFound)
	assertCode(t, s.ResetPasswordWithToken(t.Context(), first.ID, "later-hash"), latchkey.ENotFound)
	if got, err := s.FindUserByID(t.Context(), app.ID, u.ID); err != nil {
		t.Fatal(err)
	} else if got.PasswordHash != "new-hash" {
		t.Fatalf("PasswordHash = %q, want %q", got.PasswordHash, "new-hash")
	}
	for _, tok := range []*latchkey.UserToken{confirm, otherReset} {
		if _, err := s.FindUserToken(t.Context(), tok.ID); err != nil {
			t.Fatalf("token %s (%s): %v", tok.ID, tok.Kind, err)
		}
	}
}

func testUserTokensResetSingleUse(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, app, u := openWithUser(t, open)
	tok := mustCreateUserToken(t, s, u, latchkey.UserTokenReset)

	if err := s.ResetPasswordWithToken(t.Context(), tok.ID, "first"); err != nil {
		t.Fatal(err)
	}
	sess := mustCreateSession(t, s, u, nil)
	assertCode(t, s.ResetPasswordWithToken(t.Context(), tok.ID, "second"), latchkey.ENotFound)

	got, err := s.FindUserByID(t.Context(), app.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	} else if got.PasswordHash != "first" {
		t.Fatalf("PasswordHash = %q after a refused reset, want %q", got.PasswordHash, "first")
	}
	assertSessionExists(t, s, sess.ID)
}
