package compat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/pgtest"
	"github.com/latchkey/latchkey/internal/testenv"
)

// TestLoadBalancer runs three `latchkey serve` nodes over one PostgreSQL database behind nginx
// (Debian's package), which spreads requests over them round-robin and is their one trusted
// proxy, and checks that through it the nodes behave as one server: realm-web's whole flow;
// a logout on one node refuses the session's tokens on every node at once; wrong passwords
// spread over the nodes meet the lock after 10 in total; a node restarted during a loop of
// key logins costs at most the requests it was being handed as it stopped, and loses no
// acknowledged session; and PostgreSQL stopped under
// load is answered 503 with Retry-After, then every node recovers by itself; and the console
// works with its requests landing on different nodes.
func TestLoadBalancer(t *testing.T) {
	root := moduleRoot(t)
	flowDir := filepath.Join(root, "compat", "realm-web")
	ensureNodeModules(t, flowDir)
	bin := buildServer(t, root)
	lb := newCluster(t, bin, 3)

	t.Run("RealmWeb", func(t *testing.T) {
		runRealmWebFlow(t, flowDir, "flow.mjs", lb.URL, []string{"LATCHKEY_ADMIN_EMAIL=" + lbAdminEmail, "LATCHKEY_ADMIN_PASSWORD=" + lbAdminPassword})
	})

	t.Run("LogoutEndsTokensOnEveryNode", func(t *testing.T) {
		l := lb.newUser(t, "logout@example.com")
		// Round-robin: three calls reach the three nodes.
		for range len(lb.nodes) {
			if got := lb.call(t, "GET", "/api/client/v2.0/auth/profile", l.AccessToken, nil, nil); got != http.StatusOK {
				t.Fatalf("profile before the logout: %d", got)
			}
		}
		if got := lb.call(t, "DELETE", "/api/client/v2.0/auth/session", l.RefreshToken, nil, nil); got != http.StatusNoContent {
			t.Fatalf("logout: %d", got)
		}
		for range len(lb.nodes) {
			if got := lb.call(t, "GET", "/api/client/v2.0/auth/profile", l.AccessToken, nil, nil); got != http.StatusUnauthorized {
				t.Errorf("profile with the ended session's access token: %d, want 401", got)
			}
			if got := lb.call(t, "POST", "/api/client/v2.0/auth/session", l.RefreshToken, nil, nil); got != http.StatusUnauthorized {
				t.Errorf("refresh with the ended session's token: %d, want 401", got)
			}
		}
	})

	t.Run("ConsoleAcrossNodes", func(t *testing.T) {
		// Each request of the console's sign-in and of a server key's creation lands on the
		// next node: the browser session and its CSRF token hold on every one.
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
		page := func(path string) (int, string) {
			t.Helper()
			resp, err := browser.Get(lb.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		post := func(path string, form url.Values) (int, string) {
			t.Helper()
			resp, err := browser.PostForm(lb.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode, resp.Header.Get("Location")
		}
		token := func(body string) string {
			t.Helper()
			m := csrf.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no CSRF token in\n%s", body)
			}
			return m[1]
		}

		_, body := page("/console/sign-in")
		if status, to := post("/console/sign-in", url.Values{"csrf": {token(body)}, "email": {lbAdminEmail}, "password": {lbAdminPassword}}); status != http.StatusSeeOther || to != "/console/apps" {
			t.Fatalf("sign in: %d to %q", status, to)
		}
		keys := "/console/apps/" + compatAppID + "/server-keys"
		for range len(lb.nodes) { // signed in on every node
			if status, _ := page("/console/apps"); status != http.StatusOK {
				t.Fatalf("the apps page after signing in: %d", status)
			}
		}
		status, body := page(keys)
		if status != http.StatusOK {
			t.Fatalf("server keys page: %d", status)
		}
		if status, to := post(keys, url.Values{"csrf": {token(body)}, "name": {"lb-key"}}); status != http.StatusSeeOther || to != keys {
			t.Fatalf("create a server key: %d to %q", status, to)
		}
		status, body = page(keys)
		if status != http.StatusOK || !strings.Contains(body, "lb-key") {
			t.Fatalf("server keys page after creating lb-key: %d\n%s", status, body)
		}
		// Signing out on one node ends the browser session on all.
		if status, _ := post("/console/sign-out", url.Values{"csrf": {token(body)}}); status != http.StatusSeeOther {
			t.Fatalf("sign out: %d", status)
		}
		for range len(lb.nodes) {
			resp, err := browser.Get(lb.URL + "/console/apps")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/console/sign-in") {
				t.Errorf("the apps page after signing out: %d to %q, want the sign-in page", resp.StatusCode, resp.Header.Get("Location"))
			}
		}
	})

	t.Run("LockoutSharedByNodes", func(t *testing.T) {
		lb.newUser(t, "guessed@example.com")
		path := "/api/client/v2.0/app/" + compatAppID + "/auth/providers/local-userpass/login"
		wrong := map[string]string{"username": "guessed@example.com", "password": "wrong password"}
		// Ten failures, three or four on each node, reach the threshold of ten in total.
		for i := range 10 {
			if got := lb.call(t, "POST", path, "", wrong, nil); got != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d, want 401", i+1, got)
			}
		}
		// Every node now refuses the account, even with its right password.
		right := map[string]string{"username": "guessed@example.com", "password": "s3cretpass"}
		for range len(lb.nodes) {
			if got := lb.call(t, "POST", path, "", right, nil); got != http.StatusTooManyRequests {
				t.Errorf("login after 10 failures: %d, want 429", got)
			}
		}
	})

	t.Run("NodeRestartDuringKeyLogins", func(t *testing.T) {
		owner := lb.newUser(t, "restart@example.com")
		var keys []string
		for i := range 10 {
			var k struct{ Key string }
			if got := lb.call(t, "POST", "/api/client/v2.0/auth/api_keys", owner.RefreshToken, map[string]string{"name": "k" + strconv.Itoa(i)}, &k); got != http.StatusCreated {
				t.Fatalf("create key: %d", got)
			}
			keys = append(keys, k.Key)
		}

		const logins = 150
		type result struct {
			status     int
			refresh    string
			start, end time.Time
		}
		results := make(chan result, logins)
		started := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range logins {
				if i == 20 {
					close(started)
				}
				var l login
				start := time.Now()
				status, err := lb.try("POST", "/api/client/v2.0/app/"+compatAppID+"/auth/providers/api-key/login", "",
					map[string]string{"key": keys[i%len(keys)]}, &l)
				if err != nil {
					status = -1
				}
				results <- result{status, l.RefreshToken, start, time.Now()}
			}
		}()
		<-started
		stopping := time.Now()
		lb.restart(t, 1)
		restarted := time.Now()
		wg.Wait()
		close(results)

		// A login that reaches the node as it stops may be cut (a connection still in the
		// listener's backlog is reset, and nginx does not resend a POST): only then may it
		// fail, with 502 from nginx. Every other login succeeds, and every acknowledged one
		// keeps its session.
		n, cut := 0, 0
		for r := range results {
			n++
			if r.status != http.StatusOK {
				if r.status == http.StatusBadGateway && r.end.After(stopping) && r.start.Before(restarted) {
					cut++
					continue
				}
				t.Errorf("key login %d: %d, want 200 (or 502 while the node stopped)", n, r.status)
				continue
			}
			if got := lb.call(t, "POST", "/api/client/v2.0/auth/session", r.refresh, nil, nil); got != http.StatusCreated {
				t.Errorf("refresh of acknowledged login %d: %d, want 201", n, got)
			}
		}
		if n != logins {
			t.Fatalf("%d results, want %d", n, logins)
		}
		if cut > 2 {
			t.Errorf("%d logins cut while the node stopped, want at most the few in flight", cut)
		}
		t.Logf("%d key logins, %d cut while the node stopped", n, cut)
	})

	t.Run("DatabaseStoppedUnderLoad", func(t *testing.T) {
		u := lb.newUser(t, "outage@example.com")
		profile := func() (int, string, error) {
			req, _ := http.NewRequest("GET", lb.URL+"/api/client/v2.0/auth/profile", nil)
			req.Header.Set("Authorization", "Bearer "+u.AccessToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return 0, "", err
			}
			defer resp.Body.Close()
			var e struct {
				Code string `json:"error_code"`
			}
			json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				return resp.StatusCode, "no Retry-After", nil
			}
			return resp.StatusCode, e.Code, nil
		}
		// Load through the outage: every answer is a 200 or a 503, never a 500 or a cut
		// connection. Bounded in count, and it stops when the test is done with it.
		done := make(chan struct{})
		answers := make(chan string, 4000)
		var load sync.WaitGroup
		load.Add(1)
		go func() {
			defer load.Done()
			defer close(answers)
			for range cap(answers) {
				select {
				case <-done:
					return
				default:
				}
				status, code, err := profile()
				switch {
				case err != nil:
					answers <- err.Error()
				case status != http.StatusOK && (status != http.StatusServiceUnavailable || code != "ServiceUnavailable"):
					answers <- fmt.Sprintf("%d %s", status, code)
				default:
					answers <- strconv.Itoa(status)
				}
			}
		}()
		lb.cluster.Stop()
		// While the database is away every node answers 503 ServiceUnavailable, never a 500
		// or a hang: a round of requests reaches all three.
		for range 2 * len(lb.nodes) {
			status, code, err := profile()
			if err != nil || status != http.StatusServiceUnavailable || code != "ServiceUnavailable" {
				t.Errorf("profile while the database is stopped: %d %q %v, want 503 ServiceUnavailable with Retry-After", status, code, err)
			}
		}
		lb.cluster.Start()
		// Every node recovers by itself: within a bounded number of tries, a round of
		// requests all succeed, and the session made before the outage still works.
		recovered := false
		for try := 0; try < 100 && !recovered; try++ {
			recovered = true
			for range len(lb.nodes) {
				if status, _, err := profile(); err != nil || status != http.StatusOK {
					recovered = false
				}
			}
			if !recovered {
				time.Sleep(100 * time.Millisecond)
			}
		}
		close(done)
		load.Wait()
		counts := map[string]int{}
		for a := range answers {
			counts[a]++
		}
		for a, n := range counts {
			if a != "200" && a != "503" {
				t.Errorf("under load through the outage: %d answers %q", n, a)
			}
		}
		t.Logf("answers under load through the outage: %v", counts)
		if !recovered {
			t.Fatal("the nodes did not recover after the database came back")
		}
		if got := lb.call(t, "POST", "/api/client/v2.0/auth/session", u.RefreshToken, nil, nil); got != http.StatusCreated {
			t.Errorf("refresh of the session made before the outage: %d, want 201", got)
		}
	})
}

// cluster is a set of latchkey nodes over one PostgreSQL database behind nginx.
type cluster struct {
	URL     string // nginx's
	bin     string
	cluster *pgtest.Cluster // the PostgreSQL server, the test's own
	db      string
	ports   []int
	nodes   []*server
	args    []string
}

// newCluster starts n nodes over a fresh database and nginx in front of them.
func newCluster(t *testing.T, bin string, n int) *cluster {
	t.Helper()
	nginx := findNginx(t)
	c := &cluster{bin: bin, cluster: pgtest.NewCluster(t)}
	c.db = c.cluster.NewDatabase()
	lbPort := pgtest.FreePort(t)
	c.URL = fmt.Sprintf("http://127.0.0.1:%d", lbPort)
	// nginx, on loopback, is the nodes' one trusted proxy: the limits count the address it
	// forwards in X-Forwarded-For.
	c.args = []string{"--database", c.db, "--public-url", c.URL, "--trusted-proxies", "127.0.0.1/32"}
	for range n {
		c.ports = append(c.ports, pgtest.FreePort(t))
	}
	for i := range n {
		c.nodes = append(c.nodes, c.startNode(t, i))
	}
	// The console's admin, made as an operator makes the first one.
	create := exec.Command(bin, "admin", "create-user", "--email", lbAdminEmail, "--database", c.db)
	create.Env = serverEnv()
	create.Stdin = strings.NewReader(lbAdminPassword + "\n")
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("admin create-user: %v\n%s", err, out)
	}
	startNginx(t, nginx, lbPort, c.ports)
	return c
}

// The console's admin in the load balancer test.
const (
	lbAdminEmail    = "admin@example.com"
	lbAdminPassword = "a-long-admin-password"
)

// startNode starts node i on its port.
func (c *cluster) startNode(t *testing.T, i int) *server {
	t.Helper()
	return startServer(t, c.bin, append([]string{"--addr", fmt.Sprintf("127.0.0.1:%d", c.ports[i])}, c.args...)...)
}

// restart stops node i gracefully and starts it again on the same port.
func (c *cluster) restart(t *testing.T, i int) {
	t.Helper()
	c.nodes[i].Stop(t)
	c.nodes[i] = c.startNode(t, i)
}

// login is a login's answer.
type login struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	UserID       string `json:"user_id"`
}

// newUser registers an email/password user of the app through the load balancer and logs it in.
func (c *cluster) newUser(t *testing.T, email string) login {
	t.Helper()
	creds := map[string]string{"email": email, "password": "s3cretpass"}
	if got := c.call(t, "POST", "/api/client/v2.0/app/"+compatAppID+"/auth/providers/local-userpass/register", "", creds, nil); got != http.StatusCreated {
		t.Fatalf("register %s: %d", email, got)
	}
	var l login
	if got := c.call(t, "POST", "/api/client/v2.0/app/"+compatAppID+"/auth/providers/local-userpass/login", "",
		map[string]string{"username": email, "password": "s3cretpass"}, &l); got != http.StatusOK {
		t.Fatalf("log in %s: %d", email, got)
	}
	return l
}

// call sends a JSON request through the load balancer and decodes a JSON answer into out (if
// not nil); it returns the status.
func (c *cluster) call(t *testing.T, method, path, token string, body, out any) int {
	t.Helper()
	status, err := c.try(method, path, token, body, out)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status
}

func (c *cluster) try(method, path, token string, body, out any) (int, error) {
	var r *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	} else {
		r = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, c.URL+path, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

// findNginx returns Debian's nginx binary; ./scripts/test installs it when it is missing.
func findNginx(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	testenv.Missing(t, "nginx is needed for the load balancer test (./scripts/test installs Debian's nginx-light)")
	return ""
}

// startNginx runs nginx in the foreground on lbPort, round-robin over the nodes' ports, with
// everything it writes in a temporary directory. A request whose node refuses the connection
// goes to the next node, as behind any load balancer with health checks.
func startNginx(t *testing.T, nginx string, lbPort int, nodePorts []int) {
	t.Helper()
	dir := t.TempDir()
	var upstream strings.Builder
	for _, p := range nodePorts {
		fmt.Fprintf(&upstream, "\t\tserver 127.0.0.1:%d max_fails=0;\n", p)
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	upstream latchkey {
%[2]s	}
	server {
		listen 127.0.0.1:%[3]d;
		location / {
			proxy_pass http://latchkey;
			proxy_set_header Host $http_host;
			proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
			proxy_next_upstream error timeout;
			proxy_connect_timeout 2s;
		}
	}
}
`, dir, upstream.String(), lbPort)
	confFile := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confFile, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-c", confFile, "-p", dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx: %s\n%s", out.String(), log)
		}
	})
	if !pgtest.Listening(lbPort, exited) {
		t.Fatalf("nginx not listening on 127.0.0.1:%d (its output is logged at clean-up)", lbPort)
	}
}
