package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/latchkey/latchkey/service"
)

// envSecretKey holds the secret key itself; read from the environment only, so that it
// never shows in a process listing or a config file.
const envSecretKey = "LATCHKEY_SECRET_KEY"

// secretKeyFileName is the secret key's file in the data directory, made on first start
// when no secret key is given (SQLite only).
const secretKeyFileName = "secret.key"

// registerSecret adds --secret-key-file, for the commands that open the signing keys.
func (c *dbConfig) registerSecret(fs *flag.FlagSet) {
	fs.StringVar(&c.SecretKeyFile, "secret-key-file", "", "file whose first line is the secret key (at least 32 bytes) that encrypts the token signing keys; "+
		"or the key itself in "+envSecretKey+"; required for PostgreSQL, the same on every node; default for SQLite <data>/"+secretKeyFileName+", made on first start (LATCHKEY_SECRET_KEY_FILE)")
}

// secretKey returns the secret key that seals the signing keys: LATCHKEY_SECRET_KEY, or
// the first line of --secret-key-file, or for SQLite <data>/secret.key, made 0600 with 32
// random bytes on first start. PostgreSQL refuses to guess: every node must share one key.
func (c *dbConfig) secretKey() ([]byte, error) {
	env, inEnv := os.LookupEnv(envSecretKey)
	switch {
	case inEnv && c.SecretKeyFile != "":
		return nil, fmt.Errorf("secret-key-file and %s are both set: keep one", envSecretKey)
	case inEnv:
		return checkSecretKey([]byte(strings.TrimRight(env, "\r\n")), envSecretKey)
	case c.SecretKeyFile != "":
		return readSecretKey(c.SecretKeyFile)
	case c.isPostgres():
		return nil, fmt.Errorf("a PostgreSQL database needs the secret key that encrypts its signing keys, the same on every node: "+
			"set --secret-key-file or %s (make one with: head -c 32 /dev/urandom | base64 > secret.key)", envSecretKey)
	}
	return c.dataSecretKey()
}

func checkSecretKey(key []byte, from string) ([]byte, error) {
	if len(key) < service.MinSecretKeyLen {
		return nil, fmt.Errorf("the secret key in %s is %d bytes, want at least %d (e.g. head -c 32 /dev/urandom | base64)", from, len(key), service.MinSecretKeyLen)
	}
	return key, nil
}

func readSecretKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("secret-key-file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	return checkSecretKey([]byte(strings.TrimRight(line, "\r")), path)
}

// dataSecretKey reads <data>/secret.key, or makes it: written to a temporary file first and
// linked into place, so that processes starting at once all read the one that won.
func (c *dbConfig) dataSecretKey() ([]byte, error) {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	path := filepath.Join(c.DataDir, secretKeyFileName)
	for _, p := range []string{c.DataDir, path} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return nil, err
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			fix := "chmod 600 "
			if fi.IsDir() {
				fix = "chmod 700 "
			}
			return nil, fmt.Errorf("%s is accessible by group or others (mode %04o): run %s%s", p, perm, fix, p)
		}
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := createSecretKey(path); err != nil {
			return nil, err
		}
	}
	return readSecretKey(path)
}

func createSecretKey(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".secret.key-*") // mode 0600
	if err != nil {
		return fmt.Errorf("make the secret key: %w", err)
	}
	defer os.Remove(tmp.Name())
	key := make([]byte, 32)
	rand.Read(key)
	_, err = tmp.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
			err = nil // another process made it first: use that one
		}
	}
	if err != nil {
		return fmt.Errorf("make the secret key: %w", err)
	}
	return nil
}
