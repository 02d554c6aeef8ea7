package ui

import (
	"encoding/json"
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func hour(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestUsageWindow: the chart's hours run from 00:00 UTC six days before today to 00:00 UTC
// tomorrow, whatever the time zone of now.
func TestUsageWindow(t *testing.T) {
	now := time.Date(2026, 12, 5, 1, 30, 0, 0, time.FixedZone("UTC+3", 3*3600)) // 2026-12-04 22:30 UTC
	from, to := usageWindow(now, 7)
	if !from.Equal(hour("2026-11-28T00:00:00Z")) || !to.Equal(hour("2026-12-05T00:00:00Z")) {
		t.Fatalf("window = [%s, %s), want [2026-11-28, 2026-12-05)", from, to)
	}
}

// TestSumDays: hours are summed into their UTC days, one entry a day oldest first with the
// days without use, hours outside the days left out, and a sum past the largest int64 stops
// there.
func TestSumDays(t *testing.T) {
	from := day("2026-11-29")
	usage := []latchkey.KeyUsage{
		{Hour: hour("2026-11-28T23:00:00Z"), Valid: 1000}, // the day before: left out
		{Hour: hour("2026-11-29T00:00:00Z"), Valid: 1, RateLimited: 2},
		{Hour: hour("2026-11-29T23:00:00Z"), Valid: 10, UsageExceeded: 3, Other: 4},
		{Hour: hour("2026-12-02T12:00:00Z"), Valid: math.MaxInt64},
		{Hour: hour("2026-12-02T13:00:00Z"), Valid: 5, Other: 7},
		{Hour: hour("2026-12-05T23:00:00Z"), RateLimited: 9},
		{Hour: hour("2026-12-06T00:00:00Z"), Valid: 1000}, // the day after: left out
	}
	got := sumDays(usage, from, 7)
	want := []dayUsage{
		{Day: day("2026-11-29"), Valid: 11, RateLimited: 2, UsageExceeded: 3, Other: 4},
		{Day: day("2026-11-30")},
		{Day: day("2026-12-01")},
		{Day: day("2026-12-02"), Valid: math.MaxInt64, Other: 7},
		{Day: day("2026-12-03")},
		{Day: day("2026-12-04")},
		{Day: day("2026-12-05"), RateLimited: 9},
	}
	if len(got) != len(want) {
		t.Fatalf("%d days, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Day.Equal(want[i].Day) || got[i].Valid != want[i].Valid || got[i].RateLimited != want[i].RateLimited ||
			got[i].UsageExceeded != want[i].UsageExceeded || got[i].Other != want[i].Other {
			t.Errorf("day %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// svgRect is a bar's part as the chart draws it.
type svgRect struct {
	class     string
	y, height float64
	count     string
}

// chartOf reads a chart's HTML as XML (which it must be), and returns the parts of each
// day's bar by day, the text of each day's <title>, the total above each bar, the table's
// rows (day, then the cells) and every text it holds.
func chartOf(t *testing.T, html string) (bars map[string][]svgRect, titles, totals map[string]string, rows map[string][]string, text string) {
	t.Helper()
	bars, titles, totals, rows = map[string][]svgRect{}, map[string]string{}, map[string]string{}, map[string][]string{}
	dec := xml.NewDecoder(strings.NewReader(html))
	var stack []xml.StartElement
	var day, row string
	var all strings.Builder
	attr := func(e xml.StartElement, name string) string {
		for _, a := range e.Attr {
			if a.Name.Local == name {
				return a.Value
			}
		}
		return ""
	}
	float := func(s string) float64 {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			t.Fatalf("coordinate %q is not a number", s)
		}
		return f
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the chart is not well-formed: %v\n%s", err, html)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			stack = append(stack, tok)
			switch tok.Name.Local {
			case "g":
				day = attr(tok, "data-day")
			case "tr":
				row = attr(tok, "data-day")
			case "rect":
				bars[day] = append(bars[day], svgRect{attr(tok, "class"), float(attr(tok, "y")), float(attr(tok, "height")), attr(tok, "data-count")})
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			s := string(tok)
			all.WriteString(s + "\n")
			top := stack[len(stack)-1]
			switch {
			case top.Name.Local == "title" && len(stack) > 1 && stack[len(stack)-2].Name.Local == "g":
				titles[day] = s
			case top.Name.Local == "text" && attr(top, "class") == "bar-total":
				totals[day] = s
			case (top.Name.Local == "td" || top.Name.Local == "th") && row != "" && len(stack) > 1 && stack[len(stack)-2].Name.Local == "tr":
				rows[row] = append(rows[row], s)
			}
		}
	}
	return bars, titles, totals, rows, all.String()
}

func weekFrom(start string, counts ...[4]int64) []dayUsage {
	days := make([]dayUsage, 7)
	for i := range days {
		days[i].Day = day(start).AddDate(0, 0, i)
		if i < len(counts) {
			c := counts[i]
			days[i].Valid, days[i].RateLimited, days[i].UsageExceeded, days[i].Other = c[0], c[1], c[2], c[3]
		}
	}
	return days
}

// TestUsageChartDays: one bar a day, stacked bottom up valid, rate limited, usage exceeded,
// other, each part as tall as its share of the busiest day, with the day's numbers in the
// bar's title, above it, and in the table; a day without calls has no bar but a row.
func TestUsageChartDays(t *testing.T) {
	days := weekFrom("2026-11-29",
		[4]int64{120, 3, 0, 1}, // 124 calls: the busiest
		[4]int64{},
		[4]int64{31, 0, 0, 0},
		[4]int64{0, 0, 62, 0},
	)
	html := string(usageChart("6b08", "Verify calls of ci", days))
	bars, titles, totals, rows, _ := chartOf(t, html)

	const plot = chartBaseY - chartTop
	first := bars["2026-11-29"]
	if len(first) != 3 {
		t.Fatalf("the first day's bar has %d parts, want 3 (the outcome with no calls has none): %+v", len(first), first)
	}
	wantParts := []struct {
		class string
		count int64
	}{{"valid", 120}, {"rate-limited", 3}, {"other", 1}}
	bottom := float64(chartBaseY)
	for i, w := range wantParts {
		p := first[i]
		if p.class != w.class || p.count != strconv.FormatInt(w.count, 10) {
			t.Errorf("part %d = %s %s, want %s %d", i, p.class, p.count, w.class, w.count)
		}
		if want := float64(w.count) / 124 * plot; math.Abs(p.height-max(want, chartMinSize)) > 0.01 {
			t.Errorf("part %s is %.2f tall, want %.2f", p.class, p.height, want)
		}
		if math.Abs(p.y+p.height-bottom) > 0.01 {
			t.Errorf("part %s ends at %.2f, want it on the part below, at %.2f", p.class, p.y+p.height, bottom)
		}
		bottom = p.y
	}
	if third := bars["2026-12-01"]; len(third) != 1 || math.Abs(third[0].height-float64(plot)/4) > 0.01 {
		t.Errorf("the third day (31 of 124 calls) = %+v, want one part a quarter of %d tall", third, plot)
	}
	if fourth := bars["2026-12-02"]; len(fourth) != 1 || fourth[0].class != "usage-exceeded" || math.Abs(fourth[0].height-float64(plot)/2) > 0.01 {
		t.Errorf("the fourth day (62 usage exceeded) = %+v, want one usage-exceeded part half of %d tall", fourth, plot)
	}
	if len(bars["2026-11-30"]) != 0 || totals["2026-11-30"] != "" {
		t.Errorf("a day without calls has a bar %+v or a total %q", bars["2026-11-30"], totals["2026-11-30"])
	}
	if got, want := titles["2026-11-29"], "2026-11-29: 124 calls: 120 valid, 3 rate limited, 0 usage exceeded, 1 other"; got != want {
		t.Errorf("the first bar's title = %q, want %q", got, want)
	}
	if totals["2026-11-29"] != "124" || totals["2026-12-02"] != "62" {
		t.Errorf("totals above the bars = %v, want 124 and 62", totals)
	}
	if len(titles) != 7 || len(rows) != 7 {
		t.Errorf("%d bar titles and %d table rows, want one of each a day", len(titles), len(rows))
	}
	if got, want := strings.Join(rows["2026-11-29"], " "), "2026-11-29 120 3 0 1 124"; got != want {
		t.Errorf("the first day's row = %q, want %q", got, want)
	}
	if got, want := strings.Join(rows["2026-11-30"], " "), "2026-11-30 0 0 0 0 0"; got != want {
		t.Errorf("an unused day's row = %q, want %q", got, want)
	}
	for _, want := range []string{`role="img"`, `aria-labelledby="usage-6b08-title usage-6b08-desc"`, `<desc id="usage-6b08-desc">2026-11-29: 124 calls: 120 valid`} {
		if !strings.Contains(html, want) {
			t.Errorf("the chart lacks %s", want)
		}
	}
}

// TestUsageChartEmpty: a week without a call shows a sentence, no chart and no table.
func TestUsageChartEmpty(t *testing.T) {
	html := string(usageChart("6b08", "Verify calls of ci", weekFrom("2026-11-29")))
	_, _, _, _, text := chartOf(t, html)
	if !strings.Contains(text, "No verify calls in the last 7 days.") {
		t.Errorf("the empty chart says %q", text)
	}
	if strings.Contains(html, "<svg") || strings.Contains(html, "<table") {
		t.Errorf("the empty chart draws a chart or a table:\n%s", html)
	}
}

// TestUsageChartHugeCount: counts near the largest int64 give finite bars of the plot's
// height, an exact total past int64 in the title and the table, and a short total above the
// bar; a small count next to them still shows.
func TestUsageChartHugeCount(t *testing.T) {
	days := weekFrom("2026-11-29",
		[4]int64{math.MaxInt64, math.MaxInt64, math.MaxInt64, math.MaxInt64},
		[4]int64{1, 0, 0, 0},
	)
	bars, titles, totals, rows, _ := chartOf(t, string(usageChart("k", "ci", days)))
	var sum float64
	for _, p := range bars["2026-11-29"] {
		sum += p.height
	}
	if math.Abs(sum-(chartBaseY-chartTop)) > 0.01 {
		t.Errorf("the busiest bar is %.2f tall, want %d", sum, chartBaseY-chartTop)
	}
	const total = "36893488147419103228" // 4 × (2^63 - 1)
	if !strings.HasPrefix(titles["2026-11-29"], "2026-11-29: "+total+" calls: 9223372036854775807 valid") {
		t.Errorf("title = %q, want the exact total %s", titles["2026-11-29"], total)
	}
	if r := rows["2026-11-29"]; len(r) != 6 || r[5] != total {
		t.Errorf("row = %q, want the total %s last", r, total)
	}
	if totals["2026-11-29"] != "36.9E" {
		t.Errorf("total above the bar = %q, want 36.9E", totals["2026-11-29"])
	}
	if small := bars["2026-11-30"]; len(small) != 1 || small[0].height != chartMinSize {
		t.Errorf("a day of 1 call next to the huge one = %+v, want a part %v tall", small, chartMinSize)
	}
}

// TestCompact: the totals above the bars stay short.
func TestCompact(t *testing.T) {
	for n, want := range map[float64]string{
		0: "0", 999: "999", 1000: "1k", 1234: "1.2k", 999_949: "999.9k", 999_950: "1M", 3_400_000: "3.4M",
		math.MaxInt64: "9.2E",
	} {
		if got := compact(n); got != want {
			t.Errorf("compact(%v) = %q, want %q", n, got, want)
		}
	}
}

// TestUsageChartEscapes: the label and the id cannot add markup or break out of an
// attribute.
func TestUsageChartEscapes(t *testing.T) {
	label := `ci <script>alert(1)</script> & "quoted" 'x'`
	html := string(usageChart(`a"b><x`, label, weekFrom("2026-11-29", [4]int64{1, 0, 0, 0})))
	if strings.Contains(html, "<script") || strings.Contains(html, `"quoted"`) {
		t.Fatalf("the label is not escaped:\n%s", html)
	}
	if !strings.Contains(html, `id="usage-abx"`) {
		t.Errorf("the id is not reduced to letters and digits:\n%s", html)
	}
	_, _, _, _, text := chartOf(t, html)
	if !strings.Contains(text, label) {
		t.Errorf("the label does not read as written; the text is\n%s", text)
	}
	empty := string(usageChart("k", label, weekFrom("2026-11-29")))
	if strings.Contains(empty, "<script") {
		t.Fatalf("the empty chart's label is not escaped:\n%s", empty)
	}
}

// TestLimitsForm: saving the form changes only the limits that differ from what the page
// showed (so that the remaining uses verify calls took meanwhile are not given back), an
// emptied limit is removed, and an unreadable field is named.
func TestLimitsForm(t *testing.T) {
	rem := int64(990)
	key := &latchkey.APIKey{
		RateLimit: &latchkey.KeyRateLimit{Limit: 100, Duration: 1500 * time.Millisecond},
		Remaining: &rem, Refill: &latchkey.KeyRefill{Amount: 1000, Interval: latchkey.RefillDaily},
		Meta: []byte(`{"plan":"pro"}`),
	}
	shown := newLimitsForm(key)
	if want := (limitsForm{"100", "1.5", "990", "1000", "daily", "{\n  \"plan\": \"pro\"\n}"}); shown != want {
		t.Fatalf("form = %+v, want %+v", shown, want)
	}

	t.Run("Unchanged", func(t *testing.T) {
		sent := shown
		sent.Meta = `{"plan": "pro"}` // the same JSON, written otherwise
		l, msg := sent.limits(shown)
		if msg != "" || !noChange(l) {
			t.Fatalf("limits = %+v, %q; want no change", l, msg)
		}
	})
	t.Run("OneChanged", func(t *testing.T) {
		sent := shown
		sent.RateLimit, sent.Window = "50", "60"
		l, msg := sent.limits(shown)
		if msg != "" || l.Remaining != nil || l.Refill != nil || l.Meta != nil {
			t.Fatalf("limits = %+v, %q; want only the rate limit", l, msg)
		}
		if rl := *l.RateLimit; rl == nil || rl.Limit != 50 || rl.Duration != time.Minute {
			t.Fatalf("rate limit = %+v, want 50 per 1m", rl)
		}
	})
	t.Run("Removed", func(t *testing.T) {
		l, msg := limitsForm{RefillInterval: "daily"}.limits(shown)
		if msg != "" || l.RateLimit == nil || *l.RateLimit != nil || l.Remaining == nil || *l.Remaining != nil ||
			l.Refill == nil || *l.Refill != nil || l.Meta == nil || *l.Meta != nil {
			t.Fatalf("limits = %+v, %q; want every limit removed", l, msg)
		}
	})
	t.Run("Refused", func(t *testing.T) {
		for _, f := range []limitsForm{
			{RateLimit: "10"}, {RateLimit: "ten", Window: "1"}, {RateLimit: "10", Window: "NaN"}, {RateLimit: "10", Window: "0.5"}, {RateLimit: "10", Window: "86401"}, {Remaining: "1e3"},
			{RefillAmount: "x", RefillInterval: "daily"}, {Meta: "{plan"},
		} {
			if _, msg := f.limits(limitsForm{}); msg == "" {
				t.Errorf("form %+v is taken", f)
			}
		}
	})
}

// TestMetaText: meta shows indented, with a hidden rune written as a JSON escape, so that
// the text shows it and still reads as the same JSON.
func TestMetaText(t *testing.T) {
	meta := json.RawMessage("{\"plan\":\"pro\u202Egpj.exe\",\"n\":[1,2]}")
	got := metaText(meta)
	want := "{\n  \"plan\": \"pro\\u202egpj.exe\",\n  \"n\": [\n    1,\n    2\n  ]\n}"
	if got != want {
		t.Fatalf("metaText = %q, want %q", got, want)
	}
	if !sameJSON(got, string(meta)) {
		t.Fatalf("%s is not the same JSON as %s", got, meta)
	}
}
