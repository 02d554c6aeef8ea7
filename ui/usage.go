package ui

import (
	"html/template"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// A key's usage, as both pages draw it: the verify calls of its last usageDays UTC days, one
// bar a day stacked by outcome, drawn by the server as inline SVG (no script, no font or file
// from elsewhere, nothing the Content-Security-Policy would have to allow), with the numbers
// in the SVG's description and in a table for readers who cannot see it.

// usageDays is how many days the chart shows, today's included.
const usageDays = 7

// dayUsage is a key's verify calls in one UTC day, by outcome.
type dayUsage struct {
	Day                                      time.Time // 00:00 UTC
	Valid, RateLimited, UsageExceeded, Other int64
}

// usageWindow returns the hours [from, to) of the n UTC days that end with now's.
func usageWindow(now time.Time, n int) (from, to time.Time) {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return today.AddDate(0, 0, -(n - 1)), today.AddDate(0, 0, 1)
}

// sumDays sums hourly counts into the n UTC days from from (00:00 UTC), one entry a day,
// oldest first, days without use included. Counts outside those days are left out, and a
// day's count stops at the largest int64 rather than wrap.
func sumDays(usage []latchkey.KeyUsage, from time.Time, n int) []dayUsage {
	days := make([]dayUsage, n)
	for i := range days {
		days[i].Day = from.AddDate(0, 0, i)
	}
	for _, u := range usage {
		h := u.Hour.UTC()
		if h.Before(from) {
			continue
		}
		i := int(h.Sub(from) / (24 * time.Hour))
		if i >= n {
			continue
		}
		d := &days[i]
		d.Valid = addCount(d.Valid, u.Valid)
		d.RateLimited = addCount(d.RateLimited, u.RateLimited)
		d.UsageExceeded = addCount(d.UsageExceeded, u.UsageExceeded)
		d.Other = addCount(d.Other, u.Other)
	}
	return days
}

// addCount adds two counts, stopping at the largest int64; a negative count counts as none.
func addCount(a, b int64) int64 {
	a, b = max(a, 0), max(b, 0)
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// outcomes are the chart's stacked parts, bottom up: the CSS class, the words, the count.
var outcomes = []struct {
	class, words string
	count        func(d *dayUsage) int64
}{
	{"valid", "valid", func(d *dayUsage) int64 { return d.Valid }},
	{"rate-limited", "rate limited", func(d *dayUsage) int64 { return d.RateLimited }},
	{"usage-exceeded", "usage exceeded", func(d *dayUsage) int64 { return d.UsageExceeded }},
	{"other", "other", func(d *dayUsage) int64 { return d.Other }},
}

// total is the day's calls, written out exactly: four counts near the largest int64 add up
// past it.
func (d *dayUsage) total() string {
	var t, c big.Int
	for _, o := range outcomes {
		t.Add(&t, c.SetInt64(max(o.count(d), 0)))
	}
	return t.String()
}

// size is the day's calls as a float, for the bars' scale.
func (d *dayUsage) size() float64 {
	var s float64
	for _, o := range outcomes {
		s += float64(max(o.count(d), 0))
	}
	return s
}

// summary is a day in words: "2026-12-05: 124 calls: 120 valid, 3 rate limited, 0 usage
// exceeded, 1 other".
func (d *dayUsage) summary() string {
	var b strings.Builder
	b.WriteString(d.Day.Format(time.DateOnly) + ": " + d.total() + " calls")
	for i, o := range outcomes {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(strconv.FormatInt(max(o.count(d), 0), 10) + " " + o.words)
	}
	return b.String()
}

// compact writes a count in at most a few characters, for the label above a bar: 999, 1.2k,
// 3.4M, up to 9.2E for the largest int64.
func compact(n float64) string {
	if n < 1000 {
		return strconv.FormatFloat(n, 'f', 0, 64)
	}
	for _, unit := range []string{"k", "M", "G", "T", "P", "E"} {
		n /= 1000
		if n < 999.95 || unit == "E" {
			s := strconv.FormatFloat(n, 'f', 1, 64)
			return strings.TrimSuffix(s, ".0") + unit
		}
	}
	return "" // not reached: the loop ends with "E"
}

// The chart's geometry, in the SVG's own units; the SVG scales to its box.
const (
	chartWidth   = 560
	chartHeight  = 180
	chartColumn  = chartWidth / usageDays
	chartBar     = 44
	chartTop     = 20  // room for the label above the tallest bar
	chartBaseY   = 150 // the bars' foot
	chartLabelY  = 170 // the days' names
	chartMinSize = 1.5 // a part with any calls is at least this tall, so that it shows
)

// usageChart draws days (oldest first) as a figure: a caption, an SVG with one bar a day
// stacked by outcome (its title and description name every number), a legend and a table
// of the numbers; or, when no day had a call, the caption and a sentence saying so. id
// makes the figure's element ids unique on the page; label names what the figure shows.
func usageChart(id, label string, days []dayUsage) template.HTML {
	id = "usage-" + idSafe(id)
	esc := template.HTMLEscapeString
	var peak float64
	for i := range days {
		peak = max(peak, days[i].size())
	}
	var b strings.Builder
	b.WriteString(`<figure class="usage" id="` + id + `">`)
	b.WriteString(`<figcaption>` + esc(label) + `</figcaption>`)
	if peak == 0 {
		b.WriteString(`<p class="usage-empty muted">No verify calls in the last ` + strconv.Itoa(len(days)) + ` days.</p></figure>`)
		return template.HTML(b.String())
	}

	var desc []string
	for i := range days {
		desc = append(desc, days[i].summary())
	}
	b.WriteString(`<svg class="usage-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ` + itoa(chartWidth) + ` ` + itoa(chartHeight) +
		`" role="img" aria-labelledby="` + id + `-title ` + id + `-desc">`)
	b.WriteString(`<title id="` + id + `-title">` + esc(label) + `</title>`)
	b.WriteString(`<desc id="` + id + `-desc">` + esc(strings.Join(desc, "; ")) + `</desc>`)
	b.WriteString(`<line class="axis" x1="0" y1="` + itoa(chartBaseY) + `" x2="` + itoa(chartWidth) + `" y2="` + itoa(chartBaseY) + `"/>`)
	for i := range days {
		d := &days[i]
		x := float64(i*chartColumn + (chartColumn-chartBar)/2)
		mid := float64(i*chartColumn + chartColumn/2)
		b.WriteString(`<g class="day" data-day="` + d.Day.Format(time.DateOnly) + `"><title>` + esc(d.summary()) + `</title>`)
		y := float64(chartBaseY)
		for _, o := range outcomes {
			n := max(o.count(d), 0)
			if n == 0 {
				continue
			}
			h := max(float64(n)/peak*(chartBaseY-chartTop), chartMinSize)
			y -= h
			b.WriteString(`<rect class="` + o.class + `" x="` + num(x) + `" y="` + num(y) + `" width="` + itoa(chartBar) +
				`" height="` + num(h) + `" data-count="` + strconv.FormatInt(n, 10) + `"/>`)
		}
		if size := d.size(); size > 0 {
			b.WriteString(`<text class="bar-total" x="` + num(mid) + `" y="` + num(y-5) + `" text-anchor="middle">` + compact(size) + `</text>`)
		}
		b.WriteString(`<text class="day-name" x="` + num(mid) + `" y="` + itoa(chartLabelY) + `" text-anchor="middle">` +
			d.Day.Format("Jan 2") + `</text></g>`)
	}
	b.WriteString(`</svg>`)

	b.WriteString(`<ul class="legend">`)
	for _, o := range outcomes {
		b.WriteString(`<li><span class="swatch ` + o.class + `" aria-hidden="true"></span>` + o.words + `</li>`)
	}
	b.WriteString(`</ul>`)

	b.WriteString(`<details class="usage-numbers"><summary>Numbers</summary><div class="table-wrap"><table>`)
	b.WriteString(`<caption class="sr-only">` + esc(label) + `</caption>`)
	b.WriteString(`<thead><tr><th scope="col">Day (UTC)</th>`)
	for _, o := range outcomes {
		b.WriteString(`<th scope="col">` + strings.ToUpper(o.words[:1]) + o.words[1:] + `</th>`)
	}
	b.WriteString(`<th scope="col">Total</th></tr></thead><tbody>`)
	for i := range days {
		d := &days[i]
		b.WriteString(`<tr data-day="` + d.Day.Format(time.DateOnly) + `"><th scope="row">` + d.Day.Format(time.DateOnly) + `</th>`)
		for _, o := range outcomes {
			b.WriteString(`<td class="` + o.class + `">` + strconv.FormatInt(max(o.count(d), 0), 10) + `</td>`)
		}
		b.WriteString(`<td class="total">` + d.total() + `</td></tr>`)
	}
	b.WriteString(`</tbody></table></div></details></figure>`)
	return template.HTML(b.String())
}

// idSafe keeps the letters, digits, - and _ of s, for an element id.
func idSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, s)
}

func itoa(n int) string { return strconv.Itoa(n) }

// num writes a coordinate to a hundredth.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }
