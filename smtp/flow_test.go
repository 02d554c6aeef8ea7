package smtp_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/smtptest"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/smtp"
)

// TestFlow runs email confirmation and password reset end to end: a real server sends real
// messages through a real SMTP server, and the test follows their links to Latchkey's pages
// and submits the forms there, as a person would.
func TestFlow(t *testing.T) {
	mailSrv := smtptest.Start(t, smtptest.Options{Security: smtptest.STARTTLS, Username: "latchkey", Password: "smtp pass"})
	srv := testserver.New(t, testserver.Options{NewMailer: func(publicURL string) latchkey.Mailer {
		cfg := config(mailSrv, smtp.SecuritySTARTTLS)
		cfg.Username, cfg.Password, cfg.PublicURL = "latchkey", "smtp pass", publicURL
		m, err := smtp.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close(t.Context()) })
		return m
	}})
	app := srv.CreateApp(t, "strict", func(a *latchkey.App) { a.AutoConfirm = false })
	f := &flow{t: t, base: srv.URL, app: app.ClientAppID, mail: mailSrv}

	t.Run("Confirm", func(t *testing.T) {
		f.api(t, "/register", map[string]string{"email": "ann@example.com", "password": "first pass"}, 201)
		// Unconfirmed users cannot log in, as the contract says.
		f.wantLogin(t, "ann@example.com", "first pass", 401, "AuthError")

		link := f.link(t, "ann@example.com", "/app/strict/confirm")
		form := f.get(t, link)
		if strings.Contains(form.body, "confirmed") {
			t.Fatal("opening the link confirmed at once; a GET must only show the form")
		}
		f.wantLogin(t, "ann@example.com", "first pass", 401, "AuthError")
		f.submit(t, link, form, nil, 200, "Your email address is confirmed")
		f.wantLogin(t, "ann@example.com", "first pass", 200, "")

		t.Run("ErrReused", func(t *testing.T) {
			f.submit(t, link, form, nil, 400, "invalid, has expired or was already used")
		})
	})

	t.Run("ConfirmExpired", func(t *testing.T) {
		f.api(t, "/register", map[string]string{"email": "bob@example.com", "password": "first pass"}, 201)
		link := f.link(t, "bob@example.com", "/app/strict/confirm")
		form := f.get(t, link)
		srv.Clock.Advance(24*time.Hour + time.Minute)
		f.submit(t, link, form, nil, 400, "invalid, has expired or was already used")
		f.wantLogin(t, "bob@example.com", "first pass", 401, "AuthError")

		// confirm/send sends a new link, which works.
		f.send(t, "/confirm/send", "bob@example.com")
		link = f.link(t, "bob@example.com", "/app/strict/confirm")
		f.submit(t, link, f.get(t, link), nil, 200, "Your email address is confirmed")
		f.wantLogin(t, "bob@example.com", "first pass", 200, "")
	})

	t.Run("ConfirmWithTheAPI", func(t *testing.T) {
		// An app's own page calls the client API with the link's token, as realm-web's
		// emailPasswordAuth.confirmUser does.
		f.api(t, "/register", map[string]string{"email": "cat@example.com", "password": "first pass"}, 201)
		q := f.link(t, "cat@example.com", "/app/strict/confirm").Query()
		f.api(t, "/confirm", map[string]string{"token": q.Get("token"), "tokenId": q.Get("tokenId")}, 204)
		f.api(t, "/confirm", map[string]string{"token": q.Get("token"), "tokenId": q.Get("tokenId")}, 400)
		f.wantLogin(t, "cat@example.com", "first pass", 200, "")
	})

	t.Run("Reset", func(t *testing.T) {
		f.send(t, "/reset/send", "ann@example.com")
		link := f.link(t, "ann@example.com", "/app/strict/reset")
		form := f.get(t, link)
		if !strings.Contains(form.body, `type="password"`) {
			t.Fatalf("reset page has no password field:\n%s", form.body)
		}
		f.submit(t, link, form, url.Values{"password": {"second pass"}, "confirm": {"other pass"}}, 400, "The two passwords differ")
		f.submit(t, link, form, url.Values{"password": {"short"}, "confirm": {"short"}}, 400, "password must be between 6 and 128 characters")
		f.submit(t, link, form, url.Values{"password": {"second pass"}, "confirm": {"second pass"}}, 200, "Your password is changed")
		f.wantLogin(t, "ann@example.com", "first pass", 401, "InvalidPassword")
		f.wantLogin(t, "ann@example.com", "second pass", 200, "")

		t.Run("ErrReused", func(t *testing.T) {
			f.submit(t, link, form, url.Values{"password": {"third pass"}, "confirm": {"third pass"}}, 400, "invalid, has expired or was already used")
			f.wantLogin(t, "ann@example.com", "second pass", 200, "")
		})
	})

	t.Run("ResetExpired", func(t *testing.T) {
		f.send(t, "/reset/send", "ann@example.com")
		link := f.link(t, "ann@example.com", "/app/strict/reset")
		form := f.get(t, link)
		srv.Clock.Advance(31 * time.Minute)
		f.submit(t, link, form, url.Values{"password": {"third pass"}, "confirm": {"third pass"}}, 400, "invalid, has expired or was already used")
		f.wantLogin(t, "ann@example.com", "second pass", 200, "")
	})

	t.Run("ErrBadLinks", func(t *testing.T) {
		for _, path := range []string{"/app/strict/confirm", "/app/strict/reset?token=abc"} {
			page := f.get(t, mustParse(t, srv.URL+path))
			if !strings.Contains(page.body, "This link is incomplete") || strings.Contains(page.body, "<form") {
				t.Errorf("GET %s: %s", path, page.body)
			}
		}
		resp, err := http.PostForm(srv.URL+"/app/strict/reset", url.Values{"password": {"whatever1"}, "confirm": {"whatever1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("POST without a token: %d, want 400", resp.StatusCode)
		}
		resp, err = http.Get(srv.URL + "/app/no-such-app/confirm?token=a&tokenId=b")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 404 {
			t.Errorf("unknown app: %d, want 404", resp.StatusCode)
		}
	})
}

// flow is a person with a mailbox and a browser.
type flow struct {
	t    *testing.T
	base string
	app  string
	mail *smtptest.Server
}

// api calls an email/password endpoint of the client API.
func (f *flow) api(t *testing.T, rest string, body any, status int) {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(f.base+"/api/client/v2.0/app/"+f.app+"/auth/providers/local-userpass"+rest, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != status {
		out, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %d %s, want %d", rest, resp.StatusCode, out, status)
	}
}

// send has the client API mail email (rest is /confirm/send or /reset/send) and waits until
// the message has arrived.
func (f *flow) send(t *testing.T, rest, email string) {
	t.Helper()
	before := len(f.mail.Messages())
	f.api(t, rest, map[string]string{"email": email}, 204)
	f.mail.Wait(t, before+1)
}

func (f *flow) wantLogin(t *testing.T, email, password string, status int, code string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"username": email, "password": password})
	resp, err := http.Post(f.base+"/api/client/v2.0/app/"+f.app+"/auth/providers/local-userpass/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Error     string `json:"error"`
		ErrorCode string `json:"error_code"`
	}
	json.NewDecoder(resp.Body).Decode(&got)
	if resp.StatusCode != status || got.ErrorCode != code {
		t.Fatalf("login %s: %d %+v, want %d %q", email, resp.StatusCode, got, status, code)
	}
}

// link returns the link in the last message to email, checking it leads to path on the server.
func (f *flow) link(t *testing.T, email, path string) *url.URL {
	t.Helper()
	_, text, _ := parts(t, f.mail.Last(t, email))
	u := linkIn(t, text)
	if u.Scheme+"://"+u.Host != f.base || u.Path != path || u.Query().Get("token") == "" || !latchkey.IsID(u.Query().Get("tokenId")) {
		t.Fatalf("link %s, want %s%s?token=…&tokenId=…", u, f.base, path)
	}
	return u
}

// page is an HTML page as a browser got it.
type page struct {
	body   string
	hidden url.Values // the form's hidden fields
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

func (f *flow) get(t *testing.T, u *url.URL) page {
	t.Helper()
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	wantPageHeaders(t, resp)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", u.Path, resp.StatusCode, b)
	}
	p := page{body: string(b), hidden: url.Values{}}
	for _, m := range hiddenInput.FindAllStringSubmatch(p.body, -1) {
		p.hidden.Set(m[1], html.UnescapeString(m[2]))
	}
	return p
}

// submit posts the page's form, with its hidden fields and the fields typed in, to the link,
// as the form's empty action does, and checks the answer.
func (f *flow) submit(t *testing.T, u *url.URL, form page, typed url.Values, status int, want string) {
	t.Helper()
	values := url.Values{}
	for k, v := range form.hidden {
		values[k] = v
	}
	for k, v := range typed {
		values[k] = v
	}
	resp, err := http.PostForm(u.String(), values)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	wantPageHeaders(t, resp)
	if resp.StatusCode != status || !strings.Contains(html.UnescapeString(string(b)), want) {
		t.Fatalf("POST %s: %d\n%s\nwant %d and %q", u.Path, resp.StatusCode, b, status, want)
	}
	for _, v := range typed {
		if strings.Contains(string(b), v[0]) {
			t.Errorf("the page shows a password that was typed in")
		}
	}
}

// wantPageHeaders checks that a page keeps the token out of caches, referrers and frames.
func wantPageHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	for k, v := range map[string]string{
		"Content-Type":    "text/html; charset=utf-8",
		"Cache-Control":   "no-store",
		"Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY",
	} {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("Content-Security-Policy = %q", resp.Header.Get("Content-Security-Policy"))
	}
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
