package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/pgtest"
)

// TestServeSecretKey checks the secret key that seals the signing keys and the modes of the
// files that hold secrets.
func TestServeSecretKey(t *testing.T) {
	t.Run("SQLiteMakesPrivateFiles", func(t *testing.T) {
		data := privateDir(t)
		p := start(t, data, nil, "--app-id", "secret-app")
		l := p.registerAndLogIn(t, "ann@example.com")
		for _, name := range []string{"secret.key", "latchkey.db", "latchkey.db-wal", "latchkey.db-shm"} {
			fi, err := os.Stat(filepath.Join(data, name))
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("mode of %s = %04o, want 0600", name, got)
			}
		}
		key, err := os.ReadFile(filepath.Join(data, "secret.key"))
		if err != nil {
			t.Fatal(err)
		}
		p.stop(t)
		if strings.Contains(p.stderr.String(), strings.TrimSpace(string(key))) {
			t.Fatal("the log holds the secret key")
		}

		// A restart reads the same key: tokens from before still verify.
		p = start(t, data, nil, "--app-id", "secret-app")
		if got := p.call(t, "GET", "/api/client/v2.0/auth/profile", l.AccessToken, nil, nil); got != 200 {
			t.Fatalf("profile after restart: status %d, want 200", got)
		}
		p.stop(t)

		// Another key does not open the signing keys: the start fails, saying why.
		cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", data)
		cmd.Env = append(os.Environ(), "LATCHKEY_SECRET_KEY=another secret key, also 32+ bytes long")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "does not decrypt with this secret key") {
			t.Fatalf("serve with another secret key: %v: %s", err, out)
		}
	})

	t.Run("ErrReadableDataDirectory", func(t *testing.T) {
		data := privateDir(t)
		if err := os.Chmod(data, 0o755); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", data).CombinedOutput()
		if want := "run chmod 700 " + data; err == nil || !strings.Contains(string(out), want) {
			t.Fatalf("serve on a 0755 data directory: %v: %s; want %q", err, out, want)
		}
	})

	t.Run("ErrPostgreSQLWithoutSecretKey", func(t *testing.T) {
		db := pgtest.NewDatabase(t)
		out, err := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", privateDir(t), "--database", db).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "set --secret-key-file or LATCHKEY_SECRET_KEY") {
			t.Fatalf("serve on PostgreSQL without a secret key: %v: %s", err, out)
		}
	})

	t.Run("SecretKeyFile", func(t *testing.T) {
		file := filepath.Join(privateDir(t), "key")
		if err := os.WriteFile(file, []byte("a secret key from a file, 32+ bytes\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		data := privateDir(t)
		start(t, data, nil, "--secret-key-file", file).stop(t)
		if _, err := os.Stat(filepath.Join(data, "secret.key")); !os.IsNotExist(err) {
			t.Fatalf("a secret.key was made although --secret-key-file was given: %v", err)
		}
		if err := os.WriteFile(file, []byte("short\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", data, "--secret-key-file", file).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "want at least 32") {
			t.Fatalf("serve with a short secret key: %v: %s", err, out)
		}
	})

	t.Run("PrintConfigRedacts", func(t *testing.T) {
		const secret = "a secret key in the environment, 32+ bytes"
		cmd := exec.Command(binary, "serve", "--print-config")
		cmd.Env = append(os.Environ(), "LATCHKEY_SECRET_KEY="+secret)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if strings.Contains(string(out), secret) || !strings.Contains(string(out), `# secret-key = "[redacted]"  (LATCHKEY_SECRET_KEY)`) {
			t.Fatalf("--print-config shows the secret key, or not that it is set:\n%s", out)
		}
	})
}
