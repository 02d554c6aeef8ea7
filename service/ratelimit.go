package service

import (
	"context"
	"crypto/sha256"
	"net/netip"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// Limits are the brute-force limits of the credential endpoints: password and key logins,
// registration, confirmation, password reset and admin login. They are kept in the memory
// of each node.
type Limits struct {
	// PerIP is the bucket that every credential request from one client address draws
	// from. IPv6 addresses count per /64, the block one host usually holds.
	PerIP Rate
	// PerAccount is the bucket of one account: an email in an app (password login,
	// registration, confirmation and reset messages), an API key value (key login), a
	// confirmation or reset token (confirm, reset), an admin's email (admin login).
	PerAccount Rate
	// LockoutFailures password failures in a row lock an account (an email in an app, or an
	// admin's email) for LockoutDuration; each further lock before a successful login lasts
	// twice as long, up to 16 times LockoutDuration. Zero never locks.
	LockoutFailures int
	LockoutDuration time.Duration
	// MaxEntries bounds how many addresses, accounts and lockouts each table remembers
	// (zero: 100 000); entries that have nothing left to remember are dropped first.
	MaxEntries int
}

// Rate is a token bucket: N requests at once, refilled at N per Per. N <= 0 limits nothing.
type Rate struct {
	N   int
	Per time.Duration
}

// DefaultLimits are the limits `latchkey serve` starts with.
func DefaultLimits() Limits {
	return Limits{
		PerIP:           Rate{N: 300, Per: time.Minute},
		PerAccount:      Rate{N: 30, Per: time.Minute},
		LockoutFailures: 10,
		LockoutDuration: 15 * time.Minute,
		MaxEntries:      100_000,
	}
}

const (
	// limiterSweepInterval is how often a table drops the entries it no longer needs.
	limiterSweepInterval = time.Minute
	// maxLockoutDoublings caps a repeated lock at 16 times the first.
	maxLockoutDoublings = 4
	// lockoutMemory is how long a failure streak is remembered without a new failure.
	lockoutMemory = 24 * time.Hour
)

// limiter applies Limits.
type limiter struct {
	ips      *buckets
	accounts *buckets
	locks    *lockouts
}

func newLimiter(l Limits) *limiter {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultLimits().MaxEntries
	}
	if l.LockoutDuration <= 0 {
		l.LockoutDuration = DefaultLimits().LockoutDuration
	}
	return &limiter{
		ips:      newBuckets(l.PerIP, l.MaxEntries),
		accounts: newBuckets(l.PerAccount, l.MaxEntries),
		locks:    &lockouts{threshold: l.LockoutFailures, duration: l.LockoutDuration, max: l.MaxEntries, m: map[string]*lockState{}},
	}
}

// allow takes a token from the bucket of the request's client address (when the request came
// over the network) and from the account's (when there is one).
func (s *Service) allow(ctx context.Context, account string) error {
	now := s.now()
	if ip := latchkey.RequestMetaFromContext(ctx).IP; ip != "" {
		if wait, ok := s.limits.ips.take(ipKey(ip), now); !ok {
			s.logger.DebugContext(ctx, "rate limited", "limit", "ip", "ip", ip)
			return latchkey.TooManyRequests(wait)
		}
	}
	if account != "" {
		if wait, ok := s.limits.accounts.take(account, now); !ok {
			s.logger.DebugContext(ctx, "rate limited", "limit", "account")
			return latchkey.TooManyRequests(wait)
		}
	}
	return nil
}

// limitLogIn applies the limits to a login. For a password it also reserves one check
// against the account's lockout, before the password is verified, so that parallel requests
// cannot run more checks than the lockout allows. done records the login's outcome and must
// be called once.
func (s *Service) limitLogIn(ctx context.Context, app *latchkey.App, creds latchkey.Credentials) (done func(error), err error) {
	account := ""
	switch creds.Provider {
	case latchkey.ProviderUserpass:
		account = emailAccount(app, creds.Username)
	case latchkey.ProviderAPIKey:
		account = accountKey("api-key", app.ID, creds.Key)
	}
	if err := s.allow(ctx, account); err != nil {
		return nil, err
	}
	if creds.Provider != latchkey.ProviderUserpass {
		return func(error) {}, nil
	}
	return s.beginPasswordCheck(ctx, app, account, normalizeEmail(creds.Username))
}

// limitAdminLogIn is limitLogIn for an admin's email.
func (s *Service) limitAdminLogIn(ctx context.Context, email string) (done func(error), err error) {
	account := accountKey("admin", email)
	if err := s.allow(ctx, account); err != nil {
		return nil, err
	}
	return s.beginPasswordCheck(ctx, nil, account, email)
}

// beginPasswordCheck reserves a password check against the account's lockout. done counts
// a wrong password (EInvalidPassword, which unknown emails answer too, so that they lock
// alike) as a failure and a login as a success; any other outcome leaves the streak as it is.
func (s *Service) beginPasswordCheck(ctx context.Context, app *latchkey.App, account, email string) (done func(error), err error) {
	if wait, ok := s.limits.locks.begin(account, s.now()); !ok {
		s.logger.DebugContext(ctx, "rate limited", "limit", "lockout")
		return nil, latchkey.TooManyRequests(wait)
	}
	return func(err error) {
		outcome := outcomeOther
		switch latchkey.ErrorCode(err) {
		case "":
			outcome = outcomeSuccess
		case latchkey.EInvalidPassword:
			outcome = outcomeFailure
		}
		if until, locked := s.limits.locks.end(account, outcome, s.now()); locked {
			s.logger.WarnContext(ctx, "account locked after repeated password failures", "until", until)
			subject := "user"
			if app == nil {
				subject = "admin"
			}
			s.audit(ctx, app, latchkey.EventAccountLocked, nil, subject, "", map[string]string{
				"email": email, "until": until.UTC().Format(time.RFC3339),
			})
		}
	}, nil
}

// emailAccount is the account of an email in an app.
func emailAccount(app *latchkey.App, email string) string {
	return accountKey("email", app.ID, normalizeEmail(email))
}

// tokenAccount is the account of a confirmation or reset token.
func tokenAccount(tokenID string) string { return accountKey("token", tokenID) }

// accountKey names an account in the tables by a hash of its parts, so that a key costs the
// same memory however long the email or value a caller sent, and no secret is kept.
func accountKey(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return string(h.Sum(nil)[:16])
}

// ipKey is the table key of a client address: the address, or its /64 for IPv6.
func ipKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// buckets is a table of token buckets.
type buckets struct {
	rate     Rate
	interval time.Duration // time to earn one token
	max      int

	mu        sync.Mutex
	m         map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

func newBuckets(r Rate, max int) *buckets {
	b := &buckets{rate: r, max: max, m: map[string]*bucket{}}
	if r.N > 0 {
		b.interval = r.Per / time.Duration(r.N)
		if b.interval <= 0 {
			b.interval = time.Nanosecond
		}
	}
	return b
}

// take takes a token from key's bucket. When there is none it says how long until there is.
func (b *buckets) take(key string, now time.Time) (time.Duration, bool) {
	if b.rate.N <= 0 {
		return 0, true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sweep(now, false)
	bk := b.m[key]
	if bk == nil {
		if len(b.m) >= b.max {
			b.evict(now)
		}
		bk = &bucket{tokens: float64(b.rate.N), last: now}
		b.m[key] = bk
	}
	b.refill(bk, now)
	if bk.tokens >= 1 {
		bk.tokens--
		return 0, true
	}
	return time.Duration((1 - bk.tokens) * float64(b.interval)), false
}

func (b *buckets) refill(bk *bucket, now time.Time) {
	if elapsed := now.Sub(bk.last); elapsed > 0 {
		bk.tokens = min(float64(b.rate.N), bk.tokens+float64(elapsed)/float64(b.interval))
	}
	bk.last = now
}

// sweep drops the buckets that have filled up again: they are the same as new ones. It runs
// at most once per limiterSweepInterval unless forced.
func (b *buckets) sweep(now time.Time, force bool) {
	if !force && now.Sub(b.lastSweep) < limiterSweepInterval {
		return
	}
	b.lastSweep = now
	for k, bk := range b.m {
		b.refill(bk, now)
		if bk.tokens >= float64(b.rate.N) {
			delete(b.m, k)
		}
	}
}

// evict makes room in a full table: idle buckets go first, then arbitrary ones (each one
// dropped gives its key a full bucket, which is the price of bounded memory).
func (b *buckets) evict(now time.Time) {
	b.sweep(now, true)
	for k := range b.m {
		if len(b.m) < b.max-b.max/8 {
			break
		}
		delete(b.m, k)
	}
}

// lockouts counts password failures per account.
type lockouts struct {
	threshold int
	duration  time.Duration
	max       int

	mu        sync.Mutex
	m         map[string]*lockState
	lastSweep time.Time
}

type lockState struct {
	failures int       // failures in a row since the last success or lock
	pending  int       // checks under way
	locks    int       // locks since the last success, for the doubling
	until    time.Time // locked until
	last     time.Time // last failure
}

// Outcomes of a password check, for lockouts.end.
const (
	outcomeOther = iota
	outcomeSuccess
	outcomeFailure
)

// begin reserves a password check for the account. It refuses while the account is locked,
// and while the checks under way could, by all failing, reach the threshold.
func (l *lockouts) begin(account string, now time.Time) (time.Duration, bool) {
	if l.threshold <= 0 {
		return 0, true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now, false)
	st := l.m[account]
	if st == nil {
		if len(l.m) >= l.max {
			l.evict(now)
		}
		st = &lockState{}
		l.m[account] = st
	}
	if now.Before(st.until) {
		return st.until.Sub(now), false
	}
	if st.failures+st.pending >= l.threshold {
		return time.Second, false
	}
	st.pending++
	return 0, true
}

// end records the outcome of a check that begin let through, and reports whether it locked
// the account, and until when.
func (l *lockouts) end(account string, outcome int, now time.Time) (time.Time, bool) {
	if l.threshold <= 0 {
		return time.Time{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.m[account]
	if st == nil {
		return time.Time{}, false // evicted while the check ran
	}
	st.pending = max(0, st.pending-1)
	switch outcome {
	case outcomeSuccess:
		st.failures, st.locks = 0, 0
	case outcomeFailure:
		if now.Before(st.until) {
			break // counted already: the lock began while this check ran
		}
		st.failures++
		st.last = now
		if st.failures >= l.threshold {
			st.until = now.Add(l.duration << min(st.locks, maxLockoutDoublings))
			st.failures = 0
			st.locks++
			return st.until, true
		}
	}
	if l.idle(st, now) {
		delete(l.m, account)
	}
	return time.Time{}, false
}

// idle reports whether a state holds nothing a new one would not.
func (l *lockouts) idle(st *lockState, now time.Time) bool {
	return st.pending == 0 && !now.Before(st.until) &&
		((st.failures == 0 && st.locks == 0) || now.Sub(st.last) > lockoutMemory)
}

func (l *lockouts) sweep(now time.Time, force bool) {
	if !force && now.Sub(l.lastSweep) < limiterSweepInterval {
		return
	}
	l.lastSweep = now
	for k, st := range l.m {
		if l.idle(st, now) {
			delete(l.m, k)
		}
	}
}

// evict makes room in a full table: idle states go first, then unlocked ones, then any.
func (l *lockouts) evict(now time.Time) {
	l.sweep(now, true)
	target := l.max - l.max/8
	for k, st := range l.m {
		if len(l.m) < target {
			return
		}
		if !now.Before(st.until) {
			delete(l.m, k)
		}
	}
	for k := range l.m {
		if len(l.m) < target {
			return
		}
		delete(l.m, k)
	}
}
