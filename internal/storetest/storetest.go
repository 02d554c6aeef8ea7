// Package storetest is the conformance suite that every latchkey.Store implementation must
// pass, so that the SQLite and PostgreSQL stores behave the same to the service above them.
package storetest

import (
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// Run runs the suite. open must return a fresh, empty, migrated store; every subtest opens its
// own, and closing it is open's business (t.Cleanup). Subtests run one after another, so open
// may reuse one database between them if it empties it.
//
// The subtests are named noun, then case (TestStore/APIKeys/ErrLimitReached): one noun for each
// of latchkey.Store's interfaces, and Timestamps, Health and Race across them. Each case is a
// function of its own, in the noun's file.
func Run(t *testing.T, open func(t *testing.T) latchkey.Store) {
	for _, noun := range suite {
		t.Run(noun.name, func(t *testing.T) {
			for _, c := range noun.cases {
				t.Run(c.name, func(t *testing.T) { c.test(t, open) })
			}
		})
	}
}

// storeCase is one case of the suite: a name and the function that runs it on stores that
// open returns.
type storeCase struct {
	name string
	test func(t *testing.T, open func(t *testing.T) latchkey.Store)
}

// suite is every noun's cases, in the order they run.
var suite = []struct {
	name  string
	cases []storeCase
}{
	{"Apps", appsCases},
	{"Users", usersCases},
	{"Link", linkCases},
	{"UserTokens", userTokensCases},
	{"Mail", mailCases},
	{"APIKeys", apiKeysCases},
	{"ServerAPIKeys", serverAPIKeysCases},
	{"Sessions", sessionsCases},
	{"SigningKeys", signingKeysCases},
	{"Admins", adminsCases},
	{"WebSessions", webSessionsCases},
	{"Audit", auditCases},
	{"Timestamps", timestampsCases},
	{"Health", healthCases},
	{"Race", raceCases},
	{"Limits", limitsCases},
	{"verify", verifyCases},
	{"AuthProviders", authProvidersCases},
	{"ExternalIdentities", externalIdentitiesCases},
}

// now returns the current time as the stores keep it: UTC, at millisecond precision, so that
// what goes in compares equal to what comes out.
func now() time.Time {
	return time.Now().UTC().Truncate(time.Millisecond)
}

// newID returns a fresh id.
func newID() string {
	return latchkey.NewID(time.Now())
}

// randomBytes returns n random bytes, for hashes and keys.
func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// assertCode fails the test unless err carries the code.
func assertCode(t *testing.T, err error, want string) {
	t.Helper()
	if got := latchkey.ErrorCode(err); got != want {
		t.Fatalf("error code = %q, want %q (err: %v)", got, want, err)
	}
}

// newApp returns an app with every provider enabled, not yet stored.
func newApp() *latchkey.App {
	id := newID()
	return &latchkey.App{
		ID:                   id,
		ClientAppID:          "app-" + id,
		Name:                 "App " + id,
		AnonymousEnabled:     true,
		UserpassEnabled:      true,
		APIKeyEnabled:        true,
		PasswordMinLength:    latchkey.MinPasswordLength,
		RefreshTokenLifetime: latchkey.DefaultRefreshTokenLifetime,
		KeyPrefix:            latchkey.DefaultKeyPrefix,
		CreatedAt:            now(),
	}
}

// mustCreateApp creates an app with every provider enabled.
func mustCreateApp(t *testing.T, s latchkey.Store) *latchkey.App {
	t.Helper()
	app := newApp()
	if err := s.CreateApp(t.Context(), app); err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	return app
}

// openWithUser opens a store holding an app with every provider enabled and an
// email/password user of it, ada@example.com: the start of most cases.
func openWithUser(t *testing.T, open func(t *testing.T) latchkey.Store) (latchkey.Store, *latchkey.App, *latchkey.User) {
	t.Helper()
	s := open(t)
	app := mustCreateApp(t, s)
	return s, app, mustCreateUser(t, s, app.ID, "ada@example.com")
}

// mustCreateUser creates a user of the app: an email/password user when email is set, an
// anonymous one otherwise.
func mustCreateUser(t *testing.T, s latchkey.Store, appID, email string) *latchkey.User {
	t.Helper()
	u := &latchkey.User{
		ID:        newID(),
		AppID:     appID,
		Type:      latchkey.UserTypeNormal,
		Email:     email,
		CreatedAt: now(),
	}
	ident := &latchkey.Identity{
		ID:           newID(),
		UserID:       u.ID,
		ProviderType: latchkey.ProviderAnonymous,
		ProviderID:   newID(),
		CreatedAt:    u.CreatedAt,
	}
	if email != "" {
		u.PasswordHash = "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA"
		ident.ProviderType, ident.ProviderID = latchkey.ProviderUserpass, email
	}
	u.Identities = []*latchkey.Identity{ident}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// newAPIKey returns an enabled key of the user, not yet stored.
func newAPIKey(t *testing.T, u *latchkey.User, name string) *latchkey.APIKey {
	t.Helper()
	return &latchkey.APIKey{
		ID:        newID(),
		AppID:     u.AppID,
		UserID:    u.ID,
		Name:      name,
		Hash:      randomBytes(t, 32),
		CreatedAt: now(),
	}
}

// mustCreateAPIKey creates an enabled key of the user, under the default cap.
func mustCreateAPIKey(t *testing.T, s latchkey.Store, u *latchkey.User, name string) *latchkey.APIKey {
	t.Helper()
	k := newAPIKey(t, u, name)
	if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	return k
}

// newSession returns a live session of the user, opened with the key's current value when k
// is set, not yet stored.
func newSession(u *latchkey.User, k *latchkey.APIKey) *latchkey.Session {
	t := now()
	sess := &latchkey.Session{
		ID:        newID(),
		AppID:     u.AppID,
		UserID:    u.ID,
		DeviceID:  newID(),
		Provider:  latchkey.ProviderAnonymous,
		CreatedAt: t,
		ExpiresAt: t.Add(latchkey.DefaultRefreshTokenLifetime),
	}
	if k != nil {
		sess.Provider, sess.APIKeyID, sess.KeyHash = latchkey.ProviderAPIKey, k.ID, k.Hash
	}
	return sess
}

// mustCreateSession creates a live session of the user, opened with the key's current value
// when k is set. The session returned is as the store reads it back, without KeyHash.
func mustCreateSession(t *testing.T, s latchkey.Store, u *latchkey.User, k *latchkey.APIKey) *latchkey.Session {
	t.Helper()
	sess := newSession(u, k)
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}
	sess.KeyHash = nil
	return sess
}

// mustCreateUserToken creates an unexpired token of the kind for the user.
func mustCreateUserToken(t *testing.T, s latchkey.Store, u *latchkey.User, kind string) *latchkey.UserToken {
	t.Helper()
	tok := &latchkey.UserToken{
		ID:        newID(),
		UserID:    u.ID,
		Kind:      kind,
		Hash:      randomBytes(t, 32),
		CreatedAt: now(),
		ExpiresAt: now().Add(time.Hour),
	}
	if err := s.CreateUserToken(t.Context(), tok); err != nil {
		t.Fatalf("CreateUserToken: %v", err)
	}
	return tok
}

// assertSessionExists fails the test unless the session is in the store.
func assertSessionExists(t *testing.T, s latchkey.Store, id string) {
	t.Helper()
	if _, err := s.FindSession(t.Context(), id); err != nil {
		t.Fatalf("FindSession(%s): %v, want the session", id, err)
	}
}

// assertSessionGone fails the test unless the session is not found.
func assertSessionGone(t *testing.T, s latchkey.Store, id string) {
	t.Helper()
	_, err := s.FindSession(t.Context(), id)
	assertCode(t, err, latchkey.ENotFound)
}

// keyName returns the i-th of a set of distinct key names.
func keyName(i int) string {
	return fmt.Sprintf("key-%02d", i)
}

// timestampsCases check every stored time across the nouns: it goes in with nanoseconds and
// a zone other than UTC, and comes out at millisecond precision, in UTC, at the same instant.
var timestampsCases = []storeCase{
	{"MillisecondUTC", testTimestampsMillisecondUTC},
}

// Times go in with nanoseconds and a zone other than UTC; they must come out at millisecond
// precision, in UTC, at the same instant.
func testTimestampsMillisecondUTC(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	base := time.Date(2031, 7, 14, 9, 26, 53, 123456789, zone)
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Hour) }
	check := func(t *testing.T, what string, got time.Time, i int) {
		t.Helper()
		want := at(i).Truncate(time.Millisecond)
		if !got.Equal(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
		if got.Location() != time.UTC {
			t.Errorf("%s location = %v, want UTC", what, got.Location())
		}
	}

	app := newApp()
	app.CreatedAt = at(0)
	if err := s.CreateApp(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	u := &latchkey.User{ID: newID(), AppID: app.ID, Type: latchkey.UserTypeNormal, CreatedAt: at(1)}
	u.Identities = []*latchkey.Identity{{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderAnonymous,
		ProviderID: newID(), CreatedAt: at(2),
	}}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	tok := &latchkey.UserToken{
		ID: newID(), UserID: u.ID, Kind: latchkey.UserTokenConfirm, Hash: randomBytes(t, 32),
		CreatedAt: at(3), ExpiresAt: at(4),
	}
	if err := s.CreateUserToken(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	k := newAPIKey(t, u, "ci")
	k.CreatedAt = at(5)
	k.ExpiresAt, k.PreviousExpiresAt = timePtr(at(14)), timePtr(at(15))
	if err := s.CreateAPIKey(t.Context(), k, latchkey.MaxAPIKeysPerUser); err != nil {
		t.Fatal(err)
	}
	if err := s.TouchAPIKey(t.Context(), k.ID, at(6)); err != nil {
		t.Fatal(err)
	}
	sess := newSession(u, k)
	sess.CreatedAt, sess.ExpiresAt = at(7), at(8)
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	sk := &latchkey.SigningKey{ID: newID(), Algorithm: "ES256", PrivateKey: randomBytes(t, 138), CreatedAt: at(9)}
	if err := s.CreateSigningKey(t.Context(), sk); err != nil {
		t.Fatal(err)
	}

	gotApp, err := s.FindAppByID(t.Context(), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "App.CreatedAt", gotApp.CreatedAt, 0)
	gotUser, err := s.FindUserByID(t.Context(), app.ID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "User.CreatedAt", gotUser.CreatedAt, 1)
	if len(gotUser.Identities) != 1 {
		t.Fatalf("got %d identities, want 1", len(gotUser.Identities))
	}
	check(t, "Identity.CreatedAt", gotUser.Identities[0].CreatedAt, 2)
	gotTok, err := s.FindUserToken(t.Context(), tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "UserToken.CreatedAt", gotTok.CreatedAt, 3)
	check(t, "UserToken.ExpiresAt", gotTok.ExpiresAt, 4)
	gotKey := mustFindAPIKey(t, s, u.ID, k.ID)
	check(t, "APIKey.CreatedAt", gotKey.CreatedAt, 5)
	if gotKey.LastUsedAt == nil {
		t.Fatal("APIKey.LastUsedAt = nil after TouchAPIKey")
	}
	check(t, "APIKey.LastUsedAt", *gotKey.LastUsedAt, 6)
	if gotKey.ExpiresAt == nil || gotKey.PreviousExpiresAt == nil {
		t.Fatalf("APIKey.ExpiresAt = %v, PreviousExpiresAt = %v, want both set", gotKey.ExpiresAt, gotKey.PreviousExpiresAt)
	}
	check(t, "APIKey.ExpiresAt", *gotKey.ExpiresAt, 14)
	check(t, "APIKey.PreviousExpiresAt", *gotKey.PreviousExpiresAt, 15)
	gotSess, err := s.FindSession(t.Context(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "Session.CreatedAt", gotSess.CreatedAt, 7)
	check(t, "Session.ExpiresAt", gotSess.ExpiresAt, 8)
	gotSKs, err := s.FindSigningKeys(t.Context())
	if err != nil {
		t.Fatal(err)
	} else if len(gotSKs) != 1 {
		t.Fatalf("got %d signing keys, want 1", len(gotSKs))
	}
	check(t, "SigningKey.CreatedAt", gotSKs[0].CreatedAt, 9)

	a := newAdmin("root@example.com")
	a.CreatedAt = at(10)
	if err := s.CreateAdmin(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	as := &latchkey.AdminSession{ID: newID(), AdminID: a.ID, CreatedAt: at(11), ExpiresAt: at(12)}
	if err := s.CreateAdminSession(t.Context(), as); err != nil {
		t.Fatal(err)
	}
	mustCreateAuditEvents(t, s, newAuditEvent(app.ID, latchkey.EventLogin, u.ID, u.ID, at(13)))

	gotAdmin, err := s.FindAdminByID(t.Context(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "Admin.CreatedAt", gotAdmin.CreatedAt, 10)
	gotAS, err := s.FindAdminSession(t.Context(), as.ID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "AdminSession.CreatedAt", gotAS.CreatedAt, 11)
	check(t, "AdminSession.ExpiresAt", gotAS.ExpiresAt, 12)
	gotEvents := mustFindAuditEvents(t, s, latchkey.AuditFilter{})
	if len(gotEvents) != 1 {
		t.Fatalf("got %d audit events, want 1", len(gotEvents))
	}
	check(t, "AuditEvent.Time", gotEvents[0].Time, 13)
}
