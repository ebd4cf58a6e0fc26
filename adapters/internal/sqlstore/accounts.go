package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// AccountStore implements ports.AccountStore.
type AccountStore struct{ db *DB }

type accountRow struct {
	ID           string `db:"id"`
	Email        string `db:"email"`
	PasswordHash string `db:"password_hash"`
	CreatedAt    Time   `db:"created_at"`
}

// CreateAccount stores a with its email lower-cased; ECONFLICT if the email is taken.
func (s *AccountStore) CreateAccount(ctx context.Context, a *ports.Account) error {
	a.Email = strings.ToLower(a.Email)
	_, err := s.db.exec(ctx, s.db.write,
		`INSERT INTO accounts (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)`,
		a.ID, a.Email, a.PasswordHash, s.db.t(a.CreatedAt))
	return s.db.wrap(err, "", fmt.Sprintf("an account with email %q already exists", a.Email))
}

// AccountByEmail returns the account with that email, case-insensitively; ENOTFOUND if none.
func (s *AccountStore) AccountByEmail(ctx context.Context, email string) (*ports.Account, error) {
	var r accountRow
	err := s.db.get(ctx, s.db.read, &r,
		`SELECT id, email, password_hash, created_at FROM accounts WHERE email = ?`, strings.ToLower(email))
	if err != nil {
		return nil, s.db.wrap(err, "account not found", "")
	}
	return &ports.Account{ID: r.ID, Email: r.Email, PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.T}, nil
}

// WorkspaceStore implements ports.WorkspaceStore.
type WorkspaceStore struct{ db *DB }

type workspaceRow struct {
	ID              string `db:"id"`
	Name            string `db:"name"`
	Slug            string `db:"slug"`
	Timezone        string `db:"timezone"`
	DefaultAudience string `db:"default_audience"`
	CreatedAt       Time   `db:"created_at"`
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
// transaction; ECONFLICT if the slug is taken.
func (s *WorkspaceStore) CreateWorkspace(ctx context.Context, ws *ports.Workspace, owner *ports.Member, key *ports.SigningKey, ev *ports.AuditEvent) error {
	db := s.db
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := db.exec(ctx, tx,
			`INSERT INTO workspaces (id, name, slug, timezone, default_audience, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			ws.ID, ws.Name, ws.Slug, ws.Timezone, ws.DefaultAudience, db.t(ws.CreatedAt)); err != nil {
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
	err := s.db.get(ctx, s.db.read, &r,
		`SELECT id, name, slug, timezone, default_audience, created_at FROM workspaces WHERE id = ?`, id)
	if err != nil {
		return nil, s.db.wrap(err, fmt.Sprintf("workspace %s not found", id), "")
	}
	return &ports.Workspace{ID: r.ID, Name: r.Name, Slug: r.Slug, Timezone: r.Timezone,
		DefaultAudience: r.DefaultAudience, CreatedAt: r.CreatedAt.T}, nil
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
	return &ports.Member{ID: r.ID, WorkspaceID: r.WorkspaceID, AccountID: r.AccountID, Email: r.Email,
		Role: ports.Role(r.Role), CreatedAt: r.CreatedAt.T}, nil
}
