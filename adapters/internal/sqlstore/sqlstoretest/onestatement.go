package sqlstoretest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/tooken/tooken/ports"
)

// testOneStatementCreates follows a workspace through creates that PostgreSQL writes in one
// statement chained to the head its handle's previous batch left, and through each case where that
// guess is wrong or must not be used: another write of the same handle, a create by another handle
// on the same database (a second replica), and a webhook subscribed to token.created (its
// deliveries are enqueued in a transaction). Each create must be written the expected way; in the
// end the chain must be whole and every create's event must be in it, with a delivery for each
// create made after the webhook. SQLite writes every batch in a transaction.
func testOneStatementCreates(t *testing.T, h Harness) {
	dsn := h.NewDSN(t)
	a, b := open(t, h, dsn), open(t, h, dsn)
	if err := a.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	store := h.Store(a)
	var mu sync.Mutex
	var delivered []string
	store.SetOutbox(func(_ context.Context, _ *sql.Tx, ds []ports.WebhookDelivery) error {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range ds {
			delivered = append(delivered, d.EventID)
		}
		return nil
	})
	c := newCheck(t, a)
	wsID, _ := c.workspace()
	pg := store.Writer().DriverName() == "postgres"

	var created []string
	// create makes one create through db, checks how a's store wrote it (when db is a) and
	// returns its event's id.
	create := func(db Database, oneStatement bool, why string) string {
		t.Helper()
		tok := &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: id("t-"), CreatedAt: c.base, CurrentJTI: id("jti_")}
		ev := c.event(wsID, "token.created", tok.ID, c.base)
		one, inTx := store.CreateBatches()
		c.must(db.Stores().Tokens.CreateToken(c.ctx, tok, ev), "CreateToken "+why)
		created = append(created, ev.ID)
		if db != a {
			return ev.ID
		}
		one2, inTx2 := store.CreateBatches()
		want := oneStatement && pg
		if got := one2 == one+1; got != want || one2+inTx2 != one+inTx+1 {
			t.Errorf("create %s: batches in one statement %d→%d, in a transaction %d→%d; want it in one statement: %v",
				why, one, one2, inTx, inTx2, want)
		}
		return ev.ID
	}

	create(a, false, "first of the workspace (no head known)")
	create(a, true, "after a create of this handle")
	create(a, true, "again")
	c.must(a.Stores().Audit.AppendAuditEvents(c.ctx, c.event(wsID, "token.revoked", "tok_x", c.base)), "AppendAuditEvents")
	create(a, false, "after another write of this handle")
	create(a, true, "after that create")
	create(b, false, "by a second handle")
	create(a, false, "after the second handle's create")
	create(a, true, "after that create, again")
	hook := &ports.Webhook{ID: id("wh_"), WorkspaceID: wsID, URL: "https://example.test/hook", Events: []string{"token.created"},
		Enabled: true, Secret: "whsec_" + id(""), CreatedAt: c.base, UpdatedAt: c.base}
	c.must(a.Stores().Webhooks.CreateWebhook(c.ctx, hook, nil), "CreateWebhook")
	afterHook := []string{
		create(a, false, "after a webhook was created (without an event)"),
		create(a, false, "while the workspace has a webhook"),
	}

	chain, err := a.Stores().Audit.AuditChain(c.ctx, wsID, 0, 1000)
	c.must(err, "AuditChain")
	prev := ""
	var ids []string
	for i, ev := range chain {
		if ev.ChainSeq != int64(i+1) || ev.PrevHash != prev || ev.Hash != ports.AuditHash(prev, &ev) {
			t.Fatalf("chain link %d (%s %s): seq %d, prev %q, hash %q; want seq %d after %q, and its own hash",
				i+1, ev.Action, ev.ID, ev.ChainSeq, ev.PrevHash, ev.Hash, i+1, prev)
		}
		prev = ev.Hash
		ids = append(ids, ev.ID)
	}
	for _, e := range created {
		if !slices.Contains(ids, e) {
			t.Errorf("event %s of a create is not in the chain %v", e, ids)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(delivered, afterHook) {
		t.Errorf("deliveries enqueued for the events %s, want one for each create after the webhook: %s",
			fmt.Sprint(delivered), fmt.Sprint(afterHook))
	}
}

// open opens a handle on dsn, closed when the test ends.
func open(t *testing.T, h Harness, dsn string) Database {
	t.Helper()
	db, err := h.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
