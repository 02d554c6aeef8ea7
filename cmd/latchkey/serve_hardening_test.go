package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// hangGuard bounds how long a test waits for the server to act, so that a server that never
// does fails the test rather than hanging it. It is not a measure of speed.
const hangGuard = time.Minute

// dial opens a raw connection to a plain-HTTP process.
func (p *process) dial(t *testing.T) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(p.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// closedByServer reads conn until the server closes it and sends what was read.
func closedByServer(conn net.Conn) <-chan string {
	done := make(chan string, 1)
	go func() {
		got, _ := io.ReadAll(conn) // returns at EOF or a reset: the server hung up
		done <- string(got)
	}()
	return done
}

// trickle writes data one byte at a time until the server closes the connection, and
// returns what the server had answered by then. It fails the test if the server lets the
// client finish, or never hangs up.
func trickle(t *testing.T, conn net.Conn, data string) string {
	t.Helper()
	closed := closedByServer(conn)
	guard := time.After(hangGuard)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case got := <-closed:
			return got
		case <-guard:
			t.Fatalf("the server kept the connection open for %v while %d bytes trickled in", hangGuard, i)
		case <-tick.C:
			if i >= len(data) {
				t.Fatalf("the server let a client send all %d bytes one at a time", len(data))
			}
			if _, err := conn.Write([]byte{data[i]}); err != nil {
				return <-closed // the server hung up between two bytes
			}
		}
	}
}

// TestServeSlowClients checks that slow clients cannot pin connections: a client that sends
// its headers a byte at a time is cut off by --read-header-timeout, one that sends its body
// that way by --read-timeout, and an idle keep-alive connection is closed by --idle-timeout.
func TestServeSlowClients(t *testing.T) {
	p := start(t, privateDir(t), nil, "--read-header-timeout", "300ms", "--read-timeout", "600ms", "--idle-timeout", "300ms")
	location := p.app() + "/location"

	t.Run("Slowloris", func(t *testing.T) {
		headers := "GET " + location + " HTTP/1.1\r\nHost: latchkey\r\nX-Slow: " + strings.Repeat("a", 1<<20)
		if got := trickle(t, p.dial(t), headers); strings.Contains(got, "200 OK") {
			t.Fatalf("the slow request was answered: %q", got)
		}
	})
	t.Run("SlowBody", func(t *testing.T) {
		conn := p.dial(t)
		// Within the body limit, so that only the timeout can end it.
		head := "POST " + p.app() + "/auth/providers/anon-user/login HTTP/1.1\r\nHost: latchkey\r\nContent-Type: application/json\r\nContent-Length: 60000\r\n\r\n"
		if _, err := io.WriteString(conn, head); err != nil {
			t.Fatal(err)
		}
		if got := trickle(t, conn, `{"x":"`+strings.Repeat("a", 59_990)+`"}`); strings.Contains(got, "200 OK") || strings.Contains(got, "413") {
			t.Fatalf("the slow request was answered: %q", got)
		}
	})
	t.Run("IdleKeepAlive", func(t *testing.T) {
		conn := p.dial(t)
		if _, err := io.WriteString(conn, "GET "+location+" HTTP/1.1\r\nHost: latchkey\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("first request: %v, %v", resp, err)
		}
		io.Copy(io.Discard, resp.Body)
		done := make(chan error, 1)
		go func() { _, err := br.ReadByte(); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("the server sent bytes on an idle connection")
			}
		case <-time.After(hangGuard):
			t.Fatalf("an idle keep-alive connection stayed open for %v", hangGuard)
		}
	})
	t.Run("StillServing", func(t *testing.T) {
		if got := p.call(t, "GET", location, "", nil, nil); got != http.StatusOK {
			t.Fatalf("location: status %d", got)
		}
	})
}

// TestServeHeaderLimit checks that headers over --max-header-bytes are refused.
func TestServeHeaderLimit(t *testing.T) {
	p := start(t, privateDir(t), nil)
	req, _ := http.NewRequest("GET", p.url+p.app()+"/location", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 128<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("128 KiB of headers: status %d, want 431", resp.StatusCode)
	}
}

// TestServeRateLimitFlags checks that the limits are configured by flag or environment.
func TestServeRateLimitFlags(t *testing.T) {
	p := start(t, privateDir(t), []string{"LATCHKEY_RATE_LIMIT_IP=2/1h"})
	login := p.app() + "/auth/providers/anon-user/login"
	for range 2 {
		if got := p.call(t, "POST", login, "", nil, nil); got != http.StatusOK {
			t.Fatalf("login within the limit: status %d", got)
		}
	}
	req, _ := http.NewRequest("POST", p.url+login, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1800" {
		t.Fatalf("third login: status %d, Retry-After %q; want 429 and 1800", resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--rate-limit-ip", "lots"}, "N/DURATION"},
		{[]string{"--rate-limit-account", "5/0s"}, "positive duration"},
		{[]string{"--read-header-timeout", "0"}, "read-header-timeout must be positive"},
		{[]string{"--lockout-failures", "-1"}, "lockout-failures"},
		{[]string{"--password-hashes", "-1"}, "password-hashes"},
		{[]string{"--max-header-bytes", "10"}, "max-header-bytes"},
		{[]string{"--tls-cert", "cert.pem"}, "--tls-cert and --tls-key go together"},
	} {
		out, err := exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--data", privateDir(t)}, tt.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) {
			t.Errorf("serve %v: err %v, output %s; want an error about %q", tt.args, err, out, tt.want)
		}
	}
}

// TestServeTLS serves HTTPS with a certificate made here.
func TestServeTLS(t *testing.T) {
	dir := privateDir(t)
	certFile, keyFile, pool := selfSignedCert(t, dir)
	p := start(t, privateDir(t), nil, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(p.url, "https://127.0.0.1:") {
		t.Fatalf("listening on %s, want https://127.0.0.1:...", p.url)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}

	resp, err := client.Get(p.url + p.app() + "/location")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"hostname":"https://127.0.0.1:`) {
		t.Fatalf("location over TLS: %d %s", resp.StatusCode, body)
	}
	for name, want := range map[string]string{
		"Strict-Transport-Security": "max-age=31536000",
		"X-Content-Type-Options":    "nosniff",
		"Referrer-Policy":           "no-referrer",
		"X-Frame-Options":           "DENY",
		"Cache-Control":             "no-store",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	t.Run("PlainHTTPRefused", func(t *testing.T) {
		resp, err := http.Get("http://" + strings.TrimPrefix(p.url, "https://") + p.app() + "/location")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("plain HTTP to the TLS port: status %d, want 400", resp.StatusCode)
			}
		}
	})
	t.Run("OldTLSRefused", func(t *testing.T) {
		old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
		if resp, err := old.Get(p.url + p.app() + "/location"); err == nil {
			resp.Body.Close()
			t.Fatal("a TLS 1.1 client was served")
		}
	})
	t.Run("ErrBadCertificate", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.pem")
		os.WriteFile(bad, []byte("not a certificate"), 0o600)
		out, err := exec.Command(binary, "serve", "--addr", "127.0.0.1:0", "--data", privateDir(t), "--tls-cert", bad, "--tls-key", keyFile).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "TLS") {
			t.Fatalf("bad certificate: err %v, output %s", err, out)
		}
	})
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, and returns their files and
// a pool that trusts the certificate.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "latchkey test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := errors.Join(
		os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600),
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600),
	); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestServePasswordHashes checks how many password hashes serve runs at once, and that it
// gives the Go scheduler one slot more per hash than its default (so that hashes, which hold
// a slot for their whole 20 ms, never take slots from key logins), while a GOMAXPROCS set
// in the environment is left as it is.
func TestServePasswordHashes(t *testing.T) {
	t.Parallel()
	base := runtime.GOMAXPROCS(0)
	if v, ok := os.LookupEnv("GOMAXPROCS"); ok {
		t.Fatalf("run this test without GOMAXPROCS in the environment (it is %s)", v)
	}
	for _, tt := range []struct {
		name          string
		env, args     []string
		hashes, procs int
	}{
		{"Flag", nil, []string{"--password-hashes", "2"}, 2, base + 2},
		{"FlagAndEnvironment", []string{"GOMAXPROCS=5"}, []string{"--password-hashes", "2"}, 2, 5},
		{"Default", []string{"GOMAXPROCS=4"}, nil, 3, 4},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := start(t, privateDir(t), tt.env, tt.args...)
			p.stop(t)
			var line struct {
				Hashes int `json:"password_hashes"`
				Procs  int `json:"gomaxprocs"`
			}
			for _, l := range strings.Split(p.stderr.String(), "\n") {
				if strings.Contains(l, `"msg":"listening"`) {
					if err := json.Unmarshal([]byte(l), &line); err != nil {
						t.Fatal(err)
					}
				}
			}
			if line.Hashes != tt.hashes || line.Procs != tt.procs {
				t.Errorf("password_hashes %d, gomaxprocs %d; want %d and %d\n%s", line.Hashes, line.Procs, tt.hashes, tt.procs, p.stderr)
			}
		})
	}
}
