package latchkey_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func BenchmarkNewKeyValue(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		latchkey.NewKeyValue(latchkey.DefaultKeyPrefix)
	}
}

func BenchmarkCheckKeyValue(b *testing.B) {
	v := latchkey.NewKeyValue(latchkey.DefaultKeyPrefix)
	b.ReportAllocs()
	for b.Loop() {
		if !latchkey.CheckKeyValue(v) {
			b.Fatal("CheckKeyValue = false")
		}
	}
}

func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		latchkey.NewID(time.Now())
	}
}
