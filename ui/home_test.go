package ui_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/testserver"
)

// TestHomePage checks that the server's root answers a page that leads somewhere: the console,
// the self-service pages and the API's description, each of which answers.
func TestHomePage(t *testing.T) {
	t.Parallel()
	srv := testserver.New(t, testserver.Options{})
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s, want a 200 HTML page", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	page := string(body)
	for _, want := range []string{`href="/console/"`, `/app/&lt;app id&gt;/account/`, `href="/openapi.json"`} {
		if !strings.Contains(page, want) {
			t.Errorf("GET /: the page lacks %s", want)
		}
	}
	for _, link := range []string{"/console/", "/openapi.json", "/app/" + srv.App.ClientAppID + "/account/"} {
		resp, err := http.Get(srv.URL + link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d, want 200", link, resp.StatusCode)
		}
	}
}
