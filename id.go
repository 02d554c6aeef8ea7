package latchkey

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"sync"
	"sync/atomic"
	"time"
)

// processID and idCounter are drawn once per process, as for MongoDB ObjectIds: ids made by
// one process then sort by creation time, also within one second.
var (
	processID = sync.OnceValue(func() (b [5]byte) {
		var seed [4]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic("latchkey: crypto/rand failed: " + err.Error())
		}
		rand.Read(seed[:])
		idCounter.Store(binary.BigEndian.Uint32(seed[:]) & 0x7fffff)
		return b
	})
	idCounter atomic.Uint32
)

// NewID returns a new 24-hex identifier laid out like a MongoDB ObjectId: four bytes of Unix
// seconds, five random bytes fixed per process, and a three-byte counter.
func NewID(now time.Time) string {
	var b [12]byte
	binary.BigEndian.PutUint32(b[0:4], uint32(now.Unix()))
	pid := processID()
	copy(b[4:9], pid[:])
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
