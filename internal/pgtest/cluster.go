package pgtest

import (
	"context"
	"fmt"
	"os"
	osexec "os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/testenv"
)

// Cluster is a PostgreSQL server of a test's own, which the test may stop, start and restart
// without disturbing the shared server at EnvURL that every other test uses.
type Cluster struct {
	// URL reaches the cluster's postgres database as its superuser.
	URL string

	t    testing.TB
	bin  string
	dir  string
	port int
	asPG bool // running as root: initdb and postgres run as the postgres OS user
}

// NewCluster initdb's a cluster in a fresh directory, starts it on a free loopback port, and
// stops and removes it when the test ends. It fails the test when PostgreSQL's binaries are
// missing: scripts/postgres-start installs them. A -short run leaves PostgreSQL out unless
// EnvURL is set, as NewDatabase does, so it skips then.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	if testing.Short() && os.Getenv(EnvURL) == "" {
		t.Skip("-short, and " + EnvURL + " is not set")
	}
	bin, err := findBin()
	if err != nil {
		testenv.Missing(t, "pgtest: %v", err)
	}
	c := &Cluster{t: t, bin: bin, asPG: os.Geteuid() == 0}
	// Not t.TempDir: its parent is private to root, and the server runs as postgres.
	c.dir, err = os.MkdirTemp("", "latchkey-pgcluster-")
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(c.dir) })
	if c.asPG {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: the postgres OS user: %v (scripts/postgres-start creates it)", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(c.dir, uid, gid); err != nil {
			t.Fatalf("pgtest: %v", err)
		}
	}
	c.port = FreePort(t)
	c.run("initdb", "-D", c.dir, "--username=postgres", "--auth=trust", "--encoding=UTF8", "--locale=C")
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\n"+
		"max_connections = 50\nfsync = off\nlogging_collector = off\n", c.port, c.dir)
	f, err := os.OpenFile(filepath.Join(c.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	f.WriteString(conf)
	f.Close()
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.port)
	c.Start()
	t.Cleanup(func() {
		// Quietly: a test that failed while the cluster was stopped leaves nothing to stop.
		c.command(context.Background(), "pg_ctl", "-D", c.dir, "-m", "immediate", "-w", "stop").Run()
	})
	return c
}

// NewDatabase creates an empty database on the cluster and returns its URL.
func (c *Cluster) NewDatabase() string {
	c.t.Helper()
	exec(c.t, c.URL, "CREATE DATABASE latchkey")
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/latchkey?sslmode=disable", c.port)
}

// Start starts the stopped cluster and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	c.pgCtl("-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60", "start")
}

// Stop stops the cluster as an operator's fast shutdown does: sessions are ended, and new
// connections are refused until Start.
func (c *Cluster) Stop() {
	c.t.Helper()
	c.pgCtl("-m", "fast", "-w", "stop")
}

// Restart is pg_ctl restart -m fast: every session ends, and the server is back when it
// returns.
func (c *Cluster) Restart() {
	c.t.Helper()
	c.pgCtl("-m", "fast", "-w", "-t", "60", "-l", filepath.Join(c.dir, "server.log"), "restart")
}

func (c *Cluster) pgCtl(args ...string) {
	c.t.Helper()
	c.run("pg_ctl", append([]string{"-D", c.dir}, args...)...)
}

func (c *Cluster) run(tool string, args ...string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := c.command(ctx, tool, args...)
	cmd.Dir = c.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		c.t.Fatalf("pgtest: %s %v: %v\n%s\n%s", tool, cmd.Args[1:], err, out, log)
	}
}

// command is PostgreSQL's tool with args, run as the postgres OS user when asPG.
func (c *Cluster) command(ctx context.Context, tool string, args ...string) *osexec.Cmd {
	name := filepath.Join(c.bin, tool)
	if c.asPG {
		args = append([]string{"-u", "postgres", "--", name}, args...)
		name = "runuser"
	}
	return osexec.CommandContext(ctx, name, args...)
}

// findBin returns the directory of initdb and pg_ctl: from PATH, else the newest
// /usr/lib/postgresql/*/bin, as scripts/postgres-start finds them.
func findBin() (string, error) {
	if p, err := osexec.LookPath("pg_ctl"); err == nil {
		if _, err := osexec.LookPath("initdb"); err == nil {
			if p, err = filepath.EvalSymlinks(p); err == nil {
				return filepath.Dir(p), nil
			}
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("initdb and pg_ctl not found: run scripts/postgres-start, which installs PostgreSQL")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}
