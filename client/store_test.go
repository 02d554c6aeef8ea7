package client_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/latchkey/latchkey/client"
)

// TestTokenStores runs the same checks on both stores.
func TestTokenStores(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) client.TokenStore{
		"Memory": func(t *testing.T) client.TokenStore { return client.NewMemoryStore() },
		"File": func(t *testing.T) client.TokenStore {
			return client.NewFileStore(filepath.Join(t.TempDir(), "dir", "credentials.json"))
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			got, err := s.Load("a")
			if err != nil || len(got.Users) != 0 || got.DeviceID != "" {
				t.Fatalf("Load of an empty store = %+v, %v", got, err)
			}
			a := client.State{DeviceID: "d", Users: []client.SavedUser{{ID: "u1", Provider: "local-userpass", AccessToken: "at", RefreshToken: "rt"}, {ID: "u2", Provider: "api-key"}}}
			b := client.State{DeviceID: "e"}
			if err := s.Save("a", a); err != nil {
				t.Fatal(err)
			}
			if err := s.Save("b", b); err != nil {
				t.Fatal(err)
			}
			a.Users[0].ID = "changed after save"
			got, _ = s.Load("a")
			if got.Users[0].ID != "u1" {
				t.Fatal("a change to the saved value leaked into the store")
			}
			got.Users[0].AccessToken = "changed after load"
			got, _ = s.Load("a")
			a.Users[0].ID = "u1"
			if diff := cmp.Diff(a, got); diff != "" {
				t.Fatalf("Load(a) (-want +got):\n%s", diff)
			}
			if got, _ := s.Load("b"); got.DeviceID != "e" {
				t.Fatalf("Load(b) = %+v", got)
			}
			if err := s.Save("a", client.State{}); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Load("a"); len(got.Users) != 0 {
				t.Fatal("saving an empty state kept the users")
			}
		})
	}
}

func TestFileStore(t *testing.T) {
	t.Run("Mode0600EvenIfLooser", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "credentials.json")
		if err := os.WriteFile(path, []byte(`{"apps":{}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := client.NewFileStore(path).Save("k", client.State{DeviceID: "d"}); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Fatalf("mode after save = %v, want 0600", fi.Mode().Perm())
		}
	})
	t.Run("NoTemporaryFilesLeft", func(t *testing.T) {
		dir := t.TempDir()
		s := client.NewFileStore(filepath.Join(dir, "credentials.json"))
		for range 3 {
			if err := s.Save("k", client.State{DeviceID: "d"}); err != nil {
				t.Fatal(err)
			}
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != 1 {
			t.Fatalf("directory holds %d files, want only credentials.json", len(entries))
		}
	})
	t.Run("ErrCorrupt", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "credentials.json")
		os.WriteFile(path, []byte("[1,2"), 0o600)
		s := client.NewFileStore(path)
		if _, err := s.Load("k"); err == nil {
			t.Fatal("Load of a corrupt file succeeded")
		}
		if err := s.Save("k", client.State{}); err == nil {
			t.Fatal("Save over a corrupt file succeeded: it would drop the other apps' states")
		}
	})
}
