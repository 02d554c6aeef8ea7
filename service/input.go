package service

import "github.com/latchkey/latchkey"

// auditTextMax bounds, in runes, each text an audit event keeps: a failed login must not store
// the 64 KiB a caller may send as a username, for the whole retention.
const auditTextMax = 256

// auditCut ends a text that auditText cut.
const auditCut = "…(cut)"

// auditText bounds a text from a caller before an audit event keeps it: Hidden runes (control,
// bidi and other format characters) and bytes that are not UTF-8 are written visibly, as
// latchkey.Visible does, so that the log neither hides nor reorders what was sent; and the
// result is cut to auditTextMax runes, with auditCut appended.
func auditText(s string) string {
	cut := false
	// Only the first auditTextMax runes can be kept: escape no more than those.
	if i := runeOffset(s, auditTextMax); i < len(s) {
		s, cut = s[:i], true
	}
	s = latchkey.Visible(s)
	if i := runeOffset(s, auditTextMax); i < len(s) {
		s, cut = s[:i], true
	}
	if cut {
		s += auditCut
	}
	return s
}

// runeOffset is the byte offset of s's n-th rune, or len(s) when s has no more than n.
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return len(s)
}

// sanitizeEvent bounds every text of an audit event with auditText. Most come from the caller
// (a user agent, a tried email, a key's name); bounding all of them, rather than the ones a
// caller is known to set, means a new detail cannot forget to. It also makes the text
// storable, so that one odd value cannot fail the batch of events it is written with.
func sanitizeEvent(e *latchkey.AuditEvent) {
	for _, p := range []*string{&e.AppID, &e.Event, &e.ActorID, &e.SubjectType, &e.SubjectID, &e.IP, &e.UserAgent, &e.RequestID} {
		*p = auditText(*p)
	}
	if e.Details == nil {
		return
	}
	clean := make(map[string]string, len(e.Details))
	for k, v := range e.Details {
		clean[auditText(k)] = auditText(v)
	}
	e.Details = clean
}
