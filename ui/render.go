package ui

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

//go:embed templates/*.html
var templatesFS embed.FS

//go:embed static
var staticFiles embed.FS

const staticPath = consolePath + "/static/"

func staticFS() fs.FS {
	sub, err := fs.Sub(staticFiles, "static")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

// page is one parsed page: the layout with the page's own "content".
type page struct{ t *template.Template }

var pageNames = []string{
	"error", "confirm", "sign_in", "apps", "app_settings", "auth_providers", "server_keys", "users", "user", "audit",
	"account", "account_sign_in", "home", "forgot",
}

func parsePages() map[string]*page {
	pages := map[string]*page{}
	for _, name := range pageNames {
		t := template.Must(template.New(name).Funcs(funcs).ParseFS(templatesFS, "templates/layout.html", "templates/"+name+".html"))
		pages[name] = &page{t}
	}
	return pages
}

var funcs = template.FuncMap{
	"when": when,
	"whenOr": func(t *time.Time, none string) template.HTML {
		if t == nil {
			return template.HTML(template.HTMLEscapeString(none))
		}
		return when(*t)
	},
	"join": strings.Join,
	// visible writes out the hidden runes (bidi controls and the like) of stored text that a
	// caller chose, an email or an audit detail, so that it cannot show as something else.
	"visible": latchkey.Visible,
	"list":    func(s ...string) []string { return s },
	// short abbreviates a 24-hex id; the page keeps the whole id in a title or a link.
	"short": func(id string) string {
		if len(id) > 10 {
			return id[:8] + "…"
		}
		return id
	},
	// duration writes a length of time as the CLI does: 60d, 12h, 30m.
	"duration": latchkey.FormatDuration,
	// secondsAs writes a number of seconds typed in a form as a duration, or "" if it is none.
	"secondsAs": func(s string) string {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 || n >= 1<<32 {
			return ""
		}
		return latchkey.FormatDuration(time.Duration(n) * time.Second)
	},
	"detail":       auditDetail,
	"identityData": identityData,
	"providers": func(u *latchkey.User) []string {
		var ps []string
		for _, id := range u.Identities {
			ps = append(ps, id.ProviderType)
		}
		return ps
	},
}

// identityData writes what an external provider said of a user as name: value lines, by
// name; a value that is not text is written as JSON.
func identityData(data map[string]any) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(data)) {
		v, ok := data[k].(string)
		if !ok {
			b, err := json.Marshal(data[k])
			if err != nil {
				continue
			}
			v = string(b)
		}
		out = append(out, latchkey.Visible(k)+": "+latchkey.Visible(v))
	}
	return out
}

// when writes a time in UTC to the minute, as a <time> whose date and time of day each stay
// on one line when a narrow column wraps it.
func when(t time.Time) template.HTML {
	t = t.UTC()
	return template.HTML(`<time datetime="` + t.Format(time.RFC3339) + `"><span>` + t.Format("2006-01-02") +
		`</span> <span>` + t.Format("15:04") + ` UTC</span></time>`)
}

// auditDetail writes one detail of an audit event as key=value; a number of seconds (a key
// ending in _s) becomes a duration, as the CLI writes it: grace_period=36h.
func auditDetail(k, v string) string {
	if name, ok := strings.CutSuffix(k, "_s"); ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && n < 1<<32 {
			return latchkey.Visible(name) + "=" + latchkey.FormatDuration(time.Duration(n)*time.Second)
		}
	}
	return latchkey.Visible(k) + "=" + latchkey.Visible(v)
}

func plural(n int64, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// pageData is what every page template gets.
type pageData struct {
	Title   string
	Console bool          // a console page, rather than an app's account page
	Nav     string        // the console section the page belongs to
	CSRF    string        // the token every form carries
	Who     string        // the signed-in admin's or user's email
	App     *latchkey.App // the app the page is about
	// Providers says the console has its sign-in providers page.
	Providers bool
	Flash     *flash
	Data      any
}

// render writes a page. The template runs into a buffer first, so a failing template
// answers a clean 500 rather than half a page.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, name string, d *pageData) {
	var buf bytes.Buffer
	if err := h.pages[name].t.ExecuteTemplate(&buf, "layout", d); err != nil {
		h.internal(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// renderError writes an error page.
func (h *Handler) renderError(w http.ResponseWriter, r *http.Request, status int, title, message string) {
	a, _, _ := area(r.URL.Path)
	home := consolePath + "/"
	if app, ok := accountApp(r.URL.Path); ok {
		home = accountURL(app)
	}
	d := &pageData{Title: title, Console: a == consoleArea, Data: errorData{Message: message, Home: home, RequestID: w.Header().Get("X-Request-Id")}}
	var buf bytes.Buffer
	if err := h.pages["error"].t.ExecuteTemplate(&buf, "layout", d); err != nil {
		h.logger.ErrorContext(r.Context(), "render error page", "err", err)
		http.Error(w, title, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

type errorData struct {
	Message   string
	Home      string
	RequestID string
}

// internal answers an unexpected error: logged with the request id, shown blandly.
func (h *Handler) internal(w http.ResponseWriter, r *http.Request, err error) {
	h.logInternal(w, r, err)
	h.renderError(w, r, http.StatusInternalServerError, "Something went wrong",
		"The server could not do this. If it happens again, give your administrator the request id below.")
}

// logInternal logs an unexpected error with the request id, which the page shows.
func (h *Handler) logInternal(w http.ResponseWriter, r *http.Request, err error) {
	h.logger.ErrorContext(r.Context(), "web console", "err", err, "request_id", w.Header().Get("X-Request-Id"), "path", r.URL.Path)
}

// fail answers a service error as a page, with the status latchkey.Status gives its code (as
// the API answers it): an ended session goes back to its sign-in page, an internal error is
// logged and shown blandly, and any other error shows its message, which is meant for the
// caller.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := latchkey.ErrorCode(err)
	if code == latchkey.EUnauthenticated {
		if app, ok := accountApp(r.URL.Path); ok {
			seeOther(w, r, accountURL(app)+"?ended=1")
		} else {
			seeOther(w, r, consolePath+"/sign-in?ended=1")
		}
		return
	}
	switch status := latchkey.Status(code); status {
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		h.renderError(w, r, status, "Not found", latchkey.ErrorMessage(err))
	case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
		h.renderError(w, r, status, "Cannot do that", latchkey.ErrorMessage(err))
	case http.StatusUnauthorized, http.StatusForbidden:
		h.renderError(w, r, status, "Not allowed", latchkey.ErrorMessage(err))
	case http.StatusTooManyRequests:
		h.renderError(w, r, status, "Too many attempts", tooManyAttempts(w, err))
	case http.StatusServiceUnavailable:
		h.logger.WarnContext(r.Context(), "web console", "err", err, "request_id", w.Header().Get("X-Request-Id"), "path", r.URL.Path)
		h.renderError(w, r, status, "Try again shortly", latchkey.ErrorMessage(err))
	default:
		h.internal(w, r, err)
	}
}

// confirmData is a confirmation page: a question, and a form that does it.
type confirmData struct {
	Question string
	Detail   string
	Action   string // the URL the form posts to
	Button   string
	Cancel   string // where "Cancel" goes back to
	Grace    any    // the grace periods a rotation offers, or nil
}
