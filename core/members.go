package core

import (
	"context"
	"strings"
	"time"

	"github.com/tooken/tooken/ports"
)

// InvitationTTL is how long an invitation link stays valid.
const InvitationTTL = 7 * 24 * time.Hour

// ListMembers lists p's workspace's members, oldest first, with the total (any member credential;
// never a token). A zero page takes the defaults.
func (s *Service) ListMembers(ctx context.Context, p *Principal, page ports.Page) ([]ports.Member, int, error) {
	if p.Kind == KindToken {
		return nil, 0, &ports.Error{Code: ports.EFORBIDDEN, Message: "Tokens cannot read members; use an API key"}
	}
	in := PageInput{}
	if page.Page != 0 {
		in.Page = &page.Page
	}
	if page.PerPage != 0 {
		in.PerPage = &page.PerPage
	}
	pg, err := in.page()
	if err != nil {
		return nil, 0, err
	}
	return s.stores.Members.Members(ctx, p.WorkspaceID, pg)
}

// UpdateMemberRole changes a member's role (owner); the last owner cannot be demoted (ECONFLICT).
// The member's personal API keys act with the new role at once.
func (s *Service) UpdateMemberRole(ctx context.Context, p *Principal, memberID string, role ports.Role) (*ports.Member, error) {
	if err := p.requireOwner(); err != nil {
		return nil, err
	}
	if !ValidRole(role) {
		return nil, invalid("role", "role must be owner, admin or viewer")
	}
	m, err := s.stores.Workspaces.Member(ctx, p.WorkspaceID, memberID)
	if err != nil {
		return nil, memberNotFound(err, memberID)
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "member.role_changed", memberTarget(m),
		map[string]any{"from": string(m.Role), "to": string(role)})
	m, err = s.stores.Members.UpdateMemberRole(ctx, p.WorkspaceID, memberID, role, ev)
	if err != nil {
		return nil, memberNotFound(err, memberID)
	}
	s.forgetMemberKeys(memberID)
	return m, nil
}

// RemoveMember removes a member (owner) with its personal API keys, which stop working at once; the
// last owner cannot be removed (ECONFLICT).
func (s *Service) RemoveMember(ctx context.Context, p *Principal, memberID string) error {
	if err := p.requireOwner(); err != nil {
		return err
	}
	m, err := s.stores.Workspaces.Member(ctx, p.WorkspaceID, memberID)
	if err != nil {
		return memberNotFound(err, memberID)
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "member.removed", memberTarget(m), map[string]any{"role": string(m.Role)})
	if err := s.stores.Members.RemoveMember(ctx, p.WorkspaceID, memberID, ev); err != nil {
		return memberNotFound(err, memberID)
	}
	s.forgetMemberKeys(memberID)
	return nil
}

// forgetMemberKeys drops the cached API keys of a member (their role or email may have changed).
func (s *Service) forgetMemberKeys(memberID string) {
	s.keyGen.Add(1)
	s.keys.delWhere(func(c cachedKey) bool { return c.key.MemberID == memberID })
}

// CreateInvitationInput is the request to invite someone into a workspace.
type CreateInvitationInput struct {
	Email string
	Role  ports.Role
}

// CreateInvitation invites an email (owner) and returns the invitation with its one-time link
// ({public_url}/invitations/{code}), shown this once; ECONFLICT if the email is already a member.
func (s *Service) CreateInvitation(ctx context.Context, p *Principal, in CreateInvitationInput) (*ports.Invitation, string, error) {
	if err := p.requireOwner(); err != nil {
		return nil, "", err
	}
	email := strings.ToLower(strings.TrimSpace(in.Email))
	if len(email) > 254 || !emailRE.MatchString(email) {
		return nil, "", invalid("email", "a valid email address is required")
	}
	if !ValidRole(in.Role) {
		return nil, "", invalid("role", "role must be owner, admin or viewer")
	}
	code := randomBase62(32)
	now := s.Now()
	inv := &ports.Invitation{ID: newID("inv_"), WorkspaceID: p.WorkspaceID, Email: email, Role: in.Role,
		CodeHash: hashSecret(code), InvitedBy: p.Email, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "member.invited", invitationTarget(inv),
		map[string]any{"role": string(in.Role), "invitation_id": inv.ID})
	if err := s.stores.Invitations.CreateInvitation(ctx, inv, ev); err != nil {
		return nil, "", err
	}
	return inv, strings.TrimRight(s.cfg.PublicURL, "/") + "/invitations/" + code, nil
}

// ListInvitations lists p's workspace's pending invitations, newest first (owner).
func (s *Service) ListInvitations(ctx context.Context, p *Principal) ([]ports.Invitation, error) {
	if err := p.requireOwner(); err != nil {
		return nil, err
	}
	return s.stores.Invitations.Invitations(ctx, p.WorkspaceID, s.Now())
}

// RevokeInvitation deletes a pending invitation (owner); its link stops working.
func (s *Service) RevokeInvitation(ctx context.Context, p *Principal, id string) error {
	if err := p.requireOwner(); err != nil {
		return err
	}
	inv, err := s.stores.Invitations.Invitation(ctx, p.WorkspaceID, id)
	if err != nil {
		return invitationNotFound(err, id)
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "invitation.revoked", invitationTarget(inv), nil)
	return invitationNotFound(s.stores.Invitations.DeleteInvitation(ctx, p.WorkspaceID, id, ev), id)
}

// AcceptInvitation makes acc a member of the invitation's workspace with the invited role. The
// invitation's email must be acc's (EFORBIDDEN otherwise); an unknown or used code is ENOTFOUND, an
// expired one EUNPROCESSABLE.
func (s *Service) AcceptInvitation(ctx context.Context, acc *ports.Account, code string) (*ports.Workspace, *ports.Member, error) {
	inv, err := s.invitationByCode(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	now := s.Now()
	if !inv.ExpiresAt.After(now) {
		return nil, nil, unprocessable("code", "This invitation has expired; ask for a new one")
	}
	if !strings.EqualFold(inv.Email, acc.Email) {
		return nil, nil, ports.Errorf(ports.EFORBIDDEN, "This invitation is for %s; sign in with that email to accept it", inv.Email)
	}
	m := &ports.Member{ID: newID("mem_"), WorkspaceID: inv.WorkspaceID, AccountID: acc.ID, Email: acc.Email,
		Role: inv.Role, CreatedAt: now}
	ev := s.event(ctx, ports.Actor{Type: KindUser, ID: acc.ID, Email: acc.Email}, inv.WorkspaceID, "member.joined",
		memberTarget(m), map[string]any{"role": string(m.Role), "invitation_id": inv.ID})
	if err := s.stores.Invitations.AcceptInvitation(ctx, inv.ID, m, now, ev); err != nil {
		return nil, nil, err
	}
	ws, err := s.stores.Workspaces.Workspace(ctx, inv.WorkspaceID)
	if err != nil {
		return nil, nil, err
	}
	return ws, m, nil
}

// AccountWorkspaces lists the workspaces an account belongs to with its role in each.
func (s *Service) AccountWorkspaces(ctx context.Context, accountID string) ([]ports.AccountWorkspace, error) {
	return s.stores.Members.AccountWorkspaces(ctx, accountID)
}

func memberTarget(m *ports.Member) ports.Target {
	return ports.Target{Type: "member", ID: m.ID, Name: m.Email}
}

func invitationTarget(inv *ports.Invitation) ports.Target {
	return ports.Target{Type: "invitation", ID: inv.ID, Name: inv.Email}
}

func memberNotFound(err error, id string) error {
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		return ports.Errorf(ports.ENOTFOUND, "Member %s not found", id)
	}
	return err
}

func invitationNotFound(err error, id string) error {
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		return ports.Errorf(ports.ENOTFOUND, "Invitation %s not found", id)
	}
	return err
}
