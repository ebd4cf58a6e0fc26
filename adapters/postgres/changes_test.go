package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/postgres/postgrestest"
	"github.com/tooken/tooken/ports"
)

// wait bounds each wait for a change that should come; a hang guard, not a latency requirement.
const wait = 30 * time.Second

// replicas opens two DBs on one fresh, migrated database: two replicas of the service.
func replicas(t *testing.T) (dsn string, a, b *DB) {
	t.Helper()
	dsn = postgrestest.NewDatabase(t)
	open := func() *DB {
		db, err := Open(t.Context(), dsn)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	a, b = open(), open()
	if err := a.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return dsn, a, b
}

// seed creates a workspace and a token through s and returns them.
func seed(t *testing.T, s ports.Stores) (*ports.Workspace, *ports.Token) {
	t.Helper()
	now := time.Now().UTC()
	suffix := fmt.Sprintf("%d", now.UnixNano())
	acc := &ports.Account{ID: "acc_" + suffix, Email: suffix + "@example.test", CreatedAt: now}
	if err := s.Accounts.CreateAccount(t.Context(), acc); err != nil {
		t.Fatal(err)
	}
	ws := &ports.Workspace{ID: "ws_" + suffix, Name: "W", Slug: "w-" + suffix, Timezone: "UTC", CreatedAt: now}
	owner := &ports.Member{ID: "mem_" + suffix, AccountID: acc.ID, Role: ports.RoleOwner, CreatedAt: now}
	if err := s.Workspaces.CreateWorkspace(t.Context(), ws, owner, nil, nil); err != nil {
		t.Fatal(err)
	}
	tok := &ports.Token{ID: "tok_" + suffix, WorkspaceID: ws.ID, Name: "t", CreatedAt: now, CurrentJTI: "jti_" + suffix}
	if err := s.Tokens.CreateToken(t.Context(), tok, nil); err != nil {
		t.Fatal(err)
	}
	return ws, tok
}

// nextOf returns the next change of ch that is a resync or concerns wsID.
func nextOf(t *testing.T, ch <-chan ports.Change, wsID string) ports.Change {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case c, ok := <-ch:
			if !ok {
				t.Fatal("change channel closed")
			}
			if c.Kind == ports.ChangeResync || c.WorkspaceID == wsID {
				return c
			}
		case <-timeout:
			t.Fatalf("no change within %s", wait)
		}
	}
}

func TestChangesReachAnotherReplica(t *testing.T) {
	_, a, b := replicas(t)
	changes, err := b.Stores().Changes.Subscribe(t.Context())
	if err != nil {
		t.Fatalf("Subscribe on B: %v", err)
	}
	ws, tok := seed(t, a.Stores())
	if _, _, err := a.Stores().Tokens.RevokeToken(t.Context(), ws.ID, tok.ID, time.Now(), nil); err != nil {
		t.Fatalf("RevokeToken on A: %v", err)
	}
	want := ports.Change{Kind: ports.ChangeToken, WorkspaceID: ws.ID, ID: tok.ID}
	if got := nextOf(t, changes, ws.ID); got != want {
		t.Errorf("B received %+v, want %+v", got, want)
	}
	// A rolled-back mutation notifies no one: the workspace does not exist, so the change never commits.
	if err := a.Stores().Workspaces.SetCustomScopes(t.Context(), "ws_missing", nil, nil); ports.ErrorCode(err) != ports.ENOTFOUND {
		t.Fatalf("SetCustomScopes(unknown): %v", err)
	}
	if err := a.Stores().Workspaces.SetCustomScopes(t.Context(), ws.ID, []ports.Scope{{Name: "a:b"}}, nil); err != nil {
		t.Fatal(err)
	}
	if got := nextOf(t, changes, ws.ID); got != (ports.Change{Kind: ports.ChangeWorkspace, WorkspaceID: ws.ID}) {
		t.Errorf("B received %+v, want the workspace change", got)
	}
}

func TestListenerResyncsAfterLosingItsConnection(t *testing.T) {
	dsn, a, b := replicas(t)
	changes, err := b.Stores().Changes.Subscribe(t.Context())
	if err != nil {
		t.Fatalf("Subscribe on B: %v", err)
	}
	admin, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var killed int
	if err := admin.QueryRowContext(t.Context(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE datname = current_database() AND query LIKE 'LISTEN%'`).Scan(&killed); err != nil {
		t.Fatalf("terminating the listener: %v", err)
	}
	if killed != 1 {
		t.Fatalf("terminated %d listening backends, want 1", killed)
	}
	ws, tok := seed(t, a.Stores())
	if got := nextOf(t, changes, ws.ID); got.Kind != ports.ChangeResync {
		t.Fatalf("after the listener's connection was killed: %+v, want a resync", got)
	}
	// The listener is back: changes flow again.
	if _, _, err := a.Stores().Tokens.RevokeToken(t.Context(), ws.ID, tok.ID, time.Now(), nil); err != nil {
		t.Fatalf("RevokeToken on A: %v", err)
	}
	for {
		got := nextOf(t, changes, ws.ID)
		if got.Kind == ports.ChangeResync {
			continue
		}
		if want := (ports.Change{Kind: ports.ChangeToken, WorkspaceID: ws.ID, ID: tok.ID}); got != want {
			t.Errorf("after reconnecting: %+v, want %+v", got, want)
		}
		break
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	_, a, _ := replicas(t)
	changes, err := a.Stores().Changes.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case _, ok := <-changes:
		if ok {
			t.Error("a change arrived instead of the channel closing")
		}
	case <-time.After(wait):
		t.Fatal("channel still open after Close")
	}
	if _, err := a.Stores().Changes.Subscribe(context.Background()); ports.ErrorCode(err) != ports.EUNAVAILABLE {
		t.Errorf("Subscribe after Close: %v, want EUNAVAILABLE", err)
	}
}
