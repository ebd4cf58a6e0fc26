package sqlstore

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

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
	if !db.d.WritableCTEs {
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

// createStats counts how batches of creates were written, and how much they wrote in how long.
type createStats struct {
	oneStatement, inTransaction atomic.Uint64
	batches, creates            atomic.Uint64
	busy                        atomic.Int64 // nanoseconds spent writing batches
}

// CreateLoad returns how many batches of token creates this DB has written, the creates they held,
// and the time spent writing them. Batches are written one at a time (see batcher), so busy over a
// period's length is the share of it the write path of creates was occupied: near 100 %, creates
// wait for it rather than for the CPU.
func (db *DB) CreateLoad() (batches, creates uint64, busy time.Duration) {
	s := &db.createStats
	return s.batches.Load(), s.creates.Load(), time.Duration(s.busy.Load())
}

// CreateBatches returns how many batches of token creates this DB has written in one statement, and
// how many in a transaction (see createInOneStatement).
func (db *DB) CreateBatches() (oneStatement, inTransaction uint64) {
	return db.createStats.oneStatement.Load(), db.createStats.inTransaction.Load()
}

// The PostgreSQL types of a created token's values (tokenColumns, then name_key) and of an event's
// (auditColumns), in column order: in INSERT … SELECT the values take no type from the columns.
var (
	pgTokenTypes = []string{"text", "text", "text", "jsonb", "jsonb", "json", "text", "timestamptz", "timestamptz",
		"timestamptz", "timestamptz", "timestamptz", "text", "text", "text", "text", "timestamptz", "bigint", "text"}
	pgEventTypes = []string{"text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text",
		"text", "jsonb", "timestamptz", "bigint", "text", "text"}
)

// unnestOf is an unnest of one array argument per type, named v with the given column names: the
// rows of a batch, passed column by column.
func unnestOf(types []string, columns string) string {
	args := make([]string, len(types))
	for i, t := range types {
		args[i] = "?::" + t + "[]"
	}
	return "unnest(" + strings.Join(args, ", ") + ") AS v(" + columns + ")"
}

// The statements that write a batch of tokens and their events, whatever the batch's size: each
// column's values come as one array, so a statement is prepared, and planned, once per connection
// (as a multi-row VALUES list, it was one statement per batch size, planned each time beyond the 8
// sizes kept prepared — planning a batch of 8 took about as long as executing it, and a connection
// kept 2.7 MB of plans for sizes 1–8, 6.6 MB for 1–16, measured). A workspace's head moves only if
// it is still the one expected and the workspace has no enabled webhook (a concurrent writer holding
// it is waited for, then the condition is checked again on what it committed); the tokens and events
// of the workspaces whose head moved are inserted, the others' are not, so each workspace's part is
// written whole or not at all. Each returns the workspaces whose head moved, and those of the batch
// with enabled webhooks, comma-separated.
//
// oneWorkspaceCreate moves one head. manyWorkspacesCreate moves the heads of several workspaces,
// locked in workspace order first, as the transaction path locks them (no deadlock between the two,
// or between replicas); for one workspace it measured 5–10 % fewer creates per second than
// oneWorkspaceCreate, hence two statements.
var (
	oneWorkspaceCreate = `WITH head AS (
UPDATE audit_heads SET last_seq = ?, last_hash = ?
WHERE workspace_id = ? AND last_seq = ? AND last_hash = ?
AND NOT EXISTS (SELECT 1 FROM webhooks WHERE workspace_id = ? AND enabled)
RETURNING workspace_id
)` + insertMoved
	manyWorkspacesCreate = `WITH locked AS MATERIALIZED (
SELECT workspace_id FROM audit_heads WHERE workspace_id = ANY (?::text[]) ORDER BY workspace_id FOR UPDATE
), head AS (
UPDATE audit_heads AS h SET last_seq = v.next_seq, last_hash = v.next_hash
FROM ` + unnestOf([]string{"text", "bigint", "text", "bigint", "text"}, "workspace_id, seq, hash, next_seq, next_hash") + `
WHERE h.workspace_id = v.workspace_id AND h.workspace_id IN (SELECT workspace_id FROM locked)
AND h.last_seq = v.seq AND h.last_hash = v.hash
AND NOT EXISTS (SELECT 1 FROM webhooks AS w WHERE w.workspace_id = v.workspace_id AND w.enabled)
RETURNING h.workspace_id
)` + insertMoved
)

// insertMoved ends both statements: the inserts of the tokens and events of the workspaces whose head
// moved (the CTE head), and the answer.
var insertMoved = `, new_tokens AS (
INSERT INTO tokens (` + tokenColumns + `, name_key)
SELECT v.* FROM ` + unnestOf(pgTokenTypes, tokenColumns+", name_key") + `
WHERE v.workspace_id IN (SELECT workspace_id FROM head)
), new_events AS (
INSERT INTO audit_events (` + auditColumns + `)
SELECT v.* FROM ` + unnestOf(pgEventTypes, auditColumns) + `
WHERE v.workspace_id IN (SELECT workspace_id FROM head)
)
SELECT coalesce((SELECT string_agg(workspace_id, ',') FROM head), '') AS moved,
coalesce((SELECT string_agg(DISTINCT workspace_id, ',') FROM webhooks WHERE workspace_id = ANY (?::text[]) AND enabled), '') AS hooks`

// columns turns rows of equal length into one array argument per column, encoded by the dialect.
func (db *DB) columns(rows [][]any) []any {
	out := make([]any, len(rows[0]))
	for j := range out {
		col := make([]any, len(rows))
		for i, r := range rows {
			col[i] = r[j]
		}
		out[j] = db.d.Array(col)
	}
	return out
}

// createInOneStatement writes, in one statement, the creates of a batch whose workspaces' chain heads
// this process knows (left by its previous batches), each event chained after its workspace's head:
// one round trip and no transaction held open while this process works (measured: +55 % creates per
// second against the transaction's seven round trips; with creates spread over 16 workspaces, whose
// batches all took the transaction before, 4,347–4,878/s against 1,634–1,968/s). It returns the calls
// it did not write, for the caller to write in a transaction (which reads the heads): all of them
// when the dialect cannot write this way or the statement fails (a name already taken); those of a
// workspace whose head is not known, has been moved by another writer since, or which has webhooks
// (their deliveries are enqueued in the transaction). An unreachable database is returned as the
// error, with every call.
func (db *DB) createInOneStatement(ctx context.Context, items []*batchItem[newToken]) ([]*batchItem[newToken], error) {
	if !db.d.WritableCTEs {
		return items, nil
	}
	now := time.Now()
	in, rest, heads := db.withKnownHead(items, now)
	if len(in) == 0 {
		return items, nil
	}
	workspaces := slices.Sorted(maps.Keys(heads))
	was := make(map[string]chainHead, len(heads))
	for _, ws := range workspaces {
		was[ws] = *heads[ws]
	}
	list := make([]chainedEvent, len(in))
	tokens, events := make([][]any, len(in)), make([][]any, len(in))
	for i, it := range in {
		list[i] = *it.v.chained
		tokens[i] = db.tokenArgs(it.v)
	}
	chain(list, heads)
	for i := range list {
		events[i] = db.appendEventArgs(nil, &list[i])
	}
	stmt, args := db.headArgs(workspaces, was, heads)
	args = append(append(args, db.columns(tokens)...), db.columns(events)...)
	args = append(args, db.d.Array(toAny(workspaces)))
	var res struct {
		Moved string `db:"moved"`
		Hooks string `db:"hooks"`
	}
	if err := db.getBound(ctx, db.write, &res, stmt, args...); err != nil {
		for _, ws := range workspaces {
			db.heads.forget(ws, time.Time{})
		}
		return items, db.unavailable(err)
	}
	moved, hooks := splitSet(res.Moved), splitSet(res.Hooks)
	for _, ws := range workspaces {
		switch {
		case moved[ws]:
			db.heads.set(ws, *heads[ws])
		case hooks[ws]:
			db.heads.forget(ws, now.Add(hooksRecheck))
		default:
			db.heads.forget(ws, time.Time{})
		}
	}
	written := list[:0:0]
	for i, it := range in {
		if moved[it.v.t.WorkspaceID] {
			written = append(written, list[i])
		} else {
			rest = append(rest, it)
		}
	}
	publish(written)
	if len(written) > 0 {
		db.createStats.oneStatement.Add(1)
	}
	return rest, nil
}

// withKnownHead splits items into the creates the statement can write — with an event, in a
// workspace whose head this process knows — and the rest, and returns the known heads.
func (db *DB) withKnownHead(items []*batchItem[newToken], now time.Time) (in, rest []*batchItem[newToken], heads map[string]*chainHead) {
	known := map[string]bool{}
	heads = map[string]*chainHead{}
	for _, it := range items {
		ws, c := it.v.t.WorkspaceID, it.v.chained
		if _, seen := known[ws]; !seen {
			h, ok := db.heads.get(ws, now)
			if known[ws] = ok; ok {
				heads[ws] = &h
			}
		}
		if known[ws] && c != nil && c.ev.WorkspaceID == ws {
			in = append(in, it)
		} else {
			rest = append(rest, it)
		}
	}
	return in, rest, heads
}

// headArgs picks the statement for the batch's workspaces (in order) and returns it with the
// arguments that move their heads from was to next.
func (db *DB) headArgs(workspaces []string, was map[string]chainHead, next map[string]*chainHead) (string, []any) {
	if len(workspaces) == 1 {
		ws := workspaces[0]
		return db.oneStatement[0], []any{next[ws].Seq, next[ws].Hash, ws, was[ws].Seq, was[ws].Hash, ws}
	}
	rows := make([][]any, len(workspaces))
	for i, ws := range workspaces {
		rows[i] = []any{ws, was[ws].Seq, was[ws].Hash, next[ws].Seq, next[ws].Hash}
	}
	return db.oneStatement[1], append([]any{db.d.Array(toAny(workspaces))}, db.columns(rows)...)
}

// unavailable returns err, as the error table's, when it says the database is unreachable; nil for any
// other failure.
func (db *DB) unavailable(err error) error {
	if err := db.wrap(err, "", ""); ports.ErrorCode(err) == ports.EUNAVAILABLE {
		return err
	}
	return nil
}

// toAny copies strings into a slice of any, as Array takes.
func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// splitSet is the set of the comma-separated values of s.
func splitSet(s string) map[string]bool {
	set := map[string]bool{}
	for v := range strings.SplitSeq(s, ",") {
		if v != "" {
			set[v] = true
		}
	}
	return set
}
