package ui_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/testenv"
	"github.com/latchkey/latchkey/internal/testserver"
)

// The browser tests drive Debian's Chromium, headless. They fail, never skip, when it is
// missing (scripts/test installs it), but under -short (see testenv.Missing).
// LATCHKEY_CHROMIUM names another binary.

// chromiumPath finds the browser or fails the test.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("LATCHKEY_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	testenv.Missing(t, "Chromium not found: install Debian's chromium package (scripts/test does) or set LATCHKEY_CHROMIUM")
	return ""
}

// screenshotDir is where the tests save a screenshot of each page: testdata/screenshots
// (git-ignored), or LATCHKEY_SCREENSHOTS, e.g. ../docs/screenshots to refresh the README's.
func screenshotDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LATCHKEY_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("testdata", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// page is a browser tab on a test server.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
	dir  string
}

// newPage starts a headless Chromium with a fresh profile and opens a tab on srv. The tab
// may read and write the clipboard, so that tests can check what a copy button copied.
func newPage(t *testing.T, srv *testserver.Server) *page {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		// This machine's network is closed: Chromium must not try to reach Google.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("hide-scrollbars", true),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); acancel() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser, bound to ctx alone
		t.Fatalf("start Chromium: %v", err)
	}
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: perm}, Setting: browser.PermissionSettingGranted, Origin: srv.URL,
		}); err != nil {
			t.Fatalf("grant %s: %v", perm, err)
		}
	}
	return &page{t: t, ctx: ctx, base: srv.URL, dir: screenshotDir(t)}
}

// with returns the page for a subtest, so that failures end the subtest.
func (p *page) with(t *testing.T) *page {
	q := *p
	q.t = t
	return &q
}

// step runs actions with a time limit, failing the test on an error.
func (p *page) step(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

// navigate runs actions that load a page (opening a URL, following a link, sending a form)
// and returns the page's HTTP status.
func (p *page) navigate(what string, steps ...chromedp.Action[chromedp.Void]) int64 {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, steps...)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	return resp.Status
}

// open loads a path of the server and checks the status.
func (p *page) open(path string, status int64) {
	p.t.Helper()
	if got := p.navigate("open "+path, chromedp.Navigate(p.base+path)); got != status {
		p.t.Fatalf("open %s: status %d, want %d", path, got, status)
	}
}

// click clicks the element that sel selects and waits for the page it loads.
func (p *page) click(sel string, status int64) {
	p.t.Helper()
	if got := p.navigate("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); got != status {
		p.t.Fatalf("click %s: status %d, want %d", sel, got, status)
	}
}

// press clicks an element that does not load a page.
func (p *page) press(sel string) {
	p.t.Helper()
	p.step("press "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// fill types a value into a field, replacing what it held.
func (p *page) fill(sel, value string) {
	p.t.Helper()
	p.step("fill "+sel, chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (p *page) run(what string, a chromedp.Action[string]) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, a)
	if err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
	return s
}

// text returns the visible text of the first element that sel selects.
func (p *page) text(sel string) string {
	p.t.Helper()
	return p.run("text of "+sel, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
}

// value returns the value of a form field.
func (p *page) value(sel string) string {
	p.t.Helper()
	return p.run("value of "+sel, chromedp.Value(chromedp.CSS(sel)))
}

// has reports whether the page has an element that sel selects.
func (p *page) has(sel string) bool {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector(`+jsString(sel)+`) !== null`))
	if err != nil {
		p.t.Fatalf("query %s: %v", sel, err)
	}
	return ok
}

// contains checks that the element's text contains want.
func (p *page) contains(sel, want string) {
	p.t.Helper()
	if got := p.text(sel); !strings.Contains(got, want) {
		p.t.Fatalf("text of %s = %q, want it to contain %q", sel, got, want)
	}
}

// waitText waits until the element's text contains want, for changes a script makes.
func (p *page) waitText(sel, want string) {
	p.t.Helper()
	expr := `((document.querySelector(` + jsString(sel) + `) || {}).textContent || '').includes(` + jsString(want) + `)`
	p.step("wait for "+want+" in "+sel, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
}

// shot saves a screenshot of the whole page as NAME.png.
func (p *page) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(p.dir, name+".png"), buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
