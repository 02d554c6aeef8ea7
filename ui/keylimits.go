package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/latchkey/latchkey"
)

// A user key's limits (rate limit, remaining uses and their refill, meta), which the console
// sets through VerifyService and both pages show, and its usage chart (usage.go).

// keyView is a key as a page shows it: with its usage chart and, on the console, the form
// that sets its limits.
type keyView struct {
	*latchkey.APIKey
	Chart template.HTML
	Form  limitsForm // what the form holds
	Was   limitsForm // what the page showed, sent back with the form
	Error string     // why the form was refused
}

// keyViews makes the view of each key, with the chart of its last usageDays days of the
// usage that find returns for the key's id.
func (h *Handler) keyViews(ctx context.Context, keys []*latchkey.APIKey,
	find func(ctx context.Context, keyID string, from, to time.Time) ([]latchkey.KeyUsage, error)) ([]keyView, error) {
	from, to := usageWindow(h.now(), usageDays)
	views := make([]keyView, 0, len(keys))
	for _, k := range keys {
		usage, err := find(ctx, k.ID, from, to)
		if err != nil {
			return nil, err
		}
		form := newLimitsForm(k)
		views = append(views, keyView{
			APIKey: k, Form: form, Was: form,
			Chart: usageChart(k.ID, "Verify calls of "+k.Name+", last "+strconv.Itoa(usageDays)+" days (UTC)", sumDays(usage, from, usageDays)),
		})
	}
	return views, nil
}

// MetaText is the key's meta for reading, or "" when it has none.
func (v keyView) MetaText() string {
	if len(v.Meta) == 0 || string(v.Meta) == "null" {
		return ""
	}
	return metaText(v.Meta)
}

// limitsForm is a key's limits as the console's form shows and sends them: an empty field is
// a limit the key has not. The window is in seconds, as the console's other durations.
type limitsForm struct {
	RateLimit, Window, Remaining, RefillAmount, RefillInterval, Meta string
}

func newLimitsForm(k *latchkey.APIKey) limitsForm {
	var f limitsForm
	if rl := k.RateLimit; rl != nil {
		f.RateLimit = strconv.FormatInt(rl.Limit, 10)
		f.Window = strconv.FormatFloat(float64(rl.Duration.Milliseconds())/1000, 'f', -1, 64)
	}
	if k.Remaining != nil {
		f.Remaining = strconv.FormatInt(*k.Remaining, 10)
	}
	if rf := k.Refill; rf != nil {
		f.RefillAmount, f.RefillInterval = strconv.FormatInt(rf.Amount, 10), rf.Interval
	}
	f.Meta = keyView{APIKey: k}.MetaText()
	return f
}

// readLimitsForm reads the form's fields whose names start with prefix: "" for what the
// admin typed, "was_" for what the page showed.
func readLimitsForm(v url.Values, prefix string) limitsForm {
	get := func(name string) string { return strings.TrimSpace(v.Get(prefix + name)) }
	return limitsForm{
		RateLimit: get("ratelimit"), Window: get("window"), Remaining: get("remaining"),
		RefillAmount: get("refill_amount"), RefillInterval: get("refill_interval"),
		// A browser sends a textarea's lines with CRLF.
		Meta: strings.ReplaceAll(get("meta"), "\r\n", "\n"),
	}
}

// limits turns the form into a change of the limits that differ from was, the ones the page
// showed: a limit left as shown stays as it is, so that saving the form does not set the
// remaining uses back to what they were when the page loaded. It says which field is
// unreadable; the service checks the bounds.
func (f limitsForm) limits(was limitsForm) (latchkey.APIKeyLimits, string) {
	var l latchkey.APIKeyLimits
	if f.RateLimit != was.RateLimit || f.Window != was.Window {
		var rl *latchkey.KeyRateLimit
		switch {
		case f.RateLimit == "" && f.Window == "":
		case f.RateLimit == "" || f.Window == "":
			return l, "Give the rate limit both a number of uses and a window, or neither to remove it."
		default:
			n, err := strconv.ParseInt(f.RateLimit, 10, 64)
			if err != nil {
				return l, "The rate limit must be a whole number of uses."
			}
			s, err := strconv.ParseFloat(f.Window, 64)
			ms := s * 1000 // NaN fails both comparisons
			if err != nil || !(ms >= float64(latchkey.MinRateLimitDuration.Milliseconds()) && ms <= float64(latchkey.MaxRateLimitDuration.Milliseconds())) {
				// The service's message names duration_ms, which the form does not show.
				return l, "The rate limit's window must be from " + seconds(latchkey.MinRateLimitDuration) +
					" to " + seconds(latchkey.MaxRateLimitDuration) + " seconds (a day)."
			}
			rl = &latchkey.KeyRateLimit{Limit: n, Duration: time.Duration(math.Round(ms)) * time.Millisecond}
		}
		l.RateLimit = &rl
	}
	if f.Remaining != was.Remaining {
		var rem *int64
		if f.Remaining != "" {
			n, err := strconv.ParseInt(f.Remaining, 10, 64)
			if err != nil {
				return l, "Remaining uses must be a whole number."
			}
			rem = &n
		}
		l.Remaining = &rem
	}
	if f.RefillAmount != was.RefillAmount || f.RefillAmount != "" && f.RefillInterval != was.RefillInterval {
		var rf *latchkey.KeyRefill
		if f.RefillAmount != "" {
			n, err := strconv.ParseInt(f.RefillAmount, 10, 64)
			if err != nil {
				return l, "The refill must be a whole number of uses."
			}
			rf = &latchkey.KeyRefill{Amount: n, Interval: f.RefillInterval}
		}
		l.Refill = &rf
	}
	if !sameJSON(f.Meta, was.Meta) {
		meta := json.RawMessage(nil)
		if f.Meta != "" {
			if !json.Valid([]byte(f.Meta)) {
				return l, "Meta must be a JSON object, like {\"plan\": \"pro\"}."
			}
			meta = json.RawMessage(f.Meta)
		}
		l.Meta = &meta
	}
	return l, ""
}

// sameJSON reports whether two texts are the same, or the same JSON written otherwise (with
// other spaces, or escapes for the same runes).
func sameJSON(a, b string) bool {
	if a == b {
		return true
	}
	va, oka := decodeJSON(a)
	vb, okb := decodeJSON(b)
	return oka && okb && reflect.DeepEqual(va, vb)
}

func decodeJSON(s string) (any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v, rest any
	if dec.Decode(&v) != nil || dec.Decode(&rest) != io.EOF {
		return nil, false
	}
	return v, true
}

func seconds(d time.Duration) string { return strconv.FormatInt(int64(d/time.Second), 10) }

// noChange reports whether limits changes nothing.
func noChange(l latchkey.APIKeyLimits) bool {
	return l.RateLimit == nil && l.Remaining == nil && l.Refill == nil && l.Meta == nil
}

// metaText writes a key's meta indented, for reading and editing, with its hidden runes
// (latchkey.Hidden, which can only stand inside its strings) written as JSON escapes, so that
// the text shows what it holds and is still the same JSON.
func metaText(meta json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, meta, "", "  "); err != nil {
		return latchkey.Visible(string(meta))
	}
	var out strings.Builder
	for _, r := range b.String() {
		switch {
		case r == '\n' || !latchkey.Hidden(r):
			out.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.String()
}

// handleSetUserKeyLimits sets a user key's limits from the console's form; a refused form
// comes back with the message next to it.
func (h *Handler) handleSetUserKeyLimits(w http.ResponseWriter, r *http.Request) {
	app, k, ok := h.pathUserKey(w, r)
	if !ok {
		return
	}
	user := r.PathValue("user")
	form, was := readLimitsForm(r.PostForm, ""), readLimitsForm(r.PostForm, "was_")
	limits, msg := form.limits(was)
	if msg == "" && noChange(limits) {
		h.done(w, r, userURL(app.ClientAppID, user), "Nothing to change in the limits of key "+k.Name+".")
		return
	}
	if msg == "" {
		_, err := h.verify.SetUserAPIKeyLimits(r.Context(), app.ID, user, k.ID, limits)
		var answered bool
		if msg, answered = h.saved(w, r, err, userURL(app.ClientAppID, user), "Limits of key "+k.Name+" saved."); answered {
			return
		}
	}
	h.renderUser(w, r, http.StatusUnprocessableEntity, app, user, &keyView{APIKey: k, Form: form, Was: was, Error: msg})
}

// refillIntervals are the refill choices the form offers.
var refillIntervals = []string{latchkey.RefillDaily, latchkey.RefillMonthly}
