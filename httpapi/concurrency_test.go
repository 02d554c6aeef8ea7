package httpapi_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// createConcurrently sends one create request per name at once and returns the responses.
func (e *env) createConcurrently(t *testing.T, refresh string, names []string) []*response {
	t.Helper()
	reqs := make([]*http.Request, len(names))
	for i, name := range names {
		reqs[i] = e.newRequest(t, "POST", keysPath, map[string]string{"name": name})
		reqs[i].Header.Set("Authorization", "Bearer "+refresh)
	}
	resps := make([]*response, len(names))
	errs := make([]error, len(names))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range reqs {
		wg.Go(func() {
			<-start
			resps[i], errs[i] = e.trySend(reqs[i])
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %q: %v", names[i], err)
		}
		for _, msg := range e.check(resps[i]) {
			t.Error(msg)
		}
		var k apiKey
		if resps[i].Status == http.StatusCreated {
			mustUnmarshal(t, resps[i].Body, &k)
			e.remember(&e.keys, k.Key)
		}
	}
	return resps
}

// createAtOnce creates a key under every name at once and returns how many creates
// succeeded; every other create must fail with status, code and msg.
func (e *env) createAtOnce(t *testing.T, refresh string, names []string, status int, code, msg string) int {
	t.Helper()
	created := 0
	for _, r := range e.createConcurrently(t, refresh, names) {
		if r.Status == http.StatusCreated {
			r.wantJSON(t, http.StatusCreated, nil)
			created++
			continue
		}
		r.wantError(t, status, code, msg)
	}
	return created
}

func TestConcurrentCreate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	t.Run("Limit", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		names := make([]string, 50)
		for i := range names {
			names[i] = fmt.Sprintf("key-%02d", i)
		}
		created := e.createAtOnce(t, u.RefreshToken, names, http.StatusBadRequest, "InvalidParameter", "user already has the maximum of 20 API keys")
		if created != 20 {
			t.Errorf("%d creates succeeded, want 20", created)
		}
		keys := e.listKeys(t, u.RefreshToken)
		if len(keys) != 20 {
			t.Errorf("%d keys, want 20", len(keys))
		}
	})

	t.Run("SameName", func(t *testing.T) {
		u := e.newUser(t, e.AppID)
		names := make([]string, 20)
		for i := range names {
			names[i] = "same"
		}
		created := e.createAtOnce(t, u.RefreshToken, names, http.StatusConflict, "APIKeyAlreadyExists", "API key with name already exists")
		if created != 1 {
			t.Errorf("%d creates succeeded, want 1", created)
		}
		keys := e.listKeys(t, u.RefreshToken)
		if len(keys) != 1 || keys[0].Name != "same" {
			t.Errorf("keys = %+v, want one named same", keys)
		}
	})
}
