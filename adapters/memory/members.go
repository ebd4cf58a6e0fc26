package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tooken/tooken/ports"
)

// MemberStore implements ports.MemberStore.
type MemberStore struct{ db *DB }

var _ ports.MemberStore = (*MemberStore)(nil)

// InvitationStore implements ports.InvitationStore.
type InvitationStore struct{ db *DB }

var _ ports.InvitationStore = (*InvitationStore)(nil)

// Members lists the workspace's members, oldest first, and the total.
func (s *MemberStore) Members(ctx context.Context, workspaceID string, page ports.Page) ([]ports.Member, int, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, 0, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	var all []ports.Member
	for _, m := range db.members {
		if m.WorkspaceID == workspaceID {
			all = append(all, *db.memberOut(m))
		}
	}
	slices.SortFunc(all, func(a, b ports.Member) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	lo := min(page.Offset(), len(all))
	hi := min(lo+page.PerPage, len(all))
	return slices.Clone(all[lo:hi]), len(all), nil
}

// checkOwnerLeft returns the member, or ECONFLICT when taking away its owner role leaves none.
func (db *DB) checkOwnerLeft(workspaceID, memberID string, keepsOwner bool) (*ports.Member, error) {
	m, ok := db.members[memberID]
	if !ok || m.WorkspaceID != workspaceID {
		return nil, ports.Errorf(ports.ENOTFOUND, "Member %s not found", memberID)
	}
	if m.Role != ports.RoleOwner || keepsOwner {
		return m, nil
	}
	for _, o := range db.members {
		if o.WorkspaceID == workspaceID && o.Role == ports.RoleOwner && o.ID != memberID {
			return m, nil
		}
	}
	return nil, ports.Errorf(ports.ECONFLICT, "%s is the workspace's last owner; make another member owner first",
		db.memberEmail(m.ID, m.Email))
}

// personalKeys returns the member's personal keys.
func (db *DB) personalKeys(workspaceID, memberID string) []*apiKeyRow {
	var out []*apiKeyRow
	for _, k := range db.apiKeys {
		if k.WorkspaceID == workspaceID && k.MemberID == memberID && k.Kind == ports.APIKeyPersonal {
			out = append(out, k)
		}
	}
	return out
}

// UpdateMemberRole sets the member's role and records ev together; see ports.MemberStore.
func (s *MemberStore) UpdateMemberRole(ctx context.Context, workspaceID, memberID string, role ports.Role, ev *ports.AuditEvent) (*ports.Member, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	m, err := db.checkOwnerLeft(workspaceID, memberID, role == ports.RoleOwner)
	if err != nil {
		return nil, err
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return nil, err
	}
	m.Role = role
	db.appendEvents(events)
	for _, k := range db.personalKeys(workspaceID, memberID) {
		db.hub.Publish(ports.Change{Kind: ports.ChangeAPIKey, WorkspaceID: workspaceID, ID: k.ID})
	}
	return db.memberOut(m), nil
}

// RemoveMember deletes the member and its personal keys and records ev together; see
// ports.MemberStore.
func (s *MemberStore) RemoveMember(ctx context.Context, workspaceID, memberID string, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, err := db.checkOwnerLeft(workspaceID, memberID, false); err != nil {
		return err
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	keys := db.personalKeys(workspaceID, memberID)
	for _, k := range keys {
		delete(db.hashes, string(k.SecretHash))
		delete(db.apiKeys, k.ID)
	}
	delete(db.members, memberID)
	db.appendEvents(events)
	for _, k := range keys {
		db.hub.Publish(ports.Change{Kind: ports.ChangeAPIKey, WorkspaceID: workspaceID, ID: k.ID})
	}
	return nil
}

// AccountWorkspaces lists the account's workspaces with its membership, by workspace name.
func (s *MemberStore) AccountWorkspaces(ctx context.Context, accountID string) ([]ports.AccountWorkspace, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	out := []ports.AccountWorkspace{}
	for _, m := range db.members {
		if ws, ok := db.workspaces[m.WorkspaceID]; ok && m.AccountID == accountID {
			out = append(out, ports.AccountWorkspace{Workspace: *copyWorkspace(ws), Member: *db.memberOut(m)})
		}
	}
	slices.SortFunc(out, func(a, b ports.AccountWorkspace) int {
		return cmp.Or(strings.Compare(a.Workspace.Name, b.Workspace.Name), strings.Compare(a.Workspace.ID, b.Workspace.ID))
	})
	return out, nil
}

func copyInvitation(inv *ports.Invitation) *ports.Invitation {
	c := *inv
	c.CodeHash = slices.Clone(inv.CodeHash)
	return &c
}

// CreateInvitation stores inv (email lower-cased) and ev together; see ports.InvitationStore.
func (s *InvitationStore) CreateInvitation(ctx context.Context, inv *ports.Invitation, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	inv.Email = strings.ToLower(inv.Email)
	if db.workspaces[inv.WorkspaceID] == nil {
		return ports.Errorf(ports.ENOTFOUND, "Workspace %s not found", inv.WorkspaceID)
	}
	for _, m := range db.members {
		if m.WorkspaceID == inv.WorkspaceID && db.memberEmail(m.ID, m.Email) == inv.Email {
			return ports.Errorf(ports.ECONFLICT, "%s is already a member of this workspace", inv.Email)
		}
	}
	for _, o := range db.invitations {
		if o.ID == inv.ID || string(o.CodeHash) == string(inv.CodeHash) {
			return ports.Errorf(ports.ECONFLICT, "an invitation with this code already exists")
		}
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	c := copyInvitation(inv)
	c.CreatedAt, c.ExpiresAt = normTime(inv.CreatedAt), normTime(inv.ExpiresAt)
	db.invitations[c.ID] = c
	db.appendEvents(events)
	return nil
}

// Invitations lists the workspace's invitations unexpired at now, newest first.
func (s *InvitationStore) Invitations(ctx context.Context, workspaceID string, now time.Time) ([]ports.Invitation, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	out := []ports.Invitation{}
	for _, inv := range db.invitations {
		if inv.WorkspaceID == workspaceID && inv.ExpiresAt.After(now) {
			out = append(out, *copyInvitation(inv))
		}
	}
	slices.SortFunc(out, func(a, b ports.Invitation) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), strings.Compare(b.ID, a.ID))
	})
	return out, nil
}

// Invitation returns one invitation; ENOTFOUND if it is not in the workspace.
func (s *InvitationStore) Invitation(ctx context.Context, workspaceID, id string) (*ports.Invitation, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	inv, ok := db.invitations[id]
	if !ok || inv.WorkspaceID != workspaceID {
		return nil, ports.Errorf(ports.ENOTFOUND, "Invitation %s not found", id)
	}
	return copyInvitation(inv), nil
}

// InvitationByHash finds the invitation whose code hashes to hash; ENOTFOUND if none.
func (s *InvitationStore) InvitationByHash(ctx context.Context, hash []byte) (*ports.Invitation, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, inv := range db.invitations {
		if string(inv.CodeHash) == string(hash) {
			return copyInvitation(inv), nil
		}
	}
	return nil, ports.Errorf(ports.ENOTFOUND, "Invitation not found")
}

// DeleteInvitation removes the invitation and records ev together; ENOTFOUND if it is not in the
// workspace.
func (s *InvitationStore) DeleteInvitation(ctx context.Context, workspaceID, id string, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	inv, ok := db.invitations[id]
	if !ok || inv.WorkspaceID != workspaceID {
		return ports.Errorf(ports.ENOTFOUND, "Invitation %s not found", id)
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	delete(db.invitations, id)
	db.appendEvents(events)
	return nil
}

// AcceptInvitation consumes the invitation and stores m and ev together; see ports.InvitationStore.
func (s *InvitationStore) AcceptInvitation(ctx context.Context, invitationID string, m *ports.Member, now time.Time, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	inv, ok := db.invitations[invitationID]
	if !ok || inv.WorkspaceID != m.WorkspaceID || !inv.ExpiresAt.After(now) {
		return ports.Errorf(ports.ENOTFOUND, "this invitation was already used, revoked or has expired")
	}
	for _, o := range db.members {
		if o.WorkspaceID == m.WorkspaceID && o.AccountID == m.AccountID {
			return ports.Errorf(ports.ECONFLICT, "you are already a member of this workspace")
		}
	}
	if db.members[m.ID] != nil {
		return ports.Errorf(ports.ECONFLICT, "Member %s already exists", m.ID)
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	c := *m
	c.CreatedAt = normTime(m.CreatedAt)
	delete(db.invitations, invitationID)
	db.members[c.ID] = &c
	db.appendEvents(events)
	return nil
}
