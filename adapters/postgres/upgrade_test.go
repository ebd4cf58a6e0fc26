package postgres

import (
	"io/fs"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
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
