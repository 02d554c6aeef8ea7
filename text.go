package latchkey

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// IsText reports whether s is text that every store can hold and compare: valid UTF-8 without
// NUL. PostgreSQL answers either with an error, which would be a 500, so the two HTTP edges
// (httpapi and ui) refuse what a request carries that is not text before a store sees it.
func IsText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// Hidden reports whether r shows as nothing, or changes how the text around it shows:
// control characters (C0, DEL, C1), format characters (Unicode Cf, among them the bidi
// controls U+202A–U+202E, U+2066–U+2069, U+200E, U+200F and U+061C, the zero-width characters
// and U+FEFF) and the line and paragraph separators. A name holding one can show as another.
func Hidden(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}

// HasHidden reports whether s holds a Hidden rune or is not valid UTF-8.
func HasHidden(s string) bool {
	return !utf8.ValidString(s) || strings.IndexFunc(s, Hidden) >= 0
}

// Visible returns s with every Hidden rune written as the text \u{XXXX} and every byte that
// is not UTF-8 as \x{XX}, so that an email or an audit value shows what it holds: "a\u202Eb"
// becomes `a\u{202E}b`. Text without such runes comes back as it is. Consoles and the CLI
// show stored text through it.
func Visible(s string) string {
	if !HasHidden(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x{%02X}`, s[i])
		case Hidden(r):
			fmt.Fprintf(&b, `\u{%04X}`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
