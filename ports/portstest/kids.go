package portstest

import (
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

func testTokenKIDs(t *testing.T, newStores Factory) {
	run(t, newStores, "RotateTokenSetsCurrentKIDToNewKID", testRotateTokenKID)
	run(t, newStores, "RotateTokenWithGraceKeepsTheOldKIDAsPreviousKID", testRotateTokenGraceKID)
	run(t, newStores, "RotateTokenWithoutGraceClearsPreviousKID", testRotateTokenNoGraceClearsKID)
	run(t, newStores, "RevokeTokenKeepsTheKIDs", testRevokeTokenKeepsKIDs)
}

// kidToken stores a token of the tenant whose current value was signed by the tenant's key.
func (e *env) kidToken(tn *tenant, name string) *ports.Token {
	e.t.Helper()
	tok := e.tokenRecord(tn, name, e.at(0))
	tok.CurrentKID = tn.Key.KID
	e.storeToken(tok)
	e.wantToken(tok, "Token with its CurrentKID")
	return tok
}

func testRotateTokenKID(e *env) {
	tn := e.newTenant()
	tok := e.kidToken(tn, "kid rotation")
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), NewKID: newID("kid_"), At: e.at(time.Hour)}
	want := cloneToken(tok)
	want.CurrentJTI, want.CurrentKID, want.RotatedAt = r.NewJTI, r.NewKID, ptr(r.At)
	e.rotate(tok, r, want)
}

func testRotateTokenGraceKID(e *env) {
	tn := e.newTenant()
	tok := e.kidToken(tn, "kid grace")
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), NewKID: newID("kid_"), At: e.at(time.Hour),
		PreviousValidUntil: ptr(e.at(2 * time.Hour))}
	want := cloneToken(tok)
	want.CurrentJTI, want.CurrentKID, want.RotatedAt = r.NewJTI, r.NewKID, ptr(r.At)
	want.PreviousJTI, want.PreviousKID, want.PreviousValidUntil = r.FromJTI, tn.Key.KID, ptr(*r.PreviousValidUntil)
	e.rotate(tok, r, want)

	// A second rotation with grace keeps the kid of the value it rotates away, not the first one's.
	r2 := ports.Rotation{FromJTI: r.NewJTI, NewJTI: newID("jti_"), NewKID: newID("kid_"), At: e.at(90 * time.Minute),
		PreviousValidUntil: ptr(e.at(3 * time.Hour))}
	want.CurrentJTI, want.CurrentKID, want.RotatedAt = r2.NewJTI, r2.NewKID, ptr(r2.At)
	want.PreviousJTI, want.PreviousKID, want.PreviousValidUntil = r2.FromJTI, r.NewKID, ptr(*r2.PreviousValidUntil)
	e.rotate(tok, r2, want)
}

func testRotateTokenNoGraceClearsKID(e *env) {
	tn := e.newTenant()
	tok := e.kidToken(tn, "kid no grace")
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), NewKID: newID("kid_"), At: e.at(time.Hour),
		PreviousValidUntil: ptr(e.at(2 * time.Hour))}
	want := cloneToken(tok)
	want.CurrentJTI, want.CurrentKID, want.RotatedAt = r.NewJTI, r.NewKID, ptr(r.At)
	want.PreviousJTI, want.PreviousKID, want.PreviousValidUntil = r.FromJTI, tn.Key.KID, ptr(*r.PreviousValidUntil)
	e.rotate(tok, r, want)

	r2 := ports.Rotation{FromJTI: r.NewJTI, NewJTI: newID("jti_"), NewKID: tn.Key.KID, At: e.at(90 * time.Minute)}
	want.CurrentJTI, want.CurrentKID, want.RotatedAt = r2.NewJTI, r2.NewKID, ptr(r2.At)
	want.PreviousJTI, want.PreviousKID, want.PreviousValidUntil = "", "", nil
	e.rotate(tok, r2, want)
}

func testRevokeTokenKeepsKIDs(e *env) {
	tn := e.newTenant()
	tok := e.kidToken(tn, "kid revoke")
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), NewKID: newID("kid_"), At: e.at(time.Hour),
		PreviousValidUntil: ptr(e.at(2 * time.Hour))}
	_, err := e.s.Tokens.RotateToken(e.ctx, tn.WS.ID, tok.ID, r, nil)
	e.must(err, "RotateToken")
	got, _, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, tok.ID, e.at(90*time.Minute), nil)
	e.must(err, "RevokeToken")
	want := cloneToken(tok)
	want.CurrentJTI, want.CurrentKID, want.RotatedAt = r.NewJTI, r.NewKID, ptr(r.At)
	want.PreviousJTI, want.PreviousKID, want.PreviousValidUntil = r.FromJTI, tn.Key.KID, ptr(*r.PreviousValidUntil)
	want.RevokedAt = ptr(e.at(90 * time.Minute))
	tokenDiff(got, want).report(e.t, "RevokeToken result")
	e.wantToken(want, "Token after revocation")
}
