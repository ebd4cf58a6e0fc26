package portstest

import (
	"fmt"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestRevocationFeed checks a ports.RevocationFeed and the entries TokenStore appends to it: a
// revocation appends the current value (and the previous one during its grace period), a rotation
// appends the value it replaces from the end of its grace period, a mutation that changes nothing
// appends nothing, and the reads filter by workspace, cursor, expiry and limit, in Seq order.
func TestRevocationFeed(t *testing.T, newStores Factory) {
	run(t, newStores, "RevokeTokenAppendsTheCurrentValue", testFeedRevoke)
	run(t, newStores, "RevokeTokenInGraceAppendsThePreviousValueToo", testFeedRevokeInGrace)
	run(t, newStores, "RevokeTokenAfterGraceSkipsThePreviousValue", testFeedRevokeAfterGrace)
	run(t, newStores, "RotateTokenAppendsTheValueItReplaces", testFeedRotate)
	run(t, newStores, "RotateTokenCutsAnEarlierGracePeriodShort", testFeedRotateInGrace)
	run(t, newStores, "MutationsThatChangeNothingAppendNothing", testFeedNoOps)
	run(t, newStores, "RevocationsFiltersByWorkspaceCursorExpiryAndLimit", testFeedFilters)
	run(t, newStores, "RevocationsSinceListsEveryWorkspace", testFeedSince)
	run(t, newStores, "PruneRevocationsDeletesExpiredEntries", testFeedPrune)
}

// feed lists the workspace's entries after `after` that are live at now.
func (e *env) feed(wsID string, after int64, now time.Time, limit int) []ports.Revocation {
	e.t.Helper()
	list, err := e.s.Feed.Revocations(e.ctx, wsID, after, now, limit)
	e.must(err, "Revocations")
	return list
}

// entry builds the feed entry expected for value jti of tok, refused from revokedAt.
func entry(tok *ports.Token, jti string, revokedAt time.Time) ports.Revocation {
	return ports.Revocation{WorkspaceID: tok.WorkspaceID, TokenID: tok.ID, JTI: jti, ExpiresAt: cloneTime(tok.ExpiresAt),
		RevokedAt: revokedAt}
}

// wantEntries checks got against want, in order, and that Seq is positive and increasing.
func (e *env) wantEntries(got []ports.Revocation, what string, want ...ports.Revocation) {
	e.t.Helper()
	if len(got) != len(want) {
		e.t.Errorf("%s: %d entries %v, want %d %v", what, len(got), fmtEntries(got), len(want), fmtEntries(want))
		return
	}
	for i := range want {
		revocationDiff(&got[i], &want[i]).report(e.t, fmt.Sprintf("%s entry %d", what, i))
		if got[i].Seq <= 0 || (i > 0 && got[i].Seq <= got[i-1].Seq) {
			e.t.Errorf("%s: Seq %d at %d, want positive and increasing (%v)", what, got[i].Seq, i, fmtEntries(got))
		}
	}
}

func fmtEntries(list []ports.Revocation) string {
	s := "["
	for i, r := range list {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%d:%s@%s", r.Seq, r.JTI, fmtTime(r.RevokedAt))
	}
	return s + "]"
}

func (e *env) expiringToken(tn *tenant, name string, expiresAt *time.Time) *ports.Token {
	e.t.Helper()
	tok := e.tokenRecord(tn, name, e.at(0))
	tok.ExpiresAt = expiresAt
	e.storeToken(tok)
	return tok
}

func (e *env) revokeAt(tok *ports.Token, at time.Time) {
	e.t.Helper()
	_, revoked, err := e.s.Tokens.RevokeToken(e.ctx, tok.WorkspaceID, tok.ID, at, e.tokenEvent(tok, "token.revoked", at))
	e.must(err, "RevokeToken")
	if !revoked {
		e.t.Fatalf("RevokeToken of %s: revoked=false, want true", tok.Name)
	}
}

// rotateFrom rotates tok from its current value at `at`, with a grace period until graceEnd if set,
// and returns the new value id.
func (e *env) rotateFrom(tok *ports.Token, from string, at time.Time, graceEnd *time.Time) string {
	e.t.Helper()
	r := ports.Rotation{FromJTI: from, NewJTI: newID("jti_"), NewKID: newID("kid_"), At: at, PreviousValidUntil: graceEnd}
	_, err := e.s.Tokens.RotateToken(e.ctx, tok.WorkspaceID, tok.ID, r, e.tokenEvent(tok, "token.rotated", at))
	e.must(err, "RotateToken")
	return r.NewJTI
}

func testFeedRevoke(e *env) {
	tn := e.newTenant()
	tok := e.expiringToken(tn, "revoked", ptr(e.at(30*24*time.Hour)))
	e.wantEntries(e.feed(tn.WS.ID, 0, e.at(0), 100), "feed before revocation")
	at := e.at(time.Hour + 5*time.Microsecond)
	e.revokeAt(tok, at)
	e.wantEntries(e.feed(tn.WS.ID, 0, e.at(0), 100), "feed after revocation", entry(tok, tok.CurrentJTI, at))
}

func testFeedRevokeInGrace(e *env) {
	tn := e.newTenant()
	tok := e.expiringToken(tn, "in grace", ptr(e.at(30*24*time.Hour)))
	graceEnd := e.at(2 * time.Hour)
	next := e.rotateFrom(tok, tok.CurrentJTI, e.at(time.Hour), &graceEnd)
	before := e.feed(tn.WS.ID, 0, e.at(0), 100)
	e.wantEntries(before, "feed after rotation", entry(tok, tok.CurrentJTI, graceEnd))
	if len(before) != 1 {
		e.t.FailNow()
	}
	at := e.at(90 * time.Minute)
	e.revokeAt(tok, at)
	got := e.feed(tn.WS.ID, before[0].Seq, e.at(0), 100)
	// The two entries of one revocation may come in either order.
	want := []ports.Revocation{entry(tok, next, at), entry(tok, tok.CurrentJTI, at)}
	if len(got) == 2 && got[0].JTI != next {
		want[0], want[1] = want[1], want[0]
	}
	e.wantEntries(got, "feed entries of a revocation during a grace period", want...)
}

func testFeedRevokeAfterGrace(e *env) {
	tn := e.newTenant()
	tok := e.expiringToken(tn, "after grace", nil)
	graceEnd := e.at(2 * time.Hour)
	next := e.rotateFrom(tok, tok.CurrentJTI, e.at(time.Hour), &graceEnd)
	e.revokeAt(tok, graceEnd)
	e.wantEntries(e.feed(tn.WS.ID, 0, e.at(0), 100), "feed after a revocation at the end of the grace period",
		entry(tok, tok.CurrentJTI, graceEnd), entry(tok, next, graceEnd))
}

func testFeedRotate(e *env) {
	tn := e.newTenant()
	tok := e.expiringToken(tn, "rotated", nil)
	first := e.rotateFrom(tok, tok.CurrentJTI, e.at(time.Hour), nil)
	graceEnd := e.at(3 * time.Hour)
	e.rotateFrom(tok, first, e.at(2*time.Hour), &graceEnd)
	e.wantEntries(e.feed(tn.WS.ID, 0, e.at(0), 100), "feed after two rotations",
		entry(tok, tok.CurrentJTI, e.at(time.Hour)), entry(tok, first, graceEnd))
}

func testFeedRotateInGrace(e *env) {
	tn := e.newTenant()
	tok := e.expiringToken(tn, "rotated twice", nil)
	graceEnd := e.at(3 * time.Hour)
	first := e.rotateFrom(tok, tok.CurrentJTI, e.at(time.Hour), &graceEnd)
	again := e.at(2 * time.Hour)
	e.rotateFrom(tok, first, again, nil)
	got := e.feed(tn.WS.ID, 0, e.at(0), 100)
	// The second rotation's two entries may come in either order.
	want := []ports.Revocation{entry(tok, tok.CurrentJTI, graceEnd), entry(tok, first, again), entry(tok, tok.CurrentJTI, again)}
	if len(got) == 3 && got[1].JTI != first {
		want[1], want[2] = want[2], want[1]
	}
	e.wantEntries(got, "feed after a rotation during an earlier grace period", want...)
}

func testFeedNoOps(e *env) {
	tn := e.newTenant()
	tok := e.expiringToken(tn, "no-op", nil)
	e.revokeAt(tok, e.at(time.Minute))
	_, revoked, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, tok.ID, e.at(time.Hour), nil)
	e.must(err, "second RevokeToken")
	if revoked {
		e.t.Errorf("second RevokeToken: revoked=true")
	}
	r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"), At: e.at(time.Hour)}
	_, err = e.s.Tokens.RotateToken(e.ctx, tn.WS.ID, tok.ID, r, nil)
	e.wantCode(err, ports.ECONFLICT, "RotateToken of a revoked token")
	live := e.expiringToken(tn, "live", nil)
	r = ports.Rotation{FromJTI: newID("jti_"), NewJTI: newID("jti_"), At: e.at(time.Hour)}
	_, err = e.s.Tokens.RotateToken(e.ctx, tn.WS.ID, live.ID, r, nil)
	e.wantCode(err, ports.ECONFLICT, "RotateToken from a stale value")
	_, _, err = e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, newID("tok_"), e.at(time.Hour), nil)
	e.wantCode(err, ports.ENOTFOUND, "RevokeToken(unknown)")
	e.wantEntries(e.feed(tn.WS.ID, 0, e.at(0), 100), "feed after mutations that changed nothing",
		entry(tok, tok.CurrentJTI, e.at(time.Minute)))
}

// feedSetup revokes, in this order, t1 (never expires), t4 (of workspace B), t2 (expires at +1h) and
// t3 (expires at +2h), and returns the workspaces, the tokens and their entries' Seq.
func (e *env) feedSetup() (a, b *tenant, toks [4]*ports.Token, seqs [4]int64) {
	e.t.Helper()
	a, b = e.newTenant(), e.newTenant()
	toks = [4]*ports.Token{
		e.expiringToken(a, "t1", nil), e.expiringToken(b, "t4", nil),
		e.expiringToken(a, "t2", ptr(e.at(time.Hour))), e.expiringToken(a, "t3", ptr(e.at(2*time.Hour))),
	}
	for i, tok := range toks {
		e.revokeAt(tok, e.at(time.Minute))
		list := e.feed(tok.WorkspaceID, 0, e.at(0), 100)
		if len(list) == 0 {
			e.t.Fatalf("feed of %s is empty after revoking %s", tok.WorkspaceID, tok.Name)
		}
		seqs[i] = list[len(list)-1].Seq
	}
	return a, b, toks, seqs
}

func testFeedFilters(e *env) {
	a, b, toks, seqs := e.feedSetup()
	t1, t4, t2, t3 := toks[0], toks[1], toks[2], toks[3]
	rev := e.at(time.Minute)
	all := []ports.Revocation{entry(t1, t1.CurrentJTI, rev), entry(t2, t2.CurrentJTI, rev), entry(t3, t3.CurrentJTI, rev)}
	e.wantEntries(e.feed(a.WS.ID, 0, e.at(0), 100), "Revocations(A)", all...)
	e.wantEntries(e.feed(b.WS.ID, 0, e.at(0), 100), "Revocations(B)", entry(t4, t4.CurrentJTI, rev))
	e.wantEntries(e.feed(newID("ws_"), 0, e.at(0), 100), "Revocations(unknown workspace)")
	e.wantEntries(e.feed(a.WS.ID, 0, e.at(time.Hour-time.Microsecond), 100), "Revocations(A) just before t2 expires", all...)
	e.wantEntries(e.feed(a.WS.ID, 0, e.at(time.Hour), 100), "Revocations(A) once t2 expired", all[0], all[2])
	e.wantEntries(e.feed(a.WS.ID, 0, e.at(48*time.Hour), 100), "Revocations(A) once t2 and t3 expired", all[0])
	e.wantEntries(e.feed(a.WS.ID, seqs[0], e.at(0), 100), "Revocations(A) after t1", all[1:]...)
	e.wantEntries(e.feed(a.WS.ID, seqs[3], e.at(0), 100), "Revocations(A) after the last entry")
	e.wantEntries(e.feed(a.WS.ID, 0, e.at(0), 2), "Revocations(A, limit 2)", all[:2]...)
	e.wantEntries(e.feed(a.WS.ID, seqs[0], e.at(0), 1), "Revocations(A, after t1, limit 1)", all[1])
}

func testFeedSince(e *env) {
	_, _, toks, seqs := e.feedSetup()
	rev := e.at(time.Minute)
	list, err := e.s.Feed.RevocationsSince(e.ctx, seqs[0]-1, 1000)
	e.must(err, "RevocationsSince")
	var ours []ports.Revocation
	for i, r := range list {
		if r.Seq <= seqs[0]-1 || (i > 0 && r.Seq <= list[i-1].Seq) {
			e.t.Fatalf("RevocationsSince(%d): Seq %d at %d: not after the cursor in Seq order", seqs[0]-1, r.Seq, i)
		}
		for _, tok := range toks {
			if r.TokenID == tok.ID {
				ours = append(ours, r)
			}
		}
	}
	var want []ports.Revocation
	for _, tok := range toks {
		want = append(want, entry(tok, tok.CurrentJTI, rev))
	}
	// Expired entries are listed too: RevocationsSince does not filter by expiry.
	e.wantEntries(ours, "RevocationsSince entries of both workspaces", want...)

	list, err = e.s.Feed.RevocationsSince(e.ctx, seqs[0]-1, 2)
	e.must(err, "RevocationsSince")
	if len(list) != 2 || list[0].Seq != seqs[0] || list[1].Seq <= seqs[0] || list[1].Seq > seqs[1] {
		e.t.Errorf("RevocationsSince(limit 2) = %s, want the first two entries from %d", fmtEntries(list), seqs[0])
	}
}

func testFeedPrune(e *env) {
	_, _, toks, seqs := e.feedSetup()
	t1, t4, t2, t3 := toks[0], toks[1], toks[2], toks[3]
	n, err := e.s.Feed.PruneRevocations(e.ctx, e.at(time.Hour))
	e.must(err, "PruneRevocations")
	if n < 1 {
		e.t.Errorf("PruneRevocations: %d entries deleted, want at least t2's", n)
	}
	list, err := e.s.Feed.RevocationsSince(e.ctx, seqs[0]-1, 1000)
	e.must(err, "RevocationsSince")
	rev := e.at(time.Minute)
	var ours []ports.Revocation
	for _, r := range list {
		if r.TokenID == t1.ID || r.TokenID == t2.ID || r.TokenID == t3.ID || r.TokenID == t4.ID {
			ours = append(ours, r)
		}
	}
	e.wantEntries(ours, "entries after pruning those expired at +1h",
		entry(t1, t1.CurrentJTI, rev), entry(t4, t4.CurrentJTI, rev), entry(t3, t3.CurrentJTI, rev))
	if n, err := e.s.Feed.PruneRevocations(e.ctx, e.at(time.Hour)); err != nil || n != 0 {
		e.t.Errorf("second PruneRevocations: %d, %v; want 0, nil", n, err)
	}
}
