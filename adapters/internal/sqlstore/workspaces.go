package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// WorkspaceStore implements ports.WorkspaceStore.
type WorkspaceStore struct{ db *DB }

type workspaceRow struct {
	ID               string `db:"id"`
	Name             string `db:"name"`
	Slug             string `db:"slug"`
	Timezone         string `db:"timezone"`
	DefaultAudience  string `db:"default_audience"`
	SigningAlgorithm string `db:"signing_algorithm"`
	CreatedAt        Time   `db:"created_at"`
	// The audit retention and the expiration policy; NULL is nil.
	AuditRetentionDays *int   `db:"audit_retention_days"`
	MaxLifetime        *int64 `db:"policy_max_lifetime"`
	DefaultLifetime    *int64 `db:"policy_default_lifetime"`
	RequireExpiry      bool   `db:"policy_require_expiry"`
	MaxRotationPeriod  *int64 `db:"policy_max_rotation_period"`
}

const workspaceColumns = `id, name, slug, timezone, default_audience, signing_algorithm, created_at,
audit_retention_days, policy_max_lifetime, policy_default_lifetime, policy_require_expiry, policy_max_rotation_period`

// settingsArgs returns the arguments of the retention and policy columns, in workspaceColumns order.
func settingsArgs(ws *ports.Workspace) []any {
	p := ws.Policy
	return []any{nullable(ws.AuditRetentionDays), nullable(p.MaxLifetime), nullable(p.DefaultLifetime),
		p.RequireExpiry, nullable(p.MaxRotationPeriod)}
}

// nullable returns *p, or nil (NULL) when p is nil.
func nullable[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

type memberRow struct {
	ID          string `db:"id"`
	WorkspaceID string `db:"workspace_id"`
	AccountID   string `db:"account_id"`
	Email       string `db:"email"`
	Role        string `db:"role"`
	CreatedAt   Time   `db:"created_at"`
}

const memberSelect = `SELECT m.id, m.workspace_id, m.account_id, a.email, m.role, m.created_at
FROM members m JOIN accounts a ON a.id = m.account_id `

// CreateWorkspace stores ws, its owner member, its first signing key (if any) and ev in one
// transaction; ECONFLICT if the slug is taken. An empty SigningAlgorithm is stored as ES256.
func (s *WorkspaceStore) CreateWorkspace(ctx context.Context, ws *ports.Workspace, owner *ports.Member, key *ports.SigningKey, ev *ports.AuditEvent) error {
	db := s.db
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		args := append([]any{ws.ID, ws.Name, ws.Slug, ws.Timezone, ws.DefaultAudience,
			cmp.Or(ws.SigningAlgorithm, ports.AlgES256), db.t(ws.CreatedAt)}, settingsArgs(ws)...)
		if _, err := db.exec(ctx, tx, `INSERT INTO workspaces (`+workspaceColumns+`)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, args...); err != nil {
			return db.wrap(err, "", fmt.Sprintf("the slug %q is already taken", ws.Slug))
		}
		if owner != nil {
			owner.WorkspaceID = ws.ID
			if _, err := db.exec(ctx, tx,
				`INSERT INTO members (id, workspace_id, account_id, role, created_at) VALUES (?, ?, ?, ?, ?)`,
				owner.ID, owner.WorkspaceID, owner.AccountID, string(owner.Role), db.t(owner.CreatedAt)); err != nil {
				return db.wrap(err, "", "the member already exists")
			}
		}
		if key != nil {
			key.WorkspaceID = ws.ID
			if err := db.insertSigningKey(ctx, tx, key); err != nil {
				return err
			}
		}
		return db.insertEvents(ctx, tx, ev)
	})
	return db.wrap(err, "", "")
}

// Workspace returns the workspace; ENOTFOUND if it does not exist.
func (s *WorkspaceStore) Workspace(ctx context.Context, id string) (*ports.Workspace, error) {
	var r workspaceRow
	err := s.db.get(ctx, s.db.read, &r, `SELECT `+workspaceColumns+` FROM workspaces WHERE id = ?`, id)
	if err != nil {
		return nil, s.db.wrap(err, workspaceNotFound(id), "")
	}
	ws := r.workspace()
	return &ws, nil
}

func (r *workspaceRow) workspace() ports.Workspace {
	return ports.Workspace{ID: r.ID, Name: r.Name, Slug: r.Slug, Timezone: r.Timezone,
		DefaultAudience: r.DefaultAudience, SigningAlgorithm: r.SigningAlgorithm, CreatedAt: r.CreatedAt.T,
		AuditRetentionDays: r.AuditRetentionDays, Policy: ports.Policy{MaxLifetime: r.MaxLifetime,
			DefaultLifetime: r.DefaultLifetime, RequireExpiry: r.RequireExpiry, MaxRotationPeriod: r.MaxRotationPeriod}}
}

// Member returns a member of the workspace with its account's email; ENOTFOUND if none.
func (s *WorkspaceStore) Member(ctx context.Context, workspaceID, memberID string) (*ports.Member, error) {
	return s.member(ctx, `WHERE m.workspace_id = ? AND m.id = ?`, workspaceID, memberID)
}

// MemberByAccount returns the membership of an account in the workspace; ENOTFOUND if none.
func (s *WorkspaceStore) MemberByAccount(ctx context.Context, workspaceID, accountID string) (*ports.Member, error) {
	return s.member(ctx, `WHERE m.workspace_id = ? AND m.account_id = ?`, workspaceID, accountID)
}

func (s *WorkspaceStore) member(ctx context.Context, where string, args ...any) (*ports.Member, error) {
	var r memberRow
	if err := s.db.get(ctx, s.db.read, &r, memberSelect+where, args...); err != nil {
		return nil, s.db.wrap(err, "member not found", "")
	}
	m := r.member()
	return &m, nil
}

// UpdateWorkspace stores ws's Name, Slug, Timezone, SigningAlgorithm, AuditRetentionDays and Policy
// and ev in one transaction and announces ChangeWorkspace; ENOTFOUND if it does not exist, ECONFLICT
// if the slug is taken.
func (s *WorkspaceStore) UpdateWorkspace(ctx context.Context, ws *ports.Workspace, ev *ports.AuditEvent) error {
	db := s.db
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		args := append([]any{ws.Name, ws.Slug, ws.Timezone, ws.SigningAlgorithm}, settingsArgs(ws)...)
		n, err := db.exec(ctx, tx, `UPDATE workspaces SET name = ?, slug = ?, timezone = ?, signing_algorithm = ?,
    audit_retention_days = ?, policy_max_lifetime = ?, policy_default_lifetime = ?, policy_require_expiry = ?,
    policy_max_rotation_period = ?
WHERE id = ?`, append(args, ws.ID)...)
		if err != nil {
			return nil, db.wrap(err, "", fmt.Sprintf("the slug %q is already taken", ws.Slug))
		}
		if n == 0 {
			return nil, notFoundErr(workspaceNotFound(ws.ID))
		}
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		return []ports.Change{{Kind: ports.ChangeWorkspace, WorkspaceID: ws.ID}}, nil
	})
	return db.wrap(err, "", "")
}

// WorkspaceIDs lists workspace ids greater than after, ascending, at most limit.
func (s *WorkspaceStore) WorkspaceIDs(ctx context.Context, after string, limit int) ([]string, error) {
	ids := []string{}
	if err := s.db.sel(ctx, s.db.read, &ids, `SELECT id FROM workspaces WHERE id > ? ORDER BY id LIMIT ?`,
		after, max(limit, 0)); err != nil {
		return nil, s.db.wrap(err, "", "")
	}
	return ids, nil
}

type scopeRow struct {
	Name        string `db:"name"`
	Description string `db:"description"`
}

// CustomScopes lists the workspace's custom scopes by name (byte order, whatever the database
// collation); empty when none.
func (s *WorkspaceStore) CustomScopes(ctx context.Context, workspaceID string) ([]ports.Scope, error) {
	var rows []scopeRow
	if err := s.db.sel(ctx, s.db.read, &rows, `SELECT name, description FROM workspace_scopes WHERE workspace_id = ?`,
		workspaceID); err != nil {
		return nil, s.db.wrap(err, "", "")
	}
	scopes := make([]ports.Scope, len(rows))
	for i, r := range rows {
		scopes[i] = ports.Scope{Name: r.Name, Description: r.Description}
	}
	slices.SortFunc(scopes, func(a, b ports.Scope) int { return strings.Compare(a.Name, b.Name) })
	return scopes, nil
}

// SetCustomScopes replaces the workspace's custom scopes with scopes and records ev in one
// transaction, and announces ChangeWorkspace; ENOTFOUND if the workspace does not exist, ECONFLICT
// if a name is given twice. The workspace row is locked first, so concurrent replacements apply one
// after the other instead of merging.
func (s *WorkspaceStore) SetCustomScopes(ctx context.Context, workspaceID string, scopes []ports.Scope, ev *ports.AuditEvent) error {
	db := s.db
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		if err := db.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return nil, err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM workspace_scopes WHERE workspace_id = ?`, workspaceID); err != nil {
			return nil, err
		}
		for _, sc := range scopes {
			if _, err := db.exec(ctx, tx, `INSERT INTO workspace_scopes (workspace_id, name, description) VALUES (?, ?, ?)`,
				workspaceID, sc.Name, sc.Description); err != nil {
				return nil, db.wrap(err, "", fmt.Sprintf("custom scope %q is given twice", sc.Name))
			}
		}
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		return []ports.Change{{Kind: ports.ChangeWorkspace, WorkspaceID: workspaceID}}, nil
	})
	return db.wrap(err, "", "")
}

func workspaceNotFound(id string) string { return fmt.Sprintf("workspace %s not found", id) }
