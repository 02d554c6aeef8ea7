package service

import (
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

// NewSeedUser returns a confirmed user of the app with an api-key identity and n enabled keys
// named seed-0, seed-1, …, each with its value set (Value) and hashed as logins hash it. It is
// for `latchkey bench seed`, which stores millions of them in bulk rather than through
// CreateAPIKey; nothing is stored here.
func NewSeedUser(app *latchkey.App, now time.Time, n int) (*latchkey.User, []*latchkey.APIKey) {
	u := &latchkey.User{ID: latchkey.NewID(now), AppID: app.ID, Type: latchkey.UserTypeNormal, Confirmed: true, CreatedAt: now}
	u.Identities = []*latchkey.Identity{{
		ID: latchkey.NewID(now), UserID: u.ID, ProviderType: latchkey.ProviderAPIKey,
		ProviderID: providerID(app, latchkey.ProviderAPIKey), CreatedAt: now,
	}}
	keys := make([]*latchkey.APIKey, n)
	for i := range keys {
		k := &latchkey.APIKey{ID: latchkey.NewID(now), AppID: app.ID, UserID: u.ID, Name: fmt.Sprintf("seed-%d", i), CreatedAt: now}
		setKeyValue(app, k)
		keys[i] = k
	}
	return u, keys
}
