package service

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/latchkey/latchkey"
)

// MinSecretKeyLen is the shortest secret key that Config.SecretKey takes: 256 bits when the
// secret is random bytes, and more when it is text.
const MinSecretKeyLen = 32

// sealPrefix opens every sealed signing key: the format and its version, so that a later
// format can be told apart and a plaintext key from an older Latchkey (PKCS #8 DER begins
// 0x30, an HMAC key is random) is recognized for its upgrade.
var sealPrefix = []byte("lk-sealed-v1:")

// sealInfo is HKDF's info: the key it derives serves only to seal signing keys.
const sealInfo = "latchkey signing-key encryption v1"

// keySealer encrypts signing keys at rest with AES-256-GCM, under a key derived by
// HKDF-SHA256 from the server's secret key, as Ory Hydra does with its system secret. The
// key's id and algorithm are the associated data, so that sealed material moved to another
// row does not open.
type keySealer struct {
	aead cipher.AEAD
}

func newKeySealer(secret []byte) (*keySealer, error) {
	if len(secret) < MinSecretKeyLen {
		return nil, fmt.Errorf("service: the secret key that encrypts the signing keys must be at least %d bytes", MinSecretKeyLen)
	}
	key, err := hkdf.Key(sha256.New, secret, nil, sealInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("service: derive the key-encryption key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &keySealer{aead: aead}, nil
}

// isSealed tells sealed material from the plaintext that older versions stored.
func isSealed(material []byte) bool {
	return bytes.HasPrefix(material, sealPrefix)
}

func sealAD(k *latchkey.SigningKey) []byte {
	return []byte("latchkey signing key\x00" + k.ID + "\x00" + k.Algorithm)
}

// seal returns plain sealed for the key k: the prefix, a random nonce, the ciphertext.
func (s *keySealer) seal(k *latchkey.SigningKey, plain []byte) []byte {
	return s.sealData(sealAD(k), plain)
}

// sealData returns plain sealed with the associated data ad, which must be given again to
// open it: the prefix, a random nonce, the ciphertext.
func (s *keySealer) sealData(ad, plain []byte) []byte {
	out := make([]byte, 0, len(sealPrefix)+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out = append(out, sealPrefix...)
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	out = append(out, nonce...)
	return s.aead.Seal(out, nonce, plain, ad)
}

// openData opens what sealData sealed with ad.
func (s *keySealer) openData(ad, sealed []byte) ([]byte, error) {
	if !isSealed(sealed) || len(sealed) < len(sealPrefix)+s.aead.NonceSize() {
		return nil, errWrongSecret
	}
	rest := sealed[len(sealPrefix):]
	plain, err := s.aead.Open(nil, rest[:s.aead.NonceSize()], rest[s.aead.NonceSize():], ad)
	if err != nil {
		return nil, errWrongSecret
	}
	return plain, nil
}

// errWrongSecret is why a sealed key does not open: another secret sealed it, or the row
// was altered.
var errWrongSecret = errors.New("it does not decrypt with this secret key: start with the secret key (--secret-key-file or LATCHKEY_SECRET_KEY) that this database was set up with")

// open returns k's key material in the clear. Plaintext from older versions passes as it is.
func (s *keySealer) open(k *latchkey.SigningKey) ([]byte, error) {
	if !isSealed(k.PrivateKey) {
		return k.PrivateKey, nil
	}
	plain, err := s.openData(sealAD(k), k.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", k.ID, err)
	}
	return plain, nil
}

// OpenSigningKey returns the key material of a signing key as the store holds it, decrypted
// with the server's secret key: for tools and tests that need the key itself.
func OpenSigningKey(secret []byte, k *latchkey.SigningKey) ([]byte, error) {
	s, err := newKeySealer(secret)
	if err != nil {
		return nil, err
	}
	return s.open(k)
}
