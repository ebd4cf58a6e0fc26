package ports

import (
	"context"
	"time"
)

// Invitation is a pending, one-time invitation to join a workspace. Only the SHA-256 of its code is
// stored; the code itself is part of the link shown once to the inviter.
type Invitation struct {
	ID          string // inv_…
	WorkspaceID string
	Email       string // stored lower-case
	Role        Role
	CodeHash    []byte // SHA-256 of the code
	InvitedBy   string // email of the inviting member
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// AccountWorkspace is one workspace an account belongs to, with its membership there.
type AccountWorkspace struct {
	Workspace Workspace
	Member    Member
}

// MemberStore manages the members of workspaces. Every mutation locks the workspace (so concurrent
// changes to its members apply one after the other) and keeps at least one owner in it.
type MemberStore interface {
	// Members lists the workspace's members, oldest first, with their accounts' emails, and the total.
	Members(ctx context.Context, workspaceID string, page Page) ([]Member, int, error)
	// UpdateMemberRole sets the member's role and records ev in one transaction, and announces
	// ChangeAPIKey for each of its personal API keys (they act with the member's role); returns the
	// updated member. ENOTFOUND if the member is not in the workspace; ECONFLICT if the member is
	// the workspace's last owner and role is not owner.
	UpdateMemberRole(ctx context.Context, workspaceID, memberID string, role Role, ev *AuditEvent) (*Member, error)
	// RemoveMember deletes the member and its personal API keys and records ev in one transaction,
	// and announces ChangeAPIKey for each deleted key. ENOTFOUND if the member is not in the
	// workspace; ECONFLICT if it is the workspace's last owner.
	RemoveMember(ctx context.Context, workspaceID, memberID string, ev *AuditEvent) error
	// AccountWorkspaces lists the workspaces the account is a member of, with its membership, by
	// workspace name; empty when none.
	AccountWorkspaces(ctx context.Context, accountID string) ([]AccountWorkspace, error)
}

// InvitationStore keeps pending invitations (hashes of their codes only).
type InvitationStore interface {
	// CreateInvitation stores inv and ev in one transaction; ECONFLICT if an account with inv.Email
	// is already a member of the workspace, ENOTFOUND if the workspace does not exist.
	CreateInvitation(ctx context.Context, inv *Invitation, ev *AuditEvent) error
	// Invitations lists the workspace's invitations unexpired at now, newest first.
	Invitations(ctx context.Context, workspaceID string, now time.Time) ([]Invitation, error)
	// Invitation returns one invitation (expired or not); ENOTFOUND if it is not in the workspace.
	Invitation(ctx context.Context, workspaceID, id string) (*Invitation, error)
	// InvitationByHash finds the invitation whose code hashes to hash, in any workspace; ENOTFOUND
	// if none.
	InvitationByHash(ctx context.Context, hash []byte) (*Invitation, error)
	// DeleteInvitation removes the invitation and records ev in one transaction; ENOTFOUND if it is
	// not in the workspace.
	DeleteInvitation(ctx context.Context, workspaceID, id string, ev *AuditEvent) error
	// AcceptInvitation consumes the invitation and stores m (in the invitation's workspace, with
	// its role) and ev, all in one transaction, so a code is used at most once. ENOTFOUND if the
	// invitation no longer exists or has expired at now; ECONFLICT if m's account is already a
	// member of the workspace.
	AcceptInvitation(ctx context.Context, invitationID string, m *Member, now time.Time, ev *AuditEvent) error
}
