// Package smtptest runs a real SMTP server in the test process (github.com/emersion/go-smtp)
// that keeps the messages it receives, with plain, STARTTLS or implicit TLS connections,
// optional AUTH PLAIN, and failures and delays on demand.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Security modes of a Server.
const (
	Plain    = "none"     // no TLS at all
	STARTTLS = "starttls" // plain, offering STARTTLS
	TLS      = "tls"      // TLS from the first byte
)

// Options configure a Server.
type Options struct {
	Security string // Plain (default), STARTTLS or TLS
	// Username and Password, when set, are required with AUTH PLAIN before MAIL FROM.
	Username, Password string
}

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	User string // the authenticated user, if any
	TLS  bool   // whether the connection was encrypted
}

// Parsed returns the message parsed as RFC 5322.
func (m Message) Parsed(t testing.TB) *mail.Message {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("parse message: %v\n%s", err, m.Data)
	}
	return msg
}

// Text returns the decoded text/plain part of a multipart message, or the whole body of a
// single-part one.
func (m Message) Text(t testing.TB) string {
	t.Helper()
	msg := m.Parsed(t)
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mediaType, "multipart/") {
		b, _ := io.ReadAll(msg.Body)
		return string(b)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err != nil {
			t.Fatalf("no text/plain part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			b, _ := io.ReadAll(p)
			return string(b)
		}
	}
}

// Server is a running SMTP server on a loopback port.
type Server struct {
	Host string
	Port int
	// ClientTLS trusts the server's self-signed certificate.
	ClientTLS *tls.Config

	opts     Options
	mu       sync.Mutex
	messages []Message
	arrived  chan struct{}
	failures int           // transient failures still to give at MAIL FROM
	rejectAt string        // a recipient refused for good
	held     chan struct{} // while open, MAIL FROM waits for it to close (Hold)
	waiting  chan struct{} // a token for each MAIL FROM that waits on held
}

// Start starts a server that stops when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{opts: opts, arrived: make(chan struct{}, 1000)}
	cert, pool := selfSigned(t)
	s.ClientTLS = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}

	srv := smtp.NewServer(s)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = discardLogger{}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch opts.Security {
	case STARTTLS:
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	case TLS:
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})
	}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return s
}

// FailNext makes the next n deliveries fail with a transient 451 at MAIL FROM.
func (s *Server) FailNext(n int) {
	s.mu.Lock()
	s.failures = n
	s.mu.Unlock()
}

// Reject makes the server refuse the recipient for good (550).
func (s *Server) Reject(address string) {
	s.mu.Lock()
	s.rejectAt = address
	s.mu.Unlock()
}

// Hold makes every MAIL FROM wait until release is called (or the test ends), as a server
// that stopped answering does; it reports each delivery that starts waiting on waiting.
func (s *Server) Hold(t testing.TB) (waiting <-chan struct{}, release func()) {
	held, w := make(chan struct{}), make(chan struct{}, 1000)
	s.mu.Lock()
	s.held, s.waiting = held, w
	s.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	t.Cleanup(release)
	return w, release
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Wait waits until the server has accepted n messages in all and returns them.
func (s *Server) Wait(t testing.TB, n int) []Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		if msgs := s.Messages(); len(msgs) >= n {
			return msgs
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("smtptest: %d messages after 10s, want %d", len(s.Messages()), n)
		}
	}
}

// Last waits for a message to address and returns the last one.
func (s *Server) Last(t testing.TB, address string) Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		msgs := s.Messages()
		for i := len(msgs) - 1; i >= 0; i-- {
			for _, to := range msgs[i].To {
				if to == address {
					return msgs[i]
				}
			}
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("smtptest: no message to %s after 10s", address)
		}
	}
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{srv: s, conn: c}, nil
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	user string
	msg  Message
}

var errAuthRequired = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.srv.opts.Username || password != s.srv.opts.Password {
			return errors.New("invalid credentials")
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.srv.mu.Lock()
	fail, held, waiting := s.srv.failures > 0, s.srv.held, s.srv.waiting
	if fail {
		s.srv.failures--
	}
	s.srv.mu.Unlock()
	if held != nil {
		waiting <- struct{}{}
		<-held
	}
	if s.srv.opts.Username != "" && s.user == "" {
		return errAuthRequired
	}
	if fail {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	s.msg = Message{From: from, User: s.user}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.srv.mu.Lock()
	reject := s.srv.rejectAt == to
	s.srv.mu.Unlock()
	if reject {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox: " + to}
	}
	s.msg.To = append(s.msg.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.msg.Data = b
	_, s.msg.TLS = s.conn.TLSConnectionState()
	s.srv.mu.Lock()
	s.srv.messages = append(s.srv.messages, s.msg)
	s.srv.mu.Unlock()
	select {
	case s.srv.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (s *session) Reset()        { s.msg = Message{} }
func (s *session) Logout() error { return nil }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// selfSigned makes a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
