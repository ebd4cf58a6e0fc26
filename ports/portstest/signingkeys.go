package portstest

import (
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestSigningKeyStore checks a ports.SigningKeyStore: the key given to CreateWorkspace is listed with
// its workspace, field for field, and only there; AddSigningKey round-trips every field, lets one
// pending key exist at a time (also under concurrency) and always allows keys that sign at once;
// RevokeSigningKey is idempotent; RetireSigningKey waits for the last live value the key signed.
func TestSigningKeyStore(t *testing.T, newStores Factory) {
	run(t, newStores, "SigningKeysListsTheKeyStoredWithItsWorkspace", testSigningKeyRoundTrip)
	run(t, newStores, "SigningKeysOfUnknownWorkspaceIsEmpty", testSigningKeysUnknownWorkspace)
	run(t, newStores, "SigningKeysListsOnlyTheWorkspaceKeys", testSigningKeyIsolation)
	run(t, newStores, "AddSigningKeyRoundTripsEveryField", testAddSigningKeyRoundTrip)
	run(t, newStores, "AddSigningKeyToUnknownWorkspaceIsNotFound", testAddSigningKeyNotFound)
	run(t, newStores, "AddPendingKeyConflictsWithAnotherPendingKey", testAddPendingKeyConflict)
	run(t, newStores, "ConcurrentPendingKeysAddOne", testConcurrentPendingKeys)
	run(t, newStores, "AddKeyThatSignsAtOnceIsAlwaysAllowed", testAddActiveKeyAlwaysAllowed)
	run(t, newStores, "RevokeSigningKeyIsIdempotent", testRevokeSigningKey)
	run(t, newStores, "SigningKeyMutationsAreScopedToTheirWorkspace", testSigningKeyMutationIsolation)
	testRetireSigningKey(t, newStores)
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

func (e *env) keyEvent(k *ports.SigningKey, action string, at time.Time) *ports.AuditEvent {
	return e.event(k.WorkspaceID, action, ports.Target{Type: "signing_key", ID: k.KID, Name: k.Algorithm}, at)
}

// pendingKey builds, without storing, a key of the tenant created at `created` that signs from
// `activates`.
func (e *env) pendingKey(tn *tenant, created, activates time.Time) *ports.SigningKey {
	k := signingKeyRecord(tn.WS.ID, created)
	k.ActivatesAt = activates
	return k
}

// addKey stores k with its event and checks both were stored.
func (e *env) addKey(k *ports.SigningKey) {
	e.t.Helper()
	ev := e.keyEvent(k, "signing_key.rotated", k.CreatedAt)
	e.must(e.s.SigningKeys.AddSigningKey(e.ctx, cloneSigningKey(k), cloneEvent(ev)), "AddSigningKey")
	e.wantRecorded(ev)
}

func testSigningKeyRoundTrip(e *env) {
	tn := e.newTenant()
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

func testAddSigningKeyRoundTrip(e *env) {
	tn := e.newTenant()
	k := e.pendingKey(tn, e.at(time.Hour+7*time.Microsecond), e.at(25*time.Hour))
	k.Algorithm = ports.AlgEdDSA
	k.PublicJWK = []byte(`{"kty":"OKP","crv":"Ed25519","alg":"EdDSA","kid":"` + k.KID +
		`","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`)
	e.addKey(k)
	old := e.pendingKey(tn, e.at(30*time.Minute), e.at(30*time.Minute))
	old.Algorithm = ports.AlgRS256
	old.RetiredAt, old.RevokedAt = ptr(e.at(2*time.Hour)), ptr(e.at(3*time.Hour))
	e.addKey(old)
	e.wantSigningKeys(tn.WS.ID, k, old, tn.Key)
}

func testAddSigningKeyNotFound(e *env) {
	k := signingKeyRecord(newID("ws_"), e.at(0))
	ev := e.keyEvent(k, "signing_key.rotated", e.at(0))
	e.wantCode(e.s.SigningKeys.AddSigningKey(e.ctx, cloneSigningKey(k), cloneEvent(ev)), ports.ENOTFOUND,
		"AddSigningKey(unknown workspace)")
	e.wantSigningKeys(k.WorkspaceID)
	e.wantNotRecorded(ev.ID, k.WorkspaceID)
}

func testAddPendingKeyConflict(e *env) {
	tn := e.newTenant()
	first := e.pendingKey(tn, e.at(0), e.at(time.Hour))
	e.addKey(first)
	second := e.pendingKey(tn, e.at(time.Minute), e.at(2*time.Hour))
	ev := e.keyEvent(second, "signing_key.rotated", second.CreatedAt)
	e.wantCode(e.s.SigningKeys.AddSigningKey(e.ctx, cloneSigningKey(second), cloneEvent(ev)), ports.ECONFLICT,
		"AddSigningKey(pending) while another key is pending")
	e.wantNotRecorded(ev.ID, tn.WS.ID)
	e.wantSigningKeys(tn.WS.ID, first, tn.Key)

	// Once the first pending key has activated, the next rotation may add a pending key.
	third := e.pendingKey(tn, e.at(time.Hour), e.at(3*time.Hour))
	e.addKey(third)
	// A revoked pending key does not block one either.
	_, _, err := e.s.SigningKeys.RevokeSigningKey(e.ctx, tn.WS.ID, third.KID, e.at(90*time.Minute), nil)
	e.must(err, "RevokeSigningKey")
	third.RevokedAt = ptr(e.at(90 * time.Minute))
	fourth := e.pendingKey(tn, e.at(2*time.Hour), e.at(4*time.Hour))
	e.addKey(fourth)
	e.wantSigningKeys(tn.WS.ID, fourth, third, first, tn.Key)
}

func testConcurrentPendingKeys(e *env) {
	tn := e.newTenant()
	const adders = 10
	keys := make([]*ports.SigningKey, adders)
	errs := make([]error, adders)
	fns := make([]func(), adders)
	for i := range keys {
		keys[i] = e.pendingKey(tn, e.at(time.Minute), e.at(time.Hour))
		ev := e.keyEvent(keys[i], "signing_key.rotated", e.at(time.Minute))
		k := cloneSigningKey(keys[i])
		fns[i] = func() { errs[i] = e.s.SigningKeys.AddSigningKey(e.ctx, k, ev) }
	}
	race(fns)
	var winner *ports.SigningKey
	for i, err := range errs {
		switch ports.ErrorCode(err) {
		case "":
			if winner != nil {
				e.t.Errorf("concurrent AddSigningKey: %s and %s both added a pending key", winner.KID, keys[i].KID)
			}
			winner = keys[i]
		case ports.ECONFLICT:
		default:
			e.t.Errorf("concurrent AddSigningKey %d: %v, want nil or ECONFLICT", i, err)
		}
	}
	if winner == nil {
		e.t.Fatal("concurrent AddSigningKey: no key was added, want exactly 1")
	}
	e.wantSigningKeys(tn.WS.ID, winner, tn.Key)
	if evs := e.eventsAbout(tn.WS.ID, winner.KID, ""); len(evs) != 1 {
		e.t.Errorf("events of the winning key: %d, want 1", len(evs))
	}
}

func testAddActiveKeyAlwaysAllowed(e *env) {
	tn := e.newTenant()
	pending := e.pendingKey(tn, e.at(0), e.at(time.Hour))
	e.addKey(pending)
	// Keys that sign at once (an emergency replacement, a workspace without an active key) are never
	// blocked by a pending one.
	first := e.pendingKey(tn, e.at(time.Minute), e.at(time.Minute))
	e.addKey(first)
	second := e.pendingKey(tn, e.at(2*time.Minute), e.at(2*time.Minute))
	e.addKey(second)
	e.wantSigningKeys(tn.WS.ID, second, first, pending, tn.Key)
}

func testRevokeSigningKey(e *env) {
	tn := e.newTenant()
	at := e.at(time.Hour + 3*time.Microsecond)
	ev := e.keyEvent(tn.Key, "signing_key.revoked", at)
	got, revoked, err := e.s.SigningKeys.RevokeSigningKey(e.ctx, tn.WS.ID, tn.Key.KID, at, cloneEvent(ev))
	e.must(err, "RevokeSigningKey")
	want := cloneSigningKey(tn.Key)
	want.RevokedAt = ptr(at)
	if !revoked || got == nil {
		e.t.Fatalf("RevokeSigningKey: revoked=%v key=%v, want true and the key", revoked, got)
	}
	signingKeyDiff(got, want).report(e.t, "RevokeSigningKey result")
	e.wantRecorded(ev)

	again := e.keyEvent(tn.Key, "signing_key.revoked", e.at(2*time.Hour))
	got, revoked, err = e.s.SigningKeys.RevokeSigningKey(e.ctx, tn.WS.ID, tn.Key.KID, e.at(2*time.Hour), cloneEvent(again))
	e.must(err, "second RevokeSigningKey")
	if revoked || got == nil {
		e.t.Fatalf("second RevokeSigningKey: revoked=%v key=%v, want false and the key unchanged", revoked, got)
	}
	signingKeyDiff(got, want).report(e.t, "second RevokeSigningKey result")
	e.wantNotRecorded(again.ID, tn.WS.ID)
	e.wantSigningKeys(tn.WS.ID, want)
}

func testSigningKeyMutationIsolation(e *env) {
	a, b := e.newTenant(), e.newTenant()
	for _, kid := range []string{a.Key.KID, newID("kid_")} {
		ev := e.event(b.WS.ID, "signing_key.revoked", ports.Target{Type: "signing_key", ID: kid}, e.at(0))
		_, revoked, err := e.s.SigningKeys.RevokeSigningKey(e.ctx, b.WS.ID, kid, e.at(0), cloneEvent(ev))
		e.wantCode(err, ports.ENOTFOUND, "RevokeSigningKey(B, key of A or unknown)")
		if revoked {
			e.t.Errorf("RevokeSigningKey(B, key of A or unknown): revoked=true")
		}
		e.wantCode(e.s.SigningKeys.RetireSigningKey(e.ctx, b.WS.ID, kid, e.at(0), cloneEvent(ev)), ports.ENOTFOUND,
			"RetireSigningKey(B, key of A or unknown)")
		e.wantNotRecorded(ev.ID, a.WS.ID, b.WS.ID)
	}
	e.wantSigningKeys(a.WS.ID, a.Key)
}
