package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// runServe runs a `latchkey serve` that is expected to refuse to start, and returns what it
// did. One that starts anyway is stopped after a while and fails the test.
func runServe(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(newCLIUser(t).env(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("latchkey serve %v started instead of refusing: %s", args, stdout.String())
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

// TestDataDirTypo checks that a command other than serve and migrate refuses a data
// directory without a database, naming it, and makes nothing there: a typo in --data must
// not create an admin in a new database that the server never sees.
func TestDataDirTypo(t *testing.T) {
	dir := t.TempDir()
	root := newCLIUser(t)
	root.ok("", "migrate", "--data", filepath.Join(dir, "latchkey-data"))

	typo := filepath.Join(dir, "latchkey-dat")
	r := root.run(adminPassword+"\n", "admin", "create-user", "--email", adminEmail, "--data", typo)
	if want := "latchkey: admin create-user: no Latchkey database in " + typo + ": check --data (latchkey serve or latchkey migrate makes one)\n"; r.code == 0 || r.stderr != want {
		t.Fatalf("create-user --data %s: exit %d, stderr %q; want %q", typo, r.code, r.stderr, want)
	}
	file := filepath.Join(dir, "other.db")
	r = root.run(adminPassword+"\n", "admin", "create-user", "--email", adminEmail, "--database", file)
	if want := "latchkey: admin create-user: no Latchkey database at " + file + ": check --database (latchkey serve or latchkey migrate makes one)\n"; r.code == 0 || r.stderr != want {
		t.Fatalf("create-user --database %s: exit %d, stderr %q; want %q", file, r.code, r.stderr, want)
	}
	for _, path := range []string{typo, file} {
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("create-user made %s: %v", path, err)
		}
	}
	root.ok(adminPassword+"\n", "admin", "create-user", "--email", adminEmail, "--data", filepath.Join(dir, "latchkey-data"))
}

// TestServeLock checks that a second serve on a data directory refuses to start, naming the
// directory and the first serve's pid, while the admin commands that work on the database
// directly keep working beside the server; and that the lock ends with its serve, however
// it ends.
func TestServeLock(t *testing.T) {
	data := privateDir(t)
	p := start(t, data, nil, "--app-id", "lock-app")

	r := runServe(t, nil, "--data", data)
	want := fmt.Sprintf("latchkey: serve: another latchkey serve is using %s (pid %d); stop it or use another --data\n", data, p.cmd.Process.Pid)
	if r.code == 0 || r.stderr != want {
		t.Fatalf("second serve: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
	db := filepath.Join(data, "latchkey.db")
	r = runServe(t, nil, "--database", db)
	want = fmt.Sprintf("latchkey: serve: another latchkey serve is using %s (pid %d); stop it or use another --database\n", db, p.cmd.Process.Pid)
	if r.code == 0 || r.stderr != want {
		t.Fatalf("second serve --database: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
	if fi, err := os.Stat(filepath.Join(data, "latchkey.lock")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}

	// An admin made beside the running server is one it sees.
	root := newCLIUser(t)
	root.ok(adminPassword+"\n", "admin", "create-user", "--email", adminEmail, "--data", data)
	root.ok(adminPassword+"\n", "admin", "login", "--url", p.url, "--email", adminEmail)

	// A serve killed without a chance to clean up leaves the lock file, but not the lock.
	p.cmd.Process.Kill()
	p.cmd.Wait()
	next := start(t, data, nil)
	if next.appID != "lock-app" {
		t.Fatalf("serve after the first was killed serves app %q, want lock-app", next.appID)
	}
	next.stop(t)
	start(t, data, nil)
}

// TestServeUnwritableDataDir checks that a data directory that serve may not write says so,
// with its path. As root, serve runs as nobody, for whom a root-owned directory is read-only.
func TestServeUnwritableDataDir(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", data)
	if os.Geteuid() == 0 {
		// nobody must reach the binary and the directory to run it there.
		for _, dir := range []string{filepath.Dir(base), base} {
			if err := os.Chmod(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		bin := filepath.Join(base, "latchkey")
		copyFile(t, binary, bin)
		cmd = exec.Command(bin, cmd.Args[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	} else if err := os.Chmod(data, 0o555); err != nil {
		t.Fatal(err)
	}
	cmd.Env = newCLIUser(t).env()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("serve started on a directory it may not write")
	}
	want := "latchkey: serve: data directory: open " + filepath.Join(data, "latchkey.lock") + ": permission denied\n"
	if cmd.ProcessState.ExitCode() == 0 || stderr.String() != want {
		t.Fatalf("serve on a read-only directory: exit %d, stderr %q; want %q", cmd.ProcessState.ExitCode(), stderr.String(), want)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
