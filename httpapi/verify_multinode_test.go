package httpapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/testserver"
	"github.com/latchkey/latchkey/internal/teststore"
)

// Two nodes over one database (PostgreSQL under LATCHKEY_TEST_STORE=postgres, as the test
// command runs it), each with its own service, key cache, rate windows and usage counts.
type verifyNodes struct {
	a, b *verifyEnv
}

func newVerifyNodes(t *testing.T) *verifyNodes {
	t.Helper()
	stores := teststore.OpenNodes(t, 2)
	a := &env{Server: testserver.New(t, testserver.Options{Store: stores[0]})}
	b := &env{Server: testserver.New(t, testserver.Options{Store: stores[1]})}
	if _, err := a.Service.Admins.CreateAdmin(context.Background(), rootEmail, rootPassword); err != nil {
		t.Fatal(err)
	}
	a.remember(&a.passwords, rootPassword)
	admin := a.adminLogin(t, rootEmail, rootPassword)
	a.patchSettings(t, admin.AccessToken, a.AppID, map[string]any{"scopes": []string{"read", "write"}})
	va := &verifyEnv{env: a, admin: admin.AccessToken}
	va.serverKey = a.createServerKey(t, admin.AccessToken, a.App.ID, "backend").Key
	va.user = a.newUser(t, a.AppID)
	// Node b's tokens are node a's: one signing key set in one database.
	vb := &verifyEnv{env: b, admin: va.admin, serverKey: va.serverKey, user: va.user}
	return &verifyNodes{a: va, b: vb}
}

// each makes calls verifies at once, alternating between the nodes, and counts the answers by
// code.
func (n *verifyNodes) each(t *testing.T, calls int, body map[string]any) map[string]int {
	t.Helper()
	return atOnce(calls, func(i int) verifyAnswer {
		if i%2 == 1 {
			return n.b.verify(t, body)
		}
		return n.a.verify(t, body)
	})
}

func TestVerifyTwoNodesRemainingExact(t *testing.T) {
	n := newVerifyNodes(t)
	k := n.a.newKey(t, map[string]any{})
	n.a.setLimits(t, n.a.user.UserID, k.ID, map[string]any{"remaining": 30})
	// Both nodes have the key in their caches before the run.
	n.a.wantCode(t, k.Key, map[string]any{"cost": 0}, latchkey.VerifyValid)
	n.b.wantCode(t, k.Key, map[string]any{"cost": 0}, latchkey.VerifyValid)
	codes := n.each(t, 50, map[string]any{"key": k.Key})
	if codes[latchkey.VerifyValid] != 30 || codes[latchkey.VerifyUsageExceeded] != 20 {
		t.Fatalf("codes %v, want 30 VALID and 20 USAGE_EXCEEDED across the two nodes", codes)
	}
}

func TestVerifyTwoNodesRateLimitBounds(t *testing.T) {
	n := newVerifyNodes(t)
	const limit = 100
	k := n.a.newKey(t, map[string]any{})
	n.a.setLimits(t, n.a.user.UserID, k.ID, map[string]any{"ratelimit": map[string]any{"limit": limit, "duration_ms": 86_400_000}})
	codes := n.each(t, 300, map[string]any{"key": k.Key})
	valid := codes[latchkey.VerifyValid]
	// The contract's bound: at most 10% over the limit plus one per node. Leases never pass
	// the limit; a node's unspent lease may refuse the other node up to a chunk early.
	chunk := max(1, limit/20)
	if valid > limit+limit/10+2 || valid < limit-chunk {
		t.Fatalf("%d valid of 300 with a limit of %d on two nodes, want %d to %d (codes %v)", valid, limit, limit-chunk, limit+limit/10+2, codes)
	}
	if valid+codes[latchkey.VerifyRateLimited] != 300 {
		t.Fatalf("codes %v, want only VALID and RATE_LIMITED", codes)
	}
}

// TestVerifyOneNodeRateLimitExact: on one node the limit is exact under concurrent calls.
func TestVerifyOneNodeRateLimitExact(t *testing.T) {
	v := newVerifyEnv(t)
	k := v.newKey(t, map[string]any{})
	v.setLimits(t, v.user.UserID, k.ID, map[string]any{"ratelimit": map[string]any{"limit": 57, "duration_ms": 86_400_000}})
	codes := atOnce(100, func(int) verifyAnswer { return v.verify(t, map[string]any{"key": k.Key}) })
	if codes[latchkey.VerifyValid] != 57 || codes[latchkey.VerifyRateLimited] != 43 {
		t.Fatalf("codes %v, want exactly 57 VALID and 43 RATE_LIMITED", codes)
	}
}

// TestVerifyTwoNodesSeeChanges: a change made through one node is seen by verify on the
// other within a second, although the other answers from memory. The nodes read each
// other's changes from the database's change feed; the wait is the contract's bound, not
// a measure of speed: a node that has not read the feed for 750 ms stops trusting its
// memory, so after a second every answer reflects the change.
func TestVerifyTwoNodesSeeChanges(t *testing.T) {
	n := newVerifyNodes(t)
	warm := func(t *testing.T, value string) {
		t.Helper()
		// Each node answers once, and so keeps the key in memory.
		n.a.wantCode(t, value, nil, latchkey.VerifyValid)
		n.b.wantCode(t, value, nil, latchkey.VerifyValid)
	}
	afterASecond := func() { time.Sleep(time.Second) }
	t.Run("DisableKey", func(t *testing.T) {
		k := n.a.newKey(t, map[string]any{})
		warm(t, k.Key)
		n.a.do(t, "PUT", keyPath(k.ID)+"/disable", n.a.user.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		n.a.wantCode(t, k.Key, nil, latchkey.VerifyDisabled) // the writing node at once
		afterASecond()
		n.b.wantCode(t, k.Key, nil, latchkey.VerifyDisabled)
	})
	t.Run("DeleteKey", func(t *testing.T) {
		k := n.a.newKey(t, map[string]any{})
		warm(t, k.Key)
		n.b.do(t, "DELETE", keyPath(k.ID), n.a.user.RefreshToken, nil).wantEmpty(t, http.StatusNoContent)
		afterASecond()
		n.a.wantCode(t, k.Key, nil, latchkey.VerifyNotFound)
	})
	t.Run("RotatePastGrace", func(t *testing.T) {
		k := n.a.newKey(t, map[string]any{})
		warm(t, k.Key)
		var rotated keyObject
		n.b.do(t, "POST", keyPath(k.ID)+"/rotate", n.a.user.RefreshToken, map[string]any{"grace_period": 0}).wantJSON(t, http.StatusOK, &rotated)
		n.b.remember(&n.b.keys, rotated.Key)
		afterASecond()
		n.a.wantCode(t, k.Key, nil, latchkey.VerifyNotFound)
		n.a.wantCode(t, rotated.Key, nil, latchkey.VerifyValid)
	})
	t.Run("DisableUser", func(t *testing.T) {
		u := n.a.newUser(t, n.a.AppID)
		k := n.a.createKey(t, u.RefreshToken, "k")
		warm(t, k.Key)
		n.b.do(t, "PUT", groupAppPath(n.a.AppID, "/users/"+u.UserID+"/disable"), n.a.admin, nil).wantEmpty(t, http.StatusNoContent)
		afterASecond()
		n.a.wantCode(t, k.Key, nil, latchkey.VerifyUserDisabled)
	})
	t.Run("SetLimits", func(t *testing.T) {
		k := n.a.newKey(t, map[string]any{})
		warm(t, k.Key)
		n.b.setLimits(t, n.a.user.UserID, k.ID, map[string]any{"remaining": 0})
		afterASecond()
		n.a.wantCode(t, k.Key, nil, latchkey.VerifyUsageExceeded)
	})
	t.Run("DisableServerKey", func(t *testing.T) {
		sk := n.a.createServerKey(t, n.a.admin, n.a.App.ID, "short-lived")
		k := n.a.newKey(t, map[string]any{})
		for _, node := range []*verifyEnv{n.a, n.b} {
			node.do(t, "POST", verifyPath(node.AppID), sk.Key, map[string]any{"key": k.Key}).wantStatus(t, http.StatusOK)
		}
		n.b.do(t, "PUT", adminAppPath(n.a.App.ID, "/api_keys/"+sk.ID+"/disable"), n.a.admin, nil).wantEmpty(t, http.StatusNoContent)
		afterASecond()
		n.a.do(t, "POST", verifyPath(n.a.AppID), sk.Key, map[string]any{"key": k.Key}).wantErrorBody(t, http.StatusUnauthorized, "InvalidSession")
	})
}
