package latchkey_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// markdownLink finds the targets of Markdown links: [text](target).
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsStandAlone checks that the README and docs/ link only to files of this repository
// that exist, or to web addresses: the project must read on its own.
func TestDocsStandAlone(t *testing.T) {
	docs, err := filepath.Glob("docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range append([]string{"README.md", "SECURITY.md"}, docs...) {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := string(data)
		if strings.Contains(text, "../shared") {
			t.Errorf("%s names a file outside the repository (../shared)", doc)
		}
		for _, m := range markdownLink.FindAllStringSubmatch(text, -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path := filepath.Join(filepath.Dir(doc), target)
			if rel, err := filepath.Rel(".", path); err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links outside the repository: %s", doc, m[1])
				continue
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s links to %s, which does not exist", doc, m[1])
			}
		}
	}
	security, err := os.ReadFile("SECURITY.md")
	if err != nil || !strings.Contains(string(security), "\n## Reporting a vulnerability\n") {
		t.Errorf("SECURITY.md has no \"Reporting a vulnerability\" section (%v)", err)
	}
	for _, file := range []string{"LICENSE", "docs/PROTOCOL.md"} {
		if _, err := os.Stat(file); err != nil {
			t.Errorf("%s is missing", file)
		}
	}
}

// TestPerformanceOpening checks that docs/PERFORMANCE.md opens with what a user gets, in
// words a user reads: no commit hashes or tracker numbers before its method.
func TestPerformanceOpening(t *testing.T) {
	data, err := os.ReadFile("docs/PERFORMANCE.md")
	if err != nil {
		t.Fatal(err)
	}
	opening, _, ok := strings.Cut(string(data), "\n## ")
	if !ok {
		t.Fatal("docs/PERFORMANCE.md has no sections")
	}
	if m := regexp.MustCompile(`\b[0-9a-f]{7,40}\b|(?i)\bissue\b|#\d+`).FindString(opening); m != "" {
		t.Errorf("the opening names %q: say what a user gets instead", m)
	}
	for _, want := range []string{"key", "password", "PostgreSQL"} {
		if !strings.Contains(opening, want) {
			t.Errorf("the opening does not mention %s", want)
		}
	}
}
