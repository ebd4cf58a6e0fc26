package sqlstore_test

import (
	"database/sql"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/adapters/internal/sqlstore"
	"github.com/tooken/tooken/adapters/postgres"
	"github.com/tooken/tooken/adapters/postgres/postgrestest"
)

// TestTokenUpdatesFindTheTokenByItsPrimaryKeyWithoutStatistics checks, on PostgreSQL, the generic
// plans of the statements that revoke and rotate a live token, in a database that has just grown
// from empty (2,000 live tokens in one workspace, never analyzed): each must find the token through
// the primary key, not scan the workspace's live tokens through a partial index.
func TestTokenUpdatesFindTheTokenByItsPrimaryKeyWithoutStatistics(t *testing.T) {
	dsn := postgrestest.NewDatabase(t)
	db, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = raw.Close() })
	conn, err := raw.Conn(t.Context()) // one session: the settings and prepared statements are its own
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	for _, stmt := range []string{
		`SET session_replication_role = replica`, // no workspace row for the tokens' foreign key
		`INSERT INTO tokens (id, workspace_id, name, name_key, scopes, audience, created_by, created_at, current_jti, current_kid)
SELECT 'tok_' || g, 'ws_plan', 'n' || g, 'n' || g, '[]', '[]', 'owner', now(), 'jti_' || g, 'kid_plan'
FROM generate_series(1, 2000) AS g`,
		`SET plan_cache_mode = force_generic_plan`,
		`PREPARE revoke AS ` + sqlx.Rebind(sqlx.DOLLAR, sqlstore.RevokeTokenQuery),
		`PREPARE rotate AS ` + sqlx.Rebind(sqlx.DOLLAR, sqlstore.RotateTokenQuery),
	} {
		if _, err := conn.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for name, explain := range map[string]string{
		"revoke": `EXPLAIN EXECUTE revoke(now(), 'tok_7', 'ws_plan')`,
		"rotate": `EXPLAIN EXECUTE rotate('jti_new', 'kid_plan', '', '', NULL, now(), 'tok_7', 'ws_plan', 'jti_7')`,
	} {
		if text := strings.Join(postgrestest.Strings(t, conn, explain), "\n"); !strings.Contains(text, "Index Scan using tokens_pkey on tokens") {
			t.Errorf("the %s statement's plan does not find the token by its primary key:\n%s", name, text)
		}
	}
}
