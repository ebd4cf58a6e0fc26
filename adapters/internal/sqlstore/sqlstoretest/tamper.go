package sqlstoretest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// testTamper edits stored audit rows behind the stores' back (an action, a metadata document) and
// deletes one, then checks that recomputing the chain from AuditChain finds exactly those events:
// the edited ones no longer match their stored hash, and the event after the deleted one has a gap
// before it and a PrevHash that matches nothing.
func testTamper(t *testing.T, h Harness) {
	db := migrated(t, h)
	c := newCheck(t, db)
	wsID, _ := c.workspace()
	other, _ := c.workspace()
	var ids []string
	for i := range 8 {
		at := c.base.Add(time.Duration(i) * time.Second)
		if i%2 == 0 {
			tok := &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: id("t"), CreatedAt: at, CurrentJTI: id("jti_")}
			ev := c.event(wsID, "token.created", tok.ID, at)
			c.must(c.s.Tokens.CreateToken(c.ctx, tok, ev), "CreateToken")
			ids = append(ids, ev.ID)
			continue
		}
		ev := c.event(wsID, "auth.failed", "", at)
		ev.Metadata = map[string]any{"reason": "expired", "n": i}
		c.must(c.s.Audit.AppendAuditEvents(c.ctx, ev, c.event(other, "auth.failed", "", at)), "AppendAuditEvents")
		ids = append(ids, ev.ID)
	}
	if broken := brokenLinks(c, wsID); len(broken) != 0 {
		t.Fatalf("untouched chain: broken at %v", broken)
	}
	for _, q := range []string{
		fmt.Sprintf(`UPDATE audit_events SET action = 'token.tampered' WHERE id = '%s'`, ids[2]),
		fmt.Sprintf(`UPDATE audit_events SET metadata = '{"reason": "forged", "n": 5}' WHERE id = '%s'`, ids[5]),
	} {
		if err := h.Exec(c.ctx, db, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// The workspace was created without an event, so ids[i] is at ChainSeq i+1.
	if got, want := brokenLinks(c, wsID), []string{"3: hash", "6: hash"}; !slices.Equal(got, want) {
		t.Errorf("after editing two rows: broken links %v, want %v", got, want)
	}
	if err := h.Exec(c.ctx, db, fmt.Sprintf(`DELETE FROM audit_events WHERE id = '%s'`, ids[6])); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if got, want := brokenLinks(c, wsID), []string{"3: hash", "6: hash", "8: seq", "8: prev"}; !slices.Equal(got, want) {
		t.Errorf("after also deleting a row: broken links %v, want %v", got, want)
	}
	if broken := brokenLinks(c, other); len(broken) != 0 {
		t.Errorf("the other workspace's chain: broken at %v", broken)
	}
}

// brokenLinks recomputes the workspace's chain as a verifier would and lists its problems, as
// "<ChainSeq>: hash" (the event does not match its hash), "<ChainSeq>: seq" (a gap before it) and
// "<ChainSeq>: prev" (its PrevHash is not the previous event's hash).
func brokenLinks(c *check, wsID string) []string {
	c.t.Helper()
	events, err := c.s.Audit.AuditChain(c.ctx, wsID, 0, 1000)
	c.must(err, "AuditChain")
	var broken []string
	for i := range events {
		ev := &events[i]
		if i > 0 && ev.ChainSeq != events[i-1].ChainSeq+1 {
			broken = append(broken, fmt.Sprintf("%d: seq", ev.ChainSeq))
		}
		if i > 0 && ev.PrevHash != events[i-1].Hash {
			broken = append(broken, fmt.Sprintf("%d: prev", ev.ChainSeq))
		}
		if ports.AuditHash(ev.PrevHash, ev) != ev.Hash {
			broken = append(broken, fmt.Sprintf("%d: hash", ev.ChainSeq))
		}
	}
	return broken
}
