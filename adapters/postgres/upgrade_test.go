package postgres

import (
	"database/sql"
	"io/fs"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/tooken/tooken/adapters/internal/sqlstore"
	"github.com/tooken/tooken/adapters/internal/sqlstore/sqlstoretest"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
)

// upgrade tells the shared upgrade checks (sqlstoretest.TestUpgrade*) how to reach this adapter.
func upgrade(t *testing.T) sqlstoretest.Upgrade {
	migrations, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return sqlstoretest.Upgrade{
		Open: func(t *testing.T) (sqlstoretest.Database, *sql.DB) {
			db, err := Open(t.Context(), postgrestest.NewDatabase(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db.Close() })
			return db, db.store.Writer().DB
		},
		Goose:      goose.DialectPostgres,
		Migrations: migrations,
		Bind:       sqlx.DOLLAR,
		Time:       sqlstore.UTCMicro,
	}
}

func TestUpgradeFromV1(t *testing.T) { sqlstoretest.TestUpgradeFromV1(t, upgrade(t)) }

func TestUpgradeChainsExistingAuditEvents(t *testing.T) {
	sqlstoretest.TestUpgradeChainsExistingAuditEvents(t, upgrade(t))
}
