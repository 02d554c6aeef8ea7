package latchkey_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

func TestNewKeyValue(t *testing.T) {
	pattern := regexp.MustCompile(`^` + latchkey.KeyPattern + `$`)
	seen := map[string]bool{}
	for range 200 {
		v := latchkey.NewKeyValue("acme")
		if !pattern.MatchString(v) || !strings.HasPrefix(v, "acme_") {
			t.Fatalf("NewKeyValue = %q, does not match %s", v, latchkey.KeyPattern)
		}
		if !latchkey.CheckKeyValue(v) {
			t.Fatalf("CheckKeyValue(%q) = false for a fresh key", v)
		}
		if seen[v] {
			t.Fatal("NewKeyValue repeated a value")
		}
		seen[v] = true
	}
}

func TestCheckKeyValue(t *testing.T) {
	good := latchkey.NewKeyValue("lk")
	flipped := []byte(good)
	flipped[5] ^= 'a' ^ 'b'
	if flipped[5] == good[5] {
		flipped[5] = 'Q'
	}
	for name, tt := range map[string]struct {
		value string
		want  bool
	}{
		"OK":              {good, true},
		"Legacy64":        {strings.Repeat("aZ09", 16), true},
		"BadChecksum":     {good[:len(good)-1] + string(rune(good[len(good)-1]^1)), false},
		"ChangedBody":     {string(flipped), false},
		"NoPrefix":        {good[3:], false},
		"UpperPrefix":     {"LK" + good[2:], false},
		"ShortPrefix":     {"l" + good[2:], false},
		"LongPrefix":      {"abcdefghijk" + good[2:], false},
		"Short":           {good[:len(good)-1], false},
		"Long":            {good + "a", false},
		"NonBase62":       {"lk_" + strings.Repeat("-", 38), false},
		"Empty":           {"", false},
		"Legacy63":        {strings.Repeat("a", 63), false},
		"TwoUnderscores":  {"lk_" + good[3:10] + "_" + good[11:], false},
		"WhitespaceAfter": {good + " ", false},
	} {
		t.Run(name, func(t *testing.T) {
			if got := latchkey.CheckKeyValue(tt.value); got != tt.want {
				t.Fatalf("CheckKeyValue(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}

func TestKeyStart(t *testing.T) {
	v := latchkey.NewKeyValue("lk")
	if got, want := latchkey.KeyStart(v), v[:7]; got != want {
		t.Fatalf("KeyStart = %q, want %q", got, want)
	}
}

// FuzzCheckKeyValue checks that the parser never panics, and that whatever it accepts has
// the documented shape.
func FuzzCheckKeyValue(f *testing.F) {
	f.Add(latchkey.NewKeyValue("lk"))
	f.Add(strings.Repeat("a", 64))
	f.Add("lk_")
	f.Add("")
	shape := regexp.MustCompile(`^(` + latchkey.KeyPattern[2:len(latchkey.KeyPattern)-2] + `|[0-9A-Za-z]{64})$`)
	f.Fuzz(func(t *testing.T, s string) {
		if latchkey.CheckKeyValue(s) && !shape.MatchString(s) {
			t.Fatalf("CheckKeyValue accepted %q, which is not of the documented shape", s)
		}
	})
}
