package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// MemberStore implements ports.MemberStore.
type MemberStore struct{ db *DB }

// InvitationStore implements ports.InvitationStore.
type InvitationStore struct{ db *DB }

func (r *memberRow) member() ports.Member {
	return ports.Member{ID: r.ID, WorkspaceID: r.WorkspaceID, AccountID: r.AccountID, Email: r.Email,
		Role: ports.Role(r.Role), CreatedAt: r.CreatedAt.T}
}

// Members lists the workspace's members, oldest first, and the total.
func (s *MemberStore) Members(ctx context.Context, workspaceID string, page ports.Page) ([]ports.Member, int, error) {
	db := s.db
	var rows []memberRow
	if err := db.sel(ctx, db.read, &rows, memberSelect+`WHERE m.workspace_id = ? ORDER BY m.created_at, m.id LIMIT ? OFFSET ?`,
		workspaceID, page.PerPage, page.Offset()); err != nil {
		return nil, 0, db.wrap(err, "", "")
	}
	var total int
	if err := db.get(ctx, db.read, &total, `SELECT COUNT(*) FROM members WHERE workspace_id = ?`, workspaceID); err != nil {
		return nil, 0, db.wrap(err, "", "")
	}
	members := make([]ports.Member, len(rows))
	for i := range rows {
		members[i] = rows[i].member()
	}
	return members, total, nil
}

// lockedMember locks the workspace and returns the member, checking that a change taking away its
// owner role (keepsOwner false) leaves another owner.
func (db *DB) lockedMember(ctx context.Context, tx *sqlx.Tx, workspaceID, memberID string, keepsOwner bool) (*memberRow, error) {
	if err := db.lockWorkspace(ctx, tx, workspaceID); err != nil {
		return nil, db.wrap(err, fmt.Sprintf("member %s not found", memberID), "")
	}
	var m memberRow
	if err := db.get(ctx, tx, &m, memberSelect+`WHERE m.workspace_id = ? AND m.id = ?`, workspaceID, memberID); err != nil {
		return nil, db.wrap(err, fmt.Sprintf("member %s not found", memberID), "")
	}
	if m.Role == string(ports.RoleOwner) && !keepsOwner {
		var owners int
		if err := db.get(ctx, tx, &owners, `SELECT COUNT(*) FROM members WHERE workspace_id = ? AND role = ?`,
			workspaceID, string(ports.RoleOwner)); err != nil {
			return nil, err
		}
		if owners <= 1 {
			return nil, ports.Errorf(ports.ECONFLICT, "%s is the workspace's last owner; make another member owner first", m.Email)
		}
	}
	return &m, nil
}

// personalKeyChanges returns a ChangeAPIKey for each personal key of the member.
func (db *DB) personalKeyChanges(ctx context.Context, tx *sqlx.Tx, workspaceID, memberID string) ([]ports.Change, error) {
	var ids []string
	if err := db.sel(ctx, tx, &ids, `SELECT id FROM api_keys WHERE workspace_id = ? AND member_id = ? AND kind = ?`,
		workspaceID, memberID, string(ports.APIKeyPersonal)); err != nil {
		return nil, err
	}
	changes := make([]ports.Change, len(ids))
	for i, id := range ids {
		changes[i] = ports.Change{Kind: ports.ChangeAPIKey, WorkspaceID: workspaceID, ID: id}
	}
	return changes, nil
}

// UpdateMemberRole sets the member's role and records ev in one transaction; see ports.MemberStore.
func (s *MemberStore) UpdateMemberRole(ctx context.Context, workspaceID, memberID string, role ports.Role, ev *ports.AuditEvent) (*ports.Member, error) {
	db := s.db
	var out ports.Member
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		m, err := db.lockedMember(ctx, tx, workspaceID, memberID, role == ports.RoleOwner)
		if err != nil {
			return nil, err
		}
		if _, err := db.exec(ctx, tx, `UPDATE members SET role = ? WHERE id = ?`, string(role), memberID); err != nil {
			return nil, err
		}
		m.Role = string(role)
		out = m.member()
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		return db.personalKeyChanges(ctx, tx, workspaceID, memberID)
	})
	if err != nil {
		return nil, db.wrap(err, "", "")
	}
	return &out, nil
}

// RemoveMember deletes the member and its personal API keys and records ev in one transaction; see
// ports.MemberStore.
func (s *MemberStore) RemoveMember(ctx context.Context, workspaceID, memberID string, ev *ports.AuditEvent) error {
	db := s.db
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		if _, err := db.lockedMember(ctx, tx, workspaceID, memberID, false); err != nil {
			return nil, err
		}
		changes, err := db.personalKeyChanges(ctx, tx, workspaceID, memberID)
		if err != nil {
			return nil, err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM api_keys WHERE workspace_id = ? AND member_id = ? AND kind = ?`,
			workspaceID, memberID, string(ports.APIKeyPersonal)); err != nil {
			return nil, err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM members WHERE id = ?`, memberID); err != nil {
			return nil, err
		}
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		return changes, nil
	})
	return db.wrap(err, "", "")
}

type accountWorkspaceRow struct {
	workspaceRow
	MemberID   string `db:"member_id"`
	AccountID  string `db:"account_id"`
	Email      string `db:"email"`
	Role       string `db:"role"`
	MemberTime Time   `db:"member_created_at"`
}

// AccountWorkspaces lists the account's workspaces with its membership, by workspace name.
func (s *MemberStore) AccountWorkspaces(ctx context.Context, accountID string) ([]ports.AccountWorkspace, error) {
	db := s.db
	cols := strings.ReplaceAll("w."+workspaceColumns, ", ", ", w.")
	cols = strings.ReplaceAll(cols, ",\n", ",\nw.")
	var rows []accountWorkspaceRow
	if err := db.sel(ctx, db.read, &rows, `SELECT `+cols+`, m.id AS member_id, m.account_id, a.email, m.role,
    m.created_at AS member_created_at
FROM members m JOIN workspaces w ON w.id = m.workspace_id JOIN accounts a ON a.id = m.account_id
WHERE m.account_id = ? ORDER BY w.name, w.id`, accountID); err != nil {
		return nil, db.wrap(err, "", "")
	}
	out := make([]ports.AccountWorkspace, len(rows))
	for i, r := range rows {
		out[i] = ports.AccountWorkspace{Workspace: r.workspace(), Member: ports.Member{ID: r.MemberID,
			WorkspaceID: r.ID, AccountID: r.AccountID, Email: r.Email, Role: ports.Role(r.Role), CreatedAt: r.MemberTime.T}}
	}
	return out, nil
}

type invitationRow struct {
	ID          string `db:"id"`
	WorkspaceID string `db:"workspace_id"`
	Email       string `db:"email"`
	Role        string `db:"role"`
	CodeHash    []byte `db:"code_hash"`
	InvitedBy   string `db:"invited_by"`
	CreatedAt   Time   `db:"created_at"`
	ExpiresAt   Time   `db:"expires_at"`
}

func (r *invitationRow) invitation() ports.Invitation {
	return ports.Invitation{ID: r.ID, WorkspaceID: r.WorkspaceID, Email: r.Email, Role: ports.Role(r.Role),
		CodeHash: r.CodeHash, InvitedBy: r.InvitedBy, CreatedAt: r.CreatedAt.T, ExpiresAt: r.ExpiresAt.T}
}

const invitationSelect = `SELECT id, workspace_id, email, role, code_hash, invited_by, created_at, expires_at FROM invitations `

// CreateInvitation stores inv (email lower-cased) and ev; see ports.InvitationStore.
func (s *InvitationStore) CreateInvitation(ctx context.Context, inv *ports.Invitation, ev *ports.AuditEvent) error {
	db := s.db
	inv.Email = strings.ToLower(inv.Email)
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := db.lockWorkspace(ctx, tx, inv.WorkspaceID); err != nil {
			return err
		}
		var n int
		if err := db.get(ctx, tx, &n, `SELECT COUNT(*) FROM members m JOIN accounts a ON a.id = m.account_id
WHERE m.workspace_id = ? AND a.email = ?`, inv.WorkspaceID, inv.Email); err != nil {
			return err
		}
		if n > 0 {
			return ports.Errorf(ports.ECONFLICT, "%s is already a member of this workspace", inv.Email)
		}
		if _, err := db.exec(ctx, tx, `INSERT INTO invitations
(id, workspace_id, email, role, code_hash, invited_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			inv.ID, inv.WorkspaceID, inv.Email, string(inv.Role), inv.CodeHash, inv.InvitedBy,
			db.t(inv.CreatedAt), db.t(inv.ExpiresAt)); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, ev)
	})
	return db.wrap(err, "", "an invitation with this code already exists")
}

// Invitations lists the workspace's invitations unexpired at now, newest first.
func (s *InvitationStore) Invitations(ctx context.Context, workspaceID string, now time.Time) ([]ports.Invitation, error) {
	db := s.db
	var rows []invitationRow
	if err := db.sel(ctx, db.read, &rows, invitationSelect+`WHERE workspace_id = ? AND expires_at > ?
ORDER BY created_at DESC, id DESC`, workspaceID, db.t(now)); err != nil {
		return nil, db.wrap(err, "", "")
	}
	out := make([]ports.Invitation, len(rows))
	for i := range rows {
		out[i] = rows[i].invitation()
	}
	return out, nil
}

// Invitation returns one invitation; ENOTFOUND if it is not in the workspace.
func (s *InvitationStore) Invitation(ctx context.Context, workspaceID, id string) (*ports.Invitation, error) {
	return s.one(ctx, fmt.Sprintf("invitation %s not found", id), `WHERE workspace_id = ? AND id = ?`, workspaceID, id)
}

// InvitationByHash finds the invitation whose code hashes to hash; ENOTFOUND if none.
func (s *InvitationStore) InvitationByHash(ctx context.Context, hash []byte) (*ports.Invitation, error) {
	return s.one(ctx, "invitation not found", `WHERE code_hash = ?`, hash)
}

func (s *InvitationStore) one(ctx context.Context, notFound, where string, args ...any) (*ports.Invitation, error) {
	var r invitationRow
	if err := s.db.get(ctx, s.db.read, &r, invitationSelect+where, args...); err != nil {
		return nil, s.db.wrap(err, notFound, "")
	}
	inv := r.invitation()
	return &inv, nil
}

// DeleteInvitation removes the invitation and records ev in one transaction; ENOTFOUND if it is not
// in the workspace.
func (s *InvitationStore) DeleteInvitation(ctx context.Context, workspaceID, id string, ev *ports.AuditEvent) error {
	db := s.db
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := db.exec(ctx, tx, `DELETE FROM invitations WHERE workspace_id = ? AND id = ?`, workspaceID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFoundErr(fmt.Sprintf("invitation %s not found", id))
		}
		return db.insertEvents(ctx, tx, ev)
	})
	return db.wrap(err, "", "")
}

// AcceptInvitation consumes the invitation and stores m and ev in one transaction; see
// ports.InvitationStore.
func (s *InvitationStore) AcceptInvitation(ctx context.Context, invitationID string, m *ports.Member, now time.Time, ev *ports.AuditEvent) error {
	db := s.db
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := db.lockWorkspace(ctx, tx, m.WorkspaceID); err != nil {
			return err
		}
		n, err := db.exec(ctx, tx, `DELETE FROM invitations WHERE id = ? AND workspace_id = ? AND expires_at > ?`,
			invitationID, m.WorkspaceID, db.t(now))
		if err != nil {
			return err
		}
		if n == 0 {
			return notFoundErr("this invitation was already used, revoked or has expired")
		}
		if _, err := db.exec(ctx, tx,
			`INSERT INTO members (id, workspace_id, account_id, role, created_at) VALUES (?, ?, ?, ?, ?)`,
			m.ID, m.WorkspaceID, m.AccountID, string(m.Role), db.t(m.CreatedAt)); err != nil {
			return db.wrap(err, "", "you are already a member of this workspace")
		}
		return db.insertEvents(ctx, tx, ev)
	})
	return db.wrap(err, "", "")
}
