package latchkey_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestFormatDuration(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{60 * 24 * time.Hour, "60d"},
		{24 * time.Hour, "1d"},
		{12 * time.Hour, "12h"},
		{36 * time.Hour, "36h"},
		{30 * time.Minute, "30m"},
		{90 * time.Minute, "90m"},
		{90 * time.Second, "1m30s"},
		{0, "0s"},
	} {
		if got := latchkey.FormatDuration(tt.d); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}
