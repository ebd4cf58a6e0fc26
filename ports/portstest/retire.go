package portstest

import (
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

func testRetireSigningKey(t *testing.T, newStores Factory) {
	run(t, newStores, "RetireSigningKeyWithoutLiveValuesRetiresIt", testRetireUnusedKey)
	run(t, newStores, "RetireSigningKeyConflictsWhileACurrentValueLives", testRetireWhileCurrentLives)
	run(t, newStores, "RetireSigningKeyConflictsWhileAPreviousValueIsInGrace", testRetireWhilePreviousInGrace)
	run(t, newStores, "RetireSigningKeyIgnoresExpiredAndRevokedValues", testRetireIgnoresDeadValues)
	run(t, newStores, "RetireSigningKeyIgnoresOtherWorkspacesTokens", testRetireIgnoresOtherWorkspaces)
	run(t, newStores, "RetireRevokedOrRetiredKeyConflicts", testRetireRevokedOrRetired)
}

// retire retires kid at `at` with an event and checks that it was retired and the event recorded.
func (e *env) retire(k *ports.SigningKey, at time.Time) {
	e.t.Helper()
	ev := e.keyEvent(k, "signing_key.retired", at)
	e.must(e.s.SigningKeys.RetireSigningKey(e.ctx, k.WorkspaceID, k.KID, at, cloneEvent(ev)), "RetireSigningKey")
	e.wantRecorded(ev)
	k.RetiredAt = ptr(at)
}

// wantRetireConflict checks that retiring kid at `at` is ECONFLICT and changes nothing.
func (e *env) wantRetireConflict(k *ports.SigningKey, at time.Time, why string) {
	e.t.Helper()
	ev := e.keyEvent(k, "signing_key.retired", at)
	e.wantCode(e.s.SigningKeys.RetireSigningKey(e.ctx, k.WorkspaceID, k.KID, at, cloneEvent(ev)), ports.ECONFLICT,
		"RetireSigningKey "+why)
	e.wantNotRecorded(ev.ID, k.WorkspaceID)
	keys, err := e.s.SigningKeys.SigningKeys(e.ctx, k.WorkspaceID)
	e.must(err, "SigningKeys")
	for i := range keys {
		if keys[i].KID == k.KID {
			signingKeyDiff(&keys[i], k).report(e.t, "key after a rejected retirement ("+why+")")
		}
	}
}

// signedToken stores a token of the tenant whose current value kid signed.
func (e *env) signedToken(tn *tenant, name, kid string, expiresAt *time.Time) *ports.Token {
	e.t.Helper()
	tok := e.tokenRecord(tn, name, e.at(0))
	tok.CurrentKID, tok.ExpiresAt = kid, expiresAt
	e.storeToken(tok)
	return tok
}

func testRetireUnusedKey(e *env) {
	tn := e.newTenant()
	e.retire(tn.Key, e.at(time.Hour))
	e.wantSigningKeys(tn.WS.ID, tn.Key)
}

func testRetireWhileCurrentLives(e *env) {
	tn := e.newTenant()
	tok := e.signedToken(tn, "lives", tn.Key.KID, nil)
	e.wantRetireConflict(tn.Key, e.at(time.Hour), "while a current value it signed lives")
	_, _, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, tok.ID, e.at(2*time.Hour), nil)
	e.must(err, "RevokeToken")
	e.retire(tn.Key, e.at(3*time.Hour))
	e.wantSigningKeys(tn.WS.ID, tn.Key)
}

func testRetireWhilePreviousInGrace(e *env) {
	tn := e.newTenant()
	next := e.pendingKey(tn, e.at(0), e.at(0))
	e.addKey(next)
	tok := e.signedToken(tn, "graceful", tn.Key.KID, ptr(e.at(48*time.Hour)))
	graceEnd := e.at(2 * time.Hour)
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), NewKID: next.KID, At: e.at(time.Hour),
		PreviousValidUntil: &graceEnd}
	_, err := e.s.Tokens.RotateToken(e.ctx, tn.WS.ID, tok.ID, r, nil)
	e.must(err, "RotateToken")
	e.wantRetireConflict(tn.Key, e.at(90*time.Minute), "while a previous value it signed is in its grace period")
	e.wantRetireConflict(next, graceEnd, "of the key signing the current value")
	// Rotated away: once the grace period has ended no live value of the old key remains.
	e.retire(tn.Key, graceEnd)
	e.wantSigningKeys(tn.WS.ID, next, tn.Key)
}

func testRetireIgnoresDeadValues(e *env) {
	tn := e.newTenant()
	e.signedToken(tn, "expired", tn.Key.KID, ptr(e.at(time.Hour)))
	revoked := e.signedToken(tn, "revoked", tn.Key.KID, nil)
	_, _, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, revoked.ID, e.at(time.Minute), nil)
	e.must(err, "RevokeToken")
	e.wantRetireConflict(tn.Key, e.at(time.Hour-time.Microsecond), "before the last value it signed expires")
	e.retire(tn.Key, e.at(time.Hour))
	e.wantSigningKeys(tn.WS.ID, tn.Key)
}

func testRetireIgnoresOtherWorkspaces(e *env) {
	a, b := e.newTenant(), e.newTenant()
	e.signedToken(b, "kid of A in B", a.Key.KID, nil)
	e.retire(a.Key, e.at(time.Hour))
	e.wantSigningKeys(a.WS.ID, a.Key)
}

func testRetireRevokedOrRetired(e *env) {
	tn := e.newTenant()
	retired := e.pendingKey(tn, e.at(0), e.at(0))
	e.addKey(retired)
	e.retire(retired, e.at(time.Hour))
	e.wantRetireConflict(retired, e.at(2*time.Hour), "of a retired key")

	_, _, err := e.s.SigningKeys.RevokeSigningKey(e.ctx, tn.WS.ID, tn.Key.KID, e.at(time.Hour), nil)
	e.must(err, "RevokeSigningKey")
	tn.Key.RevokedAt = ptr(e.at(time.Hour))
	e.wantRetireConflict(tn.Key, e.at(2*time.Hour), "of a revoked key")
	e.wantSigningKeys(tn.WS.ID, retired, tn.Key)
}
