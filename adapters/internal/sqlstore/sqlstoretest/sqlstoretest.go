// Package sqlstoretest holds checks of the SQL storage adapters that go beyond the port contract
// suites (ports/portstest): migrations, readiness, error translation at the boundary, time
// precision, case folding, concurrency of writers, the usage and audit queries, and that tampering
// with a stored audit row shows in its hash. The postgres and sqlite adapters run it from their tests.
package sqlstoretest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/internal/sqlstore"
	"github.com/tooken/tooken/ports"
)

// Database is an opened SQL adapter database.
type Database interface {
	Migrate(ctx context.Context) error
	Stores() ports.Stores
	Close() error
}

// Harness tells the checks how to reach one adapter.
type Harness struct {
	// NewDSN returns the DSN (or path) of a fresh, empty database.
	NewDSN func(t *testing.T) string
	// Open opens the database at dsn without migrating it.
	Open func(ctx context.Context, dsn string) (Database, error)
	// Exec runs one SQL statement on db directly, bypassing the stores (to tamper with stored rows).
	Exec func(ctx context.Context, db Database, query string) error
	// Store returns db's shared SQL store: its write pool (to hold a write transaction open while
	// the stores work), its outbox and its counters.
	Store func(db Database) *sqlstore.DB
}

// Run runs every check against the adapter.
func Run(t *testing.T, h Harness) {
	t.Run("MigrateIsIdempotentAndReadyFollowsIt", func(t *testing.T) { testMigrate(t, h) })
	t.Run("ConcurrentMigrationsAgree", func(t *testing.T) { testConcurrentMigrate(t, h) })
	t.Run("ClosedDatabaseIsUnavailable", func(t *testing.T) { testClosed(t, h) })
	t.Run("TamperedAuditRowsBreakTheirHash", func(t *testing.T) { testTamper(t, h) })
	t.Run("BatchedCreatesSucceedOrFailOneByOne", func(t *testing.T) { testBatchedCreates(t, h) })
	t.Run("OneStatementCreatesKeepTheChainAndDeliveries", func(t *testing.T) { testOneStatementCreates(t, h) })
	t.Run("BatchedCreatesRoundTripEveryValue", func(t *testing.T) { testBatchedRoundTrip(t, h) })
	t.Run("BatchesAcrossWorkspacesShareOneStatement", func(t *testing.T) { testBatchesAcrossWorkspaces(t, h) })
	checks := map[string]func(c *check){
		"ErrorsAreTranslated":               testErrors,
		"TimesRoundTripInUTCAtMicroseconds": testTimes,
		"TokenNamesFoldCaseLikeGo":          testNameFolding,
		"ConcurrentWritersDoNotFail":        testConcurrentWriters,
		"RotationCASHasOneWinner":           testRotateCAS,
		"RevokeIsIdempotent":                testRevokeIdempotent,
		"MarkUsedKeepsTheLatestTime":        testMarkUsed,
		"AuditEventsOrderAndFilter":         testAudit,
		"ZeroPageListsEverything":           testZeroPage,
	}
	db := migrated(t, h)
	for name, fn := range checks {
		t.Run(name, func(t *testing.T) {
			fn(newCheck(t, db))
		})
	}
}

// migrated opens and migrates a fresh database, closed when the test ends.
func migrated(t *testing.T, h Harness) Database {
	t.Helper()
	db := open(t, h, h.NewDSN(t))
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return db
}

func wantCode(t *testing.T, err error, code, op string) {
	t.Helper()
	if got := ports.ErrorCode(err); got != code {
		t.Errorf("%s: code %q (err %v), want %q", op, got, err, code)
	}
}

func testMigrate(t *testing.T, h Harness) {
	dsn := h.NewDSN(t)
	db, err := h.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer db.Close()
	wantCode(t, db.Stores().Ready.Ready(t.Context()), ports.EUNAVAILABLE, "Ready before Migrate")
	for i := range 2 {
		if err := db.Migrate(t.Context()); err != nil {
			t.Fatalf("Migrate #%d: %v", i+1, err)
		}
		if err := db.Stores().Ready.Ready(t.Context()); err != nil {
			t.Errorf("Ready after Migrate #%d: %v", i+1, err)
		}
	}
	again, err := h.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer again.Close()
	if err := again.Stores().Ready.Ready(t.Context()); err != nil {
		t.Errorf("Ready of a second handle on a migrated database: %v", err)
	}
}

func testConcurrentMigrate(t *testing.T, h Harness) {
	dsn := h.NewDSN(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := h.Open(t.Context(), dsn)
			if err != nil {
				errs[i] = err
				return
			}
			defer db.Close()
			errs[i] = db.Migrate(t.Context())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Migrate %d: %v", i, err)
		}
	}
}

func testClosed(t *testing.T, h Harness) {
	db := migrated(t, h)
	s := db.Stores()
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantCode(t, s.Ready.Ready(t.Context()), ports.EUNAVAILABLE, "Ready after Close")
	_, err := s.Accounts.AccountByEmail(t.Context(), "x@example.test")
	wantCode(t, err, ports.EUNAVAILABLE, "AccountByEmail after Close")
	_, err = s.Changes.Subscribe(t.Context())
	wantCode(t, err, ports.EUNAVAILABLE, "Changes.Subscribe after Close")
	_, err = s.Feed.RevocationsSince(t.Context(), 0, 10)
	wantCode(t, err, ports.EUNAVAILABLE, "RevocationsSince after Close")
}

// newCheck starts a check on db, its times based on now at microsecond precision.
func newCheck(t *testing.T, db Database) *check {
	return &check{t: t, ctx: t.Context(), s: db.Stores(), base: time.Now().UTC().Truncate(time.Microsecond)}
}

// check is the state of one check on a migrated database shared by all checks.
type check struct {
	t    *testing.T
	ctx  context.Context
	s    ports.Stores
	base time.Time
}

func (c *check) must(err error, op string) {
	c.t.Helper()
	if err != nil {
		c.t.Fatalf("%s: %v", op, err)
	}
}

func id(prefix string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 24)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return prefix + string(b)
}

// workspace creates an account and a workspace it owns, and returns the workspace id and owner.
func (c *check) workspace() (string, *ports.Member) {
	c.t.Helper()
	acc := &ports.Account{ID: id("acc_"), Email: id("u") + "@example.test", CreatedAt: c.base}
	c.must(c.s.Accounts.CreateAccount(c.ctx, acc), "CreateAccount")
	ws := &ports.Workspace{ID: id("ws_"), Name: "W", Slug: id("slug-"), Timezone: "UTC", CreatedAt: c.base}
	owner := &ports.Member{ID: id("mem_"), WorkspaceID: ws.ID, AccountID: acc.ID, Role: ports.RoleOwner, CreatedAt: c.base}
	c.must(c.s.Workspaces.CreateWorkspace(c.ctx, ws, owner, nil, nil), "CreateWorkspace")
	return ws.ID, owner
}

func (c *check) token(wsID, name string, createdAt time.Time) *ports.Token {
	c.t.Helper()
	tok := &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: name, Scopes: []string{"tokens:read"},
		CreatedBy: "a@example.test", CreatedAt: createdAt, CurrentJTI: id("jti_")}
	c.must(c.s.Tokens.CreateToken(c.ctx, tok, nil), "CreateToken "+name)
	return tok
}

func (c *check) event(wsID, action, target string, at time.Time) *ports.AuditEvent {
	return &ports.AuditEvent{ID: id("evt_"), WorkspaceID: wsID, Action: action,
		Actor:  ports.Actor{Type: "user", ID: "acc_" + action},
		Target: ports.Target{Type: "token", ID: target}, OccurredAt: at}
}

func (c *check) events(wsID string, f ports.AuditFilter) ([]string, int) {
	c.t.Helper()
	list, total, err := c.s.Audit.AuditEvents(c.ctx, wsID, f)
	c.must(err, "AuditEvents")
	ids := make([]string, len(list))
	for i, ev := range list {
		ids[i] = ev.ID
	}
	return ids, total
}

func fmtIDs(ids ...string) string { return fmt.Sprint(ids) }
