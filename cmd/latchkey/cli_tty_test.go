//go:build linux

package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: a command gets the terminal end as its stdin, the
// test types into the other end and reads what the terminal echoes.
func openPTY(t *testing.T) (ptm, tty *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { ptm.Close(); tty.Close() })
	return ptm, tty
}

// syncBuffer is a bytes.Buffer that the test may read while the command writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runOnTerminal runs the binary with a terminal as stdin; when stderr shows prompt (and, if
// secret, once the command has switched the terminal's echo off), it types input. It returns
// the exit code, the outputs, and what the terminal echoed.
func (u *cliUser) runOnTerminal(prompt string, secret bool, input string, args ...string) (code int, stdout, stderr, echoed string) {
	u.t.Helper()
	ptm, tty := openPTY(u.t)
	cmd := exec.Command(binary, args...)
	cmd.Env = u.env()
	var out, errOut syncBuffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &out, &errOut
	if err := cmd.Start(); err != nil {
		u.t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	ready := func() bool {
		if !strings.Contains(errOut.String(), prompt) {
			return false
		}
		if !secret {
			return true
		}
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		return err == nil && tio.Lflag&unix.ECHO == 0
	}
	for !ready() {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			u.t.Fatalf("latchkey %v did not prompt %q (secret: %v); stderr: %q", args, prompt, secret, errOut.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := io.WriteString(ptm, input); err != nil {
		u.t.Fatal(err)
	}
	cmd.Wait()
	// With every terminal end closed, reading the other end returns what was echoed, then EIO.
	tty.Close()
	b, _ := io.ReadAll(ptm)
	return cmd.ProcessState.ExitCode(), out.String(), errOut.String(), string(b)
}

func TestCLITerminal(t *testing.T) {
	p := start(t, privateDir(t), nil, "--app-id", "tty-app")
	u := newCLIUser(t)
	u.ok("s3cretpass\n", "register", "--url", p.url, "--app", p.appID, "--email", "ann@example.com")

	t.Run("PasswordPromptWithoutEcho", func(t *testing.T) {
		code, stdout, _, echoed := u.runOnTerminal("Password: ", true, "s3cretpass\n", "login", "--email", "ann@example.com")
		if code != 0 || !strings.Contains(stdout, "Logged in") {
			t.Fatalf("login on a terminal: exit %d, stdout %q", code, stdout)
		}
		if strings.Contains(echoed, "s3cretpass") {
			t.Fatalf("the terminal echoed the password: %q", echoed)
		}
	})

	var key cliKey
	u.okJSON(&key, "", "keys", "create", "laptop", "--json")

	t.Run("APIKeyPromptWithoutEcho", func(t *testing.T) {
		other := newCLIUser(t)
		code, stdout, _, echoed := other.runOnTerminal("API key: ", true, *key.Key+"\n", "login", "--url", p.url, "--app", p.appID, "--api-key")
		if code != 0 || !strings.Contains(stdout, "owner of the API key") {
			t.Fatalf("key login on a terminal: exit %d, stdout %q", code, stdout)
		}
		if strings.Contains(echoed, *key.Key) {
			t.Fatal("the terminal echoed the key")
		}
	})
	t.Run("DeleteAnsweredNo", func(t *testing.T) {
		code, _, stderr, _ := u.runOnTerminal("[y/N]", false, "n\n", "keys", "delete", key.ID)
		if code == 0 || !strings.Contains(stderr, "Delete API key laptop ("+key.ID+")?") || !strings.Contains(stderr, "nothing was deleted") {
			t.Fatalf("delete answered no: exit %d, stderr %q", code, stderr)
		}
		u.ok("", "keys", "get", key.ID)
	})
	t.Run("DeleteAnsweredYes", func(t *testing.T) {
		code, stdout, stderr, _ := u.runOnTerminal("[y/N]", false, "y\n", "keys", "delete", key.ID)
		if code != 0 || stdout != "Deleted API key "+key.ID+".\n" {
			t.Fatalf("delete answered yes: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
		u.fails("API key not found (APIKeyNotFound)", "", "keys", "get", key.ID)
	})
}
