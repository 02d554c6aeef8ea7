package storetest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/latchkey/latchkey"
)

// auditCases are the cases of latchkey.AuditStore: the filters, paging and both prunes.
var auditCases = []storeCase{
	{"CreateAndFind", testAuditCreateAndFind},
	{"Empty", testAuditEmpty},
	{"ErrConflictAtomic", testAuditErrConflictAtomic},
	{"Filters", testAuditFilters},
	{"Paging", testAuditPaging},
	{"DeleteBefore", testAuditDeleteBefore},
	{"DeleteBeyond", testAuditDeleteBeyond},
}

func testAuditCreateAndFind(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := mustCreateApp(t, s)
	full := &latchkey.AuditEvent{
		ID:          newID(),
		Time:        now(),
		AppID:       app.ID,
		Event:       latchkey.EventAPIKeyCreated,
		Outcome:     latchkey.OutcomeSuccess,
		ActorType:   latchkey.ActorUser,
		ActorID:     newID(),
		SubjectType: "api_key",
		SubjectID:   newID(),
		IP:          "2001:db8::1",
		UserAgent:   "RealmJS/12.0 \"quoted\"",
		RequestID:   newID(),
		Details:     map[string]string{"name": "ci", "quote": `"x"`, "empty": ""},
	}
	// Server-wide, anonymous, with no details: empty strings and nil come back as they went.
	bare := &latchkey.AuditEvent{
		ID:        newID(),
		Time:      now(),
		Event:     latchkey.EventAdminLogin,
		Outcome:   latchkey.OutcomeFailure,
		ActorType: latchkey.ActorAnonymous,
	}
	// An empty map is stored as no details at all.
	emptyDetails := newAuditEvent(app.ID, latchkey.EventLogout, newID(), newID(), now())
	emptyDetails.Details = map[string]string{}
	events := []*latchkey.AuditEvent{full, bare, emptyDetails}
	before := cloneAuditEvents(events)
	if err := s.CreateAuditEvents(t.Context(), events); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, events); diff != "" {
		t.Fatalf("CreateAuditEvents changed its argument (-before +after):\n%s", diff)
	}

	want := cloneAuditEvents(events)
	want[2].Details = nil
	slices.Reverse(want)
	if diff := cmp.Diff(want, mustFindAuditEvents(t, s, latchkey.AuditFilter{})); diff != "" {
		t.Fatalf("FindAuditEvents mismatch (-want +got):\n%s", diff)
	}
}

func testAuditEmpty(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	if err := s.CreateAuditEvents(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAuditEvents(t.Context(), []*latchkey.AuditEvent{}); err != nil {
		t.Fatal(err)
	}
	if got := mustFindAuditEvents(t, s, latchkey.AuditFilter{}); len(got) != 0 {
		t.Fatalf("FindAuditEvents on an empty store returned %d events", len(got))
	}
}

func testAuditErrConflictAtomic(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	e := newAuditEvent("", latchkey.EventAdminLogin, newID(), newID(), now())
	mustCreateAuditEvents(t, s, e)
	fresh := newAuditEvent("", latchkey.EventAdminLogin, newID(), newID(), now())
	dup := *e
	assertCode(t, s.CreateAuditEvents(t.Context(), []*latchkey.AuditEvent{fresh, &dup}), latchkey.EConflict)
	// The batch is one transaction: the event before the conflict is not stored either.
	if diff := cmp.Diff([]*latchkey.AuditEvent{e}, mustFindAuditEvents(t, s, latchkey.AuditFilter{})); diff != "" {
		t.Fatalf("FindAuditEvents mismatch (-want +got):\n%s", diff)
	}
}

func testAuditFilters(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app, other := newID(), newID()
	ada, bob, admin := newID(), newID(), newID()
	base := now()
	at := func(i int) time.Time { return base.Add(time.Duration(i) * time.Minute) }
	events := []*latchkey.AuditEvent{
		0: newAuditEvent(app, latchkey.EventRegister, ada, ada, at(0)),
		1: newAuditEvent(app, latchkey.EventLogin, ada, ada, at(1)),
		2: newAuditEvent(app, latchkey.EventLogin, bob, bob, at(2)),
		3: newAuditEvent(app, latchkey.EventUserDisabled, admin, bob, at(3)),
		4: newAuditEvent(other, latchkey.EventLogin, ada, ada, at(4)),
		5: newAuditEvent("", latchkey.EventAdminLogin, admin, admin, at(5)),
	}
	mustCreateAuditEvents(t, s, events...)
	pick := func(is ...int) []*latchkey.AuditEvent {
		var picked []*latchkey.AuditEvent
		for _, i := range slices.Backward(is) {
			picked = append(picked, events[i])
		}
		return picked
	}

	for _, tt := range []struct {
		name   string
		filter latchkey.AuditFilter
		want   []*latchkey.AuditEvent
	}{
		{"None", latchkey.AuditFilter{}, pick(0, 1, 2, 3, 4, 5)},
		{"App", latchkey.AuditFilter{AppID: app}, pick(0, 1, 2, 3)},
		{"UnknownApp", latchkey.AuditFilter{AppID: newID()}, nil},
		{"UserAsActorOrSubject", latchkey.AuditFilter{UserID: bob}, pick(2, 3)},
		{"UserAsActor", latchkey.AuditFilter{UserID: admin}, pick(3, 5)},
		{"UserInApp", latchkey.AuditFilter{AppID: app, UserID: ada}, pick(0, 1)},
		{"Event", latchkey.AuditFilter{Event: latchkey.EventLogin}, pick(1, 2, 4)},
		{"EventInApp", latchkey.AuditFilter{AppID: app, Event: latchkey.EventLogin}, pick(1, 2)},
		// From is inclusive, To exclusive.
		{"From", latchkey.AuditFilter{From: at(3)}, pick(3, 4, 5)},
		{"To", latchkey.AuditFilter{To: at(2)}, pick(0, 1)},
		{"FromTo", latchkey.AuditFilter{From: at(1), To: at(3)}, pick(1, 2)},
		{"FromToEmpty", latchkey.AuditFilter{From: at(2), To: at(2)}, nil},
		{"Before", latchkey.AuditFilter{Before: events[2].ID}, pick(0, 1)},
		{"Limit", latchkey.AuditFilter{Limit: 2}, pick(4, 5)},
		{"All", latchkey.AuditFilter{AppID: app, UserID: ada, Event: latchkey.EventLogin, From: at(0), To: at(5)}, pick(1)},
		{"Request", latchkey.AuditFilter{RequestID: events[3].RequestID}, pick(3)},
		{"UnknownRequest", latchkey.AuditFilter{RequestID: newID()}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := mustFindAuditEvents(t, s, tt.filter)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("FindAuditEvents(%+v) mismatch (-want +got):\n%s", tt.filter, diff)
			}
		})
	}
}

func testAuditPaging(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	app := newID()
	var events []*latchkey.AuditEvent
	for range 5 {
		events = append(events, newAuditEvent(app, latchkey.EventLogin, newID(), newID(), now()))
	}
	mustCreateAuditEvents(t, s, events...)
	mustCreateAuditEvents(t, s, newAuditEvent(newID(), latchkey.EventLogin, newID(), newID(), now()))

	newest := slices.Clone(events)
	slices.Reverse(newest)
	var before string
	for i, want := range [][]*latchkey.AuditEvent{newest[0:2], newest[2:4], newest[4:5], nil} {
		got := mustFindAuditEvents(t, s, latchkey.AuditFilter{AppID: app, Before: before, Limit: 2})
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("page %d (-want +got):\n%s", i, diff)
		}
		if len(got) > 0 {
			before = got[len(got)-1].ID
		}
	}
}

func testAuditDeleteBefore(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	cutoff := now()
	var old, kept []*latchkey.AuditEvent
	for _, d := range []time.Duration{-time.Hour, -time.Millisecond, 0, time.Millisecond} {
		e := newAuditEvent(newID(), latchkey.EventLogin, newID(), newID(), cutoff.Add(d))
		if d < 0 {
			old = append(old, e)
		} else {
			kept = append(kept, e)
		}
		mustCreateAuditEvents(t, s, e)
	}

	n, err := s.DeleteAuditEventsBefore(t.Context(), cutoff)
	if err != nil {
		t.Fatal(err)
	} else if n != int64(len(old)) {
		t.Fatalf("DeleteAuditEventsBefore = %d, want %d", n, len(old))
	}
	slices.Reverse(kept)
	if diff := cmp.Diff(kept, mustFindAuditEvents(t, s, latchkey.AuditFilter{})); diff != "" {
		t.Fatalf("events left (-want +got):\n%s", diff)
	}
	if n, err := s.DeleteAuditEventsBefore(t.Context(), cutoff); err != nil {
		t.Fatal(err)
	} else if n != 0 {
		t.Fatalf("second DeleteAuditEventsBefore = %d, want 0", n)
	}
}

func testAuditDeleteBeyond(t *testing.T, open func(t *testing.T) latchkey.Store) {
	s := open(t)
	// Ids, not times, order the events: the oldest id goes first even with a later time.
	base := now()
	var events []*latchkey.AuditEvent
	for i := range 5 {
		events = append(events, newAuditEvent(newID(), latchkey.EventLogin, newID(), newID(), base.Add(time.Duration(-i)*time.Minute)))
	}
	mustCreateAuditEvents(t, s, events...)
	newest := slices.Clone(events)
	slices.Reverse(newest)

	for _, step := range []struct {
		keep int64
		n    int64
		left []*latchkey.AuditEvent
	}{
		{keep: 10, n: 0, left: newest},
		{keep: 5, n: 0, left: newest},
		{keep: 3, n: 2, left: newest[:3]},
		{keep: 3, n: 0, left: newest[:3]},
		{keep: 1, n: 2, left: newest[:1]},
		{keep: 0, n: 1, left: nil},
		{keep: 0, n: 0, left: nil},
	} {
		n, err := s.DeleteAuditEventsBeyond(t.Context(), step.keep)
		if err != nil {
			t.Fatal(err)
		} else if n != step.n {
			t.Fatalf("DeleteAuditEventsBeyond(%d) = %d, want %d", step.keep, n, step.n)
		}
		if diff := cmp.Diff(step.left, mustFindAuditEvents(t, s, latchkey.AuditFilter{}), cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("events left after keeping %d (-want +got):\n%s", step.keep, diff)
		}
	}
}

// newAuditEvent returns a successful user event with details, not yet stored.
func newAuditEvent(appID, event, actorID, subjectID string, at time.Time) *latchkey.AuditEvent {
	return &latchkey.AuditEvent{
		ID:          newID(),
		Time:        at,
		AppID:       appID,
		Event:       event,
		Outcome:     latchkey.OutcomeSuccess,
		ActorType:   latchkey.ActorUser,
		ActorID:     actorID,
		SubjectType: "user",
		SubjectID:   subjectID,
		IP:          "192.0.2.1",
		UserAgent:   "test",
		RequestID:   newID(),
		Details:     map[string]string{"provider": latchkey.ProviderUserpass},
	}
}

// mustCreateAuditEvents stores the events in one batch.
func mustCreateAuditEvents(t *testing.T, s latchkey.Store, events ...*latchkey.AuditEvent) {
	t.Helper()
	if err := s.CreateAuditEvents(t.Context(), events); err != nil {
		t.Fatalf("CreateAuditEvents: %v", err)
	}
}

// mustFindAuditEvents returns the events that match the filter.
func mustFindAuditEvents(t *testing.T, s latchkey.Store, filter latchkey.AuditFilter) []*latchkey.AuditEvent {
	t.Helper()
	events, err := s.FindAuditEvents(t.Context(), filter)
	if err != nil {
		t.Fatalf("FindAuditEvents: %v", err)
	}
	return events
}

// cloneAuditEvents returns a deep copy of events.
func cloneAuditEvents(events []*latchkey.AuditEvent) []*latchkey.AuditEvent {
	var c []*latchkey.AuditEvent
	for _, e := range events {
		copied := *e
		copied.Details = maps.Clone(e.Details)
		c = append(c, &copied)
	}
	return c
}
