package latchkey_test

import (
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestNewID(t *testing.T) {
	now := time.Now()
	var ids []string
	for range 1000 {
		id := latchkey.NewID(now)
		if !latchkey.IsID(id) {
			t.Fatalf("NewID() = %q, not 24 lowercase hex", id)
		}
		ids = append(ids, id)
	}
	if !slices.IsSorted(ids) {
		t.Fatal("ids made in one second by one process do not sort in creation order")
	}
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatal("NewID repeated an id")
	}
}

func TestIsID(t *testing.T) {
	for s, want := range map[string]bool{
		"65a0c0ffee0000000000c001":  true,
		"65A0C0FFEE0000000000C001":  false,
		"65a0c0ffee0000000000c00":   false,
		"65a0c0ffee0000000000c0011": false,
		"65a0c0ffee0000000000c00g":  false,
		"":                          false,
	} {
		if got := latchkey.IsID(s); got != want {
			t.Errorf("IsID(%q) = %v, want %v", s, got, want)
		}
	}
}
