package latchkey

import (
	"crypto/rand"
	"crypto/sha256"
	"hash/crc32"
	"regexp"
	"strings"
)

// Key values look like GitHub's and Stripe's tokens, so that people and secret scanners can
// recognise them: <prefix>_<32 random base62 characters><6 base62 characters of CRC32>. The
// checksum lets a server, an SDK or a scanner reject a mistyped or made-up key without a
// database lookup; it adds no secrecy.
const (
	DefaultKeyPrefix = "lk"
	keyRandomLen     = 32 // about 190 random bits
	keyChecksumLen   = 6  // 62^6 > 2^32
	base62Alphabet   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	keyStartLen      = 4 // random characters shown in a key's start
)

// KeyPattern matches Latchkey key values, for secret scanners. (Key values made before the
// format existed are 64 base62 characters without a prefix; they still log in.)
const KeyPattern = `\b[a-z]{2,10}_[0-9A-Za-z]{38}\b`

var (
	keyPrefixPattern = regexp.MustCompile(`^[a-z]{2,10}$`)
	legacyKeyPattern = regexp.MustCompile(`^[0-9A-Za-z]{64}$`)
)

// ValidKeyPrefix reports whether p may prefix an app's keys: 2 to 10 lowercase letters.
func ValidKeyPrefix(p string) bool { return keyPrefixPattern.MatchString(p) }

// NewKeyValue returns a new random key value with the prefix.
func NewKeyValue(prefix string) string {
	body := randomBase62(keyRandomLen)
	head := prefix + "_" + body
	return head + keyChecksum(head)
}

// CheckKeyValue reports whether s is a well-formed key value with a correct checksum, or a
// key value of the older 64-character form. It reads nothing but s.
func CheckKeyValue(s string) bool {
	if legacyKeyPattern.MatchString(s) {
		return true
	}
	prefix, rest, ok := strings.Cut(s, "_")
	if !ok || !ValidKeyPrefix(prefix) || len(rest) != keyRandomLen+keyChecksumLen || !isBase62(rest) {
		return false
	}
	head := s[:len(s)-keyChecksumLen]
	return keyChecksum(head) == s[len(s)-keyChecksumLen:]
}

// KeyStart is the part of a key value that may be shown to tell keys apart: the prefix and
// the first few random characters.
func KeyStart(s string) string {
	if prefix, rest, ok := strings.Cut(s, "_"); ok && len(rest) >= keyStartLen {
		return prefix + "_" + rest[:keyStartLen]
	}
	if len(s) >= keyStartLen {
		return s[:keyStartLen]
	}
	return ""
}

// HashKeyValue is how key values are stored and looked up: SHA-256 is right for a random
// secret of this size (no stretching is needed against guessing).
func HashKeyValue(value string) []byte {
	sum := sha256.Sum256([]byte(value))
	return sum[:]
}

func keyChecksum(head string) string {
	n := crc32.ChecksumIEEE([]byte(head))
	var b [keyChecksumLen]byte
	for i := keyChecksumLen - 1; i >= 0; i-- {
		b[i] = base62Alphabet[n%62]
		n /= 62
	}
	return string(b[:])
}

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(base62Alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// randomBase62 draws n base62 characters from crypto/rand without modulo bias.
func randomBase62(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n*2)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			panic("latchkey: crypto/rand failed: " + err.Error())
		}
		for _, b := range buf {
			// 248 = 4*62: values at or above it would favour the first characters.
			if b < 248 && len(out) < n {
				out = append(out, base62Alphabet[b%62])
			}
		}
	}
	return string(out)
}
