package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
)

// authProvidersCases are the cases of latchkey.AuthProviderStore: an app's external
// providers, one of each type.
var authProvidersCases = []storeCase{
	{"CreateAndFind", testAuthProvidersCreateAndFind},
	{"NoSecretsNoFields", testAuthProvidersNoSecretsNoFields},
	{"FindAll", testAuthProvidersFindAll},
	{"ErrConflict", testAuthProvidersErrConflict},
	{"ErrAppNotFound", testAuthProvidersErrAppNotFound},
	{"Update", testAuthProvidersUpdate},
	{"UpdateErrNotFound", testAuthProvidersUpdateErrNotFound},
	{"ErrNotFound", testAuthProvidersErrNotFound},
	{"Delete", testAuthProvidersDelete},
	{"DeleteErrNotFound", testAuthProvidersDeleteErrNotFound},
	{"AppDeleted", testAuthProvidersAppDeleted},
}

// externalIdentitiesCases are the cases of the users' identities at external providers: an
// external id unique per app and provider, what the provider said of the user, and linking.
var externalIdentitiesCases = []storeCase{
	{"FindUserByIdentity", testExternalIdentitiesFindUserByIdentity},
	{"FindUserByIdentityErrNotFound", testExternalIdentitiesFindUserByIdentityErrNotFound},
	{"SameExternalIDOtherAppOrProvider", testExternalIdentitiesSameExternalIDOtherAppOrProvider},
	{"CreateUserErrConflict", testExternalIdentitiesCreateUserErrConflict},
	{"ConcurrentCreateUser", testExternalIdentitiesConcurrentCreateUser},
	{"FilledByEveryRead", testExternalIdentitiesFilledByEveryRead},
	{"LinkIdentity", testExternalIdentitiesLinkIdentity},
	{"LinkIdentityErrAccountNameInUse", testExternalIdentitiesLinkIdentityErrAccountNameInUse},
	{"LinkIdentityErrConflict", testExternalIdentitiesLinkIdentityErrConflict},
	{"LinkIdentityErrNotFound", testExternalIdentitiesLinkIdentityErrNotFound},
	{"ConcurrentLinks", testExternalIdentitiesConcurrentLinks},
	{"SetIdentityData", testExternalIdentitiesSetIdentityData},
	{"SetIdentityDataErrNotFound", testExternalIdentitiesSetIdentityDataErrNotFound},
}

// newAuthProvider returns a custom-token provider of the app with every field set, not yet
// stored.
func newAuthProvider(t *testing.T, appID string) *latchkey.AuthProvider {
	t.Helper()
	return &latchkey.AuthProvider{
		AppID: appID,
		Type:  latchkey.ProviderCustomToken,
		Config: latchkey.AuthProviderConfig{
			Audience:         []string{"api://one", "api://two"},
			SigningAlgorithm: latchkey.AlgRS256,
			UseJWKURI:        true,
			JWKURI:           "https://issuer.example.com/.well-known/jwks.json",
		},
		MetadataFields: []latchkey.MetadataField{
			{Required: true, Name: "email"},
			{Name: "profile.name", FieldName: "name"},
		},
		// With a NUL and a byte past ASCII: the column keeps bytes, not text.
		SealedSecrets: append([]byte{0, 0xff}, randomBytes(t, 62)...),
		CreatedAt:     now(),
		UpdatedAt:     now(),
	}
}

// mustCreateAuthProvider stores p.
func mustCreateAuthProvider(t *testing.T, s latchkey.Store, p *latchkey.AuthProvider) {
	t.Helper()
	if err := s.CreateAuthProvider(t.Context(), p); err != nil {
		t.Fatalf("CreateAuthProvider: %v", err)
	}
}

// assertAuthProvider checks the app's provider of want's type as the store returns it.
func assertAuthProvider(t *testing.T, s latchkey.Store, want *latchkey.AuthProvider) {
	t.Helper()
	got, err := s.FindAuthProvider(t.Context(), want.AppID, want.Type)
	if err != nil {
		t.Fatalf("FindAuthProvider: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("auth provider mismatch (-want +got):\n%s", diff)
	}
}

func testAuthProvidersCreateAndFind(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	p := newAuthProvider(t, app.ID)
	mustCreateAuthProvider(t, s, p)
	assertAuthProvider(t, s, p)
}

func testAuthProvidersNoSecretsNoFields(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	p := &latchkey.AuthProvider{
		AppID: app.ID, Type: latchkey.ProviderGoogle, Disabled: true,
		Config:    latchkey.AuthProviderConfig{ClientIDs: []string{"web.apps.example.com"}, OpenID: true},
		CreatedAt: now(), UpdatedAt: now(),
	}
	mustCreateAuthProvider(t, s, p)
	assertAuthProvider(t, s, p)
}

func testAuthProvidersFindAll(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	var want []*latchkey.AuthProvider
	// Created out of order; listed by type.
	for _, typ := range []string{latchkey.ProviderGoogle, latchkey.ProviderApple, latchkey.ProviderCustomToken} {
		p := newAuthProvider(t, app.ID)
		p.Type = typ
		mustCreateAuthProvider(t, s, p)
		want = append(want, p)
	}
	mustCreateAuthProvider(t, s, newAuthProvider(t, other.ID))
	want[0], want[2] = want[2], want[0] // custom-token, oauth2-apple, oauth2-google

	got, err := s.FindAuthProviders(t.Context(), app.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("FindAuthProviders mismatch (-want +got):\n%s", diff)
	}
	empty := mustCreateApp(t, s)
	if got, err := s.FindAuthProviders(t.Context(), empty.ID); err != nil || len(got) != 0 {
		t.Fatalf("FindAuthProviders of an app without providers = %v, %v; want none", got, err)
	}
}

func testAuthProvidersErrConflict(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	p := newAuthProvider(t, app.ID)
	mustCreateAuthProvider(t, s, p)

	dup := newAuthProvider(t, app.ID)
	dup.Disabled = true
	assertCode(t, s.CreateAuthProvider(t.Context(), dup), latchkey.EConflict)
	assertAuthProvider(t, s, p)
	// The type is unique per app only.
	mustCreateAuthProvider(t, s, newAuthProvider(t, other.ID))
}

func testAuthProvidersErrAppNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	p := newAuthProvider(t, newID())
	assertCode(t, s.CreateAuthProvider(t.Context(), p), latchkey.ENotFound)
}

func testAuthProvidersUpdate(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	p := newAuthProvider(t, app.ID)
	mustCreateAuthProvider(t, s, p)

	up := &latchkey.AuthProvider{
		AppID: app.ID, Type: p.Type, Disabled: true,
		Config:         latchkey.AuthProviderConfig{Audience: []string{"api://three"}, SigningAlgorithm: latchkey.AlgHS256},
		MetadataFields: []latchkey.MetadataField{{Name: "tier"}},
		SealedSecrets:  randomBytes(t, 48),
		CreatedAt:      p.CreatedAt.Add(time.Hour), // not written
		UpdatedAt:      p.UpdatedAt.Add(time.Minute),
	}
	if err := s.UpdateAuthProvider(t.Context(), up); err != nil {
		t.Fatal(err)
	}
	want := *up
	want.CreatedAt = p.CreatedAt
	assertAuthProvider(t, s, &want)

	// Secrets and fields removed come back as none.
	up.SealedSecrets, up.MetadataFields, up.Disabled = nil, nil, false
	if err := s.UpdateAuthProvider(t.Context(), up); err != nil {
		t.Fatal(err)
	}
	want = *up
	want.CreatedAt = p.CreatedAt
	assertAuthProvider(t, s, &want)
}

func testAuthProvidersUpdateErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	mustCreateAuthProvider(t, s, newAuthProvider(t, other.ID))
	assertCode(t, s.UpdateAuthProvider(t.Context(), newAuthProvider(t, app.ID)), latchkey.ENotFound)
	if _, err := s.FindAuthProvider(t.Context(), app.ID, latchkey.ProviderCustomToken); latchkey.ErrorCode(err) != latchkey.ENotFound {
		t.Fatalf("FindAuthProvider after a refused update: %v, want ENotFound", err)
	}
}

func testAuthProvidersErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	mustCreateAuthProvider(t, s, newAuthProvider(t, app.ID))
	_, err := s.FindAuthProvider(t.Context(), app.ID, latchkey.ProviderApple)
	assertCode(t, err, latchkey.ENotFound)
	_, err = s.FindAuthProvider(t.Context(), newID(), latchkey.ProviderCustomToken)
	assertCode(t, err, latchkey.ENotFound)
}

func testAuthProvidersDelete(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	p := newAuthProvider(t, app.ID)
	mustCreateAuthProvider(t, s, p)
	u := mustCreateExternalUser(t, s, app.ID, p.Type, "sub-1", nil)

	if err := s.DeleteAuthProvider(t.Context(), app.ID, p.Type); err != nil {
		t.Fatal(err)
	}
	_, err := s.FindAuthProvider(t.Context(), app.ID, p.Type)
	assertCode(t, err, latchkey.ENotFound)
	// Its users stay, and log in again once it is configured again.
	if got, err := s.FindUserByIdentity(t.Context(), app.ID, p.Type, "sub-1"); err != nil || got.ID != u.ID {
		t.Fatalf("FindUserByIdentity after the provider's deletion = %v, %v; want user %s", got, err, u.ID)
	}
	mustCreateAuthProvider(t, s, newAuthProvider(t, app.ID))
}

func testAuthProvidersDeleteErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	p := newAuthProvider(t, other.ID)
	mustCreateAuthProvider(t, s, p)
	assertCode(t, s.DeleteAuthProvider(t.Context(), app.ID, p.Type), latchkey.ENotFound)
	assertAuthProvider(t, s, p)
}

func testAuthProvidersAppDeleted(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	mustCreateAuthProvider(t, s, newAuthProvider(t, app.ID))
	kept := newAuthProvider(t, other.ID)
	mustCreateAuthProvider(t, s, kept)

	if err := s.DeleteApp(t.Context(), app.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := s.FindAuthProviders(t.Context(), app.ID); err != nil || len(got) != 0 {
		t.Fatalf("FindAuthProviders of a deleted app = %v, %v; want none", got, err)
	}
	assertAuthProvider(t, s, kept)
}

// newExternalUser returns a user of the app whose one identity is at the external provider
// typ with the external id and data, not yet stored.
func newExternalUser(appID, typ, externalID string, data map[string]any) *latchkey.User {
	u := &latchkey.User{ID: newID(), AppID: appID, Type: latchkey.UserTypeNormal, CreatedAt: now()}
	u.Identities = []*latchkey.Identity{newExternalIdentity(u, typ, externalID, data)}
	return u
}

// newExternalIdentity returns an identity of u at the external provider typ.
func newExternalIdentity(u *latchkey.User, typ, externalID string, data map[string]any) *latchkey.Identity {
	return &latchkey.Identity{
		ID: newID(), UserID: u.ID, ProviderType: typ, ProviderID: latchkey.ProviderID(u.AppID, typ),
		ExternalID: externalID, Data: data, CreatedAt: now(),
	}
}

// mustCreateExternalUser creates a user of the app with one identity at the external
// provider typ.
func mustCreateExternalUser(t *testing.T, s latchkey.Store, appID, typ, externalID string, data map[string]any) *latchkey.User {
	t.Helper()
	u := newExternalUser(appID, typ, externalID, data)
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return u
}

// profileData is data as a provider gives it, of every JSON type. Numbers are float64: what
// encoding/json makes of them.
func profileData() map[string]any {
	return map[string]any{
		"email":    "ada@example.com",
		"name":     "Ada Lovelace",
		"age":      float64(36),
		"verified": true,
		"nickname": nil,
		"groups":   []any{"admins", "engines"},
		"address":  map[string]any{"city": "London", "zip": "W1"},
	}
}

// assertUser checks a user as a read returned it.
func assertUser(t *testing.T, what string, want, got *latchkey.User) {
	t.Helper()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("%s mismatch (-want +got):\n%s", what, diff)
	}
}

func testExternalIdentitiesFindUserByIdentity(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := mustCreateExternalUser(t, s, app.ID, latchkey.ProviderCustomToken, "sub-1", profileData())
	mustCreateExternalUser(t, s, app.ID, latchkey.ProviderCustomToken, "sub-2", nil)

	got, err := s.FindUserByIdentity(t.Context(), app.ID, latchkey.ProviderCustomToken, "sub-1")
	if err != nil {
		t.Fatal(err)
	}
	assertUser(t, "FindUserByIdentity", u, got)
}

func testExternalIdentitiesFindUserByIdentityErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	mustCreateExternalUser(t, s, app.ID, latchkey.ProviderCustomToken, "sub-1", nil)
	anon := mustCreateUser(t, s, app.ID, "")

	for _, tt := range []struct{ name, appID, typ, externalID string }{
		{"OtherApp", other.ID, latchkey.ProviderCustomToken, "sub-1"},
		{"OtherProvider", app.ID, latchkey.ProviderCustomFunction, "sub-1"},
		{"OtherExternalID", app.ID, latchkey.ProviderCustomToken, "sub-3"},
		{"BuiltInProvider", app.ID, latchkey.ProviderAnonymous, anon.Identities[0].ProviderID},
		{"Empty", app.ID, latchkey.ProviderAnonymous, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.FindUserByIdentity(t.Context(), tt.appID, tt.typ, tt.externalID)
			assertCode(t, err, latchkey.ENotFound)
		})
	}
}

func testExternalIdentitiesSameExternalIDOtherAppOrProvider(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	users := map[[2]string]*latchkey.User{}
	for _, at := range [][2]string{
		{app.ID, latchkey.ProviderCustomToken},
		{app.ID, latchkey.ProviderGoogle},
		{other.ID, latchkey.ProviderCustomToken},
	} {
		users[at] = mustCreateExternalUser(t, s, at[0], at[1], "same", nil)
	}
	for at, u := range users {
		got, err := s.FindUserByIdentity(t.Context(), at[0], at[1], "same")
		if err != nil || got.ID != u.ID {
			t.Fatalf("FindUserByIdentity(%s, %s) = %v, %v; want user %s", at[0], at[1], got, err, u.ID)
		}
	}
}

func testExternalIdentitiesCreateUserErrConflict(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := mustCreateExternalUser(t, s, app.ID, latchkey.ProviderApple, "001234.abcd", nil)

	dup := newExternalUser(app.ID, latchkey.ProviderApple, "001234.abcd", profileData())
	assertCode(t, s.CreateUser(t.Context(), dup), latchkey.EConflict)
	// No half-written user.
	_, err := s.FindUserByID(t.Context(), app.ID, dup.ID)
	assertCode(t, err, latchkey.ENotFound)
	got, err := s.FindUserByIdentity(t.Context(), app.ID, latchkey.ProviderApple, "001234.abcd")
	if err != nil {
		t.Fatal(err)
	}
	assertUser(t, "FindUserByIdentity", u, got)
}

// Two logins of a new external user create it at once: one user is created, and the other
// creation is refused.
func testExternalIdentitiesConcurrentCreateUser(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	for range 5 {
		externalID := newID()
		users := []*latchkey.User{
			newExternalUser(app.ID, latchkey.ProviderCustomFunction, externalID, nil),
			newExternalUser(app.ID, latchkey.ProviderCustomFunction, externalID, nil),
		}
		errs := linkAll(t, s, []func() error{
			func() error { return s.CreateUser(t.Context(), users[0]) },
			func() error { return s.CreateUser(t.Context(), users[1]) },
		})
		i := wantOneWinner(t, errs, latchkey.EConflict)
		got, err := s.FindUserByIdentity(t.Context(), app.ID, latchkey.ProviderCustomFunction, externalID)
		if err != nil || got.ID != users[i].ID {
			t.Fatalf("FindUserByIdentity = %v, %v; want the created user %s", got, err, users[i].ID)
		}
		_, err = s.FindUserByID(t.Context(), app.ID, users[1-i].ID)
		assertCode(t, err, latchkey.ENotFound)
	}
}

// Every read of a user with its identities gives their external ids and data.
func testExternalIdentitiesFilledByEveryRead(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := newUser(app.ID, "ada@example.com")
	u.Identities = append(u.Identities,
		newExternalIdentity(u, latchkey.ProviderGoogle, "10769150350006150715113082367", profileData()),
		newExternalIdentity(u, latchkey.ProviderCustomToken, "ada", nil))
	u.Identities[2].CreatedAt = u.Identities[1].CreatedAt.Add(time.Millisecond) // in this order
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	k := mustCreateAPIKey(t, s, u, "ci")
	sess := mustCreateSession(t, s, u, nil)

	assertUser(t, "FindUserByID", u, mustFindUser(t, s, app.ID, u.ID))
	got, err := s.FindUserByEmail(t.Context(), app.ID, u.Email)
	if err != nil {
		t.Fatal(err)
	}
	assertUser(t, "FindUserByEmail", u, got)
	got, err = s.FindUserByIdentity(t.Context(), app.ID, latchkey.ProviderGoogle, u.Identities[1].ExternalID)
	if err != nil {
		t.Fatal(err)
	}
	assertUser(t, "FindUserByIdentity", u, got)
	if users := mustFindUsers(t, s, latchkey.UserFilter{AppID: app.ID}); len(users) != 1 {
		t.Fatalf("FindUsers = %d users, want 1", len(users))
	} else {
		assertUser(t, "FindUsers", u, users[0])
	}
	_, got, err = s.FindAPIKeyAndUser(t.Context(), app.ID, k.Hash)
	if err != nil {
		t.Fatal(err)
	}
	assertUser(t, "FindAPIKeyAndUser", u, got)
	_, got, err = s.FindSessionAndUser(t.Context(), sess.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertUser(t, "FindSessionAndUser", u, got)
}

func testExternalIdentitiesLinkIdentity(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	anon := mustCreateUser(t, s, app.ID, "")
	ident := newExternalIdentity(anon, latchkey.ProviderCustomToken, "sub-1", profileData())

	if err := s.LinkIdentity(t.Context(), app.ID, ident); err != nil {
		t.Fatal(err)
	}
	want := cloneUser(anon)
	want.Identities = append(want.Identities, ident)
	assertUser(t, "FindUserByID", want, mustFindUser(t, s, app.ID, anon.ID))
	got, err := s.FindUserByIdentity(t.Context(), app.ID, latchkey.ProviderCustomToken, "sub-1")
	if err != nil {
		t.Fatal(err)
	}
	assertUser(t, "FindUserByIdentity", want, got)
}

func testExternalIdentitiesLinkIdentityErrAccountNameInUse(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	owner := mustCreateExternalUser(t, s, app.ID, latchkey.ProviderGoogle, "sub-1", nil)
	anon := mustCreateUser(t, s, app.ID, "")

	err := s.LinkIdentity(t.Context(), app.ID, newExternalIdentity(anon, latchkey.ProviderGoogle, "sub-1", nil))
	assertCode(t, err, latchkey.EAccountNameInUse)
	assertUser(t, "the refused user", anon, mustFindUser(t, s, app.ID, anon.ID))
	assertUser(t, "the identity's owner", owner, mustFindUser(t, s, app.ID, owner.ID))
}

func testExternalIdentitiesLinkIdentityErrConflict(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := mustCreateExternalUser(t, s, app.ID, latchkey.ProviderCustomToken, "sub-1", nil)

	err := s.LinkIdentity(t.Context(), app.ID, newExternalIdentity(u, latchkey.ProviderCustomToken, "sub-2", nil))
	assertCode(t, err, latchkey.EConflict)
	assertUser(t, "the refused user", u, mustFindUser(t, s, app.ID, u.ID))
	_, err = s.FindUserByIdentity(t.Context(), app.ID, latchkey.ProviderCustomToken, "sub-2")
	assertCode(t, err, latchkey.ENotFound)
}

func testExternalIdentitiesLinkIdentityErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	for _, tt := range []struct {
		name string
		// user returns the user to link and the app to link it in.
		user func(t *testing.T, s latchkey.Store, app *latchkey.App) (*latchkey.User, string)
	}{
		{"Disabled", func(t *testing.T, s latchkey.Store, app *latchkey.App) (*latchkey.User, string) {
			u := mustCreateUser(t, s, app.ID, "")
			if err := s.SetUserDisabled(t.Context(), app.ID, u.ID, true); err != nil {
				t.Fatal(err)
			}
			return u, app.ID
		}},
		{"Deleted", func(t *testing.T, s latchkey.Store, app *latchkey.App) (*latchkey.User, string) {
			u := mustCreateUser(t, s, app.ID, "")
			if err := s.DeleteUser(t.Context(), app.ID, u.ID); err != nil {
				t.Fatal(err)
			}
			return u, app.ID
		}},
		{"OtherApp", func(t *testing.T, s latchkey.Store, app *latchkey.App) (*latchkey.User, string) {
			other := mustCreateApp(t, s)
			return mustCreateUser(t, s, other.ID, ""), app.ID
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			app := mustCreateApp(t, s)
			u, appID := tt.user(t, s, app)
			ident := newExternalIdentity(u, latchkey.ProviderCustomToken, "sub-1", nil)
			ident.ProviderID = latchkey.ProviderID(appID, latchkey.ProviderCustomToken)

			assertCode(t, s.LinkIdentity(t.Context(), appID, ident), latchkey.ENotFound)
			_, err := s.FindUserByIdentity(t.Context(), appID, latchkey.ProviderCustomToken, "sub-1")
			assertCode(t, err, latchkey.ENotFound)
			if got, err := s.FindUserByID(t.Context(), u.AppID, u.ID); err == nil && got.HasIdentity(latchkey.ProviderCustomToken) {
				t.Fatalf("the refused user has the identity: %+v", got.Identities)
			}
		})
	}
}

// Two users link the same external identity at once: one gets it, the other is told it is
// in use.
func testExternalIdentitiesConcurrentLinks(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	for range 5 {
		users := []*latchkey.User{mustCreateUser(t, s, app.ID, ""), mustCreateUser(t, s, app.ID, "")}
		externalID := newID()
		errs := linkAll(t, s, []func() error{
			func() error {
				return s.LinkIdentity(t.Context(), app.ID, newExternalIdentity(users[0], latchkey.ProviderApple, externalID, nil))
			},
			func() error {
				return s.LinkIdentity(t.Context(), app.ID, newExternalIdentity(users[1], latchkey.ProviderApple, externalID, nil))
			},
		})
		i := wantOneWinner(t, errs, latchkey.EAccountNameInUse)
		got, err := s.FindUserByIdentity(t.Context(), app.ID, latchkey.ProviderApple, externalID)
		if err != nil || got.ID != users[i].ID {
			t.Fatalf("FindUserByIdentity = %v, %v; want the linked user %s", got, err, users[i].ID)
		}
		assertUser(t, "the refused user", users[1-i], mustFindUser(t, s, app.ID, users[1-i].ID))
	}
}

func testExternalIdentitiesSetIdentityData(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	u := mustCreateExternalUser(t, s, app.ID, latchkey.ProviderCustomToken, "sub-1", map[string]any{"name": "Ada"})
	ident := u.Identities[0]

	for _, data := range []map[string]any{profileData(), {"name": "Ada King"}, nil} {
		if err := s.SetIdentityData(t.Context(), app.ID, ident.ID, data); err != nil {
			t.Fatal(err)
		}
		ident.Data = data
		assertUser(t, "FindUserByID", u, mustFindUser(t, s, app.ID, u.ID))
	}
}

func testExternalIdentitiesSetIdentityDataErrNotFound(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := mustCreateApp(t, s), mustCreateApp(t, s)
	u := mustCreateExternalUser(t, s, other.ID, latchkey.ProviderCustomToken, "sub-1", map[string]any{"name": "Ada"})

	assertCode(t, s.SetIdentityData(t.Context(), app.ID, newID(), profileData()), latchkey.ENotFound)
	// An identity of another app's user.
	assertCode(t, s.SetIdentityData(t.Context(), app.ID, u.Identities[0].ID, profileData()), latchkey.ENotFound)
	assertUser(t, "the other app's user", u, mustFindUser(t, s, other.ID, u.ID))
}
