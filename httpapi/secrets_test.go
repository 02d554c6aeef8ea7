package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
)

// secrets collects every secret a flow handled, in each form it could be written in.
type secrets struct {
	values map[string]string // form → what it is
}

func (s *secrets) add(what, v string) {
	if v == "" {
		return
	}
	if s.values == nil {
		s.values = map[string]string{}
	}
	s.values[v] = what
}

// addToken adds a JWT, which is also caught by its signature alone.
func (s *secrets) addToken(what, token string) {
	s.add(what, token)
	if parts := strings.Split(token, "."); len(parts) == 3 {
		s.add(what+" (signature)", parts[2])
	}
}

// addBytes adds a binary secret in the encodings a log could carry it in.
func (s *secrets) addBytes(what string, b []byte) {
	s.add(what+" (base64)", base64.StdEncoding.EncodeToString(b))
	s.add(what+" (base64, unpadded)", base64.RawStdEncoding.EncodeToString(b))
	s.add(what+" (base64url)", base64.RawURLEncoding.EncodeToString(b))
	s.add(what+" (hex)", hex.EncodeToString(b))
	s.add(what+" (HEX)", strings.ToUpper(hex.EncodeToString(b)))
	s.add(what+" (bytes)", string(b))
	s.add(what+" (%v)", strings.Trim(fmt.Sprint(b), "[]"))
}

func (s *secrets) addLogin(what string, l login) {
	s.addToken(what+" access token", l.AccessToken)
	s.addToken(what+" refresh token", l.RefreshToken)
}

// find returns what secrets text holds.
func (s *secrets) find(text string) []string {
	var found []string
	for v, what := range s.values {
		if strings.Contains(text, v) {
			found = append(found, what)
		}
	}
	return found
}

// TestNoSecretsInLogs drives the whole seed flow, confirmation and reset, key rotation and
// leak reports, and an admin flow, with the server logging at debug level, and then looks
// for every secret it saw in every log line and every audit event.
func TestNoSecretsInLogs(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &env{Server: testserver.New(t, testserver.Options{Logger: logger})}
	var s secrets
	ctx := context.Background()

	// The first admin and its flow.
	if _, err := e.Service.Admins.CreateAdmin(ctx, rootEmail, rootPassword); err != nil {
		t.Fatal(err)
	}
	s.add("admin password", rootPassword)
	e.do(t, "POST", adminLoginPath, "", map[string]string{"username": rootEmail, "password": "wrong admin pass!"}).
		wantErrorBody(t, http.StatusUnauthorized, "InvalidPassword")
	s.add("wrong admin password", "wrong admin pass!")
	admin := e.adminLogin(t, rootEmail, rootPassword)
	s.addLogin("admin", admin)
	var refreshed struct {
		AccessToken string `json:"access_token"`
	}
	e.do(t, "POST", adminPath+"/auth/session", admin.RefreshToken, nil).wantJSON(t, http.StatusCreated, &refreshed)
	s.addToken("refreshed admin access token", refreshed.AccessToken)
	e.do(t, "GET", adminPath+"/auth/profile", admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.createApp(t, admin.AccessToken, map[string]any{"client_app_id": "confirming", "auto_confirm": false})
	var secret struct {
		Secret string `json:"secret"`
	}
	e.do(t, "POST", adminAppPath(e.App.ID, "/leak_secret"), admin.AccessToken, nil).wantJSON(t, http.StatusCreated, &secret)
	s.add("leak secret", secret.Secret)
	server := e.createServerKey(t, admin.AccessToken, e.App.ID, "backend")
	s.add("server key", server.Key)
	s.addLogin("server key session", e.loginKey(t, e.AppID, server.Key))

	// The seed flow: register, log in, and every key call.
	u := e.newUser(t, e.AppID)
	s.add("password", u.Password)
	s.addLogin("user", u.login)
	e.do(t, "POST", loginPath(e.AppID, "local-userpass"), "", map[string]string{"username": u.Email, "password": "wrong user pass!"}).
		wantErrorBody(t, http.StatusUnauthorized, "InvalidPassword")
	s.add("wrong password", "wrong user pass!")
	e.getProfile(t, u.AccessToken)
	e.do(t, "POST", authPath+"/session", u.RefreshToken, nil).wantJSON(t, http.StatusCreated, &refreshed)
	s.addToken("refreshed access token", refreshed.AccessToken)
	k := e.createKey(t, u.RefreshToken, "build-server")
	s.add("key", k.Key)
	e.do(t, "GET", keysPath, u.RefreshToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "GET", keyPath(k.ID), u.RefreshToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "PUT", keyPath(k.ID)+"/disable", u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
	e.do(t, "POST", loginPath(e.AppID, "api-key"), "", map[string]string{"key": k.Key}).wantErrorBody(t, http.StatusUnauthorized, "AuthError")
	e.do(t, "PUT", keyPath(k.ID)+"/enable", u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
	s.addLogin("key session", e.loginKey(t, e.AppID, k.Key))
	var rotated apiKey
	e.do(t, "POST", keyPath(k.ID)+"/rotate", u.RefreshToken, map[string]any{"grace_period": 60}).wantJSON(t, http.StatusOK, &rotated)
	s.add("rotated key", rotated.Key)
	s.addLogin("rotated key session", e.loginKey(t, e.AppID, rotated.Key))
	e.do(t, "POST", leakPath(e.AppID), secret.Secret, []map[string]string{{"token": rotated.Key, "type": "latchkey_api_key"}}).
		wantJSON(t, http.StatusOK, nil)
	e.do(t, "DELETE", keyPath(k.ID), u.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
	anon := e.login(t, e.AppID, "anon-user", nil)
	s.addLogin("anonymous", anon)

	// Confirmation and password reset, whose messages carry single-use tokens.
	email, pw := e.newEmail(), e.newPassword()
	s.add("password", pw)
	e.register(t, "confirming", email, pw)
	msg, _ := e.Mailer.Last(email)
	s.add("confirmation token", msg.Token)
	e.do(t, "POST", userpassPath("confirming", "/confirm"), "", map[string]string{"token": msg.Token, "tokenId": msg.TokenID}).
		wantEmpty(t, http.StatusNoContent)
	e.do(t, "POST", userpassPath("confirming", "/reset/send"), "", map[string]string{"email": email}).wantEmpty(t, http.StatusNoContent)
	msg, _ = e.Mailer.Last(email)
	s.add("reset token", msg.Token)
	newPW := e.newPassword()
	s.add("new password", newPW)
	e.do(t, "POST", userpassPath("confirming", "/reset"), "", map[string]string{"password": newPW, "token": msg.Token, "tokenId": msg.TokenID}).
		wantEmpty(t, http.StatusNoContent)
	s.addLogin("reset user", e.loginPassword(t, "confirming", email, newPW))

	// The admin's user and audit calls, then the ends of sessions.
	e.do(t, "POST", adminAppPath(e.App.ID, "/users/verify_token"), admin.AccessToken, map[string]string{"token": u.AccessToken}).
		wantJSON(t, http.StatusOK, nil)
	e.listUsers(t, admin.AccessToken, e.App.ID, "")
	e.do(t, "PUT", adminUserPath(e.App.ID, u.UserID, "/disable"), admin.AccessToken, nil).wantEmpty(t, http.StatusNoContent)
	e.do(t, "PUT", adminUserPath(e.App.ID, u.UserID, "/enable"), admin.AccessToken, nil).wantEmpty(t, http.StatusNoContent)
	u2 := e.loginPassword(t, e.AppID, u.Email, u.Password)
	s.addLogin("user again", u2)
	e.do(t, "GET", adminPath+"/audit", admin.AccessToken, nil).wantJSON(t, http.StatusOK, nil)
	e.do(t, "DELETE", authPath+"/delete", u2.AccessToken, nil).wantEmpty(t, http.StatusNoContent)
	e.do(t, "DELETE", authPath+"/session", u2.RefreshToken, nil).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
	e.do(t, "DELETE", adminPath+"/auth/session", admin.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)

	// The token signing keys, in every encoding checked.
	s.addBytes("secret key", testserver.SecretKey)
	for _, sk := range e.SigningKeys(t) {
		if sk.Algorithm == "HS256" {
			s.addBytes("refresh-token HMAC key", sk.PrivateKey)
			continue
		}
		s.addBytes("signing key (PKCS #8)", sk.PrivateKey)
		parsed, err := x509.ParsePKCS8PrivateKey(sk.PrivateKey)
		if err != nil {
			t.Fatal(err)
		}
		d, err := parsed.(*ecdsa.PrivateKey).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		s.addBytes("signing key (scalar)", d)
	}

	if err := e.Service.FlushAudit(ctx); err != nil {
		t.Fatal(err)
	}
	events, err := e.Store.FindAuditEvents(ctx, latchkey.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) < 20 {
		t.Fatalf("%d audit events, want the flow's", len(events))
	}
	for _, ev := range events {
		line, _ := json.Marshal(ev)
		for _, what := range s.find(string(line)) {
			t.Errorf("audit event %s holds the %s: %s", ev.Event, what, line)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) < 30 {
		t.Fatalf("%d log lines, want one per request at least", len(lines))
	}
	for _, line := range lines {
		for _, what := range s.find(line) {
			t.Errorf("log line holds the %s: %s", what, line)
		}
	}
	if len(s.values) < 40 {
		t.Fatalf("only %d secret forms collected", len(s.values))
	}
}
