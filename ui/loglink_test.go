package ui_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestErrorLinkLeadsToRequest follows an API error's link as an admin would: it leads to the
// console's audit log of that request, through the sign-in page when the admin is not signed
// in, and a request that left no event says where its log line is.
func TestErrorLinkLeadsToRequest(t *testing.T) {
	t.Parallel()
	srv := newConsoleServer(t)

	// A failed login answers an error whose link names the request.
	resp, err := http.Post(srv.URL+"/api/client/v2.0/app/"+srv.AppID+"/auth/providers/local-userpass/login",
		"application/json", strings.NewReader(`{"username":"ann@example.com","password":"wrong password"}`))
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Link string }
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	requestID := resp.Header.Get("X-Request-Id")
	if !strings.HasPrefix(body.Link, srv.URL+"/app/"+srv.AppID+"/logs?co_id=") || requestID == "" {
		t.Fatalf("link %q, request id %q", body.Link, requestID)
	}
	if err := srv.Service.FlushAudit(t.Context()); err != nil {
		t.Fatal(err)
	}

	b := newClient(t, srv.URL, nil)
	follow := func(a answer, want string) answer {
		t.Helper()
		if a.status != http.StatusSeeOther || a.header.Get("Location") != want {
			t.Fatalf("%d to %q, want 303 to %q", a.status, a.header.Get("Location"), want)
		}
		return b.get(want)
	}
	link := strings.TrimPrefix(body.Link, srv.URL)
	auditPage := "/console/audit?request=" + requestID
	signIn := "/console/sign-in?next=" + url.QueryEscape(auditPage)
	page := follow(follow(b.get(link), auditPage), signIn)
	if page.status != http.StatusOK || !strings.Contains(page.body, `name="next" value="`+html.EscapeString(auditPage)+`"`) {
		t.Fatalf("sign-in page: %d, without the page to go back to:\n%s", page.status, page.body)
	}
	m := csrfPattern.FindStringSubmatch(page.body)
	signedIn := b.post("/console/sign-in", form("csrf", m[1], "email", adminEmail, "password", adminPassword, "next", auditPage))
	page = follow(signedIn, auditPage)
	if page.status != http.StatusOK || !strings.Contains(page.body, "request "+requestID[:8]) || !strings.Contains(page.body, "failure") {
		t.Fatalf("the request's audit page: %d\n%s", page.status, page.body)
	}
	if strings.Count(page.body, "<tr>")-1 != 1 { // the header row and the one event
		t.Errorf("the request's audit page shows other events:\n%s", page.body)
	}

	t.Run("NoEvent", func(t *testing.T) {
		resp, err := http.Get(srv.URL + "/api/client/v2.0/nope")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		id := resp.Header.Get("X-Request-Id")
		page := follow(b.get("/logs?co_id="+id), "/console/audit?request="+id)
		if !strings.Contains(page.body, "No audit event was recorded for request") || !strings.Contains(page.body, id) {
			t.Fatalf("the audit page of a request without events:\n%s", page.body)
		}
	})

	t.Run("NextStaysOnTheConsole", func(t *testing.T) {
		other := newClient(t, srv.URL, nil)
		for _, next := range []string{"//evil.example/console/", "https://evil.example/console/", "/console/../app/x", "/elsewhere", `/console/\evil`} {
			page := other.get("/console/sign-in?next=" + url.QueryEscape(next))
			if strings.Contains(page.body, `name="next"`) {
				t.Errorf("next=%q is kept:\n%s", next, page.body)
			}
		}
		tok := other.csrf("/console/sign-in")
		a := other.post("/console/sign-in", form("csrf", tok, "email", adminEmail, "password", adminPassword, "next", "//evil.example/console/"))
		if got := a.header.Get("Location"); got != "/console/apps" {
			t.Errorf("signed in with an outside next: to %q, want /console/apps", got)
		}
	})
}
