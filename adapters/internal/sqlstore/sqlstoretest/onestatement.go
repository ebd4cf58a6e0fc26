package sqlstoretest

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/tooken/tooken/adapters/internal/sqlstore"
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
	a, b, store, delivered := replicas(t, h)
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

	c.chainHolds(wsID, created)
	if got := delivered(); !slices.Equal(got, afterHook) {
		t.Errorf("deliveries enqueued for the events %s, want one for each create after the webhook: %s",
			fmt.Sprint(got), fmt.Sprint(afterHook))
	}
}

// recordDeliveries makes store's outbox record the event of each delivery enqueued, and returns a
// function answering the events recorded so far, in order.
func recordDeliveries(store *sqlstore.DB) func() []string {
	var mu sync.Mutex
	var events []string
	store.SetOutbox(func(_ context.Context, _ *sql.Tx, ds []ports.WebhookDelivery) error {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range ds {
			events = append(events, d.EventID)
		}
		return nil
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(events)
	}
}

// testBatchesAcrossWorkspaces sends batches of creates spread over three workspaces. With every
// workspace's head known to the handle, a batch is written in one statement; when a second handle
// (a replica) has moved one workspace's head since, that workspace's creates are written in a
// transaction and the others' still in the statement; so are those of a workspace with a webhook,
// whose deliveries are enqueued. Every create must succeed, and each workspace's chain must be whole
// and hold its creates' events. SQLite writes every batch in a transaction.
func testBatchesAcrossWorkspaces(t *testing.T, h Harness) {
	a, b, store, delivered := replicas(t, h)
	c := newCheck(t, a)
	pg := store.Writer().DriverName() == "postgres"
	var ws [3]string
	created := map[string][]string{}
	createOne := func(db Database, w string) {
		tok := &ports.Token{ID: id("tok_"), WorkspaceID: w, Name: id("t-"), CreatedAt: c.base, CurrentJTI: id("jti_")}
		ev := c.event(w, "token.created", tok.ID, c.base)
		c.must(db.Stores().Tokens.CreateToken(c.ctx, tok, ev), "CreateToken")
		created[w] = append(created[w], ev.ID)
	}
	for i := range ws {
		ws[i], _ = c.workspace()
		createOne(a, ws[i]) // the handle learns the workspace's head
	}
	// round queues 9 creates, 3 per workspace, behind one of the first workspace, and checks how many
	// batches were written in one statement and how many in a transaction.
	round := func(why string, wantOne, wantInTx uint64) {
		t.Helper()
		one, inTx := store.CreateBatches()
		names := make([]string, 9)
		for i := range names {
			names[i] = id("q-")
		}
		_, errs := c.createQueued(store.Writer(), ws[0], names, func(i int, tok *ports.Token, ev *ports.AuditEvent) {
			w := ws[i%len(ws)]
			tok.WorkspaceID, ev.WorkspaceID = w, w
			created[w] = append(created[w], ev.ID)
		})
		for i, err := range errs {
			c.must(err, fmt.Sprintf("CreateToken %d %s", i, why))
		}
		one2, inTx2 := store.CreateBatches()
		if !pg {
			wantOne, wantInTx = 0, 2
		}
		if one2-one != wantOne || inTx2-inTx != wantInTx {
			t.Errorf("%s: %d batches written in one statement and %d in a transaction, want %d and %d",
				why, one2-one, inTx2-inTx, wantOne, wantInTx)
		}
	}
	round("every head known", 2, 0)
	createOne(b, ws[2])
	round("one head moved by another handle", 2, 1)
	round("that head known again", 2, 0)
	hook := &ports.Webhook{ID: id("wh_"), WorkspaceID: ws[1], URL: "https://example.test/hook", Events: []string{"token.created"},
		Enabled: true, Secret: "whsec_" + id(""), CreatedAt: c.base, UpdatedAt: c.base}
	c.must(a.Stores().Webhooks.CreateWebhook(c.ctx, hook, nil), "CreateWebhook")
	before := len(created[ws[1]])
	round("a workspace with a webhook", 2, 1)
	round("a workspace known to have a webhook", 2, 1)
	for _, w := range ws {
		c.chainHolds(w, created[w])
	}
	got, want := delivered(), slices.Clone(created[ws[1]][before:]) // queued creates join a batch in any order
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("deliveries enqueued for the events %v, want one for each create in the workspace with the webhook: %v", got, want)
	}
}

// chainHolds checks that the workspace's audit chain is whole (each link numbered and hashed after
// the one before) and holds every event of ids, and returns the chain.
func (c *check) chainHolds(wsID string, ids []string) []ports.AuditEvent {
	c.t.Helper()
	chain, err := c.s.Audit.AuditChain(c.ctx, wsID, 0, 1000)
	c.must(err, "AuditChain")
	prev := ""
	var have []string
	for i, ev := range chain {
		if ev.ChainSeq != int64(i+1) || ev.PrevHash != prev || ev.Hash != ports.AuditHash(prev, &ev) {
			c.t.Fatalf("chain link %d (%s %s): seq %d, prev %q, hash %q; want seq %d after %q, and its own hash",
				i+1, ev.Action, ev.ID, ev.ChainSeq, ev.PrevHash, ev.Hash, i+1, prev)
		}
		prev = ev.Hash
		have = append(have, ev.ID)
	}
	for _, e := range ids {
		if !slices.Contains(have, e) {
			c.t.Errorf("event %s of a create is not in the chain of %s %v", e, wsID, have)
		}
	}
	return chain
}

// replicas opens two handles on one fresh, migrated database, as two replicas would, and returns
// the first's store with its outbox recording the deliveries it enqueues (see recordDeliveries).
func replicas(t *testing.T, h Harness) (a, b Database, store *sqlstore.DB, delivered func() []string) {
	dsn := h.NewDSN(t)
	a, b = open(t, h, dsn), open(t, h, dsn)
	if err := a.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	store = h.Store(a)
	return a, b, store, recordDeliveries(store)
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
