package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
)

// TestKeyLimitsAndUsageInBrowser: a key verified on two days shows, on the console's user
// page and on its owner's self-service page, a chart of its last 7 days with each day's
// numbers by outcome, and a key never verified says so; an admin sets a rate limit through
// the key's form (leaving the remaining uses that a verify took meanwhile as they are), has
// a window out of bounds refused next to the form, and removes the limit again; the owner
// sees the limits and meta but no form, in headless Chromium.
func TestKeyLimitsAndUsageInBrowser(t *testing.T) {
	srv := newConsoleServer(t)
	srv.Clock.Freeze()
	ctx := context.Background()
	admin, err := srv.Service.Admins.CreateAdmin(ctx, "ops@example.com", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	adminCtx := latchkey.NewContextWithAdmin(ctx, &latchkey.AdminAuth{Admin: admin, TokenType: latchkey.AdminAccessToken})
	userCtx := userContext(t, srv, userEmail, userPassword)
	ci, err := srv.Service.APIKeys.CreateAPIKey(userCtx, latchkey.APIKeyInput{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	idle, err := srv.Service.APIKeys.CreateAPIKey(userCtx, latchkey.APIKeyInput{Name: "idle"})
	if err != nil {
		t.Fatal(err)
	}
	verify := verifier(t, srv, adminCtx)
	setLimits := func(l latchkey.APIKeyLimits) {
		t.Helper()
		if _, err := srv.Service.Verify.SetUserAPIKeyLimits(adminCtx, srv.App.ID, ci.UserID, ci.ID, l); err != nil {
			t.Fatal(err)
		}
	}

	// Two days ago: 3 valid calls, and 1 of the key disabled (an "other").
	dayA := srv.Clock.Now().UTC().Format(time.DateOnly)
	verify(ci.Value, latchkey.VerifyValid, latchkey.VerifyValid, latchkey.VerifyValid)
	if err := srv.Service.APIKeys.DisableAPIKey(userCtx, ci.ID); err != nil {
		t.Fatal(err)
	}
	verify(ci.Value, latchkey.VerifyDisabled)
	if err := srv.Service.APIKeys.EnableAPIKey(userCtx, ci.ID); err != nil {
		t.Fatal(err)
	}
	// Today: 2 per minute let 2 of 3 calls through; then 1 remaining use lets 1 of 2.
	srv.Clock.Advance(48 * time.Hour)
	dayB := srv.Clock.Now().UTC().Format(time.DateOnly)
	rl := &latchkey.KeyRateLimit{Limit: 2, Duration: time.Minute}
	setLimits(latchkey.APIKeyLimits{RateLimit: &rl})
	verify(ci.Value, latchkey.VerifyValid, latchkey.VerifyValid, latchkey.VerifyRateLimited)
	one, none := int64(1), (*latchkey.KeyRateLimit)(nil)
	rem := &one
	setLimits(latchkey.APIKeyLimits{RateLimit: &none, Remaining: &rem})
	verify(ci.Value, latchkey.VerifyValid, latchkey.VerifyUsageExceeded)
	ten := int64(10)
	rem = &ten
	meta := json.RawMessage(`{"plan":"pro"}`)
	setLimits(latchkey.APIKeyLimits{Remaining: &rem, Meta: &meta})
	flushUsage(t, srv)

	// Each day's row of a key's table: the day, valid, rate limited, usage exceeded, other,
	// total.
	wantRows := map[string]string{dayA: dayA + " 3 0 0 1 4", dayB: dayB + " 3 1 1 0 5"}
	checkChart := func(p *page) {
		p.t.Helper()
		sel := "#key-" + ci.ID
		if !p.has(sel + " svg.usage-chart") {
			p.t.Fatal("no usage chart for the key ci")
		}
		p.step("see the bars", chromedp.WaitVisible(chromedp.CSS(sel+" g[data-day='"+dayB+"'] rect.valid")))
		for day, want := range wantRows {
			got := p.run("row of "+day, chromedp.Evaluate[string](`Array.from(document.querySelectorAll(`+
				jsString(sel+" tbody tr[data-day='"+day+"'] > *")+`)).map(c => c.textContent).join(' ')`))
			if got != want {
				p.t.Errorf("the table's row of %s = %q, want %q", day, got, want)
			}
		}
		title := p.run("bar title", chromedp.Evaluate[string](`document.querySelector(`+jsString(sel+" g[data-day='"+dayA+"'] > title")+`).textContent`))
		if want := dayA + ": 4 calls: 3 valid, 0 rate limited, 0 usage exceeded, 1 other"; title != want {
			p.t.Errorf("the bar's title = %q, want %q", title, want)
		}
		p.contains("#key-"+idle.ID+" .usage-empty", "No verify calls in the last 7 days.")
	}

	p := newPage(t, srv)
	p.open("/console/sign-in", 200)
	p.fill("#email", adminEmail)
	p.fill("#password", adminPassword)
	p.click("main button[type=submit]", 200)
	userPage := "/console/apps/" + srv.AppID + "/users/" + ci.UserID
	sel := "#key-" + ci.ID

	t.Run("ConsoleChart", func(t *testing.T) {
		p := p.with(t)
		p.open(userPage, 200)
		checkChart(p)
		if got := shownLimits(p, sel); got != "none | 10 | none | {\n  \"plan\": \"pro\"\n}" {
			t.Fatalf("limits shown = %q, want no rate limit, 10 remaining, no refill, the meta", got)
		}
		p.shot("console-key-usage")
	})

	stored := func(t *testing.T) *latchkey.APIKey {
		t.Helper()
		k, err := srv.Service.Users.FindUserAPIKey(adminCtx, srv.App.ID, ci.UserID, ci.ID)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}

	t.Run("SetLimit", func(t *testing.T) {
		p := p.with(t)
		p.open(userPage, 200)
		p.fill("#ratelimit-"+ci.ID, "100")
		p.fill("#window-"+ci.ID, "60")
		// A verify takes a use while the page is open: saving the rate limit keeps it taken.
		verify(ci.Value, latchkey.VerifyValid)
		p.click(sel+" form.limits button[type=submit]", 200)
		p.contains(".flash", "Limits of key ci saved.")
		if got := shownLimits(p, sel); got != "100 uses per 1m | 9 | none | {\n  \"plan\": \"pro\"\n}" {
			t.Fatalf("limits shown = %q, want 100 uses per 1m and the rest as it was", got)
		}
		k := stored(t)
		if k.RateLimit == nil || *k.RateLimit != (latchkey.KeyRateLimit{Limit: 100, Duration: time.Minute}) {
			t.Fatalf("rate limit stored = %+v, want 100 per minute", k.RateLimit)
		}
		if k.Remaining == nil || *k.Remaining != 9 {
			t.Fatalf("remaining uses after saving = %s, want the 9 the verify left", count(k.Remaining))
		}
	})

	t.Run("Refused", func(t *testing.T) {
		p := p.with(t)
		p.fill("#meta-"+ci.ID, `["not", "an object"]`)
		p.click(sel+" form.limits button[type=submit]", 422)
		if msg := p.text(sel + " .error"); !strings.Contains(strings.ToLower(msg), "meta") {
			t.Fatalf("error next to the form = %q, want it to name meta", msg)
		}
		if got := p.value("#meta-" + ci.ID); got != `["not", "an object"]` {
			t.Fatalf("meta after refusal = %q, want the typed value kept", got)
		}
		p.shot("console-key-limits-refused")
		if k := stored(t); !isPro(k.Meta) || k.RateLimit == nil || k.RateLimit.Limit != 100 {
			t.Fatalf("key after a refused form: meta %s, rate limit %+v; want both unchanged", k.Meta, k.RateLimit)
		}
	})

	t.Run("RemoveLimit", func(t *testing.T) {
		p := p.with(t)
		p.open(userPage, 200)
		p.fill("#ratelimit-"+ci.ID, "")
		p.fill("#window-"+ci.ID, "")
		p.click(sel+" form.limits button[type=submit]", 200)
		p.contains(".flash", "Limits of key ci saved.")
		if got := shownLimits(p, sel); got != "none | 9 | none | {\n  \"plan\": \"pro\"\n}" {
			t.Fatalf("limits shown = %q, want no rate limit, 9 remaining, no refill, the meta", got)
		}
		k := stored(t)
		if k.RateLimit != nil || k.Remaining == nil || *k.Remaining != 9 || !isPro(k.Meta) {
			t.Fatalf("key after removing the rate limit: rate limit %+v, remaining %s, meta %s; want none, 9, the meta",
				k.RateLimit, count(k.Remaining), k.Meta)
		}
	})

	t.Run("SelfService", func(t *testing.T) {
		p := p.with(t)
		wantRows[dayB] = dayB + " 4 1 1 0 6" // with the call made while the form was open
		account := "/app/" + srv.AppID + "/account/"
		p.open(account, 200)
		p.fill("#email", userEmail)
		p.fill("#password", userPassword)
		p.click("main button[type=submit]", 200)
		checkChart(p)
		if got := shownLimits(p, sel); got != "none | 9 | none | {\n  \"plan\": \"pro\"\n}" {
			t.Fatalf("limits shown = %q, want no rate limit, 9 remaining, no refill, the meta", got)
		}
		if p.has("input[name=ratelimit]") || p.has("form[action$='/limits']") {
			t.Fatal("the key's owner is offered a form to change its limits")
		}
		p.shot("account-key-usage")
	})
}

// verifier returns a function that verifies a key value once for each code given, as the
// app's backend does with a server key, and checks each answer's code.
func verifier(t *testing.T, srv *testserver.Server, adminCtx context.Context) func(value string, codes ...string) {
	t.Helper()
	sk, err := srv.Service.ServerKeys.CreateServerAPIKey(adminCtx, srv.App.ID, latchkey.APIKeyInput{Name: "backend"})
	if err != nil {
		t.Fatal(err)
	}
	auth, err := srv.Service.Verify.AuthenticateServerKey(context.Background(), srv.App, sk.Value)
	if err != nil {
		t.Fatal(err)
	}
	ctx := latchkey.NewContextWithAuth(context.Background(), auth)
	return func(value string, codes ...string) {
		t.Helper()
		for _, want := range codes {
			res, err := srv.Service.Verify.VerifyAPIKey(ctx, latchkey.VerifyRequest{Key: value, Cost: 1})
			if err != nil {
				t.Fatal(err)
			}
			if res.Code != want {
				t.Fatalf("verify = %s, want %s", res.Code, want)
			}
		}
	}
}

// TestUsagePagesStrict: the pages with usage charts keep the console's Content-Security-Policy,
// and their charts load nothing and run nothing: no script, no inline style, no image, font
// or stylesheet, no address but the SVG namespace's.
func TestUsagePagesStrict(t *testing.T) {
	srv := newConsoleServer(t)
	ctx := context.Background()
	admin, err := srv.Service.Admins.CreateAdmin(ctx, "ops@example.com", adminPassword)
	if err != nil {
		t.Fatal(err)
	}
	adminCtx := latchkey.NewContextWithAdmin(ctx, &latchkey.AdminAuth{Admin: admin, TokenType: latchkey.AdminAccessToken})
	k, err := srv.Service.APIKeys.CreateAPIKey(userContext(t, srv, userEmail, userPassword), latchkey.APIKeyInput{Name: "ci"})
	if err != nil {
		t.Fatal(err)
	}
	verifier(t, srv, adminCtx)(k.Value, latchkey.VerifyValid)
	flushUsage(t, srv)

	console := newClient(t, srv.URL, nil)
	signInAdmin(t, console)
	account := newClient(t, srv.URL, nil)
	signInUser(t, account, srv.AppID)
	for name, a := range map[string]answer{
		"Console": console.get("/console/apps/" + srv.AppID + "/users/" + k.UserID),
		"Account": account.get("/app/" + srv.AppID + "/account/"),
	} {
		t.Run(name, func(t *testing.T) {
			if a.status != http.StatusOK || !strings.Contains(a.body, `<svg class="usage-chart"`) {
				t.Fatalf("%d, want 200 with a chart:\n%s", a.status, a.body)
			}
			if got := a.header.Get("Content-Security-Policy"); got != strictCSP {
				t.Errorf("Content-Security-Policy = %q, want %q", got, strictCSP)
			}
			svg := a.body[strings.Index(a.body, "<svg"):strings.LastIndex(a.body, "</svg>")]
			for _, bad := range []string{" style=", "<style", "<script", "<image", "<foreignObject", "<use", "href=", "url(", "@import", "@font-face"} {
				if strings.Contains(svg, bad) {
					t.Errorf("the chart holds %q", bad)
				}
			}
			if rest := strings.ReplaceAll(svg, `xmlns="http://www.w3.org/2000/svg"`, ""); strings.Contains(rest, "http") || strings.Contains(rest, "//") {
				t.Errorf("the chart names an address:\n%s", svg)
			}
			if strings.Contains(a.body, " style=") || regexp.MustCompile(` on[a-z]+=`).MatchString(a.body) {
				t.Errorf("inline style or event handler on the page")
			}
		})
	}
}

// strictCSP is the console's Content-Security-Policy, which the charts must not loosen.
const strictCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// flushUsage writes the usage counts the server holds in memory, as it does every second.
func flushUsage(t *testing.T, srv *testserver.Server) {
	t.Helper()
	if err := srv.Service.FlushKeyUsage(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// shownLimits returns what a key's panel shows of its limits: rate limit, remaining uses,
// refill and meta, separated by " | ".
func shownLimits(p *page, sel string) string {
	p.t.Helper()
	return p.run("limits shown", chromedp.Evaluate[string](`Array.from(document.querySelectorAll(`+
		jsString(sel+" .limits-now dd")+`)).map(d => d.textContent).join(' | ')`))
}

func count(n *int64) string {
	if n == nil {
		return "none"
	}
	return strconv.FormatInt(*n, 10)
}

// isPro reports whether a key's meta is {"plan": "pro"}, however the store writes it
// (PostgreSQL's jsonb adds a space).
func isPro(meta json.RawMessage) bool {
	var m map[string]any
	return json.Unmarshal(meta, &m) == nil && len(m) == 1 && m["plan"] == "pro"
}
