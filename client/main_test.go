package client_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/client"
)

// exampleServer is the latchkey binary the Example functions run against. They cannot take a
// *testing.T, so TestMain starts it; the Test functions use internal/testserver instead.
var exampleServer struct {
	url, appID string
}

func TestMain(m *testing.M) {
	stop, err := startExampleServer()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the example server:", err)
		os.Exit(1)
	}
	code := m.Run()
	if err := stop(); err != nil {
		fmt.Fprintln(os.Stderr, "stop the example server:", err)
		code = 1
	}
	os.Exit(code)
}

// startExampleServer builds the latchkey binary and runs `latchkey serve` on a free loopback
// port with a fresh data directory, as a user would.
func startExampleServer() (stop func() error, err error) {
	dir, err := os.MkdirTemp("", "latchkey-client-test")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
		}
	}()
	bin := filepath.Join(dir, "latchkey")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/latchkey/latchkey/cmd/latchkey").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build latchkey: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--data", filepath.Join(dir, "data"), "--app-id", "example-app", "--log-level", "warn")
	// The first admin, made at the first start, as a deployment would.
	cmd.Env = append(os.Environ(), "LATCHKEY_ADMIN_EMAIL="+exampleAdminEmail, "LATCHKEY_ADMIN_PASSWORD="+exampleAdminPassword)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	lines := bufio.NewScanner(stdout)
	for exampleServer.url == "" || exampleServer.appID == "" {
		if !lines.Scan() {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("latchkey serve exited before listening")
		}
		if url, ok := strings.CutPrefix(lines.Text(), "Latchkey listening on "); ok {
			exampleServer.url = url
		}
		if app, ok := strings.CutPrefix(lines.Text(), "App ID: "); ok {
			exampleServer.appID, _, _ = strings.Cut(app, " ")
		}
	}
	go io.Copy(io.Discard, stdout)
	return func() error {
		defer os.RemoveAll(dir)
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			return fmt.Errorf("latchkey serve did not stop within 15s of SIGTERM")
		}
	}, nil
}

var exampleSeq atomic.Int64

// exampleEmail returns a new address for each call, so that the examples also pass when
// `go test -count=N` runs them again against the same server.
func exampleEmail() string {
	return fmt.Sprintf("example%d@example.com", exampleSeq.Add(1))
}

// exampleApp returns an App of the example server with a new email/password user logged in,
// the starting point of the Realm docs' snippets.
func exampleApp() *client.App {
	ctx := context.Background()
	app, err := client.NewApp(exampleServer.url, exampleServer.appID)
	if err != nil {
		log.Fatal(err)
	}
	email := exampleEmail()
	if err := app.EmailPasswordAuth().RegisterUser(ctx, email, "s3cretpass"); err != nil {
		log.Fatal(err)
	}
	if _, err := app.LogIn(ctx, client.EmailPasswordCredentials(email, "s3cretpass")); err != nil {
		log.Fatal(err)
	}
	return app
}

// The example server's first admin.
const (
	exampleAdminEmail    = "root@example.com"
	exampleAdminPassword = "rootpassword1"
)

// exampleAdmin returns an Admin of the example server, logged in as its first admin.
func exampleAdmin() *client.Admin {
	admin, err := client.NewAdmin(exampleServer.url)
	if err != nil {
		log.Fatal(err)
	}
	if err := admin.LogIn(context.Background(), exampleAdminEmail, exampleAdminPassword); err != nil {
		log.Fatal(err)
	}
	return admin
}

// exampleServerKey returns the value of a new server API key of the example app, which an
// admin makes for the app's backend once (latchkey admin server-keys create).
func exampleServerKey() string {
	key, err := exampleAdmin().ServerAPIKeys(exampleServer.appID).Create(context.Background(), fmt.Sprintf("backend-%d", exampleSeq.Add(1)))
	if err != nil {
		log.Fatal(err)
	}
	return key.Value
}
