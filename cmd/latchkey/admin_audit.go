package main

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// auditPageSize is the server's page size when --limit is left out.
const auditPageSize = 100

// timeFlag is a point in time: RFC 3339, or a duration meaning that long ago.
type timeFlag struct {
	t   *time.Time
	now func() time.Time
}

func (f timeFlag) String() string {
	if f.t == nil || f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f timeFlag) Set(s string) error {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		*f.t = t
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return errors.New("expected an RFC 3339 time such as 2025-06-01T12:00:00Z, or a duration ago such as 24h")
	}
	*f.t = f.now().Add(-d)
	return nil
}

// AdminAuditCommand shows the audit log, a page at a time.
type AdminAuditCommand struct {
	adminSession
	Filter client.AuditFilter
	jsonFlag
}

// Run shows one page of the events, newest first.
func (c *AdminAuditCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("audit",
		"audit [--app APP] [--event E] [--user ID] [--from T] [--to T] [--limit N] [--before ID] [--json]",
		"Shows the audit log, newest first, a page at a time (100 unless --limit says otherwise,\n"+
			"at most 1000): the next page is --before the last id. Without --app it shows every app's\n"+
			"events and the server-wide ones (admin logins, deleted apps). Events are e.g. login,\n"+
			"register, api_key_created, api_key_disabled, user_disabled, sessions_revoked,\n"+
			"server_api_key_created, app_updated, admin_login. The log holds no secrets.")
	fs.StringVar(&c.Filter.App, "app", "", "only this app's events: its client app id or its id")
	fs.StringVar(&c.Filter.Event, "event", "", "only events of this type")
	fs.StringVar(&c.Filter.User, "user", "", "only events whose actor or subject has this id")
	fs.Var(timeFlag{&c.Filter.From, time.Now}, "from", "only events at or after T: RFC 3339, or a duration ago like 24h")
	fs.Var(timeFlag{&c.Filter.To, time.Now}, "to", "only events before T: RFC 3339, or a duration ago")
	pageFlags(fs, &c.Filter.Limit, &c.Filter.Before, "before", "the page after (older than) the event with this id")
	c.jsonFlag.register(fs, "print a JSON array")
	return c.run(fs, args, func(a *client.Admin, _ []string) error {
		if err := checkLimit(c.Filter.Limit); err != nil {
			return err
		}
		events, err := a.AuditEvents(ctx, c.Filter)
		if err != nil {
			return err
		}
		notePage(c.Stderr, events, c.Filter.Limit, auditPageSize, "events", "before", func(e client.AuditEvent) string { return e.ID })
		var clientAppIDs map[string]string
		if !c.JSON {
			if clientAppIDs, err = appIDs(ctx, a, events); err != nil {
				return err
			}
		}
		return printList(c.Stdout, events, c.JSON, "No events.", []string{"TIME", "EVENT", "OUTCOME", "ACTOR", "SUBJECT", "APP", "IP", "DETAILS"},
			func(e client.AuditEvent) []string {
				app := e.AppID
				if id, ok := clientAppIDs[app]; ok {
					app = id
				}
				return []string{formatTime(&e.Time, "-"), orDash(e.Event), orDash(e.Outcome),
					party(e.Actor), party(e.Subject), orDash(app), orDash(e.IP), details(e.Details)}
			})
	})
}

// appIDs maps the internal app ids of events to the client app ids that people know
// their apps by, asking the server once. A deleted app is not in the map: its events keep
// the internal id.
func appIDs(ctx context.Context, a *client.Admin, events []client.AuditEvent) (map[string]string, error) {
	ids := map[string]string{}
	if !slices.ContainsFunc(events, func(e client.AuditEvent) bool { return e.AppID != "" }) {
		return ids, nil
	}
	apps, err := a.Apps(ctx)
	if err != nil {
		return nil, err
	}
	for _, app := range apps {
		ids[app.ID] = app.ClientAppID
	}
	return ids, nil
}

func party(p client.AuditParty) string {
	if p.ID == "" {
		return orDash(p.Type)
	}
	return orDash(p.Type + ":" + p.ID)
}

func details(m map[string]string) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		kv = append(kv, latchkey.Visible(k)+"="+latchkey.Visible(m[k]))
	}
	return orDash(strings.Join(kv, " "))
}
