package ui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// TestConsoleWritesValuesAsTheCLI: lengths of time read as the CLI writes them (60d, 36h)
// next to the seconds the forms take and in the audit log's details, and an app's sign-in
// methods are separate items.
func TestConsoleWritesValuesAsTheCLI(t *testing.T) {
	srv := newConsoleServer(t)
	ctx := userContext(t, srv, userEmail, userPassword)
	k, err := srv.Service.CreateAPIKey(ctx, latchkey.APIKeyInput{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Service.RotateAPIKey(ctx, k.ID, 36*time.Hour); err != nil {
		t.Fatal(err)
	}
	b := newClient(t, srv.URL, nil)
	signInAdmin(t, b)

	for _, tt := range []struct {
		name, path string
		want       []string
		not        []string
	}{
		{"Apps", "/console/apps", []string{`<ul class="items"><li class="badge">email/password</li><li class="badge">API key</li><li class="badge">anonymous</li></ul>`}, nil},
		{"Settings", "/console/apps/" + srv.AppID, []string{`value="5184000"`, `<strong class="now">60d</strong>`}, nil},
		{"Audit", "/console/audit?event=" + latchkey.EventAPIKeyRotated, []string{`<span class="kv">grace_period=36h</span>`}, []string{"129600"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := b.get(tt.path)
			if a.status != 200 {
				t.Fatalf("GET %s: %d", tt.path, a.status)
			}
			for _, want := range tt.want {
				if !strings.Contains(a.body, want) {
					t.Errorf("GET %s lacks %s", tt.path, want)
				}
			}
			for _, not := range tt.not {
				if strings.Contains(a.body, not) {
					t.Errorf("GET %s holds %s", tt.path, not)
				}
			}
		})
	}
}
