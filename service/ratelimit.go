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
// registration, confirmation, password reset and admin login. The per-account limits and
// the lockouts are kept in the store, so that every node over one database shares them and
// a restart keeps them; the per-address buckets are kept in the memory of each node.
type Limits struct {
	// PerIP is the bucket that every credential request from one client address draws
	// from, on each node. IPv6 addresses count per /64, the block one host usually holds.
	PerIP Rate
	// PerAccount is the bucket of one account, shared by every node: an email in an app
	// (password login, registration, confirmation and reset messages), an API key value (key
	// login), a confirmation or reset token (confirm, reset), an admin's email (admin login).
	PerAccount Rate
	// LockoutFailures password failures in a row lock an account (an email in an app, or an
	// admin's email) for LockoutDuration; each further lock before a successful login lasts
	// twice as long, up to 16 times LockoutDuration. Zero never locks.
	LockoutFailures int
	LockoutDuration time.Duration
	// MaxEntries bounds how many addresses each node's table of address buckets, and its
	// table of refusals it already knows of, remember (zero: 100 000); entries that have
	// nothing left to remember are dropped first.
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
	// pendingLifetime is how long a password check's reservation holds when it is not
	// ended: a node that dies while checking leaves its reservations, and they must not
	// keep the account's checks from running for ever. It is far longer than a check takes
	// (the request's write timeout ends it first).
	pendingLifetime = time.Minute
	// endCheckTimeout bounds the recording of a check's outcome, which outlives its request.
	endCheckTimeout = 10 * time.Second
	// busyWait is the wait of a check refused because the checks under way could lock the
	// account.
	busyWait = time.Second
)

// limiter applies Limits.
type limiter struct {
	ips      *buckets
	account  Rate
	interval time.Duration // time for an account's bucket to earn one token
	// threshold and duration are Limits' LockoutFailures and LockoutDuration.
	threshold int
	duration  time.Duration
	// refused remembers, per node, the refusals of the store that are sure to hold until
	// a time: an account's bucket empty until then, or an account locked. A flood on one
	// account costs the store nothing once its node knows.
	refused *refusals
}

func newLimiter(l Limits) *limiter {
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultLimits().MaxEntries
	}
	if l.LockoutDuration <= 0 {
		l.LockoutDuration = DefaultLimits().LockoutDuration
	}
	lim := &limiter{
		ips:       newBuckets(l.PerIP, l.MaxEntries),
		account:   l.PerAccount,
		threshold: l.LockoutFailures,
		duration:  l.LockoutDuration,
		refused:   &refusals{max: l.MaxEntries, m: map[string]time.Time{}},
	}
	if l.PerAccount.N > 0 {
		lim.interval = max(l.PerAccount.Per/time.Duration(l.PerAccount.N), time.Nanosecond)
	}
	return lim
}

// allow takes a token from the bucket of the request's client address (when the request came
// over the network) and from the account's (when there is one).
func (s *core) allow(ctx context.Context, account string) error {
	now := s.now()
	if ip := latchkey.RequestMetaFromContext(ctx).IP; ip != "" {
		if wait, ok := s.limits.ips.take(ipKey(ip), now); !ok {
			s.logger.DebugContext(ctx, "rate limited", "limit", "ip", "ip", ip)
			return latchkey.TooManyRequests(wait)
		}
	}
	if account == "" || s.limits.account.N <= 0 {
		return nil
	}
	// An empty bucket stays empty until the time the store gave: its row only ever moves
	// later, so remembering the refusal is exact.
	wait, ok := s.limits.refused.wait("rate\x00"+account, now)
	if !ok {
		var err error
		if wait, err = s.store.TakeRateToken(ctx, []byte(account), now, s.limits.interval, s.limits.account.N); err != nil {
			return err
		}
		if wait > 0 {
			s.limits.refused.add("rate\x00"+account, now.Add(wait), now)
		}
	}
	if wait > 0 {
		s.logger.DebugContext(ctx, "rate limited", "limit", "account")
		return latchkey.TooManyRequests(wait)
	}
	return nil
}

// limitLogIn applies the limits to a login. For a password it also reserves one check
// against the account's lockout, before the password is verified, so that parallel requests
// cannot run more checks than the lockout allows. done records the login's outcome and must
// be called once.
func (s *core) limitLogIn(ctx context.Context, app *latchkey.App, creds latchkey.Credentials) (done func(error), err error) {
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
func (s *core) limitAdminLogIn(ctx context.Context, email string) (done func(error), err error) {
	account := accountKey("admin", email)
	if err := s.allow(ctx, account); err != nil {
		return nil, err
	}
	return s.beginPasswordCheck(ctx, nil, account, email)
}

// beginPasswordCheck reserves a password check against the account's lockout, in the store:
// it refuses while the account is locked, and while the checks under way on every node
// could, by all failing, reach the threshold. done counts a wrong password
// (EInvalidPassword, which unknown emails answer too, so that they lock alike) as a failure
// and a login as a success; any other outcome leaves the streak as it is. Either way it
// gives the reservation back.
func (s *core) beginPasswordCheck(ctx context.Context, app *latchkey.App, account, email string) (done func(error), err error) {
	l := s.limits
	if l.threshold <= 0 {
		return func(error) {}, nil
	}
	now := s.now()
	// A lock is never lifted early, so a node that has seen it may refuse on its own.
	if wait, ok := l.refused.wait("lock\x00"+account, now); ok {
		s.logger.DebugContext(ctx, "rate limited", "limit", "lockout")
		return nil, latchkey.TooManyRequests(wait)
	}
	var wait time.Duration
	var lockedUntil time.Time
	err = s.store.UpdateLockout(ctx, []byte(account), func(st *latchkey.Lockout) bool {
		wait, lockedUntil = 0, time.Time{}
		forgetLockout(st, now)
		switch {
		case now.Before(st.LockedUntil):
			wait, lockedUntil = st.LockedUntil.Sub(now), st.LockedUntil
			return false
		case st.Failures+st.Pending >= l.threshold:
			wait = busyWait
			return false
		}
		st.Pending++
		st.PendingUntil = now.Add(pendingLifetime)
		return true
	})
	if err != nil {
		return nil, err
	}
	if !lockedUntil.IsZero() {
		l.refused.add("lock\x00"+account, lockedUntil, now)
	}
	if wait > 0 {
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
		// Recorded even when the client has gone: a reservation left behind would hold
		// the account's checks for pendingLifetime, and a failure must count.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), endCheckTimeout)
		defer cancel()
		until, err := s.endPasswordCheck(ctx, account, outcome)
		if err != nil {
			s.logger.ErrorContext(ctx, "recording a password check", "err", err)
			return
		}
		if !until.IsZero() {
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

// Outcomes of a password check, for endPasswordCheck.
const (
	outcomeOther = iota
	outcomeSuccess
	outcomeFailure
)

// endPasswordCheck gives back a reservation of beginPasswordCheck and records the check's
// outcome. It reports the end of the lock when this failure locked the account.
func (s *core) endPasswordCheck(ctx context.Context, account string, outcome int) (time.Time, error) {
	l := s.limits
	now := s.now()
	var locked time.Time
	err := s.store.UpdateLockout(ctx, []byte(account), func(st *latchkey.Lockout) bool {
		locked = time.Time{}
		forgetLockout(st, now)
		if st.Pending = max(0, st.Pending-1); st.Pending == 0 {
			st.PendingUntil = time.Time{}
		}
		switch outcome {
		case outcomeSuccess:
			st.Failures, st.Locks, st.LastFailure = 0, 0, time.Time{}
		case outcomeFailure:
			if now.Before(st.LockedUntil) {
				break // counted already: the lock began while this check ran
			}
			st.Failures++
			st.LastFailure = now
			if st.Failures >= l.threshold {
				st.LockedUntil = now.Add(l.duration << min(st.Locks, maxLockoutDoublings))
				st.Failures = 0
				st.Locks++
				locked = st.LockedUntil
			}
		}
		return true
	})
	if err != nil {
		return time.Time{}, err
	}
	if !locked.IsZero() {
		l.refused.add("lock\x00"+account, locked, now)
	}
	return locked, nil
}

// forgetLockout drops from st what no longer counts at now: a lock that has ended,
// reservations given up as lost, and a streak a day old.
func forgetLockout(st *latchkey.Lockout, now time.Time) {
	if !now.Before(st.LockedUntil) {
		st.LockedUntil = time.Time{}
	}
	if !now.Before(st.PendingUntil) {
		st.Pending, st.PendingUntil = 0, time.Time{}
	}
	if st.LockedUntil.IsZero() && !st.LastFailure.IsZero() && now.Sub(st.LastFailure) > lockoutMemory {
		st.Failures, st.Locks, st.LastFailure = 0, 0, time.Time{}
	}
}

// DeleteIdleLimits deletes the per-account buckets and lockouts that hold nothing a new one
// would not, and returns how many went; `latchkey serve` calls it hourly.
func (s *Service) DeleteIdleLimits(ctx context.Context) (int64, error) {
	now := s.now()
	return s.store.DeleteIdleLimits(ctx, now, now.Add(-lockoutMemory))
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

// refusals remembers refusals that are sure to hold until a time, per node.
type refusals struct {
	max int

	mu        sync.Mutex
	m         map[string]time.Time
	lastSweep time.Time
}

// wait reports how long key stays refused, if it does.
func (r *refusals) wait(key string, now time.Time) (time.Duration, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := r.m[key]
	if !ok || !now.Before(until) {
		return 0, false
	}
	return until.Sub(now), true
}

// add remembers that key is refused until then.
func (r *refusals) add(key string, until, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sweep(now, false)
	if len(r.m) >= r.max {
		// Forgetting a refusal only means asking the store again.
		r.sweep(now, true)
		for k := range r.m {
			if len(r.m) < r.max-r.max/8 {
				break
			}
			delete(r.m, k)
		}
	}
	r.m[key] = until
}

// sweep drops the refusals that have ended. It runs at most once per limiterSweepInterval
// unless forced.
func (r *refusals) sweep(now time.Time, force bool) {
	if !force && now.Sub(r.lastSweep) < limiterSweepInterval {
		return
	}
	r.lastSweep = now
	for k, until := range r.m {
		if !now.Before(until) {
			delete(r.m, k)
		}
	}
}
