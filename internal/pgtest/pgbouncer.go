package pgtest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testenv"
)

// PgBouncer is a PgBouncer in front of the test server.
type PgBouncer struct {
	addr string
}

// URL returns dbURL, a database of the test server, reached through PgBouncer.
func (b *PgBouncer) URL(t testing.TB, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", dbURL, err)
	}
	u.Host = b.addr
	return u.String()
}

// NewPgBouncer starts Debian's PgBouncer in transaction pooling mode in front of the server
// of EnvURL, listening on a free loopback port, and stops it when the test ends. Every
// database of the server is reachable through it, with EnvURL's user and password. Each
// database gets at most poolSize server connections, which the clients take turns on, one
// transaction at a time. Without pgbouncer installed the test fails: ./scripts/test installs
// it.
func NewPgBouncer(t testing.TB, poolSize int) *PgBouncer {
	t.Helper()
	serverURL := URL(t)
	bin, err := osexec.LookPath("pgbouncer")
	if err != nil {
		bin = "/usr/sbin/pgbouncer" // Debian's, outside a user's PATH
		if _, err := os.Stat(bin); err != nil {
			testenv.Missing(t, "pgtest: pgbouncer is not installed: run ./scripts/test, which installs it")
		}
	}
	u, err := url.Parse(serverURL)
	if err != nil {
		t.Fatalf("pgtest: parse %s: %v", EnvURL, err)
	}
	password, _ := u.User.Password()
	quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

	dir := t.TempDir()
	authFile := filepath.Join(dir, "userlist.txt")
	if err := os.WriteFile(authFile, []byte(quote(u.User.Username())+" "+quote(password)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// PgBouncer refuses to run as root; as root it reads its files, then becomes the
	// postgres OS user that scripts/postgres-start runs the cluster as.
	var asUser []string
	if os.Geteuid() == 0 {
		asUser = []string{"-u", "postgres"}
	}

	// The free port is found by listening on port 0 and closing: another process may take it
	// before PgBouncer does, so a failed start tries another.
	for try := 1; ; try++ {
		port := FreePort(t)
		ini := filepath.Join(dir, "pgbouncer.ini")
		if err := os.WriteFile(ini, []byte(fmt.Sprintf(`[databases]
* = host=%s port=%s

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = scram-sha-256
auth_file = %s
pool_mode = transaction
default_pool_size = %d
max_client_conn = 1000
`, u.Hostname(), u.Port(), port, authFile, poolSize)), 0o600); err != nil {
			t.Fatal(err)
		}
		logFile, err := os.Create(filepath.Join(dir, "pgbouncer.log"))
		if err != nil {
			t.Fatal(err)
		}
		cmd := osexec.Command(bin, append(asUser, ini)...)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		if err := cmd.Start(); err != nil {
			t.Fatalf("pgtest: start pgbouncer: %v", err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); logFile.Close(); close(exited) }()

		if Listening(port, exited) {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				<-exited
			})
			return &PgBouncer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
		}
		cmd.Process.Kill()
		<-exited
		log, _ := os.ReadFile(logFile.Name())
		if try == 3 {
			t.Fatalf("pgtest: pgbouncer did not start:\n%s", log)
		}
	}
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Listening waits until the loopback port accepts connections, or exited is closed (the
// process that should listen has ended), or 30 seconds pass, and reports whether it accepts
// them.
func Listening(port int, exited <-chan struct{}) bool {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
