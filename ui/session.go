package ui

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey"
)

// Browser sessions. The cookie holds only an opaque random token; the store keeps its
// SHA-256 and the admin's or user's session that the sign-in opened (latchkey.WebSession),
// so that every node serves every page and no token ever reaches the browser, where page
// JavaScript could not read one even if it tried. The session the sign-in opened is checked
// on every page: ending it (signing out, an admin removed, a user disabled, a revocation)
// ends the browser's session on every node at once. Its lifetimes are the service's:
// latchkey.WebSessionIdle unused, latchkey.WebSessionLifetime in all.
const (
	consoleCookie = "latchkey_console"
	accountCookie = "latchkey_account"

	consoleArea = "console"
)

// flash is a message for the next page a browser sees, once. It travels through the store
// sealed with a key that only the browser's cookie gives (sealFlash), so that a key value
// it holds is never readable there.
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

// current is the signed-in browser of a request.
type current struct {
	id string // the cookie's token
	ws *latchkey.WebSession
}

// webSession returns the caller of the browser session id for the console (app nil) or an
// app's page. Errors: ENotFound when there is none; EUnauthenticated when it has just ended.
func (h *Handler) webSession(ctx context.Context, app *latchkey.App, id string) (*latchkey.WebSessionAuth, error) {
	if id == "" {
		return nil, latchkey.Errorf(latchkey.ENotFound, "no web session")
	}
	return h.webSessions.AuthenticateWebSession(ctx, app, id)
}

// signedOut reports whether err only says that there is no live browser session.
func signedOut(err error) bool {
	code := latchkey.ErrorCode(err)
	return code == latchkey.ENotFound || code == latchkey.EUnauthenticated
}

// endPrevious ends the browser's session of the area, if it has a live one, before a new
// sign-in replaces its id.
func (h *Handler) endPrevious(r *http.Request, app *latchkey.App) {
	ctx := r.Context()
	id := sessionID(r)
	wa, err := h.webSession(ctx, app, id)
	if err != nil {
		return
	}
	if wa.Admin != nil {
		ctx = latchkey.NewContextWithAdmin(ctx, wa.Admin)
	} else {
		ctx = latchkey.NewContextWithAuth(ctx, wa.User)
	}
	if err := h.webSessions.EndWebSession(ctx, id); err != nil && !signedOut(err) {
		h.logger.WarnContext(ctx, "end web session", "err", err)
	}
}

// setFlash keeps a message for the browser's next page.
func (h *Handler) setFlash(ctx context.Context, c *current, f *flash) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	return h.webSessions.SetWebSessionFlash(ctx, c.id, sealFlash(c.id, b))
}

// takeFlash returns the browser's message for this page, if it has one, and forgets it. A
// page without one costs no store call.
func (h *Handler) takeFlash(ctx context.Context, c *current) *flash {
	if c == nil || len(c.ws.Flash) == 0 {
		return nil
	}
	sealed, err := h.webSessions.TakeWebSessionFlash(ctx, c.id)
	if err != nil {
		h.logger.WarnContext(ctx, "take flash", "err", err)
		return nil
	}
	var f flash
	b, ok := openFlash(c.id, sealed)
	if !ok || json.Unmarshal(b, &f) != nil {
		return nil
	}
	return &f
}

// flashKey is the AES-256 key that seals a session's flash: an HMAC of a label under the
// cookie's token, which the store never holds.
func flashKey(id string) cipher.AEAD {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("latchkey web session flash"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		panic(err) // a 32-byte key always makes a cipher
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

func sealFlash(id string, b []byte) []byte {
	aead := flashKey(id)
	nonce := randomBytes(aead.NonceSize())
	return aead.Seal(nonce, nonce, b, nil)
}

func openFlash(id string, sealed []byte) ([]byte, bool) {
	aead := flashKey(id)
	if len(sealed) < aead.NonceSize() {
		return nil, false
	}
	b, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], nil)
	return b, err == nil
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

// csrfToken is the synchronizer token of a session id: an HMAC of the area under the cookie's
// token itself. It needs no storage and no key of its own, every node makes the same one,
// and it cannot be made without the cookie, which pages on other sites cannot read and
// the store does not hold.
func (h *Handler) csrfToken(r *http.Request, id string) string {
	a, _, _ := area(r.URL.Path)
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("latchkey csrf\x00" + a))
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
