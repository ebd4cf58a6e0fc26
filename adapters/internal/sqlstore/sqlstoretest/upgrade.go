package sqlstoretest

import (
	"slices"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// CheckUpgradedChain checks the audit chain of a workspace whose events (ids, in insertion order)
// were written before the chain existed, in a database just migrated: they are numbered from 1 in
// that order and unhashed, and the next event starts the hashed chain after them (ChainSeq n+1, an
// empty PrevHash and a valid Hash).
func CheckUpgradedChain(t *testing.T, s ports.Stores, wsID string, ids ...string) {
	t.Helper()
	ctx := t.Context()
	events, err := s.Audit.AuditChain(ctx, wsID, 0, 100)
	if err != nil {
		t.Fatalf("AuditChain(%q): %v", wsID, err)
	}
	got := make([]string, len(events))
	for i, ev := range events {
		got[i] = ev.ID
		if ev.ChainSeq != int64(i+1) || ev.PrevHash != "" || ev.Hash != "" {
			t.Errorf("upgraded event %s of %q: chain fields (%d, %q, %q), want (%d, \"\", \"\")", ev.ID, wsID,
				ev.ChainSeq, ev.PrevHash, ev.Hash, i+1)
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("AuditChain(%q) after the upgrade: %v, want %v", wsID, got, ids)
	}
	next := &ports.AuditEvent{ID: id("evt_"), WorkspaceID: wsID, Action: "token.created",
		OccurredAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := s.Audit.AppendAuditEvents(ctx, next); err != nil {
		t.Fatalf("AppendAuditEvents after the upgrade: %v", err)
	}
	stored, err := s.Audit.AuditChain(ctx, wsID, int64(len(ids)), 10)
	if err != nil || len(stored) != 1 {
		t.Fatalf("AuditChain after the first hashed event: %d events, %v", len(stored), err)
	}
	ev := &stored[0]
	if ev.ID != next.ID || ev.ChainSeq != int64(len(ids)+1) || ev.PrevHash != "" || ev.Hash != ports.AuditHash("", ev) {
		t.Errorf("first hashed event of %q: %s (%d, %q, %q), want %s at %d with an empty PrevHash and a valid Hash",
			wsID, ev.ID, ev.ChainSeq, ev.PrevHash, ev.Hash, next.ID, len(ids)+1)
	}
}

// CheckUpgradedDefaults checks what the migration gives existing workspaces and tokens: no audit
// retention, an empty expiration policy and no rotation period.
func CheckUpgradedDefaults(t *testing.T, s ports.Stores, wsID, tokenID string) {
	t.Helper()
	ws, err := s.Workspaces.Workspace(t.Context(), wsID)
	if err != nil || ws.AuditRetentionDays != nil || ws.Policy != (ports.Policy{}) {
		t.Errorf("Workspace after the upgrade: %+v, %v; want no retention and an empty policy", ws, err)
	}
	tok, err := s.Tokens.Token(t.Context(), wsID, tokenID)
	if err != nil || tok.RotationPeriod != nil {
		t.Errorf("Token after the upgrade: %+v, %v; want no rotation period", tok, err)
	}
}
