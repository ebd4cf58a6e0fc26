package sqlstore

import (
	"context"
	"errors"
	"sync"

	"github.com/jmoiron/sqlx"
)

// maxStmts bounds each pool's statement cache. The queries are static strings; list filters produce
// a few variants (pages do not: LIMIT and OFFSET are bound parameters). Beyond the bound, queries run
// unprepared.
const maxStmts = 256

// stmtCache holds the prepared statements of one pool, by rebound query text. A statement is
// prepared once per pool; database/sql then prepares it on each connection as it is first used
// there, and again on a fresh connection when one breaks.
type stmtCache struct {
	pool    *sqlx.DB
	mu      sync.RWMutex
	stmts   map[string]*sqlx.Stmt
	pending map[string]struct{} // first used in a transaction, to prepare once it ends
	closed  bool
}

func newStmtCache(pool *sqlx.DB) *stmtCache {
	return &stmtCache{pool: pool, stmts: make(map[string]*sqlx.Stmt), pending: make(map[string]struct{})}
}

// full reports whether no statement may be added; c.mu is held.
func (c *stmtCache) full() bool { return c.closed || len(c.stmts) >= maxStmts }

// stmt returns the prepared statement for query, preparing it on the pool on first use. It returns
// nil and no error when the cache is full or closed: the caller then runs the query unprepared. A
// failed prepare is returned and not cached, so that the next use tries again.
func (c *stmtCache) stmt(ctx context.Context, query string) (*sqlx.Stmt, error) {
	c.mu.RLock()
	s, full := c.stmts[query], c.full()
	c.mu.RUnlock()
	if s != nil || full {
		return s, nil
	}
	// Prepare outside the lock, so that a slow prepare holds up no other query; concurrent first
	// uses may each prepare, and all but the first to store close theirs.
	s, err := c.pool.PreparexContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	prev, full := c.stmts[query], c.full()
	if prev == nil && !full {
		c.stmts[query] = s
	}
	c.mu.Unlock()
	if prev != nil || full {
		_ = s.Close()
		return prev, nil
	}
	return s, nil
}

// txStmt returns the prepared statement for query, or nil when it is not prepared yet. It never
// prepares: the caller holds one of the pool's connections in a transaction, and preparing on the
// pool could wait for a connection forever (SQLite has a single writer). A missing statement is
// noted, and prepared by preparePending once the transaction has ended.
func (c *stmtCache) txStmt(query string) *sqlx.Stmt {
	c.mu.RLock()
	s, full := c.stmts[query], c.full()
	_, noted := c.pending[query]
	c.mu.RUnlock()
	if s == nil && !full && !noted {
		c.mu.Lock()
		if len(c.pending) < maxStmts {
			c.pending[query] = struct{}{}
		}
		c.mu.Unlock()
	}
	return s
}

// preparePending prepares the statements that transactions missed. Errors are dropped: a statement
// that failed to prepare is noted again on its next use.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	if len(c.pending) == 0 {
		c.mu.Unlock()
		return
	}
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range queries {
		if _, err := c.stmt(ctx, q); err != nil {
			return
		}
	}
}

// close closes every cached statement. Later lookups return nil, so queries run unprepared (and
// fail, as the pool is closed too).
func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	var err error
	for _, s := range c.stmts {
		err = errors.Join(err, s.Close())
	}
	clear(c.stmts)
	clear(c.pending)
	return err
}

// stmtFor returns the cached statement for the rebound query on the pool or transaction qe, or nil
// to run the query unprepared. Transactions come from inTx, on the write pool: the pool's statement
// is bound to the transaction, which reuses its preparation on the transaction's connection.
func (db *DB) stmtFor(ctx context.Context, qe any, query string) (*sqlx.Stmt, error) {
	switch v := qe.(type) {
	case *sqlx.Tx:
		s := db.writeStmts.txStmt(query)
		if s == nil {
			return nil, nil
		}
		// The transaction's statement is closed when the transaction ends.
		return v.StmtxContext(ctx, s), nil
	case *sqlx.DB:
		switch v {
		case db.write:
			return db.writeStmts.stmt(ctx, query)
		case db.read:
			return db.readStmts.stmt(ctx, query)
		}
	}
	return nil, nil
}
