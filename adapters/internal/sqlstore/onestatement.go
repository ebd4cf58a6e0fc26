package sqlstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// hooksRecheck is how long a workspace found with enabled webhooks has its creates written in a
// transaction (which enqueues their deliveries) before the one-statement write is tried again.
const hooksRecheck = 10 * time.Second

// headCache remembers, per workspace, the audit-chain head that this process's last batch of
// creates left, so that the next batch can be chained to it without reading it first. It is a
// guess, which the statement relying on it checks (see createInOneStatement). Batches run one at a
// time (see batcher), and only they use it.
type headCache struct {
	mu    sync.Mutex
	heads map[string]cachedHead
}

type cachedHead struct {
	head  chainHead
	known bool
	hooks time.Time // until then, the workspace is taken to have webhooks
}

// get returns the workspace's head, if known and the workspace is not taken to have webhooks.
func (c *headCache) get(workspaceID string, now time.Time) (chainHead, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.heads[workspaceID]
	return h.head, h.known && !now.Before(h.hooks)
}

// set records the workspace's head after a batch committed.
func (c *headCache) set(workspaceID string, head chainHead) {
	c.update(workspaceID, func(h *cachedHead) { h.head, h.known = head, true })
}

// forget drops the workspace's head; a non-zero hooks also takes the workspace to have webhooks
// until then.
func (c *headCache) forget(workspaceID string, hooks time.Time) {
	c.update(workspaceID, func(h *cachedHead) { h.known, h.hooks = false, hooks })
}

func (c *headCache) update(workspaceID string, f func(h *cachedHead)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.heads == nil {
		c.heads = map[string]cachedHead{}
	}
	h := c.heads[workspaceID]
	f(&h)
	c.heads[workspaceID] = h
}

// rememberHeads records, for each workspace of events (just committed by a batch of creates), the
// last of them as the workspace's head, where the dialect writes batches in one statement.
func (db *DB) rememberHeads(events []*ports.AuditEvent) {
	if !db.d.OneStatementCreates {
		return
	}
	last := map[string]*ports.AuditEvent{}
	for _, ev := range events {
		if ev != nil && (last[ev.WorkspaceID] == nil || ev.ChainSeq > last[ev.WorkspaceID].ChainSeq) {
			last[ev.WorkspaceID] = ev
		}
	}
	for ws, ev := range last {
		db.heads.set(ws, chainHead{Seq: ev.ChainSeq, Hash: ev.Hash})
	}
}

// createStats counts how batches of creates were written.
type createStats struct{ oneStatement, inTransaction atomic.Uint64 }

// CreateBatches returns how many batches of token creates this DB has written in one statement, and
// how many in a transaction (see createInOneStatement).
func (db *DB) CreateBatches() (oneStatement, inTransaction uint64) {
	return db.createStats.oneStatement.Load(), db.createStats.inTransaction.Load()
}

// maxPreparedBatch bounds the batches whose statement is prepared (see stmtCache): a prepared
// statement is planned once per connection instead of at every batch (planning a batch of 8 took
// about as long as executing it: 0.4–0.6 ms), but PostgreSQL keeps its plan per connection, about
// 1 MB for a batch of 64 (measured), so larger, rarer batches are planned each time.
const maxPreparedBatch = 8

// The rows of one created token (tokenColumns, then name_key) and of one event (auditColumns), with
// the PostgreSQL type of each value: in INSERT … SELECT the values take no type from the columns.
const (
	pgTokenRow = `(?::text, ?::text, ?::text, ?::jsonb, ?::jsonb, ?::json, ?::text, ?::timestamptz, ?::timestamptz,
?::timestamptz, ?::timestamptz, ?::timestamptz, ?::text, ?::text, ?::text, ?::text, ?::timestamptz, ?::bigint, ?::text)`
	pgEventRow = `(?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text, ?::text,
?::text, ?::jsonb, ?::timestamptz, ?::bigint, ?::text, ?::text)`
)

// oneStatementCreate is the statement that writes n tokens and their n events. The head's UPDATE
// applies only if the head is still the one expected and the workspace has no enabled webhook
// (a concurrent writer holding the head is waited for, then the condition is checked again on
// what it committed); both inserts join the UPDATE's result, so all of it is written or nothing
// is. It returns whether the head moved, and whether the workspace has enabled webhooks.
func oneStatementCreate(n int) string {
	return `WITH head AS (
UPDATE audit_heads SET last_seq = ?, last_hash = ?
WHERE workspace_id = ? AND last_seq = ? AND last_hash = ?
AND NOT EXISTS (SELECT 1 FROM webhooks WHERE workspace_id = ? AND enabled)
RETURNING workspace_id
), new_tokens AS (
INSERT INTO tokens (` + tokenColumns + `, name_key)
SELECT v.* FROM (VALUES ` + valuesList(pgTokenRow, n) + `) AS v, head
), new_events AS (
INSERT INTO audit_events (` + auditColumns + `)
SELECT v.* FROM (VALUES ` + valuesList(pgEventRow, n) + `) AS v, head
)
SELECT EXISTS (SELECT 1 FROM head) AS moved, EXISTS (SELECT 1 FROM webhooks WHERE workspace_id = ? AND enabled) AS hooks`
}

// oneStatementQuery is oneStatementCreate(n) rebound to the dialect, kept for the batch sizes whose
// statement is prepared (at most maxPreparedBatch, about 20 KB in all) and built anew for the rest.
func (db *DB) oneStatementQuery(n int) string {
	if n > maxPreparedBatch {
		return db.q(oneStatementCreate(n))
	}
	if q, ok := db.oneStatements.Load(n); ok {
		return q.(string)
	}
	q, _ := db.oneStatements.LoadOrStore(n, db.q(oneStatementCreate(n)))
	return q.(string)
}

// createInOneStatement writes a batch of creates of one workspace, each with its event, in one
// statement chained after the head this process's previous batch left: one round trip and no
// transaction held open while this process works (measured: +55 % creates per second against
// the transaction's seven round trips). It reports whether it wrote the batch. It does not when
// the dialect cannot, the batch spans workspaces, no head is known, another writer has moved the
// head since, the workspace has webhooks (their deliveries are enqueued in the transaction), or
// the statement fails (a name already taken): the caller then writes the batch in a transaction,
// which reads the head. An unreachable database is returned as the error, for every call.
func (db *DB) createInOneStatement(ctx context.Context, items []*batchItem[newToken]) (bool, error) {
	if !db.d.OneStatementCreates {
		return false, nil
	}
	ws := items[0].v.t.WorkspaceID
	head, ok := db.heads.get(ws, time.Now())
	if !ok {
		return false, nil
	}
	list := make([]chainedEvent, 0, len(items))
	for _, it := range items {
		c := it.v.chained
		if it.v.t.WorkspaceID != ws || c == nil || c.ev.WorkspaceID != ws {
			return false, nil
		}
		list = append(list, *c)
	}
	next := head
	chain(list, map[string]*chainHead{ws: &next})
	args := make([]any, 0, 7+len(items)*(19+17))
	args = append(args, next.Seq, next.Hash, ws, head.Seq, head.Hash, ws)
	for _, it := range items {
		args = append(args, db.tokenArgs(it.v)...)
	}
	for i := range list {
		args = db.appendEventArgs(args, &list[i])
	}
	args = append(args, ws)
	var res struct {
		Moved bool `db:"moved"`
		Hooks bool `db:"hooks"`
	}
	var err error
	if query := db.oneStatementQuery(len(items)); len(items) <= maxPreparedBatch {
		err = db.getBound(ctx, db.write, &res, query, args...)
	} else {
		err = sqlx.GetContext(ctx, db.write, &res, query, args...)
	}
	if err != nil {
		db.heads.forget(ws, time.Time{})
		if err := db.wrap(err, "", ""); ports.ErrorCode(err) == ports.EUNAVAILABLE {
			return true, err
		}
		return false, nil
	}
	if !res.Moved {
		var until time.Time
		if res.Hooks {
			until = time.Now().Add(hooksRecheck)
		}
		db.heads.forget(ws, until)
		return false, nil
	}
	publish(list)
	db.heads.set(ws, next)
	db.createStats.oneStatement.Add(1)
	return true, nil
}
