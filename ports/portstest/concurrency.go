package portstest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

const racers = 20

func testTokenConcurrency(t *testing.T, newStores Factory) {
	run(t, newStores, "ConcurrentRevocationsRevokeOnce", testConcurrentRevocations)
	run(t, newStores, "ConcurrentRotationsHaveOneWinner", testConcurrentRotations)
	run(t, newStores, "ConcurrentRevocationsAndRotationsStayConsistent", testConcurrentRevokeAndRotate)
	run(t, newStores, "ConcurrentCreatesGiveEachNameToOneToken", testConcurrentCreates)
}

type revokeResult struct {
	at      time.Time
	ev      *ports.AuditEvent
	tok     *ports.Token
	revoked bool
	err     error
}

type rotateResult struct {
	r   ports.Rotation
	ev  *ports.AuditEvent
	tok *ports.Token
	err error
}

// race starts every function at once and waits for all of them.
func race(fns []func()) {
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, fn := range fns {
		wg.Go(func() {
			<-start
			fn()
		})
	}
	close(start)
	wg.Wait()
}

func (e *env) revoker(tok *ports.Token, i int, res *revokeResult) func() {
	res.at = e.at(time.Hour + time.Duration(i)*time.Millisecond)
	res.ev = e.tokenEvent(tok, "token.revoked", res.at)
	ev := cloneEvent(res.ev)
	return func() {
		res.tok, res.revoked, res.err = e.s.Tokens.RevokeToken(e.ctx, tok.WorkspaceID, tok.ID, res.at, ev)
	}
}

func (e *env) rotator(tok *ports.Token, i int, res *rotateResult) func() {
	res.r = ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: fmt.Sprintf("%s-%02d", newID("jti_"), i),
		At: e.at(time.Hour + time.Duration(i)*time.Millisecond + time.Microsecond)}
	res.ev = e.tokenEvent(tok, "token.rotated", res.r.At)
	ev := cloneEvent(res.ev)
	return func() {
		res.tok, res.err = e.s.Tokens.RotateToken(e.ctx, tok.WorkspaceID, tok.ID, res.r, ev)
	}
}

// checkRevocations checks that every revocation succeeded, exactly one revoked the token, every call
// returned the token as revoked by the winner, and returns the winner.
func (e *env) checkRevocations(results []revokeResult) *revokeResult {
	e.t.Helper()
	var winners []*revokeResult
	for i := range results {
		res := &results[i]
		if res.err != nil {
			e.t.Errorf("concurrent RevokeToken %d: %v, want nil", i, res.err)
			continue
		}
		if res.revoked {
			winners = append(winners, res)
		}
	}
	if len(winners) != 1 {
		e.t.Fatalf("concurrent RevokeToken: %d calls reported revoked=true, want exactly 1", len(winners))
	}
	w := winners[0]
	for i, res := range results {
		if res.err == nil && (res.tok == nil || res.tok.RevokedAt == nil || !sameInstant(*res.tok.RevokedAt, w.at)) {
			e.t.Errorf("concurrent RevokeToken %d returned RevokedAt %s, want the winner's %s", i,
				fmtTimePtr(revokedAt(res.tok)), fmtTime(w.at))
		}
	}
	return w
}

func revokedAt(t *ports.Token) *time.Time {
	if t == nil {
		return nil
	}
	return t.RevokedAt
}

// checkRotations checks that every rotation either won or failed with ECONFLICT, that at most one won,
// and returns the winner (nil if none).
func (e *env) checkRotations(results []rotateResult) *rotateResult {
	e.t.Helper()
	var winners []*rotateResult
	for i := range results {
		res := &results[i]
		switch ports.ErrorCode(res.err) {
		case "":
			winners = append(winners, res)
		case ports.ECONFLICT:
		default:
			e.t.Errorf("concurrent RotateToken %d: %v, want nil or ECONFLICT", i, res.err)
		}
	}
	if len(winners) > 1 {
		e.t.Fatalf("concurrent RotateToken from one JTI: %d winners, want at most 1", len(winners))
	}
	if len(winners) == 0 {
		return nil
	}
	w := winners[0]
	if w.tok == nil || w.tok.CurrentJTI != w.r.NewJTI {
		e.t.Errorf("winning RotateToken returned a token whose CurrentJTI is not its NewJTI %s", w.r.NewJTI)
	}
	return w
}

// wantEvents checks that the token's events of action are exactly those given, by id.
func (e *env) wantEvents(tok *ports.Token, action string, want ...*ports.AuditEvent) {
	e.t.Helper()
	got := eventIDs(e.eventsAbout(tok.WorkspaceID, tok.ID, action))
	wantIDs := make([]string, len(want))
	for i, ev := range want {
		wantIDs[i] = ev.ID
	}
	slices.Sort(got)
	slices.Sort(wantIDs)
	if !slices.Equal(got, wantIDs) {
		e.t.Errorf("%s events of %s: %v, want %v", action, tok.ID, got, wantIDs)
	}
}

func testConcurrentRevocations(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "raced revoke", e.at(0))
	results := make([]revokeResult, racers)
	fns := make([]func(), racers)
	for i := range results {
		fns[i] = e.revoker(tok, i, &results[i])
	}
	race(fns)

	w := e.checkRevocations(results)
	want := cloneToken(tok)
	want.RevokedAt = ptr(w.at)
	e.wantToken(want, "Token after concurrent revocations")
	e.wantEvents(tok, "token.revoked", w.ev)
	e.wantRecorded(w.ev)
}

func testConcurrentRotations(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "raced rotate", e.at(0))
	results := make([]rotateResult, racers)
	fns := make([]func(), racers)
	for i := range results {
		fns[i] = e.rotator(tok, i, &results[i])
	}
	race(fns)

	w := e.checkRotations(results)
	if w == nil {
		e.t.Fatalf("concurrent RotateToken from the current JTI: no winner, want exactly 1")
	}
	want := cloneToken(tok)
	want.CurrentJTI, want.RotatedAt = w.r.NewJTI, ptr(w.r.At)
	e.wantToken(want, "Token after concurrent rotations")
	e.wantEvents(tok, "token.rotated", w.ev)
	e.wantRecorded(w.ev)
}

func testConcurrentRevokeAndRotate(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "raced both", e.at(0))
	revokes := make([]revokeResult, racers/2)
	rotates := make([]rotateResult, racers/2)
	var fns []func()
	for i := range revokes {
		fns = append(fns, e.revoker(tok, i, &revokes[i]), e.rotator(tok, i, &rotates[i]))
	}
	race(fns)

	rev := e.checkRevocations(revokes)
	rot := e.checkRotations(rotates)
	want := cloneToken(tok)
	want.RevokedAt = ptr(rev.at)
	if rot != nil {
		// The rotation succeeded, so it committed before the revocation: the revocation saw its JTI.
		want.CurrentJTI, want.RotatedAt = rot.r.NewJTI, ptr(rot.r.At)
		if rot.tok != nil && rot.tok.RevokedAt != nil {
			e.t.Errorf("winning RotateToken returned a revoked token")
		}
		if rev.tok != nil && rev.tok.CurrentJTI != rot.r.NewJTI {
			e.t.Errorf("winning RevokeToken returned CurrentJTI %s, want the rotated %s (rotation before revocation)",
				rev.tok.CurrentJTI, rot.r.NewJTI)
		}
		e.wantEvents(tok, "token.rotated", rot.ev)
	} else {
		e.wantEvents(tok, "token.rotated")
	}
	e.wantToken(want, "Token after concurrent revocations and rotations")
	e.wantEvents(tok, "token.revoked", rev.ev)
}

// testConcurrentCreates races creates in two workspaces whose names collide case-insensitively,
// within and across calls that may share a transaction: each name goes to exactly one token of its
// workspace, each loser gets ECONFLICT and leaves neither a token nor an event, each winner's event
// is recorded with the chain fields it was given, and both chains stay unbroken.
func testConcurrentCreates(e *env) {
	tenants := []*tenant{e.newTenant(), e.newTenant()}
	names := []string{"alpha", "Alpha", "ALPHA", "beta", "bEta", "gamma", "delta", "Delta"}
	type call struct {
		tok *ports.Token
		ev  *ports.AuditEvent
		err error
	}
	calls := make([]call, 2*racers)
	fns := make([]func(), len(calls))
	for i := range calls {
		c := &calls[i]
		c.tok = e.tokenRecord(tenants[i%2], fmt.Sprintf("%s-%d", names[i%len(names)], i%3), e.at(time.Duration(i)*time.Millisecond))
		c.ev = e.tokenEvent(c.tok, "token.created", c.tok.CreatedAt)
		tok, ev := cloneToken(c.tok), c.ev
		fns[i] = func() { c.err = e.s.Tokens.CreateToken(e.ctx, tok, ev) }
	}
	race(fns)
	winners := map[string]*call{}
	for i := range calls {
		c := &calls[i]
		key := c.tok.WorkspaceID + "/" + strings.ToLower(c.tok.Name)
		switch ports.ErrorCode(c.err) {
		case "":
			if w := winners[key]; w != nil {
				e.t.Errorf("name %s was given to both %s and %s", key, w.tok.ID, c.tok.ID)
			}
			winners[key] = c
			e.wantRecorded(c.ev)
		case ports.ECONFLICT:
			_, err := e.s.Tokens.Token(e.ctx, c.tok.WorkspaceID, c.tok.ID)
			e.wantCode(err, ports.ENOTFOUND, "Token of a create that lost its name")
			e.wantNotRecorded(c.ev.ID, c.tok.WorkspaceID)
		default:
			e.t.Errorf("concurrent CreateToken %d (%s): %v, want nil or ECONFLICT", i, c.tok.Name, c.err)
		}
	}
	for _, tn := range tenants {
		chain := e.chain(tn.WS.ID)
		e.verifyChain("chain after concurrent creates", chain, chain[0].ChainSeq)
		_, total := e.tokens(tn.WS.ID, ports.TokenFilter{})
		var want int
		for key := range winners {
			if strings.HasPrefix(key, tn.WS.ID+"/") {
				want++
			}
		}
		if total != want {
			e.t.Errorf("workspace %s holds %d tokens after concurrent creates, want one per name (%d)", tn.WS.ID, total, want)
		}
	}
	for _, c := range winners {
		for _, ev := range e.chain(c.tok.WorkspaceID) {
			if ev.ID == c.ev.ID {
				wantChainFields(e.t, c.ev, &ev)
			}
		}
	}
}
