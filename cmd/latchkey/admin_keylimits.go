package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// This file holds the user-keys limit and usage commands: the limits an admin sets on a
// user's key for verify calls, and the key's hourly verify counts.

// funcFlag is a flag whose value is parsed by the function itself.
type funcFlag func(string) error

func (f funcFlag) String() string     { return "" }
func (f funcFlag) Set(s string) error { return f(s) }

// none is the value that removes a limit.
const none = "none"

// parseRateLimit reads LIMIT/DURATION, e.g. 100/1m or 5000/1d.
func parseRateLimit(s string) (*client.KeyRateLimit, error) {
	n, d, ok := strings.Cut(s, "/")
	limit, err := strconv.ParseInt(n, 10, 64)
	if !ok || err != nil {
		return nil, errors.New("expected LIMIT/DURATION such as 100/1m, or none")
	}
	dur, err := parseDuration(d)
	if err != nil {
		return nil, errors.New("expected LIMIT/DURATION such as 100/1m, or none")
	}
	return &client.KeyRateLimit{Limit: limit, Duration: dur}, nil
}

// formatRateLimit writes a rate limit as --ratelimit takes it: 100/1m.
func formatRateLimit(l *client.KeyRateLimit) string {
	if l == nil {
		return "-"
	}
	return fmt.Sprintf("%d/%s", l.Limit, latchkey.FormatDuration(l.Duration))
}

// formatRefill writes a refill as --refill takes it: 1000/daily.
func formatRefill(r *client.KeyRefill) string {
	if r == nil {
		return "-"
	}
	return fmt.Sprintf("%d/%s", r.Amount, r.Interval)
}

// formatRemaining writes the remaining uses, "-" for no such limit.
func formatRemaining(n *int64) string {
	if n == nil {
		return "-"
	}
	return strconv.FormatInt(*n, 10)
}

// formatMeta writes a key's meta compactly, "-" for none.
func formatMeta(meta json.RawMessage) string {
	if len(meta) == 0 {
		return "-"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, meta); err != nil {
		return latchkey.Visible(string(meta))
	}
	return latchkey.Visible(b.String())
}

// keyLimitFlags are --ratelimit, --remaining, --refill and --meta: each a new value, or none
// to remove it; a flag left out leaves the limit as it is.
type keyLimitFlags struct {
	Limits client.KeyLimits
	given  bool
}

func (f *keyLimitFlags) register(fs *flag.FlagSet) {
	set := func(parse func(string) error) funcFlag {
		return func(s string) error {
			f.given = true
			return parse(s)
		}
	}
	fs.Var(set(func(s string) error {
		if s == none {
			f.Limits.RateLimit, f.Limits.RemoveRateLimit = nil, true
			return nil
		}
		l, err := parseRateLimit(s)
		f.Limits.RateLimit, f.Limits.RemoveRateLimit = l, false
		return err
	}), "ratelimit", "at most LIMIT uses per DURATION (1s to 1d), e.g. 100/1m; none removes it")
	fs.Var(set(func(s string) error {
		if s == none {
			f.Limits.Remaining, f.Limits.RemoveRemaining = nil, true
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return errors.New("expected a whole number of uses such as 1000, or none")
		}
		f.Limits.Remaining, f.Limits.RemoveRemaining = &n, false
		return nil
	}), "remaining", "uses left, each valid verify takes its cost; none removes it and the refill")
	fs.Var(set(func(s string) error {
		if s == none {
			f.Limits.Refill, f.Limits.RemoveRefill = nil, true
			return nil
		}
		n, interval, ok := strings.Cut(s, "/")
		amount, err := strconv.ParseInt(n, 10, 64)
		if !ok || err != nil || (interval != client.RefillDaily && interval != client.RefillMonthly) {
			return errors.New("expected AMOUNT/daily or AMOUNT/monthly such as 1000/daily, or none")
		}
		f.Limits.Refill, f.Limits.RemoveRefill = &client.KeyRefill{Amount: amount, Interval: interval}, false
		return nil
	}), "refill", "set remaining back to AMOUNT at 00:00 UTC, AMOUNT/daily or AMOUNT/monthly; none removes it")
	fs.Var(set(func(s string) error {
		if s == none {
			f.Limits.Meta, f.Limits.RemoveMeta = nil, true
			return nil
		}
		var obj map[string]any
		if json.Unmarshal([]byte(s), &obj) != nil || obj == nil {
			return errors.New(`expected a JSON object such as {"plan":"pro"}, or none`)
		}
		f.Limits.Meta, f.Limits.RemoveMeta = json.RawMessage(s), false
		return nil
	}), "meta", `a JSON object (at most 4 KiB) that verify answers carry, e.g. '{"plan":"pro"}'; none removes it`)
}

// AdminUserKeysLimitCommand sets or removes the limits of a user's key.
type AdminUserKeysLimitCommand struct {
	adminSession
	userKeyFlags
	keyLimitFlags
	jsonFlag
}

// Run changes the limits given, all or none, and shows the key after.
func (c *AdminUserKeysLimitCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("user-keys limit",
		"user-keys limit KEY --app APP --user USER [--ratelimit LIMIT/DURATION|none] [--remaining N|none]\n"+
			"       [--refill AMOUNT/daily|AMOUNT/monthly|none] [--meta JSON|none] [--json]",
		"Sets or removes the limits of a user's API key that verify calls enforce (see latchkey\n"+
			"verify), all or none, then shows the key. A flag left out leaves its limit as it is;\n"+
			"none removes it. The key's owner sees the limits but cannot change them.\n"+
			"DURATION is a number of seconds (60), a Go duration (1m, 1h) or days (1d).", "KEY")
	c.userKeyFlags.register(&c.adminSession, fs)
	c.keyLimitFlags.register(fs)
	c.jsonFlag.register(fs, "print the key as JSON")
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		if !c.given {
			return errors.New("nothing to change: give --ratelimit, --remaining, --refill or --meta")
		}
		k, err := a.Users(c.App).SetAPIKeyLimits(ctx, c.User, pos[0], c.Limits)
		if err != nil {
			return err
		}
		return printOne(c.Stdout, k, c.JSON, printKey)
	})
}

// AdminUserKeysUsageCommand shows the hourly verify counts of a user's key.
type AdminUserKeysUsageCommand struct {
	adminSession
	userKeyFlags
	From, To time.Time
	jsonFlag
}

// Run fetches the counts and shows them by hour, oldest first.
func (c *AdminUserKeysUsageCommand) Run(ctx context.Context, args []string) error {
	fs := c.flagSet("user-keys usage", "user-keys usage KEY --app APP --user USER [--from T] [--to T] [--json]",
		"Shows how verify calls used a user's API key, by hour, oldest first: the valid ones, the\n"+
			"ones refused for the rate limit or for no uses left, and the other refusals. Hours\n"+
			"without use are left out; the server keeps 30 days.", "KEY")
	c.userKeyFlags.register(&c.adminSession, fs)
	fs.Var(timeFlag{&c.From, time.Now}, "from", "from T: RFC 3339, or a duration ago like 24h (default 30 days ago)")
	fs.Var(timeFlag{&c.To, time.Now}, "to", "to T, not included: RFC 3339, or a duration ago (default now)")
	c.jsonFlag.register(fs, "print a JSON array")
	return c.run(fs, args, func(a *client.Admin, pos []string) error {
		usage, err := a.Users(c.App).APIKeyUsage(ctx, c.User, pos[0], c.From, c.To)
		if err != nil {
			return err
		}
		return printUsage(c.Stdout, usage, c.JSON)
	})
}

// printUsage lists hourly counts: a JSON array with --json, else a table.
func printUsage(w io.Writer, usage []client.KeyUsage, asJSON bool) error {
	head := []string{"HOUR", "VALID", "RATE LIMITED", "USAGE EXCEEDED", "OTHER"}
	return printList(w, usage, asJSON, "No use in this time.", head, func(u client.KeyUsage) []string {
		return []string{formatTime(&u.Time, "-"), strconv.FormatInt(u.Valid, 10), strconv.FormatInt(u.RateLimited, 10),
			strconv.FormatInt(u.UsageExceeded, 10), strconv.FormatInt(u.Other, 10)}
	})
}

// printKeyLimits adds a key's limits to its name/value lines, those that are set.
func printKeyLimits(tw *tabwriter.Writer, k client.APIKey) {
	if k.RateLimit != nil {
		fmt.Fprintf(tw, "ratelimit\t%s\n", formatRateLimit(k.RateLimit))
	}
	if k.Remaining != nil {
		fmt.Fprintf(tw, "remaining\t%s\n", formatRemaining(k.Remaining))
	}
	if k.Refill != nil {
		fmt.Fprintf(tw, "refill\t%s\n", formatRefill(k.Refill))
	}
	if k.Meta != nil {
		fmt.Fprintf(tw, "meta\t%s\n", formatMeta(k.Meta))
	}
}

// hasLimits reports whether any of keys has a limit or meta, so that the key table shows
// those columns.
func hasLimits(keys []client.APIKey) bool {
	for _, k := range keys {
		if k.RateLimit != nil || k.Remaining != nil || k.Refill != nil || k.Meta != nil {
			return true
		}
	}
	return false
}
