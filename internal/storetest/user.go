package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

func testUser(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("CreateAndFind", func(t *testing.T) {
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

		got, err := s.FindUserByID(t.Context(), app.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(u, got); diff != "" {
			t.Fatalf("FindUserByID mismatch (-want +got):\n%s", diff)
		}
		got, err = s.FindUserByEmail(t.Context(), app.ID, "ada@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(u, got); diff != "" {
			t.Fatalf("FindUserByEmail mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("Flags", func(t *testing.T) {
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
		got, err := s.FindUserByID(t.Context(), app.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Type != latchkey.UserTypeServer || !got.Confirmed || !got.Disabled {
			t.Fatalf("got Type=%q Confirmed=%v Disabled=%v, want %q true true",
				got.Type, got.Confirmed, got.Disabled, latchkey.UserTypeServer)
		}
		if len(got.Identities) != 0 {
			t.Fatalf("got %d identities, want 0", len(got.Identities))
		}
	})

	t.Run("ErrConflict", func(t *testing.T) {
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
	})

	t.Run("SameEmailOtherApp", func(t *testing.T) {
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
	})

	t.Run("UsersWithoutEmail", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		// Several users without email must not collide on the per-app email uniqueness.
		mustCreateUser(t, s, app.ID, "")
		mustCreateUser(t, s, app.ID, "")
		_, err := s.FindUserByEmail(t.Context(), app.ID, "")
		assertCode(t, err, latchkey.ENotFound)
	})

	t.Run("ErrNotFound", func(t *testing.T) {
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
	})

	t.Run("IdentitiesOldestFirst", func(t *testing.T) {
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

		got, err := s.FindUserByID(t.Context(), app.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]*latchkey.Identity{earlier, later}, got.Identities); diff != "" {
			t.Fatalf("identities mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("AddIdentity", func(t *testing.T) {
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

		got, err := s.FindUserByID(t.Context(), app.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := append(u.Identities, ident)
		if diff := cmp.Diff(want, got.Identities); diff != "" {
			t.Fatalf("identities mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("AddIdentityIdempotent", func(t *testing.T) {
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

		got, err := s.FindUserByID(t.Context(), app.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(u.Identities, got.Identities); diff != "" {
			t.Fatalf("identities mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("DeleteUser", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		key := mustCreateAPIKey(t, s, u, "ci")
		keySess := mustCreateSession(t, s, u, key.ID)
		sess := mustCreateSession(t, s, u, "")
		tok := mustCreateUserToken(t, s, u, latchkey.UserTokenReset)

		other := mustCreateUser(t, s, app.ID, "bob@example.com")
		otherKey := mustCreateAPIKey(t, s, other, "ci")
		otherSess := mustCreateSession(t, s, other, otherKey.ID)
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
	})

	t.Run("DeleteUserErrNotFound", func(t *testing.T) {
		s := open(t)
		app, other := mustCreateApp(t, s), mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "")

		assertCode(t, s.DeleteUser(t.Context(), app.ID, newID()), latchkey.ENotFound)
		// A user is deleted only through its own app.
		assertCode(t, s.DeleteUser(t.Context(), other.ID, u.ID), latchkey.ENotFound)
		if _, err := s.FindUserByID(t.Context(), app.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	})
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

func testUserToken(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("CreateAndFind", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		tok := mustCreateUserToken(t, s, u, latchkey.UserTokenConfirm)

		got, err := s.FindUserToken(t.Context(), tok.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tok, got); diff != "" {
			t.Fatalf("FindUserToken mismatch (-want +got):\n%s", diff)
		}
	})

	t.Run("FindExpired", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
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
	})

	t.Run("ErrNotFound", func(t *testing.T) {
		s := open(t)
		_, err := s.FindUserToken(t.Context(), newID())
		assertCode(t, err, latchkey.ENotFound)
		assertCode(t, s.ConfirmUserWithToken(t.Context(), newID()), latchkey.ENotFound)
		assertCode(t, s.ResetPasswordWithToken(t.Context(), newID(), "hash"), latchkey.ENotFound)
	})

	t.Run("Confirm", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
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
	})

	t.Run("ConfirmSingleUse", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		tok := mustCreateUserToken(t, s, u, latchkey.UserTokenConfirm)

		if err := s.ConfirmUserWithToken(t.Context(), tok.ID); err != nil {
			t.Fatal(err)
		}
		assertCode(t, s.ConfirmUserWithToken(t.Context(), tok.ID), latchkey.ENotFound)
	})

	t.Run("Reset", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		key := mustCreateAPIKey(t, s, u, "ci")
		sess := mustCreateSession(t, s, u, "")
		keySess := mustCreateSession(t, s, u, key.ID)
		other := mustCreateUser(t, s, app.ID, "bob@example.com")
		otherSess := mustCreateSession(t, s, other, "")
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
	})

	t.Run("ResetSingleUse", func(t *testing.T) {
		s := open(t)
		app := mustCreateApp(t, s)
		u := mustCreateUser(t, s, app.ID, "ada@example.com")
		tok := mustCreateUserToken(t, s, u, latchkey.UserTokenReset)

		if err := s.ResetPasswordWithToken(t.Context(), tok.ID, "first"); err != nil {
			t.Fatal(err)
		}
		sess := mustCreateSession(t, s, u, "")
		assertCode(t, s.ResetPasswordWithToken(t.Context(), tok.ID, "second"), latchkey.ENotFound)

		got, err := s.FindUserByID(t.Context(), app.ID, u.ID)
		if err != nil {
			t.Fatal(err)
		} else if got.PasswordHash != "first" {
			t.Fatalf("PasswordHash = %q after a refused reset, want %q", got.PasswordHash, "first")
		}
		assertSessionExists(t, s, sess.ID)
	})
}
