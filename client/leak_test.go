package client_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

func TestReportLeakedKeys(t *testing.T) {
	ctx := context.Background()
	srv := newAdminServer(t)
	a := mustLogInAdmin(t, srv)

	secret, err := a.RotateLeakSecret(ctx, srv.AppID)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := a.AppSettings(ctx, srv.AppID); err != nil || !s.LeakSecretSet {
		t.Fatalf("settings after RotateLeakSecret: %+v, %v; want leak_secret_set", s, err)
	}

	t.Run("OK", func(t *testing.T) {
		owner := mustRegister(t, mustNewApp(t, srv))
		userKey := mustCreateKey(t, owner, "laptop")
		serverKey, err := a.ServerAPIKeys(srv.AppID).Create(ctx, "backend")
		if err != nil {
			t.Fatal(err)
		}
		ku := mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(userKey.Value))

		values := []string{userKey.Value, "not-a-key", serverKey.Value, latchkey.NewKeyValue("lk")}
		got, err := client.ReportLeakedKeys(ctx, srv.URL, srv.AppID, secret, values)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(values) {
			t.Fatalf("got %d results for %d values: %+v", len(got), len(values), got)
		}
		for i, want := range []bool{true, false, true, false} {
			if got[i].Token != values[i] || got[i].Found() != want || got[i].TokenType != "latchkey_api_key" {
				t.Errorf("result %d = %+v, want found %v", i, got[i], want)
			}
		}

		// Both keys are disabled, and the user key's session ended.
		for _, v := range []string{userKey.Value, serverKey.Value} {
			_, err := mustNewApp(t, srv).LogIn(ctx, client.APIKeyCredentials(v))
			wantError(t, err, 401, client.ErrAuth)
		}
		if got := rawStatus(t, srv, "POST", "/auth/session", ku.RefreshToken()); got != 401 {
			t.Fatalf("refresh of the leaked key's session: status %d, want 401", got)
		}
		if k, err := a.ServerAPIKeys(srv.AppID).Fetch(ctx, serverKey.ID); err != nil || !k.Disabled {
			t.Fatalf("the leaked server key as the admin sees it: %+v, %v", k, err)
		}

		// Reported again, a disabled key is still a key of the app, and stays disabled.
		got, err = client.ReportLeakedKeys(ctx, srv.URL, srv.AppID, secret, values[:1])
		if err != nil || len(got) != 1 || !got[0].Found() {
			t.Fatalf("second report = %+v, %v; want a true positive", got, err)
		}
		_, err = mustNewApp(t, srv).LogIn(ctx, client.APIKeyCredentials(userKey.Value))
		wantError(t, err, 401, client.ErrAuth)
	})
	t.Run("ManyValues", func(t *testing.T) {
		// More than one request holds: the results still line up with the values.
		owner := mustRegister(t, mustNewApp(t, srv))
		live := mustCreateKey(t, owner, "k")
		values := make([]string, 1500)
		for i := range values {
			values[i] = latchkey.NewKeyValue("lk")
		}
		values[1400] = live.Value
		var requests atomic.Int64
		hc := &http.Client{Transport: countingTransport{&requests}}
		got, err := client.ReportLeakedKeys(ctx, srv.URL+"/", srv.AppID, secret, values, client.WithHTTPClient(hc))
		if err != nil {
			t.Fatal(err)
		}
		if n := requests.Load(); n < 2 {
			t.Fatalf("%d values went in %d request(s), want several", len(values), n)
		}
		if len(got) != len(values) {
			t.Fatalf("got %d results for %d values", len(got), len(values))
		}
		for i, r := range got {
			if r.Token != values[i] || r.Found() != (i == 1400) {
				t.Fatalf("result %d = %+v", i, r)
			}
		}
		if got, err := client.ReportLeakedKeys(ctx, srv.URL, srv.AppID, secret, nil, client.WithHTTPClient(hc)); err != nil || len(got) != 0 {
			t.Fatalf("empty report = %+v, %v", got, err)
		}
	})
	t.Run("ErrInvalidSession", func(t *testing.T) {
		owner := mustRegister(t, mustNewApp(t, srv))
		k := mustCreateKey(t, owner, "k")
		for _, s := range []string{"", "lkleak_wrong", secret + "x"} {
			_, err := client.ReportLeakedKeys(ctx, srv.URL, srv.AppID, s, []string{k.Value})
			wantError(t, err, 401, client.ErrInvalidSession)
		}
		// A new secret replaces the old one.
		newSecret, err := a.RotateLeakSecret(ctx, srv.AppID)
		if err != nil || newSecret == secret {
			t.Fatalf("RotateLeakSecret again = %q, %v", newSecret, err)
		}
		_, err = client.ReportLeakedKeys(ctx, srv.URL, srv.AppID, secret, []string{k.Value})
		wantError(t, err, 401, client.ErrInvalidSession)
		// An app without a secret refuses every report.
		srv.CreateApp(t, "no-secret", nil)
		_, err = client.ReportLeakedKeys(ctx, srv.URL, "no-secret", newSecret, []string{k.Value})
		wantError(t, err, 401, client.ErrInvalidSession)
		mustLogIn(t, mustNewApp(t, srv), client.APIKeyCredentials(k.Value))
		secret = newSecret
	})
	t.Run("ErrInvalidParameter", func(t *testing.T) {
		_, err := client.ReportLeakedKeys(ctx, srv.URL, "nope", secret, []string{"x"})
		wantError(t, err, 404, client.ErrInvalidParameter)
		_, err = a.RotateLeakSecret(ctx, "nope")
		wantError(t, err, 404, client.ErrInvalidParameter)
	})
}

// countingTransport counts the requests it passes on.
type countingTransport struct{ n *atomic.Int64 }

func (c countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}
