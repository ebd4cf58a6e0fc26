package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// chainHead is the last position and hash of a workspace's audit chain (a row of audit_heads).
type chainHead struct {
	Seq  int64  `db:"last_seq"`
	Hash string `db:"last_hash"`
}

// chainedEvent is an event as it is stored: a copy of the caller's event with its time in UTC at
// microsecond precision and its metadata as it reads back from JSON, so that the hash computed on
// it verifies against what AuditChain returns.
type chainedEvent struct {
	ev   ports.AuditEvent
	meta any // the metadata argument: JSON text, or NULL
	src  *ports.AuditEvent
	body ports.AuditBody // ev encoded for its hash, whatever its position
}

func newChainedEvent(src *ports.AuditEvent) (chainedEvent, error) {
	c := chainedEvent{ev: *src, src: src}
	c.ev.OccurredAt = src.OccurredAt.UTC().Truncate(time.Microsecond)
	c.ev.Metadata = nil
	if src.Metadata != nil {
		text, err := jsonText(src.Metadata)
		if err != nil {
			return c, ports.Internal(fmt.Errorf("audit event metadata: %w", err))
		}
		if err := json.Unmarshal([]byte(text), &c.ev.Metadata); err != nil {
			return c, ports.Internal(fmt.Errorf("audit event metadata: %w", err))
		}
		c.meta = text
	}
	c.body = ports.NewAuditBody(&c.ev)
	return c, nil
}

// insertEvents stores events (nil ones are skipped) in the caller's transaction, each chained to the
// last event of its workspace, and sets ChainSeq, PrevHash and Hash on the caller's events (should
// the transaction fail later, they describe nothing stored: the mutation returns an error then).
// Every event write goes through it. The heads of the workspaces concerned are locked first, in workspace
// order (no deadlocks between multi-workspace batches), and stay locked until commit: concurrent
// writers of one workspace take turns, so the chain never forks.
func (db *DB) insertEvents(ctx context.Context, tx *sqlx.Tx, events ...*ports.AuditEvent) error {
	var list []chainedEvent
	for _, src := range events {
		if src == nil {
			continue
		}
		c, err := newChainedEvent(src)
		if err != nil {
			return err
		}
		list = append(list, c)
	}
	return db.insertChainedEvents(ctx, tx, list)
}

// insertChainedEvents is insertEvents for events already prepared by newChainedEvent.
func (db *DB) insertChainedEvents(ctx context.Context, tx *sqlx.Tx, list []chainedEvent) error {
	if len(list) == 0 {
		return nil
	}
	heads := map[string]*chainHead{}
	for _, c := range list {
		heads[c.ev.WorkspaceID] = nil
	}
	subs := subscribers{}
	if err := db.prefetchSubscribers(ctx, tx, subs, list); err != nil {
		return err
	}
	workspaces := slices.Sorted(maps.Keys(heads))
	for _, ws := range workspaces {
		h, err := db.lockHead(ctx, tx, ws)
		if err != nil {
			return err
		}
		heads[ws] = h
	}
	chain(list, heads)
	if err := db.insertChainedMovingHeads(ctx, tx, list, workspaces, heads); err != nil {
		return err
	}
	publish(list)
	return db.enqueueDeliveries(ctx, tx, subs, list)
}

// chain numbers and hashes the events of list in order, each after the head of its workspace,
// and moves the heads to the last of them.
func chain(list []chainedEvent, heads map[string]*chainHead) {
	for i := range list {
		ev := &list[i].ev
		h := heads[ev.WorkspaceID]
		ev.ChainSeq, ev.PrevHash = h.Seq+1, h.Hash
		ev.Hash = list[i].body.Hash(ev.PrevHash, ev.ChainSeq)
		h.Seq, h.Hash = ev.ChainSeq, ev.Hash
	}
}

// publish copies the chain fields of the events of list to the caller's events.
func publish(list []chainedEvent) {
	for _, c := range list {
		c.src.ChainSeq, c.src.PrevHash, c.src.Hash = c.ev.ChainSeq, c.ev.PrevHash, c.ev.Hash
	}
}

// insertChainedMovingHeads inserts the chained events of list and moves the heads of their
// workspaces (in order) to heads. Where the dialect runs an UPDATE inside WITH, the events of one
// workspace and its head are written by one statement: the head stays locked one round trip less.
func (db *DB) insertChainedMovingHeads(ctx context.Context, tx *sqlx.Tx, list []chainedEvent, workspaces []string,
	heads map[string]*chainHead) error {
	if len(workspaces) == 1 && db.d.WritableCTEs {
		h := heads[workspaces[0]]
		return db.insertChained(ctx, tx, movingHead, []any{h.Seq, h.Hash, workspaces[0]}, list)
	}
	if err := db.insertChained(ctx, tx, "", nil, list); err != nil {
		return err
	}
	for _, ws := range workspaces {
		h := heads[ws]
		if _, err := db.exec(ctx, tx, `UPDATE audit_heads SET last_seq = ?, last_hash = ? WHERE workspace_id = ?`,
			h.Seq, h.Hash, ws); err != nil {
			return err
		}
	}
	return nil
}

// movingHead prefixes an insert of one workspace's events with the update of its head.
const movingHead = `WITH moved AS (UPDATE audit_heads SET last_seq = ?, last_hash = ? WHERE workspace_id = ?) `

const auditInsert = `INSERT INTO audit_events (` + auditColumns + `) VALUES `

const auditValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertChained inserts chained events, after prefix (a WITH clause taking args first, or empty):
// one prepared statement for one event, one multi-row statement for several.
func (db *DB) insertChained(ctx context.Context, tx *sqlx.Tx, prefix string, args []any, list []chainedEvent) error {
	query := prefix + auditInsert + valuesList(auditValues, len(list))
	args = append(make([]any, 0, len(args)+17*len(list)), args...)
	for i := range list {
		args = db.appendEventArgs(args, &list[i])
	}
	if len(list) == 1 {
		_, err := db.exec(ctx, tx, query, args...)
		return db.wrap(err, "", fmt.Sprintf("audit event %s already exists", list[0].ev.ID))
	}
	_, err := tx.ExecContext(ctx, db.q(query), args...)
	return db.wrap(err, "", "an audit event of this batch already exists")
}

// appendEventArgs appends the values of c's row, in auditColumns order.
func (db *DB) appendEventArgs(args []any, c *chainedEvent) []any {
	ev := &c.ev
	return append(args, ev.ID, ev.WorkspaceID, ev.Action, ev.Actor.Type, ev.Actor.ID, ev.Actor.Email,
		ev.Target.Type, ev.Target.ID, ev.Target.Name, ev.IP, ev.UserAgent, ev.RequestID, c.meta,
		db.t(ev.OccurredAt), ev.ChainSeq, ev.PrevHash, ev.Hash)
}

// lockHead reads the workspace's chain head and locks it until commit (where the dialect needs it;
// SQLite's single writer serialises anyway), creating it on the workspace's first event.
func (db *DB) lockHead(ctx context.Context, tx *sqlx.Tx, workspaceID string) (*chainHead, error) {
	query := `SELECT last_seq, last_hash FROM audit_heads WHERE workspace_id = ?` + db.d.ForUpdate
	var h chainHead
	err := db.get(ctx, tx, &h, query, workspaceID)
	if errors.Is(err, sql.ErrNoRows) {
		// Concurrent first writers both insert; the second waits for the first to commit and then
		// does nothing, and its SELECT waits for the lock like any later writer.
		if _, err := db.exec(ctx, tx, `INSERT INTO audit_heads (workspace_id, last_seq, last_hash) VALUES (?, 0, '')
ON CONFLICT (workspace_id) DO NOTHING`, workspaceID); err != nil {
			return nil, err
		}
		err = db.get(ctx, tx, &h, query, workspaceID)
	}
	if err != nil {
		return nil, err
	}
	return &h, nil
}

// AuditChain lists the workspace's events with ChainSeq > after in chain order, at most limit, as
// stored.
func (s *AuditLog) AuditChain(ctx context.Context, workspaceID string, after int64, limit int) ([]ports.AuditEvent, error) {
	db := s.db
	var rows []auditRow
	if err := db.sel(ctx, db.read, &rows, `SELECT `+auditColumns+` FROM audit_events
WHERE workspace_id = ? AND chain_seq > ? ORDER BY chain_seq LIMIT ?`, workspaceID, after, max(limit, 0)); err != nil {
		return nil, db.wrap(err, "", "")
	}
	return auditEvents(rows)
}

// PruneAuditEvents deletes the workspace's events that occurred before `before` and returns how
// many. Only the start of the chain is cut: an event that occurred before `before` but follows, in
// the chain, one that is kept (clocks of several writers disagree) is kept too, so that the kept
// events form an unbroken chain. The chain head is untouched.
func (s *AuditLog) PruneAuditEvents(ctx context.Context, workspaceID string, before time.Time) (int, error) {
	db := s.db
	at := db.t(before)
	var n int64
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		var last sql.NullInt64
		if err := db.get(ctx, tx, &last, `SELECT MAX(chain_seq) FROM audit_events
WHERE workspace_id = ? AND occurred_at < ? AND chain_seq < COALESCE(
    (SELECT MIN(chain_seq) FROM audit_events WHERE workspace_id = ? AND occurred_at >= ?), ?)`,
			workspaceID, at, workspaceID, at, int64(math.MaxInt64)); err != nil || !last.Valid {
			return nil, err
		}
		var err error
		if n, err = db.exec(ctx, tx, `DELETE FROM audit_events WHERE workspace_id = ? AND chain_seq <= ?`, workspaceID, last.Int64); err != nil {
			return nil, err
		}
		_, err = db.exec(ctx, tx, `UPDATE audit_heads SET pruned_through = ? WHERE workspace_id = ? AND pruned_through < ?`,
			last.Int64, workspaceID, last.Int64)
		return nil, err
	})
	if err != nil {
		return 0, db.wrap(err, "", "")
	}
	return int(n), nil
}

// AuditHead implements ports.AuditLog.
func (s *AuditLog) AuditHead(ctx context.Context, workspaceID string) (ports.ChainHead, error) {
	db := s.db
	var h struct {
		LastSeq       int64  `db:"last_seq"`
		LastHash      string `db:"last_hash"`
		PrunedThrough int64  `db:"pruned_through"`
	}
	err := db.get(ctx, db.read, &h, `SELECT last_seq, last_hash, pruned_through FROM audit_heads WHERE workspace_id = ?`, workspaceID)
	if errors.Is(err, sql.ErrNoRows) {
		return ports.ChainHead{}, nil
	}
	if err != nil {
		return ports.ChainHead{}, db.wrap(err, "", "")
	}
	return ports.ChainHead{LastSeq: h.LastSeq, LastHash: h.LastHash, PrunedThrough: h.PrunedThrough}, nil
}
