package service

import (
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// storable reports whether s can be stored and looked up as text in every store: valid
// UTF-8 without NUL, which PostgreSQL refuses with an error rather than a miss.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// storableText returns s with invalid UTF-8 and NUL replaced by U+FFFD.
func storableText(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// sanitizeEvent makes an audit event's text storable, so that one odd value from a request
// (a user agent cut in the middle of a character, a NUL) cannot fail the batch of events it
// is written with.
func sanitizeEvent(e *latchkey.AuditEvent) {
	for _, p := range []*string{&e.AppID, &e.Event, &e.ActorID, &e.SubjectType, &e.SubjectID, &e.IP, &e.UserAgent, &e.RequestID} {
		*p = storableText(*p)
	}
	if e.Details == nil {
		return
	}
	clean := make(map[string]string, len(e.Details))
	for k, v := range e.Details {
		clean[storableText(k)] = storableText(v)
	}
	e.Details = clean
}
