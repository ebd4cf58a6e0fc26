package sqlstoretest

import (
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"
	"github.com/tooken/tooken/ports"
)

// Upgrade tells the upgrade checks how to reach one adapter's database at an older schema version.
// The seed statements are shared: they are written with ? bindvars, rebound to Bind, and their
// times and bytes are arguments encoded for the dialect.
type Upgrade struct {
	// Open opens a fresh, empty database without migrating it, and returns it with the pool that
	// writes (and migrates). The database is closed when the test ends.
	Open func(t *testing.T) (Database, *sql.DB)
	// Goose is the goose dialect of the migrations.
	Goose goose.Dialect
	// Migrations holds the adapter's goose SQL migrations at its root.
	Migrations fs.FS
	// Bind is the sqlx bindvar type of the dialect (sqlx.DOLLAR, sqlx.QUESTION).
	Bind int
	// Time encodes a time as a query argument, as the adapter stores it.
	Time func(time.Time) any
}

// upgrade is a database migrated up to an older version, with the goose provider that migrated it.
type upgrade struct {
	t  *testing.T
	db Database
	w  *sql.DB
	p  *goose.Provider
	u  Upgrade
}

// at opens a fresh database and migrates it up to version.
func (u Upgrade) at(t *testing.T, version int64) *upgrade {
	t.Helper()
	db, w := u.Open(t)
	p, err := goose.NewProvider(u.Goose, w, u.Migrations, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(t.Context(), version); err != nil {
		t.Fatalf("migrating to version %d: %v", version, err)
	}
	return &upgrade{t: t, db: db, w: w, p: p, u: u}
}

// exec runs one seed statement (with ? bindvars) on the writer.
func (up *upgrade) exec(query string, args ...any) {
	up.t.Helper()
	if _, err := up.w.ExecContext(up.t.Context(), sqlx.Rebind(up.u.Bind, query), args...); err != nil {
		up.t.Fatalf("%s: %v", query, err)
	}
}

// migrate runs the adapter's own migration to the latest version and returns the stores.
func (up *upgrade) migrate() ports.Stores {
	up.t.Helper()
	if err := up.db.Migrate(up.t.Context()); err != nil {
		up.t.Fatalf("Migrate: %v", err)
	}
	return up.db.Stores()
}

// down checks that the migrations after version roll back.
func (up *upgrade) down(version int64) {
	up.t.Helper()
	if _, err := up.p.DownTo(up.t.Context(), version); err != nil {
		up.t.Errorf("migrating back down to version %d: %v", version, err)
	}
}

// TestUpgradeFromV1 migrates a database holding version-1 rows and checks what the second migration
// derives from them: activates_at from activated_at (or created_at), and the new columns' defaults.
func TestUpgradeFromV1(t *testing.T, u Upgrade) {
	ctx := t.Context()
	up := u.at(t, 1)
	created := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	activated := created.Add(time.Second)
	up.exec(`INSERT INTO workspaces (id, name, slug, created_at) VALUES ('ws_1', 'W', 'w', ?)`, u.Time(created))
	up.exec(`INSERT INTO signing_keys VALUES ('kid_a', 'ws_1', 'ES256', 'active', '{}', ?, ?, ?)`,
		[]byte{0}, u.Time(created), u.Time(activated))
	up.exec(`INSERT INTO signing_keys VALUES ('kid_b', 'ws_1', 'ES256', 'active', '{}', ?, ?, NULL)`,
		[]byte{0}, u.Time(created.Add(-time.Hour)))
	up.exec(`INSERT INTO tokens (id, workspace_id, name, name_key, scopes, audience, created_by, created_at, current_jti)
VALUES ('tok_1', 'ws_1', 't', 't', '[]', '[]', 'a', ?, 'jti_1')`, u.Time(created))
	s := up.migrate()
	keys, err := s.SigningKeys.SigningKeys(ctx, "ws_1")
	if err != nil || len(keys) != 2 {
		t.Fatalf("SigningKeys: %v, %v", keys, err)
	}
	for _, k := range keys {
		want := map[string]time.Time{"kid_a": activated, "kid_b": created.Add(-time.Hour)}[k.KID]
		if !k.ActivatesAt.Equal(want) || k.RetiredAt != nil || k.RevokedAt != nil {
			t.Errorf("key %s: ActivatesAt %s RetiredAt %v RevokedAt %v, want %s and nil", k.KID, k.ActivatesAt,
				k.RetiredAt, k.RevokedAt, want)
		}
	}
	ws, err := s.Workspaces.Workspace(ctx, "ws_1")
	if err != nil || ws.SigningAlgorithm != ports.AlgES256 {
		t.Errorf("Workspace: %+v, %v; want SigningAlgorithm ES256", ws, err)
	}
	tok, err := s.Tokens.Token(ctx, "ws_1", "tok_1")
	if err != nil || tok.CurrentKID != "" || tok.PreviousKID != "" {
		t.Errorf("Token: %+v, %v; want empty kids", tok, err)
	}
	if err := s.Ready.Ready(ctx); err != nil {
		t.Errorf("Ready after the upgrade: %v", err)
	}
	up.down(1)
}

// TestUpgradeChainsExistingAuditEvents migrates a database holding version-2 audit events of two
// workspaces and of none, and checks that the third migration numbers them per workspace in their
// order, unhashed, that the hashed chain starts after them, and the new columns' defaults.
func TestUpgradeChainsExistingAuditEvents(t *testing.T, u Upgrade) {
	up := u.at(t, 2)
	at := u.Time(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC))
	up.exec(`INSERT INTO workspaces (id, name, slug, created_at)
VALUES ('ws_1', 'W', 'w1', ?), ('ws_2', 'W', 'w2', ?)`, at, at)
	up.exec(`INSERT INTO tokens (id, workspace_id, name, name_key, scopes, audience,
created_by, created_at, current_jti) VALUES ('tok_1', 'ws_1', 't', 't', '[]', '[]', 'a', ?, 'jti_1')`, at)
	for i, ws := range []string{"ws_1", "ws_2", "ws_1", "", "ws_1"} {
		up.exec(`INSERT INTO audit_events (id, workspace_id, action, occurred_at)
VALUES (?, ?, 'token.created', ?)`, fmt.Sprintf("evt_%d", i+1), ws, at)
	}
	s := up.migrate()
	CheckUpgradedChain(t, s, "ws_1", "evt_1", "evt_3", "evt_5")
	CheckUpgradedChain(t, s, "ws_2", "evt_2")
	CheckUpgradedChain(t, s, "", "evt_4")
	CheckUpgradedDefaults(t, s, "ws_1", "tok_1")
	up.down(2)
}

// CheckUpgradedChain checks the audit chain of a workspace whose events (ids, in insertion order)
// were written before the chain existed, in a database just migrated: they are numbered from 1 in
// that order and unhashed, and the next event starts the hashed chain after them (ChainSeq n+1, an
// empty PrevHash and a valid Hash).
func CheckUpgradedChain(t *testing.T, s ports.Stores, wsID string, ids ...string) {
	t.Helper()
	ctx := t.Context()
	events, err := s.Audit.AuditChain(ctx, wsID, 0, 100)
	if err != nil {
		t.Fatalf("AuditChain(%q): %v", wsID, err)
	}
	got := make([]string, len(events))
	for i, ev := range events {
		got[i] = ev.ID
		if ev.ChainSeq != int64(i+1) || ev.PrevHash != "" || ev.Hash != "" {
			t.Errorf("upgraded event %s of %q: chain fields (%d, %q, %q), want (%d, \"\", \"\")", ev.ID, wsID,
				ev.ChainSeq, ev.PrevHash, ev.Hash, i+1)
		}
	}
	if !slices.Equal(got, ids) {
		t.Errorf("AuditChain(%q) after the upgrade: %v, want %v", wsID, got, ids)
	}
	next := &ports.AuditEvent{ID: id("evt_"), WorkspaceID: wsID, Action: "token.created",
		OccurredAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := s.Audit.AppendAuditEvents(ctx, next); err != nil {
		t.Fatalf("AppendAuditEvents after the upgrade: %v", err)
	}
	stored, err := s.Audit.AuditChain(ctx, wsID, int64(len(ids)), 10)
	if err != nil || len(stored) != 1 {
		t.Fatalf("AuditChain after the first hashed event: %d events, %v", len(stored), err)
	}
	ev := &stored[0]
	if ev.ID != next.ID || ev.ChainSeq != int64(len(ids)+1) || ev.PrevHash != "" || ev.Hash != ports.AuditHash("", ev) {
		t.Errorf("first hashed event of %q: %s (%d, %q, %q), want %s at %d with an empty PrevHash and a valid Hash",
			wsID, ev.ID, ev.ChainSeq, ev.PrevHash, ev.Hash, next.ID, len(ids)+1)
	}
}

// CheckUpgradedDefaults checks what the migration gives existing workspaces and tokens: no audit
// retention, an empty expiration policy and no rotation period.
func CheckUpgradedDefaults(t *testing.T, s ports.Stores, wsID, tokenID string) {
	t.Helper()
	ws, err := s.Workspaces.Workspace(t.Context(), wsID)
	if err != nil || ws.AuditRetentionDays != nil || ws.Policy != (ports.Policy{}) {
		t.Errorf("Workspace after the upgrade: %+v, %v; want no retention and an empty policy", ws, err)
	}
	tok, err := s.Tokens.Token(t.Context(), wsID, tokenID)
	if err != nil || tok.RotationPeriod != nil {
		t.Errorf("Token after the upgrade: %+v, %v; want no rotation period", tok, err)
	}
}
