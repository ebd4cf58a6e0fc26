// Package sqlite stores Tooken's data in an embedded SQLite database (modernc.org/sqlite, no cgo), with
// embedded, versioned goose migrations. The queries live in adapters/internal/sqlstore, shared with
// PostgreSQL; this package supplies the SQLite dialect: ? bindvars, INTEGER unix-microsecond times
// and result-code translation.
//
// The database runs in WAL mode with foreign keys on and a busy timeout. Writes go through a single
// connection whose transactions begin IMMEDIATE, so concurrent writers queue in Go instead of failing
// with SQLITE_BUSY; reads use a separate pool and never wait for writers. That single writer (and
// BEGIN IMMEDIATE across processes) also serialises the writers of each workspace's audit chain.
//
// Changes (ports.ChangeStream) are delivered in process: each store publishes what it committed to a
// hub shared by the DB's subscribers. SQLite serves a single replica; another process writing to the
// same file (the CLI) is not announced, and the revocation feed is the safety net for revocations.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/tooken/tooken/adapters/internal/sqlstore"
	"github.com/tooken/tooken/adapters/river"
	"github.com/tooken/tooken/ports"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// The store types are those of the shared SQL implementation, named here after their ports.
type (
	// AccountStore implements ports.AccountStore.
	AccountStore = sqlstore.AccountStore
	// WorkspaceStore implements ports.WorkspaceStore.
	WorkspaceStore = sqlstore.WorkspaceStore
	// APIKeyStore implements ports.APIKeyStore.
	APIKeyStore = sqlstore.APIKeyStore
	// TokenStore implements ports.TokenStore.
	TokenStore = sqlstore.TokenStore
	// UsageStore implements ports.UsageStore.
	UsageStore = sqlstore.UsageStore
	// AuditLog implements ports.AuditLog.
	AuditLog = sqlstore.AuditLog
	// SigningKeyStore implements ports.SigningKeyStore.
	SigningKeyStore = sqlstore.SigningKeyStore
	// RevocationFeed implements ports.RevocationFeed.
	RevocationFeed = sqlstore.RevocationFeed
	// Pinger implements ports.Pinger.
	Pinger = sqlstore.Pinger
)

var (
	_ ports.AccountStore    = (*AccountStore)(nil)
	_ ports.WorkspaceStore  = (*WorkspaceStore)(nil)
	_ ports.APIKeyStore     = (*APIKeyStore)(nil)
	_ ports.TokenStore      = (*TokenStore)(nil)
	_ ports.UsageStore      = (*UsageStore)(nil)
	_ ports.AuditLog        = (*AuditLog)(nil)
	_ ports.SigningKeyStore = (*SigningKeyStore)(nil)
	_ ports.RevocationFeed  = (*RevocationFeed)(nil)
	_ ports.Pinger          = (*Pinger)(nil)
)

// busyTimeoutMS bounds how long a connection waits for a lock held by another process.
const busyTimeoutMS = 10000

// DB is an open SQLite database holding Tooken's data.
type DB struct {
	store *sqlstore.DB
	// jobs is River's pool: one connection of its own (River runs operations in parallel, which
	// SQLite answers with SQLITE_BUSY on a shared pool), or the only connection of :memory:.
	jobs    *sql.DB
	ownJobs bool
}

// Open opens (creating if needed) the SQLite database file at path; its directory must exist. It does
// not migrate: call Migrate. The path ":memory:" opens a private in-memory database on one connection.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, ports.Errorf(ports.EINVALID, "invalid SQLite database path %q", path)
	}
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, ports.Internal(err)
	}
	params := fmt.Sprintf("_pragma=busy_timeout(%d)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)", busyTimeoutMS)
	d := &sqlstore.Dialect{
		Bind:          sqlx.QUESTION,
		Goose:         goose.DialectSQLite3,
		Migrations:    migrations,
		Time:          sqlstore.UnixMicro,
		IsUnique:      isUnique,
		IsUnavailable: isUnavailable,
		Elapsed:       func(from, to string) string { return "(" + to + " - " + from + ")" },
	}
	if path == ":memory:" {
		conn, err := open(ctx, path+"?"+params+"&_txlock=immediate", 1)
		if err != nil {
			return nil, err
		}
		conn.SetConnMaxIdleTime(0)
		conn.SetConnMaxLifetime(0)
		return &DB{store: sqlstore.New(conn, conn, d), jobs: conn.DB}, nil
	}
	writeDSN := path + "?" + params + "&_pragma=journal_mode(WAL)&_txlock=immediate"
	write, err := open(ctx, writeDSN, 1)
	if err != nil {
		return nil, err
	}
	read, err := open(ctx, path+"?"+params+"&_pragma=query_only(1)", max(4, runtime.NumCPU()))
	if err != nil {
		_ = write.Close()
		return nil, err
	}
	jobs, err := open(ctx, writeDSN, 1)
	if err != nil {
		_ = write.Close()
		_ = read.Close()
		return nil, err
	}
	return &DB{store: sqlstore.New(read, write, d), jobs: jobs.DB, ownJobs: true}, nil
}

// open opens a pool on dsn with at most maxConns connections, all kept open, and checks it works.
func open(ctx context.Context, dsn string, maxConns int) (*sqlx.DB, error) {
	conn, err := sqlx.Open("sqlite", dsn)
	if err != nil {
		return nil, ports.Internal(err)
	}
	conn.SetMaxOpenConns(maxConns)
	conn.SetMaxIdleConns(maxConns)
	// Opening a fresh file while another process switches it to WAL can fail with SQLITE_BUSY
	// before the busy handler applies; such failures are retried for up to the busy timeout.
	deadline := time.Now().Add(busyTimeoutMS * time.Millisecond)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		if err = conn.PingContext(ctx); err == nil {
			return conn, nil
		}
		if c, ok := code(err); !ok || c&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) || sleep(ctx, wait) != nil {
			break
		}
	}
	_ = conn.Close()
	return nil, &ports.Error{Code: ports.EUNAVAILABLE, Message: "cannot open the SQLite database", Err: err}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Migrate applies every pending migration, Tooken's and then River's (the job queue's tables);
// running it again is a no-op.
func (db *DB) Migrate(ctx context.Context) error {
	if err := db.store.Migrate(ctx); err != nil {
		return err
	}
	if err := river.MigrateSQLite(ctx, db.jobs); err != nil {
		return ports.Internal(err)
	}
	return nil
}

// CreateLoad returns how many batches of token creates this database has written, the creates they
// held and the time spent writing them (reported on the loopback profiling listener).
func (db *DB) CreateLoad() (batches, creates uint64, busy time.Duration) {
	return db.store.CreateLoad()
}

// SetSecretBox seals webhook secrets at rest with b; call it before the stores are used.
func (db *DB) SetSecretBox(b ports.SecretBox) { db.store.SetSecretBox(b) }

// Jobs returns a River job queue on the database (see adapters/river); Migrate creates its tables.
// With o.Deliveries, every later event write enqueues its webhook deliveries on the queue, in the
// transaction that writes the event (the transactional outbox).
func (db *DB) Jobs(o river.Options) (*river.Queue, error) {
	q, err := river.NewSQLite(db.jobs, o)
	if err == nil && o.Deliveries != nil {
		db.store.SetOutbox(q.EnqueueTx)
	}
	return q, err
}

// Close closes the database and the channels of its change subscribers.
func (db *DB) Close() error {
	err := db.store.Close()
	if db.ownJobs {
		err = errors.Join(err, db.jobs.Close())
	}
	return err
}

// Stores returns every store port backed by the database.
func (db *DB) Stores() ports.Stores { return db.store.Stores() }

func code(err error) (int, bool) {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return 0, false
	}
	return e.Code(), true
}

func isUnique(err error) bool {
	c, ok := code(err)
	return ok && (c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// isUnavailable: the database is locked past the busy timeout, cannot be opened, or its storage fails.
func isUnavailable(err error) bool {
	c, ok := code(err)
	if !ok {
		return false
	}
	switch c & 0xff {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR,
		sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY:
		return true
	}
	return false
}
