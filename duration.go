package latchkey

import (
	"strconv"
	"time"
)

// FormatDuration writes a length of time the way the CLI and the console show it: in whole
// days, hours or minutes when it is one (60d, 12h, 30m), else as Go writes it (1m30s).
// Days are what key and token lifetimes are counted in, and Go's durations lack them.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return d.String()
}
