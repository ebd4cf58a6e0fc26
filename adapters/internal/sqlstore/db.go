// Package sqlstore holds the query logic shared by the PostgreSQL and SQLite storage adapters. It is
// parameterised by a small Dialect (bindvars, time encoding, error classification, migrations) so
// that each adapter package only opens its database and describes its dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/tooken/tooken/adapters/internal/changehub"
	"github.com/tooken/tooken/ports"
)

// Dialect describes what differs between the SQL databases Tooken supports.
type Dialect struct {
	// Bind is the sqlx bindvar type queries are rebound to (sqlx.DOLLAR, sqlx.QUESTION).
	Bind int
	// Goose is the goose dialect of the migrations.
	Goose goose.Dialect
	// Migrations holds the dialect's goose SQL migrations at its root.
	Migrations fs.FS
	// MigrateOptions returns extra goose options (such as a session locker) for one migration run.
	MigrateOptions func() ([]goose.ProviderOption, error)
	// Time encodes a time as a query argument; times read back are decoded by [Time].
	Time func(time.Time) any
	// IsUnique reports whether err is a unique-constraint violation.
	IsUnique func(error) bool
	// IsUnavailable reports whether err means the database cannot be reached or cannot serve.
	IsUnavailable func(error) bool
	// Notify, when set, is the statement that announces a change inside the transaction committing
	// it, with the change's JSON (see EncodeChange) as its one argument; the database delivers it to
	// every replica on commit (PostgreSQL: SELECT pg_notify(…)). When empty, changes are published to
	// an in-process hub after each commit, and Stores().Changes is that hub.
	Notify string
	// FeedLock, when set, is run before appending to the revocation feed; it must serialise appends
	// until commit, so that seq order is commit order and no reader's cursor passes an entry that
	// commits late. Empty when writers are serialised anyway (SQLite's single writer).
	FeedLock string
	// ForUpdate is appended to a SELECT of one row to lock it until commit against concurrent
	// lockers (PostgreSQL: " FOR NO KEY UPDATE"); empty when writers are serialised anyway.
	ForUpdate string
	// Elapsed returns an SQL expression of the number of microseconds from the time column from to
	// the time column to (SQLite: "(to - from)", its times being unix microseconds).
	Elapsed func(from, to string) string
	// WritableCTEs is set when the database runs INSERT and UPDATE inside WITH, takes PostgreSQL's
	// ::type casts and unnests arrays (see Array). Writes that take several statements elsewhere are
	// then one: a batch of creates (see createInOneStatement), a workspace's events with the move of
	// its chain head, and the feed lock with the append to the feed.
	WritableCTEs bool
	// Array encodes one column of a batch's values (strings, integers, times, nil) as one array
	// argument (PostgreSQL: pq.GenericArray); needed with WritableCTEs.
	Array func(column []any) any
}

// DB is an opened database with its dialect. Writes go through write and reads through read; they
// are the same pool except in SQLite, which keeps a single writer connection. Each pool has a cache
// of prepared statements (the same cache when the pools are the same).
type DB struct {
	read, write           *sqlx.DB
	readStmts, writeStmts *stmtCache
	d                     *Dialect
	hub                   *changehub.Hub // nil when the dialect notifies (Dialect.Notify)
	outbox                atomic.Pointer[Outbox]
	secrets               ports.SecretBox // seals webhook secrets at rest; nil stores them as given
	creates               batcher[newToken]
	heads                 headCache // audit-chain heads left by this process's creates
	oneStatement          [2]string // oneWorkspaceCreate and manyWorkspacesCreate rebound, where the dialect writes creates in one statement
	createStats           createStats
}

// New returns a DB reading from read and writing through write (which may be the same pool).
func New(read, write *sqlx.DB, d *Dialect) *DB {
	db := &DB{read: read, write: write, d: d, writeStmts: newStmtCache(write)}
	db.creates.run = db.createTokens
	if d.WritableCTEs {
		db.oneStatement = [2]string{db.q(oneWorkspaceCreate), db.q(manyWorkspacesCreate)}
	}
	if d.Notify == "" {
		db.hub = changehub.New(changehub.DefaultBuffer)
	}
	db.readStmts = db.writeStmts
	if read != write {
		db.readStmts = newStmtCache(read)
	}
	return db
}

// SetSecretBox makes the webhook store seal secrets with b when it writes them and open them when
// it reads them. Call it before the stores are used.
func (db *DB) SetSecretBox(b ports.SecretBox) { db.secrets = b }

// Writer returns the pool that writes (and migrates).
func (db *DB) Writer() *sqlx.DB { return db.write }

// Close closes the prepared statements and the pools, and ends the subscriptions to the in-process
// change hub.
func (db *DB) Close() error {
	if db.hub != nil {
		db.hub.Close()
	}
	err := errors.Join(db.writeStmts.close(), db.write.Close())
	if db.read != db.write {
		err = errors.Join(err, db.readStmts.close(), db.read.Close())
	}
	return err
}

// Stores returns every store port backed by db. Changes is the in-process hub, or nil when the
// dialect notifies through the database: the adapter then supplies its own listener.
func (db *DB) Stores() ports.Stores {
	var changes ports.ChangeStream
	if db.hub != nil {
		changes = db.hub
	}
	return ports.Stores{
		Accounts:    &AccountStore{db},
		Workspaces:  &WorkspaceStore{db},
		Members:     &MemberStore{db},
		Invitations: &InvitationStore{db},
		APIKeys:     &APIKeyStore{db},
		Tokens:      &TokenStore{db},
		Usage:       &UsageStore{db},
		Audit:       &AuditLog{db},
		SigningKeys: &SigningKeyStore{db},
		Feed:        &RevocationFeed{db},
		Webhooks:    &WebhookStore{db},
		Deliveries:  &DeliveryLog{db},
		Changes:     changes,
		Ready:       &Pinger{db},
		Sessions:    &SessionStore{db},
	}
}

func (db *DB) provider() (*goose.Provider, error) {
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true), goose.WithLogger(goose.NopLogger())}
	if db.d.MigrateOptions != nil {
		extra, err := db.d.MigrateOptions()
		if err != nil {
			return nil, err
		}
		opts = append(opts, extra...)
	}
	// A fresh provider per run: goose remembers a failed version-table check for its lifetime.
	return goose.NewProvider(db.d.Goose, db.write.DB, db.d.Migrations, opts...)
}

// Migrate applies every pending migration; it is a no-op when the schema is current.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.provider()
	if err != nil {
		return ports.Internal(err)
	}
	_, err = p.Up(ctx)
	// Without a session lock (SQLite), a concurrent migrator may have applied the same version
	// first; our attempt then rolled back. Once the other is done the schema is current; while it
	// is still migrating, try again from where it got to.
	for attempt := 0; err != nil && attempt < 20; attempt++ {
		again, perr := db.provider()
		if perr != nil {
			break
		}
		if pending, perr := again.HasPending(ctx); perr == nil && !pending {
			return nil
		}
		select {
		case <-ctx.Done():
			return db.wrap(err, "", "")
		case <-time.After(time.Duration(attempt+1) * 10 * time.Millisecond):
		}
		_, err = again.Up(ctx)
	}
	return db.wrap(err, "", "")
}

// Pinger implements ports.Pinger.
type Pinger struct{ db *DB }

// Ready pings the database and checks that no migration is pending; EUNAVAILABLE otherwise.
func (p *Pinger) Ready(ctx context.Context) error {
	if err := p.db.read.PingContext(ctx); err != nil {
		return &ports.Error{Code: ports.EUNAVAILABLE, Message: "database unreachable", Err: err}
	}
	prov, err := p.db.provider()
	if err != nil {
		return ports.Internal(err)
	}
	pending, err := prov.HasPending(ctx)
	if err != nil {
		return &ports.Error{Code: ports.EUNAVAILABLE, Message: "cannot read the migration state", Err: err}
	}
	if pending {
		return ports.Errorf(ports.EUNAVAILABLE, "database migrations are pending")
	}
	return nil
}

// q rebinds a query written with ? placeholders to the dialect's bindvars.
func (db *DB) q(query string) string { return sqlx.Rebind(db.d.Bind, query) }

// t encodes a time argument.
func (db *DB) t(v time.Time) any { return db.d.Time(v) }

// nt encodes an optional time argument; nil is NULL.
func (db *DB) nt(v *time.Time) any {
	if v == nil {
		return nil
	}
	return db.d.Time(*v)
}

// inTx runs fn in a write transaction, committing if it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := db.write.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	db.writeStmts.preparePending(ctx)
	return nil
}

// exec, get and sel run every query, through the prepared statement cache (see stmtFor).

// exec runs a statement and returns the number of rows it affected.
func (db *DB) exec(ctx context.Context, e sqlx.ExecerContext, query string, args ...any) (int64, error) {
	query = db.q(query)
	s, err := db.stmtFor(ctx, e, query)
	if err != nil {
		return 0, err
	}
	var res sql.Result
	if s != nil {
		res, err = s.ExecContext(ctx, args...)
	} else {
		res, err = e.ExecContext(ctx, query, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// get scans one row into dest; sql.ErrNoRows when there is none.
func (db *DB) get(ctx context.Context, q sqlx.QueryerContext, dest any, query string, args ...any) error {
	return db.getBound(ctx, q, dest, db.q(query), args...)
}

// getBound is get for a query already rebound to the dialect's bindvars.
func (db *DB) getBound(ctx context.Context, q sqlx.QueryerContext, dest any, query string, args ...any) error {
	s, err := db.stmtFor(ctx, q, query)
	switch {
	case err != nil:
		return err
	case s != nil:
		return s.GetContext(ctx, dest, args...)
	}
	return sqlx.GetContext(ctx, q, dest, query, args...)
}

// sel scans every row into dest, a pointer to a slice.
func (db *DB) sel(ctx context.Context, q sqlx.QueryerContext, dest any, query string, args ...any) error {
	query = db.q(query)
	s, err := db.stmtFor(ctx, q, query)
	switch {
	case err != nil:
		return err
	case s != nil:
		return s.SelectContext(ctx, dest, args...)
	}
	return sqlx.SelectContext(ctx, q, dest, query, args...)
}
