package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// adminsCases are the cases of latchkey.AdminStore: admins and their sessions.
var adminsCases = []storeCase{
	{"CreateAndFind", testAdminsCreateAndFind},
	{"ErrConflict", testAdminsErrConflict},
	{"ErrNotFound", testAdminsErrNotFound},
	{"Session", testAdminsSession},
}

func testAdminsCreateAndFind(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	assertAdminCount(t, s, 0)
	a := newAdmin("root@example.com")
	before := *a
	if err := s.CreateAdmin(t.Context(), a); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&before, a); diff != "" {
		t.Fatalf("CreateAdmin changed its argument (-before +after):\n%s", diff)
	}
	other := mustCreateAdmin(t, s, "ops@example.com")
	assertAdminCount(t, s, 2)

	got, err := s.FindAdminByEmail(t.Context(), "root@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, got); diff != "" {
		t.Fatalf("FindAdminByEmail mismatch (-want +got):\n%s", diff)
	}
	got, err = s.FindAdminByID(t.Context(), other.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(other, got); diff != "" {
		t.Fatalf("FindAdminByID mismatch (-want +got):\n%s", diff)
	}
}

func testAdminsErrConflict(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	mustCreateAdmin(t, s, "root@example.com")
	dup := newAdmin("root@example.com")
	assertCode(t, s.CreateAdmin(t.Context(), dup), latchkey.EConflict)
	_, err := s.FindAdminByID(t.Context(), dup.ID)
	assertCode(t, err, latchkey.ENotFound)
	assertAdminCount(t, s, 1)
}

func testAdminsErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	mustCreateAdmin(t, s, "root@example.com")
	_, err := s.FindAdminByEmail(t.Context(), "nobody@example.com")
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindAdminByID(t.Context(), newID())
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindAdminSession(t.Context(), newID())
	assertCode(t, err, latchkey.ENotFound)
	assertCode(t, s.DeleteAdminSession(t.Context(), newID()), latchkey.ENotFound)
	assertCode(t, s.CreateAdminSession(t.Context(), newAdminSession(newID())), latchkey.ENotFound)
}

func testAdminsSession(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	a := mustCreateAdmin(t, s, "root@example.com")
	sess := newAdminSession(a.ID)
	before := *sess
	if err := s.CreateAdminSession(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&before, sess); diff != "" {
		t.Fatalf("CreateAdminSession changed its argument (-before +after):\n%s", diff)
	}
	// Expiry is the service's rule: the store still returns an expired session.
	expired := newAdminSession(a.ID)
	expired.CreatedAt, expired.ExpiresAt = now().Add(-2*time.Hour), now().Add(-time.Hour)
	if err := s.CreateAdminSession(t.Context(), expired); err != nil {
		t.Fatal(err)
	}
	for _, want := range []*latchkey.AdminSession{sess, expired} {
		got, err := s.FindAdminSession(t.Context(), want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("FindAdminSession mismatch (-want +got):\n%s", diff)
		}
	}

	if err := s.DeleteAdminSession(t.Context(), sess.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.FindAdminSession(t.Context(), sess.ID)
	assertCode(t, err, latchkey.ENotFound)
	if _, err := s.FindAdminSession(t.Context(), expired.ID); err != nil {
		t.Fatal(err)
	}
	assertCode(t, s.DeleteAdminSession(t.Context(), sess.ID), latchkey.ENotFound)
}

// newAdmin returns an admin, not yet stored.
func newAdmin(email string) *latchkey.Admin {
	return &latchkey.Admin{
		ID:           newID(),
		Email:        email,
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA",
		CreatedAt:    now(),
	}
}

// mustCreateAdmin creates an admin.
func mustCreateAdmin(t *testing.T, s latchkey.Store, email string) *latchkey.Admin {
	t.Helper()
	a := newAdmin(email)
	if err := s.CreateAdmin(t.Context(), a); err != nil {
		t.Fatalf("CreateAdmin: %v", err)
	}
	return a
}

// newAdminSession returns a live session of the admin, not yet stored.
func newAdminSession(adminID string) *latchkey.AdminSession {
	t := now()
	return &latchkey.AdminSession{
		ID:        newID(),
		AdminID:   adminID,
		CreatedAt: t,
		ExpiresAt: t.Add(latchkey.AdminRefreshTokenLifetime),
	}
}

// assertAdminCount fails the test unless the store has want admins.
func assertAdminCount(t *testing.T, s latchkey.Store, want int) {
	t.Helper()
	if got, err := s.CountAdmins(t.Context()); err != nil {
		t.Fatalf("CountAdmins: %v", err)
	} else if got != want {
		t.Fatalf("CountAdmins = %d, want %d", got, want)
	}
}
