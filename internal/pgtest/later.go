package pgtest

import (
	"io"
	"net"
	"net/url"
	"strconv"
	"testing"
)

// NewDatabaseLater creates a database as NewDatabase does, and returns its URL at a
// loopback address that refuses connections until up is called and forwards them to the
// server from then on: a database that comes up after its clients start.
func NewDatabaseLater(t testing.TB) (dbURL string, up func()) {
	t.Helper()
	u, err := url.Parse(NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	server := u.Host
	u.Host = net.JoinHostPort("127.0.0.1", strconv.Itoa(FreePort(t)))
	up = func() {
		t.Helper()
		ln, err := net.Listen("tcp", u.Host)
		if err != nil {
			t.Fatalf("pgtest: the database's address: %v", err)
		}
		t.Cleanup(func() { ln.Close() })
		go forward(ln, server)
	}
	return u.String(), up
}

// forward copies each connection that ln accepts to and from a connection to addr, until ln
// is closed.
func forward(ln net.Listener, addr string) {
	for {
		client, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer client.Close()
			server, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer server.Close()
			go func() {
				io.Copy(server, client)
				server.Close()
			}()
			io.Copy(client, server)
		}()
	}
}
