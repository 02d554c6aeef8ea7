package client_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// TestAdminSigningKeys lists and rotates the signing keys over the real server, and checks
// that the JWKS that backends verify with serves the old and the new key.
func TestAdminSigningKeys(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)
	a := mustLogInAdmin(t, srv)

	keys, err := a.SigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].State != "current" || keys[1].State != "current" {
		t.Fatalf("keys = %+v, want 2 current ones", keys)
	}

	rotated, err := a.RotateSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	var newKid, oldKid string
	for _, k := range rotated {
		states[k.Algorithm+" "+k.State]++
		switch {
		case k.Algorithm == "ES256" && k.State == "current":
			newKid = k.ID
		case k.Algorithm == "ES256" && k.State == "retired":
			oldKid = k.ID
			if k.VerifiesUntil == nil || k.VerifiesUntil.Sub(*k.RetiredAt) != 31*time.Minute {
				t.Errorf("old ES256 key verifies until %v, want 31 minutes after %v", k.VerifiesUntil, k.RetiredAt)
			}
		}
	}
	want := map[string]int{"ES256 current": 1, "ES256 retired": 1, "HS256 current": 1, "HS256 retired": 1}
	if len(states) != len(want) || states["ES256 current"] != 1 || states["ES256 retired"] != 1 || states["HS256 current"] != 1 || states["HS256 retired"] != 1 {
		t.Fatalf("keys after the rotation by algorithm and state = %v, want %v", states, want)
	}

	resp, err := http.Get(srv.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	kids := map[string]bool{}
	for _, k := range set.Keys {
		kids[k.Kid] = true
	}
	if len(kids) != 2 || !kids[oldKid] || !kids[newKid] {
		t.Fatalf("JWKS kids = %v, want the old %s and the new %s", kids, oldKid, newKid)
	}
}
