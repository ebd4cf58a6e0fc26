package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
	_ "modernc.org/sqlite"
)

// testDB opens a SQLite file with a single-connection write pool (as the SQLite adapter does) and a
// separate read pool, and a table t.
func testDB(t *testing.T) *DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	open := func(conns int) *sqlx.DB {
		p, err := sqlx.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		p.SetMaxOpenConns(conns)
		return p
	}
	write, read := open(1), open(4)
	if _, err := write.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	db := New(read, write, &Dialect{
		Bind:          sqlx.QUESTION,
		Time:          func(v time.Time) any { return v.UnixMicro() },
		IsUnique:      func(error) bool { return false },
		IsUnavailable: func(error) bool { return false },
	})
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func cached(c *stmtCache) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.stmts)
}

func TestStmtCacheConcurrentFirstUse(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	var wg sync.WaitGroup
	errs := make([]error, 32)
	for i := range errs {
		wg.Go(func() {
			var n int
			if err := db.get(ctx, db.read, &n, `SELECT ? + 1`, i); err != nil {
				errs[i] = err
			} else if n != i+1 {
				errs[i] = fmt.Errorf("got %d, want %d", n, i+1)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := cached(db.readStmts); n != 1 {
		t.Errorf("read cache holds %d statements, want 1", n)
	}
	if n := cached(db.writeStmts); n != 0 {
		t.Errorf("write cache holds %d statements, want 0", n)
	}
}

func TestStmtCacheInTransactions(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	insert := func(id int) error {
		return db.inTx(ctx, func(tx *sqlx.Tx) error {
			_, err := db.exec(ctx, tx, `INSERT INTO t (id, v) VALUES (?, ?)`, id, "x")
			return err
		})
	}
	// The first use in a transaction runs unprepared (the single write connection is taken) and
	// prepares the statement once the transaction has committed; later transactions reuse it.
	for id := range 3 {
		done := make(chan error, 1)
		go func() { done <- insert(id) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("insert %d: %v", id, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("insert %d: deadlock", id)
		}
		if n := cached(db.writeStmts); n != 1 {
			t.Fatalf("after insert %d: write cache holds %d statements, want 1", id, n)
		}
	}
	var n int
	if err := db.get(ctx, db.read, &n, `SELECT COUNT(*) FROM t`); err != nil || n != 3 {
		t.Fatalf("count = %d, %v; want 3", n, err)
	}
	// A failing statement in a transaction rolls it back as before.
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := db.exec(ctx, tx, `UPDATE t SET v = ? WHERE id = ?`, "y", 0); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO t (id, v) VALUES (?, ?)`, 0, "dup")
		return err
	})
	if err == nil {
		t.Fatal("duplicate insert succeeded")
	}
	var v string
	if err := db.get(ctx, db.read, &v, `SELECT v FROM t WHERE id = ?`, 0); err != nil || v != "x" {
		t.Fatalf("v = %q, %v; want the rolled-back value x", v, err)
	}
}

func TestStmtCacheFailedPrepareIsNotCached(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	var n int
	if err := db.get(ctx, db.read, &n, `SELECT COUNT(*) FROM later`); err == nil {
		t.Fatal("query on a missing table succeeded")
	}
	if n := cached(db.readStmts); n != 0 {
		t.Fatalf("read cache holds %d statements after a failed prepare, want 0", n)
	}
	if _, err := db.exec(ctx, db.write, `CREATE TABLE later (id INTEGER)`); err != nil {
		t.Fatal(err)
	}
	if err := db.get(ctx, db.read, &n, `SELECT COUNT(*) FROM later`); err != nil {
		t.Fatalf("query once the table exists: %v", err)
	}
}

func TestStmtCacheIsBounded(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	for i := range maxStmts + 10 {
		var n int
		if err := db.get(ctx, db.read, &n, fmt.Sprintf(`SELECT %d`, i)); err != nil || n != i {
			t.Fatalf("SELECT %d = %d, %v", i, n, err)
		}
	}
	if n := cached(db.readStmts); n != maxStmts {
		t.Errorf("read cache holds %d statements, want %d", n, maxStmts)
	}
}

func TestStmtCacheClose(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	var n int
	if err := db.get(ctx, db.read, &n, `SELECT COUNT(*) FROM t`); err != nil {
		t.Fatal(err)
	}
	s, err := db.readStmts.stmt(context.Background(), `SELECT COUNT(*) FROM t`)
	if err != nil || s == nil {
		t.Fatalf("cached statement = %v, %v", s, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := cached(db.readStmts) + cached(db.writeStmts); n != 0 {
		t.Errorf("%d statements cached after Close", n)
	}
	for _, err := range []error{
		db.get(ctx, db.read, &n, `SELECT COUNT(*) FROM t`),
		s.GetContext(ctx, &n), // a statement taken before Close
	} {
		var pe *ports.Error
		if !errors.As(db.wrap(err, "", ""), &pe) || pe.Code != ports.EUNAVAILABLE {
			t.Errorf("after Close: %v, want EUNAVAILABLE", err)
		}
	}
}

func TestPagesShareOneStatement(t *testing.T) {
	db := testDB(t)
	ctx := t.Context()
	for id := range 5 {
		if _, err := db.exec(ctx, db.write, `INSERT INTO t (id, v) VALUES (?, ?)`, id, "x"); err != nil {
			t.Fatal(err)
		}
	}
	for page := 1; page <= 4; page++ {
		clause, args := limit(ports.Page{Page: page, PerPage: 2}, []any{"x"})
		var ids []int
		if err := db.sel(ctx, db.read, &ids, `SELECT id FROM t WHERE v = ? ORDER BY id`+clause, args...); err != nil {
			t.Fatalf("page %d: %v", page, err)
		}
		if want := min(2, max(5-2*(page-1), 0)); len(ids) != want || (want > 0 && ids[0] != 2*(page-1)) {
			t.Errorf("page %d: %v", page, ids)
		}
	}
	if n := cached(db.readStmts); n != 1 {
		t.Errorf("read cache holds %d statements after 4 pages, want 1", n)
	}
}
