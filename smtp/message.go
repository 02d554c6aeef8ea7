package smtp

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/latchkey/latchkey"
)

//go:embed templates/*
var defaultTemplates embed.FS

// Template files, per message kind: the subject line, the plain text body and the HTML body.
var templateFiles = map[string][3]string{
	latchkey.UserTokenConfirm: {"confirm.subject.txt", "confirm.txt", "confirm.html"},
	latchkey.UserTokenReset:   {"reset.subject.txt", "reset.txt", "reset.html"},
}

// templateSet renders one kind of message.
type templateSet struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// templates are the message templates: the server's, and those of apps with a directory of
// their own. HTML bodies go through html/template, so that values are escaped.
type templates struct {
	server map[string]*templateSet            // by kind
	apps   map[string]map[string]*templateSet // by client app id, then kind
}

// TemplateData is what a template sees.
type TemplateData struct {
	AppName   string // the app's name
	AppID     string // the client app id
	Email     string // the recipient
	Link      string // the confirmation or reset link, with token and tokenId
	ExpiresIn string // the token's lifetime, e.g. "24 hours"
}

// loadTemplates reads the built-in templates, then the files of dir that replace them (the
// same names), then dir's subdirectories, each named by a client app id, whose files replace
// the server's for that app. A missing file keeps the one below it; dir "" keeps every
// built-in template. A template that does not parse is an error naming its file.
func loadTemplates(dir string) (*templates, error) {
	base := map[string]string{}
	for _, files := range templateFiles {
		for _, name := range files {
			b, err := fs.ReadFile(defaultTemplates, "templates/"+name)
			if err != nil {
				return nil, err
			}
			base[name] = string(b)
		}
	}
	t := &templates{apps: map[string]map[string]*templateSet{}}
	if dir == "" {
		var err error
		t.server, err = parseSets(base, "built-in")
		return t, err
	}
	server, err := overlay(base, dir)
	if err != nil {
		return nil, err
	}
	if t.server, err = parseSets(server, dir); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("mail templates: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		appDir := filepath.Join(dir, e.Name())
		files, err := overlay(server, appDir)
		if err != nil {
			return nil, err
		}
		if t.apps[e.Name()], err = parseSets(files, appDir); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// overlay returns base with the files that dir has of the same names.
func overlay(base map[string]string, dir string) (map[string]string, error) {
	out := map[string]string{}
	for name, text := range base {
		b, err := os.ReadFile(filepath.Join(dir, name))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out[name] = text
		case err != nil:
			return nil, fmt.Errorf("mail templates: %w", err)
		default:
			out[name] = string(b)
		}
	}
	return out, nil
}

func parseSets(files map[string]string, where string) (map[string]*templateSet, error) {
	sets := map[string]*templateSet{}
	for kind, names := range templateFiles {
		subject, err := texttemplate.New(names[0]).Option("missingkey=error").Parse(files[names[0]])
		if err != nil {
			return nil, fmt.Errorf("mail template %s/%s: %w", where, names[0], err)
		}
		text, err := texttemplate.New(names[1]).Option("missingkey=error").Parse(files[names[1]])
		if err != nil {
			return nil, fmt.Errorf("mail template %s/%s: %w", where, names[1], err)
		}
		html, err := htmltemplate.New(names[2]).Option("missingkey=error").Parse(files[names[2]])
		if err != nil {
			return nil, fmt.Errorf("mail template %s/%s: %w", where, names[2], err)
		}
		// Render once with sample data, so that a template that cannot render fails at start
		// rather than when a user waits for the message.
		set := &templateSet{subject: subject, text: text, html: html}
		if _, _, _, err := set.render(TemplateData{AppName: "App", AppID: "app", Email: "a@example.com", Link: "https://example.com/", ExpiresIn: "1 hour"}); err != nil {
			return nil, fmt.Errorf("mail templates in %s: %w", where, err)
		}
		sets[kind] = set
	}
	return sets, nil
}

// forApp returns the templates of a kind of message for an app.
func (t *templates) forApp(clientAppID, kind string) *templateSet {
	if sets, ok := t.apps[clientAppID]; ok {
		return sets[kind]
	}
	return t.server[kind]
}

func (s *templateSet) render(data TemplateData) (subject, text, html string, err error) {
	var b bytes.Buffer
	if err := s.subject.Execute(&b, data); err != nil {
		return "", "", "", err
	}
	// One line: a template cannot add headers.
	subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := s.text.Execute(&b, data); err != nil {
		return "", "", "", err
	}
	text = b.String()
	b.Reset()
	if err := s.html.Execute(&b, data); err != nil {
		return "", "", "", err
	}
	return subject, text, b.String(), nil
}

// buildMessage returns an RFC 5322 message with a plain text and an HTML alternative, both
// quoted-printable UTF-8.
func buildMessage(from *mail.Address, to, messageID, subject, text, html string, date time.Time) ([]byte, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ contentType, content string }{
		{"text/plain; charset=utf-8", text},
		{"text/html; charset=utf-8", html},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.contentType},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.content)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}

	var msg bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&msg, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", (&mail.Address{Address: to}).String())
	header("Subject", mime.QEncoding.Encode("utf-8", subject))
	header("Date", date.Format(time.RFC1123Z))
	header("Message-ID", messageID)
	header("MIME-Version", "1.0")
	header("Auto-Submitted", "auto-generated")
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	msg.WriteString("\r\n")
	msg.Write(body.Bytes())
	return msg.Bytes(), nil
}

// humanDuration writes a token lifetime for people: "24 hours", "30 minutes".
func humanDuration(d time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return plural(int64(d/time.Hour), "hour")
	case d >= time.Minute:
		return plural(int64(d/time.Minute), "minute")
	}
	return plural(int64(d/time.Second), "second")
}
