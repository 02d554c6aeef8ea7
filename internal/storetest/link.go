package storetest

import (
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// linkCases are the cases of UserStore.LinkUserpassIdentity: a registered, never-used
// email/password user moves onto another user of the app, in one step.
var linkCases = []storeCase{
	{"OK", testLinkOK},
	{"ErrSourceUsed", testLinkErrSourceUsed},
	{"ErrTargetTaken", testLinkErrTargetTaken},
	{"ErrTargetGone", testLinkErrTargetGone},
	{"ConcurrentLinksOfOneEmail", testLinkConcurrentLinksOfOneEmail},
	{"ConcurrentLinksToOneUser", testLinkConcurrentLinksToOneUser},
	{"LoginDuringLink", testLinkLoginDuringLink},
}

// openForLink opens a store with an app, an anonymous user with a live session, and a
// registered, confirmed email/password user ada@example.com that never logged in.
func openForLink(t *testing.T, open func(t *testing.T) latchkey.Store) (latchkey.Store, *latchkey.User, *latchkey.User) {
	t.Helper()
	s := open(t)
	app := mustCreateApp(t, s)
	anon := mustCreateUser(t, s, app.ID, "")
	mustCreateSession(t, s, anon, nil)
	return s, anon, mustCreateRegistered(t, s, app.ID, "ada@example.com")
}

// mustCreateRegistered creates a confirmed email/password user that never logged in.
func mustCreateRegistered(t *testing.T, s latchkey.Store, appID, email string) *latchkey.User {
	t.Helper()
	u := newUser(appID, email)
	u.Confirmed = true
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// newLinkIdentity returns the local-userpass identity a link gives the user u.
func newLinkIdentity(u *latchkey.User) *latchkey.Identity {
	return &latchkey.Identity{
		ID: newID(), UserID: u.ID, ProviderType: latchkey.ProviderUserpass,
		ProviderID: "userpass-" + u.AppID, CreatedAt: now(),
	}
}

func testLinkOK(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, anon, from := openForLink(t, open)
	sess := mustCreateSession(t, s, anon, nil)
	tok := mustCreateUserToken(t, s, from, latchkey.UserTokenReset)
	ident := newLinkIdentity(anon)

	if err := s.LinkUserpassIdentity(t.Context(), from, anon.ID, ident); err != nil {
		t.Fatal(err)
	}

	got := mustFindUser(t, s, anon.AppID, anon.ID)
	want := cloneUser(anon)
	want.Email, want.PasswordHash, want.Confirmed = from.Email, from.PasswordHash, true
	want.Identities = append(want.Identities, ident)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("linked user mismatch (-want +got):\n%s", diff)
	}
	if byEmail, err := s.FindUserByEmail(t.Context(), anon.AppID, from.Email); err != nil || byEmail.ID != anon.ID {
		t.Fatalf("FindUserByEmail = %v, %v; want the linked user %s", byEmail, err, anon.ID)
	}
	_, err := s.FindUserByID(t.Context(), from.AppID, from.ID)
	assertCode(t, err, latchkey.ENotFound)
	// The linked user's sessions stay; the registered user's tokens follow its email.
	assertSessionExists(t, s, sess.ID)
	if moved, err := s.FindUserToken(t.Context(), tok.ID); err != nil || moved.UserID != anon.ID {
		t.Fatalf("FindUserToken = %v, %v; want the token moved to %s", moved, err, anon.ID)
	}
}

func testLinkErrSourceUsed(t *testing.T, open func(t *testing.T) latchkey.Store) {
	for _, tt := range []struct {
		name string
		use  func(t *testing.T, s latchkey.Store, from *latchkey.User) *latchkey.User
	}{
		{"Session", func(t *testing.T, s latchkey.Store, from *latchkey.User) *latchkey.User {
			mustCreateSession(t, s, from, nil)
			return from
		}},
		{"APIKey", func(t *testing.T, s latchkey.Store, from *latchkey.User) *latchkey.User {
			mustCreateAPIKey(t, s, from, "ci")
			return from
		}},
		{"OtherIdentity", func(t *testing.T, s latchkey.Store, from *latchkey.User) *latchkey.User {
			ident := &latchkey.Identity{ID: newID(), UserID: from.ID, ProviderType: latchkey.ProviderAPIKey, ProviderID: newID(), CreatedAt: now()}
			if err := s.AddIdentity(t.Context(), ident); err != nil {
				t.Fatal(err)
			}
			return from
		}},
		{"PasswordChanged", func(t *testing.T, s latchkey.Store, from *latchkey.User) *latchkey.User {
			read := cloneUser(from)
			read.PasswordHash = "$argon2id$v=19$m=65536,t=1,p=4$b2xk$b2xk"
			return read
		}},
		{"Deleted", func(t *testing.T, s latchkey.Store, from *latchkey.User) *latchkey.User {
			if err := s.DeleteUser(t.Context(), from.AppID, from.ID); err != nil {
				t.Fatal(err)
			}
			return from
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, anon, from := openForLink(t, open)
			read := tt.use(t, s, from)
			err := s.LinkUserpassIdentity(t.Context(), read, anon.ID, newLinkIdentity(anon))
			assertCode(t, err, latchkey.EAccountNameInUse)
			if diff := cmp.Diff(anon, mustFindUser(t, s, anon.AppID, anon.ID)); diff != "" {
				t.Fatalf("a refused link changed the user (-want +got):\n%s", diff)
			}
		})
	}
}

func testLinkErrTargetTaken(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, _, from := openForLink(t, open)
	owner := mustCreateRegistered(t, s, from.AppID, "bob@example.com")
	err := s.LinkUserpassIdentity(t.Context(), from, owner.ID, newLinkIdentity(owner))
	assertCode(t, err, latchkey.EConflict)
	// Nothing moved.
	if diff := cmp.Diff(from, mustFindUser(t, s, from.AppID, from.ID)); diff != "" {
		t.Fatalf("a refused link changed the registered user (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(owner, mustFindUser(t, s, owner.AppID, owner.ID)); diff != "" {
		t.Fatalf("a refused link changed the target (-want +got):\n%s", diff)
	}
}

func testLinkErrTargetGone(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("Disabled", func(t *testing.T) {
		s, anon, from := openForLink(t, open)
		if err := s.SetUserDisabled(t.Context(), anon.AppID, anon.ID, true); err != nil {
			t.Fatal(err)
		}
		assertCode(t, s.LinkUserpassIdentity(t.Context(), from, anon.ID, newLinkIdentity(anon)), latchkey.ENotFound)
		mustFindUser(t, s, from.AppID, from.ID)
	})
	t.Run("Deleted", func(t *testing.T) {
		s, anon, from := openForLink(t, open)
		if err := s.DeleteUser(t.Context(), anon.AppID, anon.ID); err != nil {
			t.Fatal(err)
		}
		assertCode(t, s.LinkUserpassIdentity(t.Context(), from, anon.ID, newLinkIdentity(anon)), latchkey.ENotFound)
		mustFindUser(t, s, from.AppID, from.ID)
	})
	t.Run("OtherApp", func(t *testing.T) {
		s, _, from := openForLink(t, open)
		other := mustCreateUser(t, s, mustCreateApp(t, s).ID, "")
		assertCode(t, s.LinkUserpassIdentity(t.Context(), from, other.ID, newLinkIdentity(other)), latchkey.ENotFound)
		mustFindUser(t, s, from.AppID, from.ID)
	})
}

// linkAll runs the links at once and returns their errors, in order.
func linkAll(t *testing.T, s latchkey.Store, links []func() error) []error {
	t.Helper()
	errs := make([]error, len(links))
	var wg sync.WaitGroup
	for i, link := range links {
		wg.Go(func() { errs[i] = link() })
	}
	wg.Wait()
	return errs
}

// wantOneWinner checks that exactly one of errs is nil and the others carry code.
func wantOneWinner(t *testing.T, errs []error, code string) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch latchkey.ErrorCode(err) {
		case "":
			if winner >= 0 {
				t.Fatalf("links %d and %d both succeeded", winner, i)
			}
			winner = i
		case code:
		default:
			t.Fatalf("link %d: %v, want success or %s", i, err, code)
		}
	}
	if winner < 0 {
		t.Fatalf("no link succeeded: %v", errs)
	}
	return winner
}

// Two users link the same registered email at once: one gets it, the other is told the
// name is in use.
func testLinkConcurrentLinksOfOneEmail(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, anon, from := openForLink(t, open)
	anon2 := mustCreateUser(t, s, anon.AppID, "")
	targets := []*latchkey.User{anon, anon2}
	errs := linkAll(t, s, []func() error{
		func() error { return s.LinkUserpassIdentity(t.Context(), from, anon.ID, newLinkIdentity(anon)) },
		func() error { return s.LinkUserpassIdentity(t.Context(), from, anon2.ID, newLinkIdentity(anon2)) },
	})
	i := wantOneWinner(t, errs, latchkey.EAccountNameInUse)
	winner, loser := targets[i], targets[1-i]
	if got := mustFindUser(t, s, winner.AppID, winner.ID); got.Email != from.Email || len(got.Identities) != 2 {
		t.Fatalf("winner = %+v, want the email and two identities", got)
	}
	if diff := cmp.Diff(loser, mustFindUser(t, s, loser.AppID, loser.ID)); diff != "" {
		t.Fatalf("the losing link changed its user (-want +got):\n%s", diff)
	}
}

// One user links two registered emails at once: it gets one, and the other email's user
// stays as it was.
func testLinkConcurrentLinksToOneUser(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s, anon, ada := openForLink(t, open)
	bob := mustCreateRegistered(t, s, anon.AppID, "bob@example.com")
	sources := []*latchkey.User{ada, bob}
	errs := linkAll(t, s, []func() error{
		func() error { return s.LinkUserpassIdentity(t.Context(), ada, anon.ID, newLinkIdentity(anon)) },
		func() error { return s.LinkUserpassIdentity(t.Context(), bob, anon.ID, newLinkIdentity(anon)) },
	})
	i := wantOneWinner(t, errs, latchkey.EConflict)
	won, kept := sources[i], sources[1-i]
	got := mustFindUser(t, s, anon.AppID, anon.ID)
	if got.Email != won.Email || len(got.Identities) != 2 {
		t.Fatalf("linked user = %+v, want %s and two identities", got, won.Email)
	}
	if diff := cmp.Diff(kept, mustFindUser(t, s, kept.AppID, kept.ID)); diff != "" {
		t.Fatalf("the refused source changed (-want +got):\n%s", diff)
	}
}

// The registered user logs in while a link of it runs: either the login's session comes
// first and the link is refused, or the link comes first and the session is refused. Never
// both, never a session of a deleted user.
func testLinkLoginDuringLink(t *testing.T, open func(t *testing.T) latchkey.Store) {
	for range 5 {
		s, anon, from := openForLink(t, open)
		sess := newSession(from, nil)
		errs := linkAll(t, s, []func() error{
			func() error { return s.LinkUserpassIdentity(t.Context(), from, anon.ID, newLinkIdentity(anon)) },
			func() error { return s.CreateSession(t.Context(), sess) },
		})
		linkErr, sessErr := latchkey.ErrorCode(errs[0]), latchkey.ErrorCode(errs[1])
		switch {
		case linkErr == "" && sessErr == latchkey.ENotFound:
			assertSessionGone(t, s, sess.ID)
		case linkErr == latchkey.EAccountNameInUse && sessErr == "":
			assertSessionExists(t, s, sess.ID)
		default:
			t.Fatalf("link: %v, session: %v; want exactly one of them to succeed", errs[0], errs[1])
		}
	}
}
