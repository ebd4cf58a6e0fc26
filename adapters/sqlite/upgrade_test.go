package sqlite

import (
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/tooken/tooken/adapters/internal/sqlstore"
	"github.com/tooken/tooken/adapters/internal/sqlstore/sqlstoretest"
)

// upgrade tells the shared upgrade checks (sqlstoretest.TestUpgrade*) how to reach this adapter.
func upgrade(t *testing.T) sqlstoretest.Upgrade {
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return sqlstoretest.Upgrade{
		Open: func(t *testing.T) (sqlstoretest.Database, *sql.DB) {
			db, err := Open(t.Context(), filepath.Join(t.TempDir(), "tooken.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return db, db.store.Writer().DB
		},
		Goose:      goose.DialectSQLite3,
		Migrations: migrations,
		Bind:       sqlx.QUESTION,
		Time:       sqlstore.UnixMicro,
	}
}

func TestUpgradeFromV1(t *testing.T) { sqlstoretest.TestUpgradeFromV1(t, upgrade(t)) }

func TestUpgradeChainsExistingAuditEvents(t *testing.T) {
	sqlstoretest.TestUpgradeChainsExistingAuditEvents(t, upgrade(t))
}
