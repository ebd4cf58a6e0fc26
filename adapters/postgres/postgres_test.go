package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/lib/pq"
	"github.com/tooken/tooken/adapters/internal/sqlstore"
	"github.com/tooken/tooken/adapters/internal/sqlstore/sqlstoretest"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/ports"
	"github.com/tooken/tooken/ports/portstest"
)

func harness() sqlstoretest.Harness {
	return sqlstoretest.Harness{
		NewDSN: func(t *testing.T) string { return postgrestest.NewDatabase(t) },
		Open: func(ctx context.Context, dsn string) (sqlstoretest.Database, error) {
			return Open(ctx, dsn)
		},
		Exec: func(ctx context.Context, db sqlstoretest.Database, query string) error {
			_, err := db.(*DB).store.Writer().ExecContext(ctx, query)
			return err
		},
		Store: func(db sqlstoretest.Database) *sqlstore.DB { return db.(*DB).store },
	}
}

func TestAdapter(t *testing.T) { sqlstoretest.Run(t, harness()) }

// TestStores runs the port contract suites on one migrated database shared by every subtest.
func TestStores(t *testing.T) {
	h := harness()
	db, err := h.Open(t.Context(), h.NewDSN(t))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	portstest.TestStores(t, func(*testing.T) ports.Stores { return db.Stores() })
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	_, err := Open(t.Context(), "postgres://tooken@127.0.0.1:1/tooken?sslmode=disable&connect_timeout=2")
	if ports.ErrorCode(err) != ports.EUNAVAILABLE {
		t.Errorf("Open(unreachable): %v, want EUNAVAILABLE", err)
	}
}

func TestErrorClassification(t *testing.T) {
	for _, tc := range []struct {
		code        string
		unique      bool
		unavailable bool
	}{
		{"23505", true, false},
		{"23503", false, false},
		{"08006", false, true},
		{"08001", false, true},
		{"57P01", false, true},
		{"57P03", false, true},
		{"53300", false, true},
		{"40P01", false, true},
		{"42P01", false, false},
	} {
		err := fmt.Errorf("wrapped: %w", &pq.Error{Code: pq.ErrorCode(tc.code)})
		if isUnique(err) != tc.unique || isUnavailable(err) != tc.unavailable {
			t.Errorf("SQLSTATE %s: isUnique=%v isUnavailable=%v, want %v %v", tc.code,
				isUnique(err), isUnavailable(err), tc.unique, tc.unavailable)
		}
	}
}
