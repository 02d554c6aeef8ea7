package ui_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/ui"
)

// failingApps answers every app lookup with err.
type failingApps struct {
	latchkey.AppService
	err error
}

func (a failingApps) FindAppByClientID(context.Context, string) (*latchkey.App, error) {
	return nil, a.err
}

// TestErrorStatuses checks that a page answers a service error with the status the API
// answers it with: the one table, latchkey.Status.
func TestErrorStatuses(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{latchkey.Errorf(latchkey.EAppNotFound, "no such app"), http.StatusNotFound},
		{latchkey.Errorf(latchkey.EInvalid, "bad"), http.StatusBadRequest},
		{latchkey.Errorf(latchkey.EForbidden, "no"), http.StatusForbidden},
		{latchkey.Errorf(latchkey.EConflict, "taken"), http.StatusConflict},
		{latchkey.StoreUnavailable(errors.New("connection refused")), http.StatusServiceUnavailable},
		{errors.New("boom"), http.StatusInternalServerError},
	} {
		t.Run(latchkey.ErrorCode(tt.err), func(t *testing.T) {
			h := ui.New(ui.Config{Apps: failingApps{err: tt.err}})
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("GET", "/app/shop/account/", nil))
			if w.Code != tt.want || w.Code != latchkey.Status(latchkey.ErrorCode(tt.err)) {
				t.Errorf("status %d, want %d", w.Code, tt.want)
			}
		})
	}
}
