package ui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Browser sessions. The cookie holds only an opaque random id; the refresh token it stands
// for stays in this map, so no token ever reaches the browser and page JavaScript could not
// read one even if it tried. The map is per process: behind a load balancer, send /console/
// and /app/*/account/ to one node or use sticky sessions. A restart signs everyone out.
const (
	consoleCookie = "latchkey_console"
	accountCookie = "latchkey_account"

	consoleArea = "console"

	sessionIdle     = 2 * time.Hour  // a session unused this long ends
	sessionLifetime = 12 * time.Hour // and none lasts longer than this
	maxSessions     = 10000          // past this, the least recently used session ends
)

// session is a signed-in browser: an admin in the console or a user on an app's account page.
type session struct {
	area    string // consoleArea, or "app:" + the client app id
	email   string // shown in the page header
	refresh string // the admin's or user's refresh token; never sent to the browser

	access    string // the admin's current access token, minted from refresh
	accessExp time.Time

	created, seen time.Time
	flash         *flash
}

// flash is a message for the next page a browser sees, once.
type flash struct {
	Message string
	Error   bool
	// Secret is a key value just created, shown on the next page and then forgotten.
	Secret *secret
}

type secret struct {
	Name, Value string
	Rotated     bool // a new value of an existing key, rather than a new key
}

// sessionStore keeps sessions in memory; ended sessions are handed to end, outside the lock,
// so that their refresh tokens are revoked too.
type sessionStore struct {
	now func() time.Time
	end func(*session)

	mu sync.Mutex
	m  map[string]*session
}

func newSessionStore(now func() time.Time) *sessionStore {
	return &sessionStore{now: now, end: func(*session) {}, m: map[string]*session{}}
}

func (st *sessionStore) expired(s *session, now time.Time) bool {
	return now.Sub(s.seen) > sessionIdle || now.Sub(s.created) > sessionLifetime
}

// get returns the live session with the id in the area, or nil.
func (st *sessionStore) get(id, area string) *session {
	now := st.now()
	st.mu.Lock()
	s := st.m[id]
	if s != nil && st.expired(s, now) {
		delete(st.m, id)
		st.mu.Unlock()
		st.end(s)
		return nil
	}
	if s != nil && s.area == area {
		s.seen = now
	} else {
		s = nil
	}
	st.mu.Unlock()
	return s
}

// create starts a session and returns its id, ending expired sessions and, when the store
// is full, the least recently used one.
func (st *sessionStore) create(area, email, refresh string) string {
	now := st.now()
	id := newSessionID()
	var ended []*session
	st.mu.Lock()
	for k, s := range st.m {
		if st.expired(s, now) {
			delete(st.m, k)
			ended = append(ended, s)
		}
	}
	if len(st.m) >= maxSessions {
		var oldest string
		for k, s := range st.m {
			if oldest == "" || s.seen.Before(st.m[oldest].seen) {
				oldest = k
			}
		}
		ended = append(ended, st.m[oldest])
		delete(st.m, oldest)
	}
	st.m[id] = &session{area: area, email: email, refresh: refresh, created: now, seen: now}
	st.mu.Unlock()
	for _, s := range ended {
		st.end(s)
	}
	return id
}

// remove ends a session and returns it, or nil if there was none.
func (st *sessionStore) remove(id string) *session {
	st.mu.Lock()
	defer st.mu.Unlock()
	s := st.m[id]
	delete(st.m, id)
	return s
}

func (st *sessionStore) setFlash(s *session, f *flash) {
	st.mu.Lock()
	s.flash = f
	st.mu.Unlock()
}

// takeFlash returns the session's flash and forgets it.
func (st *sessionStore) takeFlash(s *session) *flash {
	if s == nil {
		return nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	f := s.flash
	s.flash = nil
	return f
}

func (st *sessionStore) accessToken(s *session) (string, time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return s.access, s.accessExp
}

func (st *sessionStore) setAccessToken(s *session, token string, exp time.Time) {
	st.mu.Lock()
	s.access, s.accessExp = token, exp
	st.mu.Unlock()
}

func newSessionID() string { return base64.RawURLEncoding.EncodeToString(randomBytes(32)) }

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails; crypto/rand crashes the program rather than return an error
	return b
}

// sessionIDLen is the length of newSessionID's answers; other cookie values are ignored.
var sessionIDLen = len(newSessionID())

// area returns the session area and cookie of a path, with the cookie's path.
func area(p string) (area, cookie, cookiePath string) {
	if app, ok := accountApp(p); ok {
		return "app:" + app, accountCookie, accountURL(app)
	}
	return consoleArea, consoleCookie, consolePath + "/"
}

// sessionID returns the browser's session id for the request's area, or "".
func sessionID(r *http.Request) string {
	_, name, _ := area(r.URL.Path)
	c, err := r.Cookie(name)
	if err != nil || len(c.Value) != sessionIDLen {
		return ""
	}
	return c.Value
}

// ensureSessionID returns the browser's session id, giving it a new one if it has none, so
// that forms shown before sign-in carry a CSRF token too.
func (h *Handler) ensureSessionID(w http.ResponseWriter, r *http.Request) string {
	if id := sessionID(r); id != "" {
		return id
	}
	id := newSessionID()
	h.setSessionCookie(w, r, id)
	return id
}

// setSessionCookie sets the area's cookie. SameSite=Lax rather than Strict: with Strict, a
// link to the console from another site would arrive without the cookie, and the sign-in
// page would replace a live session's id. Every POST is checked by its CSRF token anyway.
func (h *Handler) setSessionCookie(w http.ResponseWriter, r *http.Request, id string) {
	_, name, path := area(r.URL.Path)
	c := &http.Cookie{
		Name: name, Value: id, Path: path,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: h.secure || r.TLS != nil,
	}
	if id == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// csrfToken is the synchronizer token of a session id: an HMAC under a key of this process,
// so that it needs no storage and cannot be made without the cookie, which pages on other
// sites cannot read.
func (h *Handler) csrfToken(r *http.Request, id string) string {
	a, _, _ := area(r.URL.Path)
	m := hmac.New(sha256.New, h.csrfKey)
	m.Write([]byte(a + "\x00" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkPost reports whether a POST comes from one of these pages: its Origin, when the
// browser sends one, is this host, and its form carries the CSRF token of the browser's
// session cookie.
func (h *Handler) checkPost(r *http.Request) bool {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || !strings.EqualFold(u.Host, r.Host) {
			return false
		}
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return false
	}
	id := sessionID(r)
	if id == "" || r.ParseForm() != nil {
		return false
	}
	return hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(h.csrfToken(r, id)))
}
