// Package postgres stores Tooken's data in PostgreSQL (jmoiron/sqlx over lib/pq), with embedded,
// versioned goose migrations. The queries live in adapters/internal/sqlstore, shared with SQLite;
// this package supplies the PostgreSQL dialect: $n bindvars, timestamptz times and SQLSTATE
// translation (23505 → conflict; connection classes → unavailable).
//
// Changes travel between replicas through the database: each announcing mutation runs pg_notify in
// its own transaction (delivered on commit only), and ChangeStream listens on one connection per DB.
// Revocation-feed appends are serialised until commit by an advisory lock, so that a reader's cursor
// (the feed's seq) never passes an entry that commits later with a smaller seq. Audit events are
// chained per workspace under a row lock on the workspace's audit_heads row, taken in the writing
// transaction, so that concurrent writers (on any replica) take turns and never fork the chain.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/tooken/tooken/adapters/internal/sqlstore"
	"github.com/tooken/tooken/adapters/river"
	"github.com/tooken/tooken/ports"
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

// DB is an open PostgreSQL database holding Tooken's data.
type DB struct {
	store   *sqlstore.DB
	changes *ChangeStream
	// jobs is River's pool, without lib/pq's binary_parameters (River passes JSON as bytes, which
	// binary parameters would send as a jsonb binary value).
	jobs *sql.DB
}

// Open connects to the database at dsn (a postgres:// URL or key=value string) and checks that it
// answers. It does not migrate: call Migrate. A server that cannot be reached is EUNAVAILABLE.
func Open(ctx context.Context, dsn string) (*DB, error) {
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, ports.Internal(err)
	}
	// binary_parameters: queries with arguments take one round trip instead of two (measured: −30 %
	// on an authenticated GET).
	pool, err := openPool(withParam(dsn, "binary_parameters", "yes"))
	if err != nil {
		return nil, &ports.Error{Code: ports.EINVALID, Message: "invalid PostgreSQL connection string", Err: err}
	}
	conn := sqlx.NewDb(pool, "postgres")
	if err := conn.PingContext(ctx); err != nil {
		_ = conn.Close()
		if isUnavailable(err) || sqlstore.IsUnavailable(err) {
			return nil, &ports.Error{Code: ports.EUNAVAILABLE, Message: "cannot reach PostgreSQL", Err: err}
		}
		return nil, ports.Internal(err)
	}
	d := &sqlstore.Dialect{
		Bind:           sqlx.DOLLAR,
		Goose:          goose.DialectPostgres,
		Migrations:     migrations,
		MigrateOptions: migrateOptions,
		Time:           sqlstore.UTCMicro,
		IsUnique:       isUnique,
		IsUnavailable:  isUnavailable,
		Notify:         `SELECT pg_notify('` + notifyChannel + `', ?)`,
		FeedLock:       fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d)`, feedLockKey),
		ForUpdate:      ` FOR NO KEY UPDATE`,
		WritableCTEs:   true,
		Array:          func(column []any) any { return arrayLiteral(column) },
		// EXTRACT returns an exact numeric (PostgreSQL 14 and later).
		Elapsed: func(from, to string) string { return "(EXTRACT(EPOCH FROM " + to + " - " + from + ") * 1000000)" },
	}
	conn.SetMaxOpenConns(maxConns)
	conn.SetMaxIdleConns(maxConns)
	conn.SetConnMaxIdleTime(5 * time.Minute)
	jobs, err := openPool(dsn)
	if err != nil {
		_ = conn.Close()
		return nil, &ports.Error{Code: ports.EINVALID, Message: "invalid PostgreSQL connection string", Err: err}
	}
	jobs.SetMaxOpenConns(10)
	jobs.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{store: sqlstore.New(conn, conn, d), changes: newChangeStream(dsn), jobs: jobs}, nil
}

// maxConns bounds the connections of the store's pool, all kept idle for reuse. Unbounded, a burst of
// requests opened a new PostgreSQL connection per request beyond the idle ones, each a backend process
// to fork and authenticate: measured under `make load`, GET /v1/tokens/{id} fell from ~1,600 req/s to
// ~50 req/s with 10 s timeouts once offered more than it could serve, and the server could exhaust
// PostgreSQL's max_connections. Requests beyond the bound wait in the pool, in Go, for a connection.
const maxConns = 20

// migrateOptions serialises concurrent migrations (several replicas starting at once) with a
// session-level advisory lock; a fresh locker per run because its retry state is not reusable.
func migrateOptions() ([]goose.ProviderOption, error) {
	l, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		return nil, err
	}
	return []goose.ProviderOption{goose.WithSessionLocker(l)}, nil
}

// Migrate applies every pending migration, Tooken's and then River's (the job queue's tables);
// running it again is a no-op.
func (db *DB) Migrate(ctx context.Context) error {
	if err := db.store.Migrate(ctx); err != nil {
		return err
	}
	if err := river.MigratePostgres(ctx, db.jobs); err != nil {
		if isUnavailable(err) || sqlstore.IsUnavailable(err) {
			return &ports.Error{Code: ports.EUNAVAILABLE, Message: "database unavailable", Err: err}
		}
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
	q, err := river.NewPostgres(db.jobs, o)
	if err == nil && o.Deliveries != nil {
		db.store.SetOutbox(q.EnqueueTx)
	}
	return q, err
}

// Close closes the change listener (ending every subscription) and the connection pools.
func (db *DB) Close() error {
	return errors.Join(db.changes.close(), db.store.Close(), db.jobs.Close())
}

// Stores returns every store port backed by the database; Changes listens on its own connection.
func (db *DB) Stores() ports.Stores {
	s := db.store.Stores()
	s.Changes = db.changes
	return s
}

func isUnique(err error) bool {
	var e *pq.Error
	return errors.As(err, &e) && e.SQLState() == "23505"
}

// isUnavailable: connection exceptions (class 08), operator intervention (57P01 admin shutdown,
// 57P02 crash shutdown, 57P03 cannot connect now), insufficient resources (class 53) and
// transaction rollbacks worth retrying (class 40: serialization failure, deadlock).
func isUnavailable(err error) bool {
	var e *pq.Error
	if !errors.As(err, &e) {
		return false
	}
	code := e.SQLState()
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "53"), strings.HasPrefix(code, "40"):
		return true
	case code == "57P01", code == "57P02", code == "57P03":
		return true
	}
	return false
}
