package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// newToken is one CreateToken call: the token, its event (nil for none), that event prepared for
// chaining by the caller (so that a batch only numbers and hashes) and the token's JSON columns.
type newToken struct {
	t                *ports.Token
	ev               *ports.AuditEvent
	chained          *chainedEvent
	scopes, audience string
}

// CreateToken stores t and ev in one transaction; ECONFLICT if another token of the workspace has
// the same name case-insensitively. Concurrent calls share transactions (see batcher): each call
// still succeeds or fails on its own.
func (s *TokenStore) CreateToken(ctx context.Context, t *ports.Token, ev *ports.AuditEvent) error {
	scopes, err := jsonText(t.Scopes)
	if err != nil {
		return ports.Internal(err)
	}
	audience, err := jsonText(t.Audience)
	if err != nil {
		return ports.Internal(err)
	}
	n := newToken{t: t, ev: ev, scopes: scopes, audience: audience}
	if ev != nil {
		c, err := newChainedEvent(ev)
		if err != nil {
			return err
		}
		n.chained = &c
	}
	return s.db.creates.do(ctx, n)
}

const tokenInsert = `INSERT INTO tokens (` + tokenColumns + `, name_key) VALUES `

const tokenValues = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// args are the values of the token's row, in tokenColumns order and then name_key.
func (db *DB) tokenArgs(n newToken) []any {
	t := n.t
	return []any{t.ID, t.WorkspaceID, t.Name, n.scopes, n.audience, rawText(t.Metadata), t.CreatedBy,
		db.t(t.CreatedAt), db.nt(t.ExpiresAt), db.nt(t.LastUsedAt), db.nt(t.RevokedAt), db.nt(t.RotatedAt),
		t.CurrentJTI, t.CurrentKID, t.PreviousJTI, t.PreviousKID, db.nt(t.PreviousValidUntil),
		nullable(t.RotationPeriod), strings.ToLower(t.Name)}
}

// valuesList repeats a VALUES tuple n times, comma-separated, for a multi-row insert.
func valuesList(tuple string, n int) string {
	return strings.TrimSuffix(strings.Repeat(tuple+", ", n), ", ")
}

func nameTaken(t *ports.Token) string { return fmt.Sprintf("a token named %q already exists", t.Name) }

// createTokens is the batcher's run. Where it can, it writes the batch in one statement (see
// createInOneStatement); the calls that leaves, in one transaction, with one multi-row insert that
// skips the names already taken (those calls get ECONFLICT and their events are not written), after
// which the workspaces' new chain heads are remembered for the next batch. Should the transaction
// fail, a database that is unreachable fails every call; any other failure (one call's bad row) is
// retried call by call, so it fails only its own call.
func (db *DB) createTokens(ctx context.Context, items []*batchItem[newToken]) {
	defer func(began time.Time, n int) {
		db.createStats.batches.Add(1)
		db.createStats.creates.Add(uint64(n))
		db.createStats.busy.Add(int64(time.Since(began)))
	}(time.Now(), len(items))
	items, err := db.createInOneStatement(ctx, items)
	if err != nil {
		for _, it := range items {
			it.err = err
		}
		return
	}
	if len(items) == 0 {
		return
	}
	db.createStats.inTransaction.Add(1)
	if len(items) == 1 {
		items[0].err = db.createToken(ctx, items[0].v)
		return
	}
	var taken []*batchItem[newToken]
	var written []chainedEvent
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		taken, written = taken[:0], written[:0]
		inserted, err := db.insertTokens(ctx, tx, items)
		if err != nil {
			return err
		}
		for _, it := range items {
			if inserted[it.v.t.ID] {
				written = append(written, it.v.events()...)
			} else {
				taken = append(taken, it)
			}
		}
		return db.insertChainedEvents(ctx, tx, written)
	})
	switch {
	case err == nil:
		for _, it := range taken {
			it.err = &ports.Error{Code: ports.ECONFLICT, Message: nameTaken(it.v.t)}
		}
		events := make([]*ports.AuditEvent, len(written))
		for i, c := range written {
			events[i] = c.src
		}
		db.rememberHeads(events)
	case ports.ErrorCode(db.wrap(err, "", "")) == ports.EUNAVAILABLE:
		for _, it := range items {
			it.err = db.wrap(err, "", "")
		}
	default:
		for _, it := range items {
			it.err = db.createToken(ctx, it.v)
		}
	}
}

// insertTokens inserts the batch's rows, skipping those whose name (or id) is taken, and returns
// the ids it inserted.
func (db *DB) insertTokens(ctx context.Context, tx *sqlx.Tx, items []*batchItem[newToken]) (map[string]bool, error) {
	args := make([]any, 0, len(items)*19)
	for _, it := range items {
		args = append(args, db.tokenArgs(it.v)...)
	}
	query := tokenInsert + valuesList(tokenValues, len(items)) + ` ON CONFLICT DO NOTHING RETURNING id`
	rows, err := tx.QueryContext(ctx, db.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	inserted := make(map[string]bool, len(items))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		inserted[id] = true
	}
	return inserted, rows.Err()
}

// events is the call's prepared event, as a list for insertChainedEvents (empty when it has none).
func (n newToken) events() []chainedEvent {
	if n.chained == nil {
		return nil
	}
	return []chainedEvent{*n.chained}
}

// createToken writes one token and its event in their own transaction.
func (db *DB) createToken(ctx context.Context, n newToken) error {
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := db.exec(ctx, tx, tokenInsert+tokenValues, db.tokenArgs(n)...); err != nil {
			return err
		}
		return db.insertChainedEvents(ctx, tx, n.events())
	})
	if err == nil {
		db.rememberHeads([]*ports.AuditEvent{n.ev})
	}
	return db.wrap(err, "", nameTaken(n.t))
}
