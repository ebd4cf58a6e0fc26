package postgres

import (
	"fmt"
	"testing"
	"time"
)

// TestFeedAppendsCommitInSeqOrder holds the feed lock in an open transaction that has appended an
// entry, and checks that a revocation waits for it: no entry with a larger seq can commit before an
// entry with a smaller one, so a reader's cursor never passes an entry that commits late.
func TestFeedAppendsCommitInSeqOrder(t *testing.T) {
	_, a, _ := replicas(t)
	s := a.Stores()
	ws, tok := seed(t, s)
	ctx := t.Context()
	tx, err := a.store.Writer().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var first int64
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, feedLockKey)); err != nil {
		t.Fatal(err)
	}
	if err := tx.QueryRowContext(ctx, `INSERT INTO revocations (workspace_id, token_id, jti, revoked_at)
VALUES ($1, 'tok_other', 'jti_other', now()) RETURNING seq`, ws.ID).Scan(&first); err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, _, err := s.Tokens.RevokeToken(ctx, ws.ID, tok.ID, time.Now(), nil)
		done <- err
	}()
	// Poll (bounded) until the revocation is queued behind the lock.
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for deadline := time.Now().Add(wait); ; {
		var waiting int
		if err := a.store.Writer().QueryRowContext(ctx, `SELECT count(*) FROM pg_locks
WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).
			Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("RevokeToken never waited for the feed lock")
		}
		select {
		case err := <-done:
			t.Fatalf("RevokeToken returned (%v) while another transaction held the feed lock", err)
		case <-poll.C:
		}
	}
	if list, err := s.Feed.RevocationsSince(ctx, 0, 10); err != nil || len(list) != 0 {
		t.Fatalf("feed while both appends are uncommitted: %v, %v; want empty", list, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	list, err := s.Feed.RevocationsSince(ctx, 0, 10)
	if err != nil || len(list) != 2 {
		t.Fatalf("feed after both commits: %v, %v; want 2 entries", list, err)
	}
	if list[0].Seq != first || list[1].TokenID != tok.ID || list[1].Seq <= first {
		t.Errorf("feed %+v: want the first commit's entry (seq %d) first", list, first)
	}
}
