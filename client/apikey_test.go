package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

func TestAPIKeys(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)

	t.Run("OK", func(t *testing.T) {
		u := mustRegister(t, mustNewApp(t, srv))
		keys := u.APIKeys()
		before := srv.Clock.Now()
		created, err := keys.Create(ctx, "build-server")
		if err != nil {
			t.Fatal(err)
		}
		if !latchkey.IsID(created.ID) || created.Name != "build-server" || created.Disabled || !created.Enabled() || !keyPattern.MatchString(created.Value) {
			t.Fatalf("created = %+v", created)
		}
		if !strings.HasPrefix(created.Value, "lk_") || created.Start != latchkey.KeyStart(created.Value) || !client.ValidKeyValue(created.Value) {
			t.Fatalf("value %q, start %q: want an lk_ value that starts with its start", created.Value, created.Start)
		}
		if !between(created.CreatedAt, before, srv.Clock.Now()) || created.LastUsedAt != nil || created.ExpiresAt != nil || created.Scopes != nil || created.Extra != nil {
			t.Fatalf("created at %v, last used %v, expires %v, scopes %v, extra %v", created.CreatedAt, created.LastUsedAt, created.ExpiresAt, created.Scopes, created.Extra)
		}
		want := created
		want.Value = "" // shown once

		all, err := keys.FetchAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]client.APIKey{want}, all); diff != "" {
			t.Fatalf("FetchAll (-want +got):\n%s", diff)
		}
		got, err := keys.Fetch(ctx, created.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Fetch (-want +got):\n%s", diff)
		}

		for range 2 { // repeating is a no-op success
			if err := keys.Disable(ctx, created.ID); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := keys.Fetch(ctx, created.ID); !got.Disabled {
			t.Fatal("the key is enabled after Disable")
		}
		_, err = u.App().LogIn(ctx, client.APIKeyCredentials(created.Value))
		wantError(t, err, 401, client.ErrAuth)
		for range 2 {
			if err := keys.Enable(ctx, created.ID); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := keys.Fetch(ctx, created.ID); got.Disabled {
			t.Fatal("the key is disabled after Enable")
		}

		// Logging in with the key records its use.
		mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(created.Value))
		if got, _ := keys.Fetch(ctx, created.ID); got.LastUsedAt == nil {
			t.Fatal("LastUsedAt is nil after a key login")
		}

		if err := keys.Delete(ctx, created.ID); err != nil {
			t.Fatal(err)
		}
		_, err = keys.Fetch(ctx, created.ID)
		wantError(t, err, 404, client.ErrAPIKeyNotFound)
		if all, err := keys.FetchAll(ctx); err != nil || all == nil || len(all) != 0 {
			t.Fatalf("FetchAll after delete = %#v, %v; want an empty, non-nil slice", all, err)
		}
	})
	t.Run("CreationOrder", func(t *testing.T) {
		u := mustRegister(t, mustNewApp(t, srv))
		var names []string
		for i := range 5 {
			names = append(names, mustCreateKey(t, u, fmt.Sprintf("key-%d", 4-i)).Name)
		}
		all, err := u.APIKeys().FetchAll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, k := range all {
			got = append(got, k.Name)
		}
		if diff := cmp.Diff(names, got); diff != "" {
			t.Fatalf("FetchAll order (-want +got):\n%s", diff)
		}
	})
	t.Run("ErrAPIKeyNotFound", func(t *testing.T) {
		u := mustRegister(t, mustNewApp(t, srv))
		otherKey := mustCreateKey(t, mustRegister(t, mustNewApp(t, srv)), "theirs")
		keys := u.APIKeys()
		for _, id := range []string{latchkey.NewID(time.Now()), "not-an-id", otherKey.ID, "../../profile"} {
			_, err := keys.Fetch(ctx, id)
			e := wantError(t, err, 404, client.ErrAPIKeyNotFound)
			if e.Message != "API key not found" || !strings.Contains(e.Link, "co_id=") || e.Error() != "API key not found (APIKeyNotFound)" {
				t.Errorf("error %+v", e)
			}
			wantError(t, keys.Enable(ctx, id), 404, client.ErrAPIKeyNotFound)
			wantError(t, keys.Disable(ctx, id), 404, client.ErrAPIKeyNotFound)
			wantError(t, keys.Delete(ctx, id), 404, client.ErrAPIKeyNotFound)
		}
		if _, err := keys.Fetch(ctx, ""); err == nil {
			t.Fatal("Fetch of an empty id succeeded")
		}
	})
	t.Run("ErrAPIKeyExists", func(t *testing.T) {
		u := mustRegister(t, mustNewApp(t, srv))
		mustCreateKey(t, u, "twice")
		_, err := u.APIKeys().Create(ctx, "twice")
		e := wantError(t, err, 409, client.ErrAPIKeyExists)
		if e.Message != "API key with name already exists" {
			t.Errorf("message = %q", e.Message)
		}
	})
	t.Run("ErrInvalidParameter", func(t *testing.T) {
		u := mustRegister(t, mustNewApp(t, srv))
		for _, name := range []string{"has space", "ünïcode", strings.Repeat("a", 65)} {
			_, err := u.APIKeys().Create(ctx, name)
			wantError(t, err, 400, client.ErrInvalidParameter)
		}
		for i := range latchkey.MaxAPIKeysPerUser {
			mustCreateKey(t, u, fmt.Sprintf("k%d", i))
		}
		_, err := u.APIKeys().Create(ctx, "one-too-many")
		e := wantError(t, err, 400, client.ErrInvalidParameter)
		if !strings.Contains(e.Message, "20") {
			t.Errorf("message = %q, want the cap in it", e.Message)
		}
	})
	t.Run("ErrNameRequired", func(t *testing.T) {
		u := mustRegister(t, mustNewApp(t, srv))
		_, err := u.APIKeys().Create(ctx, "")
		e := wantError(t, err, 400, nil)
		if e.Message != "'name' is a required string" || e.Error() != "'name' is a required string (status 400)" {
			t.Errorf("error %+v", e)
		}
	})
	t.Run("ErrAuthAnonymous", func(t *testing.T) {
		anon := mustLogIn(t, mustNewApp(t, srv), client.AnonymousCredentials())
		_, err := anon.APIKeys().Create(ctx, "k")
		wantError(t, err, 403, client.ErrAuth)
		if !anon.IsLoggedIn() {
			t.Fatal("a 403 logged the user out")
		}
	})
	t.Run("ErrAuthKeySession", func(t *testing.T) {
		owner := mustRegister(t, mustNewApp(t, srv))
		key := mustCreateKey(t, owner, "k")
		ku := mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(key.Value))
		keys := ku.APIKeys()
		_, err := keys.Create(ctx, "k2")
		e := wantError(t, err, 403, client.ErrAuth)
		if e.Message != "API key sessions cannot manage API keys" {
			t.Errorf("message = %q", e.Message)
		}
		_, err = keys.FetchAll(ctx)
		wantError(t, err, 403, client.ErrAuth)
		_, err = keys.Fetch(ctx, key.ID)
		wantError(t, err, 403, client.ErrAuth)
		wantError(t, keys.Disable(ctx, key.ID), 403, client.ErrAuth)
		wantError(t, keys.Enable(ctx, key.ID), 403, client.ErrAuth)
		wantError(t, keys.Delete(ctx, key.ID), 403, client.ErrAuth)
		if !ku.IsLoggedIn() {
			t.Fatal("a 403 logged the key session out")
		}
	})
}

func TestAPIKeysAsync(t *testing.T) {
	ctx := context.Background()
	srv := newServer(t)
	u := mustRegister(t, mustNewApp(t, srv))
	keys := u.APIKeys()

	created := <-keys.CreateAsync(ctx, "async")
	if created.Err != nil || created.Value.Value == "" {
		t.Fatalf("CreateAsync = %+v", created)
	}
	id := created.Value.ID
	all := <-keys.FetchAllAsync(ctx)
	if all.Err != nil || len(all.Value) != 1 || all.Value[0].ID != id {
		t.Fatalf("FetchAllAsync = %+v", all)
	}
	if err := <-keys.DisableAsync(ctx, id); err != nil {
		t.Fatal(err)
	}
	if r := <-keys.FetchAsync(ctx, id); r.Err != nil || !r.Value.Disabled {
		t.Fatalf("FetchAsync after DisableAsync = %+v", r)
	}
	if err := <-keys.EnableAsync(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := <-keys.DeleteAsync(ctx, id); err != nil {
		t.Fatal(err)
	}

	t.Run("Errors", func(t *testing.T) {
		r := <-keys.FetchAsync(ctx, id)
		wantError(t, r.Err, 404, client.ErrAPIKeyNotFound)
		wantError(t, <-keys.DeleteAsync(ctx, id), 404, client.ErrAPIKeyNotFound)
		wantError(t, <-keys.EnableAsync(ctx, id), 404, client.ErrAPIKeyNotFound)
		wantError(t, <-keys.DisableAsync(ctx, id), 404, client.ErrAPIKeyNotFound)
		wantError(t, (<-keys.CreateAsync(ctx, "bad name")).Err, 400, client.ErrInvalidParameter)
	})
	t.Run("OneResultThenClosed", func(t *testing.T) {
		ch := keys.FetchAllAsync(ctx)
		if r, ok := <-ch; !ok || r.Err != nil {
			t.Fatalf("first receive: %+v, %v", r, ok)
		}
		if _, ok := <-ch; ok {
			t.Fatal("the channel delivered a second result")
		}
	})
	t.Run("Select", func(t *testing.T) {
		select {
		case r := <-keys.CreateAsync(ctx, "selected"):
			if r.Err != nil {
				t.Fatal(r.Err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("CreateAsync did not deliver within 10s")
		}
	})
	t.Run("Canceled", func(t *testing.T) {
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		if r := <-keys.FetchAllAsync(canceled); !errors.Is(r.Err, context.Canceled) {
			t.Fatalf("FetchAllAsync with a canceled context: %v, want context.Canceled", r.Err)
		}
		if !u.IsLoggedIn() {
			t.Fatal("a canceled call logged the user out")
		}
	})
}

func TestAPIKeyJSON(t *testing.T) {
	t.Run("ExtraFields", func(t *testing.T) {
		var k client.APIKey
		in := `{"_id":"65a0c0ffee0000000000c001","name":"n","disabled":true,"created_at":"2024-01-12T10:00:00Z",` +
			`"last_used_at":null,"expires_at":"2025-01-01T00:00:00Z","scopes":["read"],"key":"secret","start":"lk_abcd",` +
			`"owner_note":"from a newer server","rotated_at":null}`
		if err := json.Unmarshal([]byte(in), &k); err != nil {
			t.Fatal(err)
		}
		expires := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		want := client.APIKey{
			ID: "65a0c0ffee0000000000c001", Name: "n", Disabled: true, Value: "secret", Start: "lk_abcd",
			Scopes: []string{"read"}, CreatedAt: time.Date(2024, 1, 12, 10, 0, 0, 0, time.UTC), ExpiresAt: &expires,
			Extra: map[string]json.RawMessage{
				"owner_note": json.RawMessage(`"from a newer server"`),
				"rotated_at": json.RawMessage(`null`),
			},
		}
		if diff := cmp.Diff(want, k); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
		out, err := json.Marshal(k)
		if err != nil {
			t.Fatal(err)
		}
		var back client.APIKey
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, back); diff != "" {
			t.Fatalf("round trip through MarshalJSON (-want +got):\n%s", diff)
		}
	})
	t.Run("BadTypesGoToExtra", func(t *testing.T) {
		var k client.APIKey
		if err := json.Unmarshal([]byte(`{"_id":"x","created_at":"yesterday","disabled":"no","scopes":"read","expires_at":5}`), &k); err != nil {
			t.Fatal(err)
		}
		if k.ID != "x" || !k.CreatedAt.IsZero() || k.Scopes != nil || k.ExpiresAt != nil || len(k.Extra) != 4 {
			t.Fatalf("key = %+v", k)
		}
	})
	t.Run("NoValueNoKeyField", func(t *testing.T) {
		out, _ := json.Marshal(client.APIKey{ID: "x", Name: "n"})
		if string(out) != `{"_id":"x","disabled":false,"name":"n"}` {
			t.Fatalf("MarshalJSON = %s", out)
		}
	})
}
