package latchkey

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync/atomic"
	"time"
)

var idCounter atomic.Uint32

// NewID returns a new 24-hex identifier laid out like a MongoDB ObjectId: four bytes of Unix
// seconds, five random bytes, and a three-byte counter, so ids sort by creation time.
func NewID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(now.Unix()))
	if _, err := rand.Read(b[4:9]); err != nil {
		panic("latchkey: crypto/rand failed: " + err.Error())
	}
	c := idCounter.Add(1)
	b[9], b[10], b[11] = byte(c>>16), byte(c>>8), byte(c)
	return hex.EncodeToString(b[:])
}

// ZeroID is the id that means "none", as the Realm SDKs use it for device ids.
const ZeroID = "000000000000000000000000"

// IsID reports whether s is a well-formed id: exactly 24 lowercase hex characters.
func IsID(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
