package httpapi

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchkey/latchkey"
)

// FuzzDecode checks that request decoding never panics and that every body it refuses is
// refused as the client's fault (400 or 413), never as an internal error, for each request
// shape the handlers read.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"username":"ann@example.com","password":"s3cretpass","options":{"device":{"deviceId":{"$oid":"6b0800000000000000000001"}}}}`))
	f.Add([]byte(`{"name":"ci","expires_in":7776000,"scopes":["read"],"expires_at":"2030-01-01T00:00:00Z"}`))
	f.Add([]byte(`[{"token":"lk_x","type":"latchkey_api_key","url":"https://example.com","source":"content"}]`))
	f.Add([]byte(`{"auto_confirm":true,"allowed_origins":["https://a.example.com"],"refresh_token_lifetime_seconds":1800}`))
	f.Add([]byte(`{"name":5}`))
	f.Add([]byte(`{"name":`))
	f.Add([]byte(``))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		targets := []func() any{
			func() any { return &loginRequest{} },
			func() any { return &registerRequest{} },
			func() any { return &tokenRequest{} },
			func() any { return &createAPIKeyRequest{} },
			func() any { return &[]leakReportItem{} },
			func() any { return &appSettings{} },
			func() any { return &refreshExpiration{} },
			func() any { return &[]string{} },
			func() any { return &adminLoginRequest{} },
		}
		for _, target := range targets {
			v := target()
			r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
			r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, maxBodyBytes)
			err := decode(r, v)
			if code := latchkey.ErrorCode(err); err != nil && code != latchkey.EBadRequest && code != latchkey.ETooLarge {
				t.Fatalf("decode(%q) into %T: code %s (%v), want bad_request or too_large", body, v, code, err)
			}
			if err != nil {
				continue
			}
			// What handlers do next with a decoded body must not panic either.
			switch req := v.(type) {
			case *loginRequest:
				deviceID(req.Options.Device.DeviceID)
			case *createAPIKeyRequest:
				req.input()
			case *appSettings:
				req.update()
			}
		}
	})
}
