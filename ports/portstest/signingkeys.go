package portstest

import (
	"testing"

	"github.com/tooken/tooken/ports"
)

// TestSigningKeyStore checks a ports.SigningKeyStore: the key given to CreateWorkspace is listed with
// its workspace, field for field, and only there.
func TestSigningKeyStore(t *testing.T, newStores Factory) {
	run(t, newStores, "SigningKeysListsTheKeyStoredWithItsWorkspace", testSigningKeyRoundTrip)
	run(t, newStores, "SigningKeyKeepsNilActivatedAtNil", testSigningKeyNilActivatedAt)
	run(t, newStores, "SigningKeysOfUnknownWorkspaceIsEmpty", testSigningKeysUnknownWorkspace)
	run(t, newStores, "SigningKeysListsOnlyTheWorkspaceKeys", testSigningKeyIsolation)
}

func (e *env) wantSigningKeys(wsID string, want ...*ports.SigningKey) {
	e.t.Helper()
	keys, err := e.s.SigningKeys.SigningKeys(e.ctx, wsID)
	e.must(err, "SigningKeys")
	if len(keys) != len(want) {
		e.t.Fatalf("SigningKeys(%s): %d keys, want %d", wsID, len(keys), len(want))
	}
	for i := range want {
		signingKeyDiff(&keys[i], want[i]).report(e.t, "SigningKeys entry")
	}
}

func testSigningKeyRoundTrip(e *env) {
	tn := e.newTenant()
	e.wantSigningKeys(tn.WS.ID, tn.Key)
}

func testSigningKeyNilActivatedAt(e *env) {
	tn := e.tenantRecord(e.newAccount())
	tn.Key.State, tn.Key.ActivatedAt = "pending", nil
	e.must(e.s.Workspaces.CreateWorkspace(e.ctx, cloneWorkspace(tn.WS), cloneMember(tn.Owner),
		cloneSigningKey(tn.Key), cloneEvent(tn.Event)), "CreateWorkspace")
	e.wantSigningKeys(tn.WS.ID, tn.Key)
}

func testSigningKeysUnknownWorkspace(e *env) {
	e.wantSigningKeys(newID("ws_"))
}

func testSigningKeyIsolation(e *env) {
	a, b := e.newTenant(), e.newTenant()
	e.wantSigningKeys(a.WS.ID, a.Key)
	e.wantSigningKeys(b.WS.ID, b.Key)
}
