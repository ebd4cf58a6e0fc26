package portstest

import (
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

func testTokenIsolation(t *testing.T, newStores Factory) {
	run(t, newStores, "TokensOfAnotherWorkspaceAreNotFound", testTokenIsolationReads)
	run(t, newStores, "MutationsAddressedToAnotherWorkspaceChangeNothing", testTokenIsolationMutations)
	run(t, newStores, "TokensListsOnlyTheWorkspaceTokens", testTokenIsolationLists)
}

func testTokenIsolationReads(e *env) {
	a, b := e.newTenant(), e.newTenant()
	tok := e.createToken(a, "secret of A", e.at(0))
	_, err := e.s.Tokens.Token(e.ctx, b.WS.ID, tok.ID)
	e.wantCode(err, ports.ENOTFOUND, "Token(B, token of A)")
	e.wantToken(tok, "Token(A, token of A)")
}

func testTokenIsolationMutations(e *env) {
	a, b := e.newTenant(), e.newTenant()
	tok := e.createToken(a, "target", e.at(0))

	rev := e.tokenEvent(tok, "token.revoked", e.at(time.Minute))
	rev.WorkspaceID = b.WS.ID
	_, revoked, err := e.s.Tokens.RevokeToken(e.ctx, b.WS.ID, tok.ID, e.at(time.Minute), cloneEvent(rev))
	e.wantCode(err, ports.ENOTFOUND, "RevokeToken(B, token of A)")
	if revoked {
		e.t.Errorf("RevokeToken(B, token of A): revoked=true, want false")
	}

	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), At: e.at(2 * time.Minute),
		PreviousValidUntil: ptr(e.at(time.Hour))}
	rot := e.tokenEvent(tok, "token.rotated", r.At)
	rot.WorkspaceID = b.WS.ID
	_, err = e.s.Tokens.RotateToken(e.ctx, b.WS.ID, tok.ID, r, cloneEvent(rot))
	e.wantCode(err, ports.ENOTFOUND, "RotateToken(B, token of A)")

	e.wantToken(tok, "token of A after mutations addressed to B")
	e.wantNotRecorded(rev.ID, a.WS.ID, b.WS.ID)
	e.wantNotRecorded(rot.ID, a.WS.ID, b.WS.ID)
	if evs := e.eventsAbout(b.WS.ID, tok.ID, ""); len(evs) != 0 {
		e.t.Errorf("events of B about A's token: %v, want none", eventIDs(evs))
	}
}

func testTokenIsolationLists(e *env) {
	a, b := e.newTenant(), e.newTenant()
	ta := e.createToken(a, "shared name", e.at(0))
	tb := e.createToken(b, "shared name", e.at(time.Second))
	e.createToken(a, "only in A", e.at(2*time.Second))
	now := e.at(time.Hour)
	for _, f := range []ports.TokenFilter{
		{},
		{NameContains: "shared"},
		{NameContains: "only in A"},
		{Status: ports.StatusActive, Now: now},
	} {
		list, total := e.tokens(b.WS.ID, f)
		for _, tok := range list {
			if tok.WorkspaceID != b.WS.ID || tok.ID != tb.ID {
				e.t.Errorf("Tokens(B, %+v) lists %s of workspace %s", f, tok.ID, tok.WorkspaceID)
			}
		}
		if total != len(list) {
			e.t.Errorf("Tokens(B, %+v): total %d, want %d", f, total, len(list))
		}
	}
	e.wantTokens(a.WS.ID, ports.TokenFilter{NameContains: "SHARED", Page: ports.Page{Page: 1, PerPage: 10}}, 1, ta)
}
