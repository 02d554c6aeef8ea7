package jose

import (
	"container/list"
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// setCache holds the fetched JWK sets by URL, the most recently used first.
type setCache struct {
	ttl time.Duration
	max int

	mu   sync.Mutex
	sets map[string]*list.Element // of *keySet
	lru  *list.List
}

// keySet is one URL's set: the keys of its last good fetch, and the fetch under way.
type keySet struct {
	url       string
	keys      []jwk
	expires   time.Time // when keys go stale; zero before the first good fetch
	lastFetch time.Time // when the last fetch started, good or not
	inflight  *fetch
}

// fetch is one request for a set, which every caller that needs the set meanwhile waits for.
type fetch struct {
	done chan struct{}
	keys []jwk // set before done closes
	err  error
}

// jwk is an RSA signing key of a set.
type jwk struct {
	kid string
	key *rsa.PublicKey
}

func newSetCache(ttl time.Duration, max int) *setCache {
	return &setCache{ttl: ttl, max: max, sets: make(map[string]*list.Element), lru: list.New()}
}

// get returns url's entry, made if need be, as the most recently used; the least recently
// used goes when there are too many. It needs c.mu.
func (c *setCache) get(url string) *keySet {
	if e, ok := c.sets[url]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*keySet)
	}
	s := &keySet{url: url}
	c.sets[url] = c.lru.PushFront(s)
	for c.lru.Len() > c.max {
		old := c.lru.Back()
		c.lru.Remove(old)
		delete(c.sets, old.Value.(*keySet).url)
	}
	return s
}

// setKeys returns the keys of the set at url that may have signed a token with the key id
// kid (every key when kid is empty). It fetches the set when it is not cached or stale, or
// when kid is unknown and the set was not fetched within RefetchInterval. The caller waits
// for a fetch no longer than ctx allows; the fetch itself runs for up to FetchTimeout, so that
// the callers who share it get its result.
func (v *Verifier) setKeys(ctx context.Context, url, kid string) ([]*rsa.PublicKey, error) {
	c := v.sets
	now := v.now()
	c.mu.Lock()
	s := c.get(url)
	if now.Before(s.expires) {
		if keys := match(s.keys, kid); len(keys) > 0 {
			c.mu.Unlock()
			return keys, nil
		}
		if s.inflight == nil && now.Sub(s.lastFetch) < RefetchInterval {
			c.mu.Unlock()
			return nil, refuse("unknown key id")
		}
	}
	f := s.inflight
	if f == nil {
		f = &fetch{done: make(chan struct{})}
		s.inflight, s.lastFetch = f, now
		go v.runFetch(context.WithoutCancel(ctx), s, f)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, refuse("could not fetch the JWK set: " + reason(ctx.Err()))
	}
	if f.err != nil {
		return nil, refuse("could not fetch the JWK set: " + f.err.Error())
	}
	keys := match(f.keys, kid)
	if len(keys) == 0 {
		return nil, refuse("unknown key id")
	}
	return keys, nil
}

// runFetch fetches s's set and keeps it when it is good; a set fetched before stays until it
// goes stale otherwise.
func (v *Verifier) runFetch(ctx context.Context, s *keySet, f *fetch) {
	ctx, cancel := context.WithTimeout(ctx, v.fetchTimeout)
	defer cancel()
	keys, err := v.fetchSet(ctx, s.url)
	if err != nil {
		v.logger.WarnContext(ctx, "fetch JWK set", "url", s.url, "err", err)
	}
	c := v.sets
	c.mu.Lock()
	s.inflight = nil
	if err == nil {
		s.keys, s.expires = keys, v.now().Add(c.ttl)
	}
	c.mu.Unlock()
	f.keys, f.err = keys, err
	close(f.done)
}

// match returns the keys with the key id kid, or every key when kid is empty.
func match(keys []jwk, kid string) []*rsa.PublicKey {
	var out []*rsa.PublicKey
	for _, k := range keys {
		if kid == "" || k.kid == kid {
			out = append(out, k.key)
		}
	}
	return out
}

// fetchSet gets and parses the set at url. Its errors are short reasons, fit for a caller.
func (v *Verifier) fetchSet(ctx context.Context, url string) ([]jwk, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, errors.New("bad URL")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errors.New(reason(ctx.Err()))
		}
		return nil, errors.New("request failed")
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSetBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, errors.New(reason(ctx.Err()))
		}
		return nil, errors.New("reading the body failed")
	}
	if len(body) > MaxSetBytes {
		return nil, errors.New("the set is larger than 256 KiB")
	}
	return parseSet(body)
}

func reason(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return "canceled"
}

// parseSet returns a set's RSA signing keys for RS256; it skips any other key, and any key
// it cannot read.
func parseSet(body []byte) ([]jwk, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, errors.New("not a JWK set")
	}
	var keys []jwk
	for _, raw := range set.Keys {
		var k struct {
			Kty string `json:"kty"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			Kid string `json:"kid"`
			N   string `json:"n"`
			E   string `json:"e"`
		}
		if json.Unmarshal(raw, &k) != nil || k.Kty != "RSA" ||
			(k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != latchkey.AlgRS256) {
			continue
		}
		pub, err := rsaKey(k.N, k.E)
		if err != nil {
			continue
		}
		keys = append(keys, jwk{kid: k.Kid, key: pub})
	}
	if len(keys) == 0 {
		return nil, errors.New("no usable keys")
	}
	return keys, nil
}

// rsaKey makes an RSA public key of a JWK's modulus and exponent (unpadded base64url,
// big-endian).
func rsaKey(n, e string) (*rsa.PublicKey, error) {
	nb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(n, "="))
	if err != nil {
		return nil, err
	}
	eb, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e, "="))
	if err != nil {
		return nil, err
	}
	N, E := new(big.Int).SetBytes(nb), new(big.Int).SetBytes(eb)
	if N.BitLen() < MinRSABits {
		return nil, errors.New("modulus too short")
	}
	if !E.IsInt64() || E.Int64() < 3 || E.Int64() > 1<<31-1 || E.Bit(0) == 0 {
		return nil, errors.New("bad exponent")
	}
	return &rsa.PublicKey{N: N, E: int(E.Int64())}, nil
}
