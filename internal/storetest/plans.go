package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// The workload of the query plan tests (postgres and sqlite plan_internal_test.go): a store
// seeded large enough for the planners to prefer an index wherever one serves, and every admin
// filter and hot-path operation run on it.

// PlanWorkload is a seeded store's big app, with a user, a key and a server key to look up, and a small app
// to delete.
type PlanWorkload struct {
	Big, Small *latchkey.App
	user       *latchkey.User
	key        *latchkey.APIKey
	serverKey  *latchkey.APIKey
	email      string
	session    string
	// external is the external id of a user's custom-token identity, to look up.
	external string
}

// SeedPlans fills s, an empty store, through insert: 30,000 users of the big app (1% disabled, a tenth anonymous, 30
// server users, a tenth also with a custom-token identity), a third with a key, and a small app of 10 users.
func SeedPlans(t *testing.T, s latchkey.Store, insert Insert) *PlanWorkload {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	w := &PlanWorkload{}
	for _, app := range []**latchkey.App{&w.Big, &w.Small} {
		*app = &latchkey.App{ID: latchkey.NewID(now), ClientAppID: "app-" + latchkey.NewID(now), Name: "App",
			UserpassEnabled: true, APIKeyEnabled: true, RefreshTokenLifetime: latchkey.DefaultRefreshTokenLifetime,
			KeyPrefix: latchkey.DefaultKeyPrefix, CreatedAt: now}
		if err := s.CreateApp(ctx, *app); err != nil {
			t.Fatal(err)
		}
	}
	var users []*latchkey.User
	var keys []*latchkey.APIKey
	add := func(app *latchkey.App, i int) {
		u := &latchkey.User{ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeNormal, Confirmed: true,
			Disabled: i%100 == 7, CreatedAt: now}
		provider, provID := latchkey.ProviderUserpass, fmt.Sprintf("u%d-%s@example.com", i, app.ID)
		switch {
		case i%1000 == 3:
			u.Type, provider, provID = latchkey.UserTypeServer, latchkey.ProviderAPIKey, u.ID
		case i%10 == 5:
			provider, provID = latchkey.ProviderAnonymous, u.ID
		default:
			u.Email = provID
		}
		u.Identities = []*latchkey.Identity{{ID: latchkey.NewID(now), UserID: u.ID, ProviderType: provider, ProviderID: provID, CreatedAt: now}}
		if i%10 == 6 {
			u.Identities = append(u.Identities, &latchkey.Identity{ID: latchkey.NewID(now), UserID: u.ID,
				ProviderType: latchkey.ProviderCustomToken, ProviderID: latchkey.ProviderID(app.ID, latchkey.ProviderCustomToken),
				ExternalID: fmt.Sprintf("sub-%d", i), Data: map[string]any{"name": "User"}, CreatedAt: now})
		}
		users = append(users, u)
		if i%3 == 0 || u.Type == latchkey.UserTypeServer {
			hash := make([]byte, 32)
			rand.Read(hash)
			keys = append(keys, &latchkey.APIKey{ID: latchkey.NewID(now), AppID: app.ID, UserID: u.ID, Name: "k",
				Hash: hash, Start: "lk_", CreatedAt: now})
		}
	}
	for i := range 30_000 {
		add(w.Big, i)
	}
	for i := range 10 {
		add(w.Small, i)
	}
	if err := insert(ctx, users, keys); err != nil {
		t.Fatal(err)
	}
	w.user, w.email = users[3000], users[3000].Email
	w.external = users[3006].Identities[1].ExternalID
	serverUsers := map[string]bool{}
	for _, u := range users {
		if u.Type == latchkey.UserTypeServer {
			serverUsers[u.ID] = true
		}
	}
	for _, k := range keys {
		if k.UserID == w.user.ID {
			w.key = k
		}
		if k.AppID == w.Big.ID && w.serverKey == nil && serverUsers[k.UserID] {
			w.serverKey = k
		}
	}
	if w.key == nil || w.serverKey == nil {
		t.Fatal("seed: no key to look up")
	}
	w.session = latchkey.NewID(now)
	if err := s.CreateSession(ctx, &latchkey.Session{ID: w.session, AppID: w.Big.ID, UserID: w.user.ID,
		DeviceID: "000000000000000000000000", Provider: latchkey.ProviderUserpass, CreatedAt: now,
		ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return w
}

// UserFilters are the admin user listing's filters, one page of the big app each.
func (w *PlanWorkload) UserFilters() []latchkey.UserFilter {
	yes, no := true, false
	server, anon := latchkey.UserTypeServer, latchkey.ProviderAnonymous
	filters := []latchkey.UserFilter{
		{}, {Disabled: &yes}, {Disabled: &no}, {Type: &server}, {Provider: &anon}, {Email: &w.email},
		{After: w.user.ID}, {Disabled: &yes, Type: &server},
	}
	for i := range filters {
		filters[i].AppID, filters[i].Limit = w.Big.ID, 100
	}
	return filters
}

// Run calls every admin filter and hot-path operation on s.
func (w *PlanWorkload) Run(t *testing.T, s latchkey.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	for _, f := range w.UserFilters() {
		if _, err := s.FindUsers(ctx, f); err != nil {
			t.Fatalf("FindUsers(%+v): %v", f, err)
		}
	}
	check := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := s.FindUserStats(ctx, w.user.ID, now)
	check("FindUserStats", err)
	_, err = s.FindServerAPIKeys(ctx, w.Big.ID)
	check("FindServerAPIKeys", err)
	_, err = s.FindServerAPIKey(ctx, w.Big.ID, w.serverKey.ID)
	check("FindServerAPIKey", err)
	su := &latchkey.User{ID: latchkey.NewID(now), AppID: w.Big.ID, Type: latchkey.UserTypeServer, CreatedAt: now}
	su.Identities = []*latchkey.Identity{{ID: latchkey.NewID(now), UserID: su.ID, ProviderType: latchkey.ProviderAPIKey, ProviderID: su.ID, CreatedAt: now}}
	hash := make([]byte, 32)
	rand.Read(hash)
	check("CreateServerAPIKey", s.CreateServerAPIKey(ctx, su, &latchkey.APIKey{ID: latchkey.NewID(now), AppID: w.Big.ID,
		UserID: su.ID, Name: "new-server-key", Hash: hash, CreatedAt: now}, 100))
	_, _, err = s.FindAPIKeyAndUser(ctx, w.Big.ID, w.key.Hash)
	check("FindAPIKeyAndUser", err)
	_, err = s.FindAPIKeyByHash(ctx, w.Big.ID, w.key.Hash)
	check("FindAPIKeyByHash", err)
	_, err = s.FindAPIKeys(ctx, w.user.ID)
	check("FindAPIKeys", err)
	_, _, err = s.FindSessionAndUser(ctx, w.session)
	check("FindSessionAndUser", err)
	_, err = s.FindUserByEmail(ctx, w.Big.ID, w.email)
	check("FindUserByEmail", err)
	_, err = s.FindUserByID(ctx, w.Big.ID, w.user.ID)
	check("FindUserByID", err)
	extUser, err := s.FindUserByIdentity(ctx, w.Big.ID, latchkey.ProviderCustomToken, w.external)
	check("FindUserByIdentity", err)
	check("SetIdentityData", s.SetIdentityData(ctx, w.Big.ID, extUser.Identities[1].ID, map[string]any{"name": "Ada"}))
	check("LinkIdentity", s.LinkIdentity(ctx, w.Big.ID, &latchkey.Identity{ID: latchkey.NewID(now), UserID: w.user.ID,
		ProviderType: latchkey.ProviderGoogle, ProviderID: latchkey.ProviderID(w.Big.ID, latchkey.ProviderGoogle),
		ExternalID: "g-1", CreatedAt: now}))
	check("TouchAPIKey", s.TouchAPIKey(ctx, w.key.ID, now))
	check("SetAPIKeyDisabled", s.SetAPIKeyDisabled(ctx, w.user.ID, w.key.ID, true))
	check("SetUserDisabled", s.SetUserDisabled(ctx, w.Big.ID, w.user.ID, true))
	_, err = s.DeleteUserSessions(ctx, w.user.ID)
	check("DeleteUserSessions", err)
	check("DeleteAPIKey", s.DeleteAPIKey(ctx, w.user.ID, w.key.ID))
	check("DeleteUser", s.DeleteUser(ctx, w.Big.ID, w.user.ID))
	check("DeleteApp", s.DeleteApp(ctx, w.Small.ID))
}
