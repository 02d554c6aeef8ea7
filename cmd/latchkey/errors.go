package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// This file holds how the binary's errors read: "latchkey: " (main), the command once, then
// what went wrong in words meant for the person at the terminal.

// commandError is an error of one command: "keys get: missing ID".
type commandError struct {
	cmd string
	err error
}

// Error names the command, then describes the error.
func (e *commandError) Error() string { return e.cmd + ": " + describe(e.err) }

func (e *commandError) Unwrap() error { return e.err }

// inCommand names cmd in err, unless a command within cmd has named itself already, so that
// the name shows once and the innermost (most precise) one wins.
func inCommand(cmd string, err error) error {
	var named *commandError
	if err == nil || errors.Is(err, flag.ErrHelp) || errors.As(err, &named) {
		return err
	}
	return &commandError{cmd: cmd, err: err}
}

// describe writes err for a person: a domain error as its message alone (never the
// "latchkey error: code=..." of logs), a server's answer as its message and error code (or
// the message alone when the server sent no code), a refusal to retry with the wait, and a
// server that does not answer as such.
func describe(err error) string {
	text := err.Error()
	var urlErr *url.Error
	var opErr *net.OpError
	if errors.As(err, &urlErr) && errors.As(err, &opErr) && opErr.Op == "dial" {
		base := urlErr.URL
		if u, err := url.Parse(urlErr.URL); err == nil {
			base = u.Scheme + "://" + u.Host
		}
		unreachable := fmt.Sprintf("cannot reach Latchkey at %s: %v", base, opErr.Err)
		if errors.Is(err, syscall.ECONNREFUSED) {
			unreachable = fmt.Sprintf("cannot reach Latchkey at %s: is it running?", base)
		}
		// The client package says "client: " before the request's error.
		text = strings.Replace(text, "client: "+urlErr.Error(), urlErr.Error(), 1)
		text = strings.Replace(text, urlErr.Error(), unreachable, 1)
	}
	var domain *latchkey.Error
	if errors.As(err, &domain) {
		text = strings.Replace(text, domain.Error(), domain.Message, 1)
	}
	var answer *client.Error
	if errors.As(err, &answer) {
		text = strings.Replace(text, answer.Error(), describeAnswer(answer), 1)
	}
	return text
}

// describeAnswer writes a server's error answer.
func describeAnswer(e *client.Error) string {
	switch {
	case e.StatusCode == 429:
		if e.RetryAfter <= 0 {
			return "too many attempts; try again later"
		}
		return "too many attempts; try again in " + waitText(e.RetryAfter)
	case e.Code == "":
		return e.Message
	}
	return fmt.Sprintf("%s (%s)", e.Message, e.Code)
}

// waitText writes a wait rounded up: "40 seconds", "1 minute", "15 minutes", "2 hours".
func waitText(d time.Duration) string {
	unit, n := "second", int64((d+time.Second-1)/time.Second)
	switch {
	case d > 2*time.Hour:
		unit, n = "hour", int64((d+time.Hour-1)/time.Hour)
	case d > time.Minute:
		unit, n = "minute", int64((d+time.Minute-1)/time.Minute)
	}
	if n != 1 {
		unit += "s"
	}
	return fmt.Sprintf("%d %s", n, unit)
}
