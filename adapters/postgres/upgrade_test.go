package postgres

import (
	"fmt"
	"io/fs"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/tooken/tooken/adapters/internal/sqlstore/sqlstoretest"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/ports"
)

// TestUpgradeFromV1 migrates a database holding version-1 rows and checks what the second migration
// derives from them: activates_at from activated_at (or created_at), and the new columns' defaults.
func TestUpgradeFromV1(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, postgrestest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	w := db.store.Writer()
	p, err := goose.NewProvider(goose.DialectPostgres, w.DB, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatalf("migrating to version 1: %v", err)
	}
	created := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	activated := created.Add(time.Second)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO workspaces (id, name, slug, created_at) VALUES ('ws_1', 'W', 'w', $1)`, []any{created}},
		{`INSERT INTO signing_keys VALUES ('kid_a', 'ws_1', 'ES256', 'active', '{}', '\x00', $1, $2)`,
			[]any{created, activated}},
		{`INSERT INTO signing_keys VALUES ('kid_b', 'ws_1', 'ES256', 'active', '{}', '\x00', $1, NULL)`,
			[]any{created.Add(-time.Hour)}},
		{`INSERT INTO tokens (id, workspace_id, name, name_key, scopes, audience, created_by, created_at, current_jti)
VALUES ('tok_1', 'ws_1', 't', 't', '[]', '[]', 'a', $1, 'jti_1')`, []any{created}},
	} {
		if _, err := w.ExecContext(ctx, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	s := db.Stores()
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
	if _, err := p.DownTo(ctx, 1); err != nil {
		t.Errorf("migrating back down to version 1: %v", err)
	}
}

// TestUpgradeChainsExistingAuditEvents migrates a database holding version-2 audit events of two
// workspaces and of none, and checks that the third migration numbers them per workspace in their
// order, unhashed, that the hashed chain starts after them, and the new columns' defaults.
func TestUpgradeChainsExistingAuditEvents(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, postgrestest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	w := db.store.Writer()
	p, err := goose.NewProvider(goose.DialectPostgres, w.DB, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 2); err != nil {
		t.Fatalf("migrating to version 2: %v", err)
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := w.ExecContext(ctx, `INSERT INTO workspaces (id, name, slug, created_at)
VALUES ('ws_1', 'W', 'w1', $1), ('ws_2', 'W', 'w2', $1)`, at); err != nil {
		t.Fatal(err)
	}
	if _, err := w.ExecContext(ctx, `INSERT INTO tokens (id, workspace_id, name, name_key, scopes, audience,
created_by, created_at, current_jti) VALUES ('tok_1', 'ws_1', 't', 't', '[]', '[]', 'a', $1, 'jti_1')`, at); err != nil {
		t.Fatal(err)
	}
	for i, ws := range []string{"ws_1", "ws_2", "ws_1", "", "ws_1"} {
		if _, err := w.ExecContext(ctx, `INSERT INTO audit_events (id, workspace_id, action, occurred_at)
VALUES ($1, $2, 'token.created', $3)`, fmt.Sprintf("evt_%d", i+1), ws, at); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	s := db.Stores()
	sqlstoretest.CheckUpgradedChain(t, s, "ws_1", "evt_1", "evt_3", "evt_5")
	sqlstoretest.CheckUpgradedChain(t, s, "ws_2", "evt_2")
	sqlstoretest.CheckUpgradedChain(t, s, "", "evt_4")
	sqlstoretest.CheckUpgradedDefaults(t, s, "ws_1", "tok_1")
	if _, err := p.DownTo(ctx, 2); err != nil {
		t.Errorf("migrating back down to version 2: %v", err)
	}
}
