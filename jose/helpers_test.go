package jose_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/jose"
)

// t0 is the tests' time; clocks start there.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is an injected clock that moves only when told.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: t0} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// rsaKeys are three RSA keys, made once: making them is the slow part of the tests.
var rsaKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	var keys []*rsa.PrivateKey
	for range 3 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys = append(keys, k)
	}
	return keys
})

func key(i int) *rsa.PrivateKey { return rsaKeys()[i] }

func pemPKIX(t *testing.T, pub *rsa.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func pemPKCS1(pub *rsa.PublicKey) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(pub)}))
}

func pemCert(t *testing.T, priv *rsa.PrivateKey) string {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "issuer.example.com"},
		NotBefore:    t0.Add(-time.Hour),
		NotAfter:     t0.Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// claims are a valid token's claims at t0; edit them with the given functions.
func claims(edits ...func(jwt.MapClaims)) jwt.MapClaims {
	c := jwt.MapClaims{"sub": "user-1", "iat": t0.Unix(), "exp": t0.Add(time.Hour).Unix()}
	for _, edit := range edits {
		edit(c)
	}
	return c
}

// sign returns a token signed with method and key, with the key id kid when not empty.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signRS256 signs the claims with RSA key i, with the key id "k<i>" when withKid.
func signRS256(t *testing.T, i int, withKid bool, c jwt.MapClaims) string {
	t.Helper()
	kid := ""
	if withKid {
		kid = kidOf(i)
	}
	return sign(t, jwt.SigningMethodRS256, key(i), kid, c)
}

func kidOf(i int) string { return "k" + string(rune('0'+i)) }

// jwkOf is RSA key i as a JWK with the key id "k<i>"; edits change its fields.
func jwkOf(i int, edits ...func(map[string]any)) map[string]any {
	pub := key(i).PublicKey
	k := map[string]any{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": kidOf(i),
		"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
	for _, edit := range edits {
		edit(k)
	}
	return k
}

// jwkServer serves a JWK set over loopback and counts the requests for it.
type jwkServer struct {
	*httptest.Server
	requests atomic.Int64

	mu     sync.Mutex
	body   []byte
	status int
	accept string // of the last request
	hang   chan struct{}
	gate   chan struct{} // when set, requests wait for it to close
}

func newJWKServer(t *testing.T, keys ...map[string]any) *jwkServer {
	t.Helper()
	s := &jwkServer{status: http.StatusOK, hang: make(chan struct{})}
	s.setKeys(t, keys...)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	// Cleanups run last first: the hanging handlers let go before the server closes.
	t.Cleanup(s.Close)
	t.Cleanup(func() { close(s.hang) })
	return s
}

func (s *jwkServer) serve(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	body, status, gate := s.body, s.status, s.gate
	s.accept = r.Header.Get("Accept")
	s.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if status == 0 { // hang
		select {
		case <-s.hang:
		case <-r.Context().Done():
		}
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(body)
}

func (s *jwkServer) setKeys(t *testing.T, keys ...map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	s.set(http.StatusOK, body)
}

// set makes the server answer with status and body; status 0 hangs.
func (s *jwkServer) set(status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func newVerifier(c *clock, edits ...func(*jose.Config)) *jose.Verifier {
	cfg := jose.Config{Now: c.Now}
	for _, edit := range edits {
		edit(&cfg)
	}
	return jose.New(cfg)
}

// mustVerify verifies a token that must pass, and returns its claims.
func mustVerify(t *testing.T, v *jose.Verifier, token string, check latchkey.TokenCheck) map[string]any {
	t.Helper()
	got, err := v.VerifyToken(t.Context(), token, check)
	if err != nil {
		t.Fatalf("VerifyToken: %v", err)
	}
	return got
}

// wantRefused verifies a token that must be refused with EUnauthorized and the message.
func wantRefused(t *testing.T, v *jose.Verifier, token string, check latchkey.TokenCheck, msg string) {
	t.Helper()
	got, err := v.VerifyToken(t.Context(), token, check)
	if err == nil {
		t.Fatalf("VerifyToken = %v, want refused with %q", got, msg)
	}
	if code := latchkey.ErrorCode(err); code != latchkey.EUnauthorized {
		t.Fatalf("code = %q (%v), want %q", code, err, latchkey.EUnauthorized)
	}
	if got, want := latchkey.ErrorMessage(err), "invalid custom auth token: "+msg; got != want {
		t.Fatalf("message = %q, want %q", got, want)
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Fatalf("the error holds the token: %v", err)
	}
}

// waitBlocked waits until n goroutines are blocked inside VerifyToken or finished with it.
func waitBlocked(t *testing.T, n int, finished *atomic.Int64) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for {
		blocked := 0
		for g := range strings.SplitSeq(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			head := strings.SplitN(g, "\n", 2)[0]
			if strings.Contains(g, "jose.(*Verifier).VerifyToken") && !strings.Contains(head, "[running") && !strings.Contains(head, "[runnable") {
				blocked++
			}
		}
		if blocked+int(finished.Load()) >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
