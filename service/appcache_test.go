package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// TestAppCache checks when a change of an app's settings reaches logins: at once on the node
// that made it, and within a second on another node over the same store; and that callers
// cannot change the remembered app.
func TestAppCache(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	nodeA, nodeB := f.svc, f.newService(t)
	admin, err := nodeA.Admins.CreateAdmin(ctx, "root@example.com", "s3cretpass-for-root")
	if err != nil {
		t.Fatal(err)
	}
	adminCtx := latchkey.NewContextWithAdmin(ctx, &latchkey.AdminAuth{Admin: admin, TokenType: latchkey.AdminAccessToken})

	apiKeyEnabled := func(svc interface {
		FindAppByClientID(context.Context, string) (*latchkey.App, error)
	}) bool {
		t.Helper()
		app, err := svc.FindAppByClientID(ctx, f.app.ClientAppID)
		if err != nil {
			t.Fatal(err)
		}
		return app.APIKeyEnabled
	}
	if !apiKeyEnabled(nodeA.Apps) || !apiKeyEnabled(nodeB.Apps) {
		t.Fatal("the quickstart app has API keys off")
	}

	app, _ := nodeB.Apps.FindAppByClientID(ctx, f.app.ClientAppID)
	app.APIKeyEnabled = false
	app.Scopes = append(app.Scopes, "changed")
	if !apiKeyEnabled(nodeB.Apps) {
		t.Fatal("a caller changed the remembered app")
	}

	off := false
	if _, err := nodeA.Apps.UpdateApp(adminCtx, f.app.ID, latchkey.AppSettings{APIKeyEnabled: &off}); err != nil {
		t.Fatal(err)
	}
	if apiKeyEnabled(nodeA.Apps) {
		t.Error("the node that changed the app still serves the old settings")
	}
	f.advance(time.Second)
	if apiKeyEnabled(nodeB.Apps) {
		t.Error("another node serves the old settings a second after the change")
	}

	if err := nodeA.Apps.DeleteApp(adminCtx, f.app.ID); err != nil {
		t.Fatal(err)
	}
	_, err = nodeA.Apps.FindAppByClientID(ctx, f.app.ClientAppID)
	wantCode(t, err, latchkey.EAppNotFound)
}
