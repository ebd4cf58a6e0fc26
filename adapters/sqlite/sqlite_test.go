package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/tooken/tooken/adapters/internal/sqlstore"
	"github.com/tooken/tooken/adapters/internal/sqlstore/sqlstoretest"
	"github.com/tooken/tooken/ports"
	"github.com/tooken/tooken/ports/portstest"
)

func harness() sqlstoretest.Harness {
	return sqlstoretest.Harness{
		NewDSN: func(t *testing.T) string { return filepath.Join(t.TempDir(), "tooken.db") },
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

func TestInMemory(t *testing.T) {
	db, err := Open(t.Context(), ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := db.Stores().Ready.Ready(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "missing", "dir", "tooken.db"))
	if ports.ErrorCode(err) != ports.EUNAVAILABLE {
		t.Errorf("Open in a missing directory: %v, want EUNAVAILABLE", err)
	}
	for _, path := range []string{"", "a.db?mode=ro"} {
		if _, err := Open(t.Context(), path); ports.ErrorCode(err) != ports.EINVALID {
			t.Errorf("Open(%q): %v, want EINVALID", path, err)
		}
	}
}

func TestErrorClassification(t *testing.T) {
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "tooken.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	w := db.store.Writer()
	if _, err := w.Exec(`CREATE TABLE u (a TEXT PRIMARY KEY, b TEXT UNIQUE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Exec(`INSERT INTO u VALUES ('x', 'y')`); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`INSERT INTO u VALUES ('x', 'z')`, `INSERT INTO u VALUES ('w', 'y')`} {
		_, err := w.Exec(q)
		err = fmt.Errorf("wrapped: %w", err)
		if !isUnique(err) || isUnavailable(err) {
			t.Errorf("%s: %v: isUnique=%v isUnavailable=%v", q, err, isUnique(err), isUnavailable(err))
		}
	}
	_, err = w.Exec(`INSERT INTO nope VALUES (1)`)
	if isUnique(err) || isUnavailable(err) {
		t.Errorf("missing table: %v classified as unique or unavailable", err)
	}
}
