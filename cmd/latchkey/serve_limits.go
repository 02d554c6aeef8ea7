package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey/service"
)

// limitsConfig holds serve's flags for the brute-force limits and the connection bounds.
type limitsConfig struct {
	PerIP, PerAccount rateFlag
	LockoutFailures   int
	LockoutDuration   time.Duration
	PasswordHashes    int
	// TrustedProxies are the peers whose forwarded-address headers are believed.
	TrustedProxies prefixesFlag

	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
}

func (c *limitsConfig) register(fs *flag.FlagSet) {
	d := service.DefaultLimits()
	c.PerIP, c.PerAccount = rateFlag(d.PerIP), rateFlag(d.PerAccount)
	fs.Var(&c.PerIP, "rate-limit-ip", "credential requests per client address, counted by each node on its own, as N/DURATION (burst N); 0 for none (LATCHKEY_RATE_LIMIT_IP)")
	fs.Var(&c.PerAccount, "rate-limit-account", "credential requests per account, counted in the database and shared by every node, as N/DURATION (burst N); 0 for none (LATCHKEY_RATE_LIMIT_ACCOUNT)")
	fs.IntVar(&c.LockoutFailures, "lockout-failures", d.LockoutFailures, "password failures in a row that lock an account; 0 never locks (LATCHKEY_LOCKOUT_FAILURES)")
	fs.DurationVar(&c.LockoutDuration, "lockout-duration", d.LockoutDuration, "how long a first lock lasts; each further one doubles, up to 16 times (LATCHKEY_LOCKOUT_DURATION)")
	fs.Var(&c.TrustedProxies, "trusted-proxies", "reverse proxies, as CIDR,...: only from these peers is the client address taken from X-Forwarded-For or Forwarded; none by default (LATCHKEY_TRUSTED_PROXIES)")
	fs.IntVar(&c.PasswordHashes, "password-hashes", 0, "password hashes that run at once (argon2id, 19 MiB and one core each); 0 for one fewer than the cores, at least 1 (LATCHKEY_PASSWORD_HASHES)")
	fs.DurationVar(&c.ReadHeaderTimeout, "read-header-timeout", 10*time.Second, "time a client has to send a request's headers (LATCHKEY_READ_HEADER_TIMEOUT)")
	fs.DurationVar(&c.ReadTimeout, "read-timeout", 30*time.Second, "time a client has to send a whole request (LATCHKEY_READ_TIMEOUT)")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", 30*time.Second, "time to answer a request, from the end of its headers (LATCHKEY_WRITE_TIMEOUT)")
	fs.DurationVar(&c.IdleTimeout, "idle-timeout", 2*time.Minute, "how long an idle keep-alive connection stays open (LATCHKEY_IDLE_TIMEOUT)")
	fs.IntVar(&c.MaxHeaderBytes, "max-header-bytes", 64<<10, "largest request line and headers, in bytes (LATCHKEY_MAX_HEADER_BYTES)")
}

func (c *limitsConfig) validate() error {
	for name, d := range map[string]time.Duration{
		"read-header-timeout": c.ReadHeaderTimeout, "read-timeout": c.ReadTimeout,
		"write-timeout": c.WriteTimeout, "idle-timeout": c.IdleTimeout,
	} {
		// Zero would mean no timeout at all in net/http: a slow client could pin a connection.
		if d <= 0 {
			return fmt.Errorf("--%s must be positive", name)
		}
	}
	if c.MaxHeaderBytes < 4<<10 {
		return errors.New("--max-header-bytes must be at least 4096")
	}
	if c.PasswordHashes < 0 {
		return errors.New("--password-hashes must be 0 (automatic) or more")
	}
	if c.LockoutFailures < 0 || (c.LockoutFailures > 0 && c.LockoutDuration <= 0) {
		return errors.New("--lockout-failures must be 0 or more, with a positive --lockout-duration")
	}
	return nil
}

// service returns the limits for service.Config.
func (c *limitsConfig) service() *service.Limits {
	l := service.DefaultLimits()
	l.PerIP, l.PerAccount = service.Rate(c.PerIP), service.Rate(c.PerAccount)
	l.LockoutFailures, l.LockoutDuration = c.LockoutFailures, c.LockoutDuration
	return &l
}

// schedulePasswordHashes returns how many password hashes run at once (--password-hashes,
// or one fewer than the cores, at least one) and gives the Go scheduler that many more
// threads of Go code (GOMAXPROCS) than the cores, unless GOMAXPROCS is set in the
// environment. A hash holds its scheduler slot for the whole of its ~20 ms; without the extra
// slots, a flood of password logins on 2 cores leaves key logins and token checks one slot,
// and the kernel, which sees every thread, no longer shares the CPU between them. It returns
// the GOMAXPROCS in effect.
func (c *limitsConfig) schedulePasswordHashes() (hashes, procs int) {
	procs = runtime.GOMAXPROCS(0)
	hashes = c.PasswordHashes
	if hashes == 0 {
		hashes = max(1, procs-1)
	}
	if _, set := os.LookupEnv("GOMAXPROCS"); !set {
		procs += hashes
		runtime.GOMAXPROCS(procs)
	}
	return hashes, procs
}

// httpServer applies the connection bounds to srv.
func (c *limitsConfig) httpServer(srv *http.Server) *http.Server {
	srv.ReadHeaderTimeout = c.ReadHeaderTimeout
	srv.ReadTimeout = c.ReadTimeout
	srv.WriteTimeout = c.WriteTimeout
	srv.IdleTimeout = c.IdleTimeout
	srv.MaxHeaderBytes = c.MaxHeaderBytes
	return srv
}

// rateFlag is a service.Rate written N/DURATION: "300/1m" lets 300 requests through at once
// and 300 a minute after that. "0" limits nothing.
type rateFlag service.Rate

func (r *rateFlag) String() string {
	if r.N <= 0 {
		return "0"
	}
	d := r.Per.String()
	if strings.HasSuffix(d, "m0s") {
		d = strings.TrimSuffix(d, "0s")
	}
	if strings.HasSuffix(d, "h0m") {
		d = strings.TrimSuffix(d, "0m")
	}
	return fmt.Sprintf("%d/%s", r.N, d)
}

func (r *rateFlag) Set(s string) error {
	if s == "0" {
		*r = rateFlag{}
		return nil
	}
	n, per, ok := strings.Cut(s, "/")
	count, err := strconv.Atoi(n)
	if !ok || err != nil || count < 0 {
		return errors.New("expected N/DURATION such as 300/1m, or 0")
	}
	if per != "" && (per[0] < '0' || per[0] > '9') {
		per = "1" + per // "30/m"
	}
	d, err := time.ParseDuration(per)
	if err != nil || d <= 0 {
		return errors.New("expected N/DURATION with a positive duration, such as 300/1m")
	}
	*r = rateFlag{N: count, Per: d}
	return nil
}

// prefixesFlag is a list of address blocks written CIDR,CIDR,...; a bare address is a block
// of one. "" is the empty list.
type prefixesFlag []netip.Prefix

func (p *prefixesFlag) String() string {
	s := make([]string, len(*p))
	for i, prefix := range *p {
		s[i] = prefix.String()
	}
	return strings.Join(s, ",")
}

func (p *prefixesFlag) Set(s string) error {
	var list prefixesFlag
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		prefix, err := netip.ParsePrefix(item)
		if err != nil {
			addr, errAddr := netip.ParseAddr(item)
			if errAddr != nil {
				return fmt.Errorf("%q is not a CIDR block (e.g. 10.0.0.0/8) or an address", item)
			}
			prefix = netip.PrefixFrom(addr, addr.BitLen())
		}
		// A block of IPv4-mapped IPv6 addresses would match nothing: clients are compared
		// unmapped.
		if prefix.Addr().Is4In6() && prefix.Bits() >= 96 {
			prefix = netip.PrefixFrom(prefix.Addr().Unmap(), prefix.Bits()-96)
		}
		list = append(list, prefix.Masked())
	}
	*p = list
	return nil
}

// tlsConfig holds serve's TLS flags.
type tlsConfig struct {
	Cert, Key string
}

func (c *tlsConfig) register(fs *flag.FlagSet) {
	fs.StringVar(&c.Cert, "tls-cert", "", "PEM certificate (chain) file: serve HTTPS (LATCHKEY_TLS_CERT)")
	fs.StringVar(&c.Key, "tls-key", "", "PEM private key file of --tls-cert (LATCHKEY_TLS_KEY)")
}

func (c *tlsConfig) enabled() bool { return c.Cert != "" }

func (c *tlsConfig) validate() error {
	if (c.Cert == "") != (c.Key == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	return nil
}

// load reads the certificate, so that a bad file stops the server before it serves.
func (c *tlsConfig) load(srv *http.Server) error {
	if !c.enabled() {
		return nil
	}
	cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		return fmt.Errorf("TLS: %w", err)
	}
	srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	return nil
}

// serve serves on ln, over TLS when it is configured.
func (c *tlsConfig) serve(srv *http.Server, ln net.Listener) error {
	if c.enabled() {
		return srv.ServeTLS(ln, "", "")
	}
	return srv.Serve(ln)
}

// scheme is the scheme of the default public URL.
func (c *tlsConfig) scheme() string {
	if c.enabled() {
		return "https"
	}
	return "http"
}
