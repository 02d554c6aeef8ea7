package ui

import (
	"testing"
	"time"
)

func TestRetryIn(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "in a minute"},
		{59*time.Second + 999*time.Millisecond, "in a minute"},
		{time.Minute, "in 1 minute"},
		{time.Minute + time.Second, "in 2 minutes"},
		{15 * time.Minute, "in 15 minutes"},
		{15*time.Minute - time.Millisecond, "in 15 minutes"},
	} {
		if got := retryIn(tt.d); got != tt.want {
			t.Errorf("retryIn(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
