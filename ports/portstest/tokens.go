package portstest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestTokenStore checks a ports.TokenStore: round trips of every field, name uniqueness, revocation and
// its idempotency, rotation as a compare-and-swap, the kids of the current and previous values, the
// audit events of each mutation, lists (filters, paging, newest first), concurrent revocations and
// rotations, workspace isolation, the tokens that break an expiration policy, and the expiry job's
// candidates. The revocation feed
// entries of revocations and rotations are checked by TestRevocationFeed, and their announcements by
// TestChangeStream.
func TestTokenStore(t *testing.T, newStores Factory) {
	run(t, newStores, "CreateTokenRoundTripsEveryField", testTokenRoundTrip)
	run(t, newStores, "CreateTokenKeepsUnsetFieldsNil", testTokenNilFields)
	run(t, newStores, "StoredTokenDoesNotAliasCallerData", testTokenNoAliasing)
	run(t, newStores, "CreateTokenRecordsAuditEvent", testTokenCreateEvent)
	run(t, newStores, "MutationsWithoutEventRecordNothing", testTokenNilEvents)
	run(t, newStores, "CreateTokenRejectsDuplicateNameIgnoringCase", testTokenDuplicateName)
	run(t, newStores, "CreateTokenRejectsNameOfRevokedToken", testTokenNameOfRevoked)
	run(t, newStores, "SameNameAllowedInTwoWorkspaces", testTokenNameInTwoWorkspaces)
	run(t, newStores, "UnknownTokenIsNotFound", testTokenNotFound)
	run(t, newStores, "RevokeTokenMarksRevokedAndRecordsEvent", testRevokeToken)
	run(t, newStores, "RevokeTokenTwiceIsIdempotent", testRevokeTokenTwice)
	run(t, newStores, "RevokeUnknownTokenIsNotFound", testRevokeTokenNotFound)
	run(t, newStores, "RotateTokenReplacesCurrentJTI", testRotateToken)
	run(t, newStores, "RotateTokenWithGracePeriodKeepsPreviousJTI", testRotateTokenGrace)
	run(t, newStores, "RotateTokenFromStaleJTIConflicts", testRotateTokenStale)
	run(t, newStores, "RotateRevokedTokenConflicts", testRotateRevokedToken)
	run(t, newStores, "RotateUnknownTokenIsNotFound", testRotateTokenNotFound)
	testTokenKIDs(t, newStores)
	testTokenLists(t, newStores)
	testTokenConcurrency(t, newStores)
	testTokenIsolation(t, newStores)
	testTokenPolicy(t, newStores)
	run(t, newStores, "ExpiryCandidatesSelectTheScanWindowByID", testExpiryCandidates)
	run(t, newStores, "DuplicateAuditEventIDConflicts", testDuplicateEventID)
}

func (e *env) fullToken(tn *tenant, name string) *ports.Token {
	tok := e.tokenRecord(tn, name, e.at(0))
	tok.Scopes = []string{"tokens:read", "tokens:write", "orders:read"}
	tok.Audience = []string{"https://api.acme.test", "https://orders.acme.test"}
	tok.Metadata = json.RawMessage(`{"team":"payments","env":"prod","limits":{"rps":50,"burst":[1,2.5]}}`)
	tok.CreatedBy = "alice@example.test"
	tok.ExpiresAt = ptr(e.at(30 * 24 * time.Hour))
	tok.RotationPeriod = ptr(int64(7 * 24 * 3600))
	tok.LastUsedAt = ptr(e.at(time.Minute + 123*time.Microsecond))
	tok.RevokedAt = ptr(e.at(3 * time.Minute))
	tok.RotatedAt = ptr(e.at(2 * time.Minute))
	tok.CurrentKID = tn.Key.KID
	tok.PreviousJTI = newID("jti_")
	tok.PreviousKID = newID("kid_")
	tok.PreviousValidUntil = ptr(e.at(time.Hour))
	return tok
}

func (e *env) wantToken(want *ports.Token, what string) {
	e.t.Helper()
	tokenDiff(e.token(want.WorkspaceID, want.ID), want).report(e.t, what)
}

func testTokenRoundTrip(e *env) {
	tn := e.newTenant()
	tok := e.fullToken(tn, "Deploy bot")
	e.storeToken(tok)
	e.wantToken(tok, "Token")
	list, total := e.tokens(tn.WS.ID, ports.TokenFilter{})
	if total != 1 || len(list) != 1 {
		e.t.Fatalf("Tokens: %d tokens, total %d; want 1, 1", len(list), total)
	}
	tokenDiff(&list[0], tok).report(e.t, "Tokens[0]")
}

func testTokenNilFields(e *env) {
	tn := e.newTenant()
	tok := e.tokenRecord(tn, "minimal", e.at(0))
	e.storeToken(tok)
	e.wantToken(tok, "Token with only required fields")
	list, _ := e.tokens(tn.WS.ID, ports.TokenFilter{})
	if len(list) == 1 {
		tokenDiff(&list[0], tok).report(e.t, "Tokens[0] with only required fields")
	}
}

func testTokenNoAliasing(e *env) {
	tn := e.newTenant()
	tok := e.fullToken(tn, "aliasing")
	want := cloneToken(tok)
	e.must(e.s.Tokens.CreateToken(e.ctx, tok, e.tokenEvent(tok, "token.created", tok.CreatedAt)), "CreateToken")
	tok.Name, tok.Scopes[0], tok.Audience[0], tok.Metadata[2] = "changed", "changed", "changed", 'X'
	*tok.ExpiresAt, *tok.LastUsedAt, *tok.RotationPeriod = e.at(-time.Hour), e.at(-time.Hour), 1
	got := e.token(tn.WS.ID, tok.ID)
	got.Scopes[0], got.Metadata[2] = "changed", 'X'
	*got.ExpiresAt, *got.RevokedAt, *got.RotationPeriod = e.at(-time.Hour), e.at(-time.Hour), 2
	e.wantToken(want, "Token after the caller changed its copies")
}

func testTokenCreateEvent(e *env) {
	tn := e.newTenant()
	tok := e.tokenRecord(tn, "audited", e.at(0))
	ev := e.tokenEvent(tok, "token.created", e.at(0))
	e.must(e.s.Tokens.CreateToken(e.ctx, cloneToken(tok), cloneEvent(ev)), "CreateToken")
	e.wantRecorded(ev)
}

func testTokenNilEvents(e *env) {
	tn := e.newTenant()
	tok := e.tokenRecord(tn, "quiet", e.at(0))
	e.must(e.s.Tokens.CreateToken(e.ctx, cloneToken(tok), nil), "CreateToken(nil event)")
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), At: e.at(time.Minute)}
	_, err := e.s.Tokens.RotateToken(e.ctx, tn.WS.ID, tok.ID, r, nil)
	e.must(err, "RotateToken(nil event)")
	_, revoked, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, tok.ID, e.at(2*time.Minute), nil)
	e.must(err, "RevokeToken(nil event)")
	if !revoked {
		e.t.Errorf("RevokeToken(nil event): revoked=false, want true")
	}
	if got := e.eventsAbout(tn.WS.ID, tok.ID, ""); len(got) != 0 {
		e.t.Errorf("events after mutations without events: %v, want none", eventIDs(got))
	}
}

func testTokenDuplicateName(e *env) {
	tn := e.newTenant()
	first := e.createToken(tn, "Deploy Bot", e.at(0))
	for _, name := range []string{"Deploy Bot", "dEPLOY bOT", "DEPLOY BOT"} {
		dup := e.tokenRecord(tn, name, e.at(time.Second))
		ev := e.tokenEvent(dup, "token.created", e.at(time.Second))
		e.wantCode(e.s.Tokens.CreateToken(e.ctx, cloneToken(dup), cloneEvent(ev)), ports.ECONFLICT,
			"CreateToken("+name+") after "+first.Name)
		_, err := e.s.Tokens.Token(e.ctx, tn.WS.ID, dup.ID)
		e.wantCode(err, ports.ENOTFOUND, "Token of the rejected duplicate")
		e.wantNotRecorded(ev.ID, tn.WS.ID)
	}
	if _, total := e.tokens(tn.WS.ID, ports.TokenFilter{}); total != 1 {
		e.t.Errorf("Tokens total after rejected duplicates: %d, want 1", total)
	}
}

func testTokenNameOfRevoked(e *env) {
	tn := e.newTenant()
	old := e.createToken(tn, "legacy", e.at(0))
	_, _, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, old.ID, e.at(time.Minute), nil)
	e.must(err, "RevokeToken")
	dup := e.tokenRecord(tn, "LEGACY", e.at(2*time.Minute))
	e.wantCode(e.s.Tokens.CreateToken(e.ctx, dup, nil), ports.ECONFLICT, "CreateToken with a revoked token's name")
}

func testTokenNameInTwoWorkspaces(e *env) {
	a, b := e.newTenant(), e.newTenant()
	ta := e.createToken(a, "shared", e.at(0))
	tb := e.createToken(b, "Shared", e.at(time.Second))
	e.wantToken(ta, "Token of A")
	e.wantToken(tb, "Token of B")
}

func testTokenNotFound(e *env) {
	tn := e.newTenant()
	_, err := e.s.Tokens.Token(e.ctx, tn.WS.ID, newID("tok_"))
	e.wantCode(err, ports.ENOTFOUND, "Token(unknown)")
}

func testRevokeToken(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "to revoke", e.at(0))
	at := e.at(time.Hour + 7*time.Microsecond)
	ev := e.tokenEvent(tok, "token.revoked", at)
	got, revoked, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, tok.ID, at, cloneEvent(ev))
	e.must(err, "RevokeToken")
	if !revoked {
		e.t.Errorf("RevokeToken of an active token: revoked=false, want true")
	}
	want := cloneToken(tok)
	want.RevokedAt = ptr(at)
	if got == nil {
		e.t.Fatal("RevokeToken returned a nil token")
	}
	tokenDiff(got, want).report(e.t, "RevokeToken result")
	e.wantToken(want, "Token after revocation")
	e.wantRecorded(ev)
}

func testRevokeTokenTwice(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "twice", e.at(0))
	first := e.tokenEvent(tok, "token.revoked", e.at(time.Minute))
	_, _, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, tok.ID, e.at(time.Minute), cloneEvent(first))
	e.must(err, "first RevokeToken")
	want := cloneToken(tok)
	want.RevokedAt = ptr(e.at(time.Minute))

	second := e.tokenEvent(tok, "token.revoked", e.at(time.Hour))
	got, revoked, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, tok.ID, e.at(time.Hour), cloneEvent(second))
	e.must(err, "second RevokeToken")
	if revoked {
		e.t.Errorf("second RevokeToken: revoked=true, want false")
	}
	if got == nil {
		e.t.Fatal("second RevokeToken returned a nil token")
	}
	tokenDiff(got, want).report(e.t, "second RevokeToken result")
	e.wantToken(want, "Token after the second revocation")
	e.wantNotRecorded(second.ID, tn.WS.ID)
	if evs := e.eventsAbout(tn.WS.ID, tok.ID, "token.revoked"); len(evs) != 1 {
		e.t.Errorf("token.revoked events: %d, want 1", len(evs))
	}
}

func testRevokeTokenNotFound(e *env) {
	tn := e.newTenant()
	id := newID("tok_")
	ev := e.event(tn.WS.ID, "token.revoked", ports.Target{Type: "token", ID: id}, e.at(0))
	_, _, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, id, e.at(0), cloneEvent(ev))
	e.wantCode(err, ports.ENOTFOUND, "RevokeToken(unknown)")
	e.wantNotRecorded(ev.ID, tn.WS.ID)
}

// rotate rotates tok with r and checks the result and the stored token against want.
func (e *env) rotate(tok *ports.Token, r ports.Rotation, want *ports.Token) {
	e.t.Helper()
	ev := e.tokenEvent(tok, "token.rotated", r.At)
	got, err := e.s.Tokens.RotateToken(e.ctx, tok.WorkspaceID, tok.ID, r, cloneEvent(ev))
	e.must(err, "RotateToken")
	tokenDiff(got, want).report(e.t, "RotateToken result")
	e.wantToken(want, "Token after rotation")
	e.wantRecorded(ev)
}

func testRotateToken(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "rotating", e.at(0))
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), At: e.at(time.Hour)}
	want := cloneToken(tok)
	want.CurrentJTI, want.RotatedAt = r.NewJTI, ptr(r.At)
	e.rotate(tok, r, want)
}

func testRotateTokenGrace(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "graceful", e.at(0))
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), At: e.at(time.Hour),
		PreviousValidUntil: ptr(e.at(2 * time.Hour))}
	want := cloneToken(tok)
	want.CurrentJTI, want.RotatedAt = r.NewJTI, ptr(r.At)
	want.PreviousJTI, want.PreviousValidUntil = r.FromJTI, ptr(*r.PreviousValidUntil)
	e.rotate(tok, r, want)

	// A later rotation without a grace period ends the earlier grace period too.
	r2 := ports.Rotation{FromJTI: r.NewJTI, NewJTI: newID("jti_"), At: e.at(90 * time.Minute)}
	want.CurrentJTI, want.RotatedAt = r2.NewJTI, ptr(r2.At)
	want.PreviousJTI, want.PreviousValidUntil = "", nil
	e.rotate(tok, r2, want)
}

func testRotateTokenStale(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "stale", e.at(0))
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), At: e.at(time.Minute)}
	want := cloneToken(tok)
	want.CurrentJTI, want.RotatedAt = r.NewJTI, ptr(r.At)
	e.rotate(tok, r, want)

	for _, from := range []string{tok.CurrentJTI, newID("jti_")} {
		stale := ports.Rotation{FromJTI: from, NewJTI: newID("jti_"), At: e.at(time.Hour)}
		ev := e.tokenEvent(tok, "token.rotated", stale.At)
		_, err := e.s.Tokens.RotateToken(e.ctx, tn.WS.ID, tok.ID, stale, cloneEvent(ev))
		e.wantCode(err, ports.ECONFLICT, "RotateToken from a JTI that is not current")
		e.wantNotRecorded(ev.ID, tn.WS.ID)
	}
	e.wantToken(want, "Token after rejected rotations")
}

func testRotateRevokedToken(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "revoked", e.at(0))
	_, _, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, tok.ID, e.at(time.Minute), nil)
	e.must(err, "RevokeToken")
	want := cloneToken(tok)
	want.RevokedAt = ptr(e.at(time.Minute))
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), At: e.at(time.Hour)}
	ev := e.tokenEvent(tok, "token.rotated", r.At)
	_, err = e.s.Tokens.RotateToken(e.ctx, tn.WS.ID, tok.ID, r, cloneEvent(ev))
	e.wantCode(err, ports.ECONFLICT, "RotateToken of a revoked token")
	e.wantNotRecorded(ev.ID, tn.WS.ID)
	e.wantToken(want, "revoked Token after a rejected rotation")
}

func testRotateTokenNotFound(e *env) {
	tn := e.newTenant()
	id := newID("tok_")
	r := ports.Rotation{FromJTI: newID("jti_"), NewJTI: newID("jti_"), At: e.at(0)}
	ev := e.event(tn.WS.ID, "token.rotated", ports.Target{Type: "token", ID: id}, e.at(0))
	_, err := e.s.Tokens.RotateToken(e.ctx, tn.WS.ID, id, r, cloneEvent(ev))
	e.wantCode(err, ports.ENOTFOUND, "RotateToken(unknown)")
	e.wantNotRecorded(ev.ID, tn.WS.ID)
}
