package latchkey_test

import (
	"testing"

	"github.com/latchkey/latchkey"
)

func TestVisible(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"ann@example.com", "ann@example.com"},
		{"", ""},
		{"zoë@exämple.com", "zoë@exämple.com"},
		{"ann\u202Emoc.elpmaxe@evil", `ann\u{202E}moc.elpmaxe@evil`},
		{"\u202A\u202B\u202C\u202D\u2066\u2067\u2068\u2069\u200E\u200F\u061C", `\u{202A}\u{202B}\u{202C}\u{202D}\u{2066}\u{2067}\u{2068}\u{2069}\u{200E}\u{200F}\u{061C}`},
		{"a\u200Bb\uFEFF", `a\u{200B}b\u{FEFF}`},
		{"line\nforged=1\r\t\x00\x7F\u0085", `line\u{000A}forged=1\u{000D}\u{0009}\u{0000}\u{007F}\u{0085}`},
		{"a\u2028b\u2029", `a\u{2028}b\u{2029}`},
		{"bad\xffutf8", `bad\x{FF}utf8`},
	} {
		if got := latchkey.Visible(tt.in); got != tt.want {
			t.Errorf("Visible(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got, want := latchkey.HasHidden(tt.in), tt.in != tt.want; got != want {
			t.Errorf("HasHidden(%q) = %v, want %v", tt.in, got, want)
		}
	}
}
