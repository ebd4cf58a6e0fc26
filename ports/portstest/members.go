package portstest

import (
	"testing"

	"github.com/tooken/tooken/ports"
)

// TestMemberStore runs the contract of ports.MemberStore and ports.InvitationStore.
func TestMemberStore(t *testing.T, newStores Factory) {
	run(t, newStores, "InvitationAcceptedOnceAddsMember", testInvitationAccepted)
	run(t, newStores, "InvitingAMemberConflicts", testInviteMemberConflict)
	run(t, newStores, "ExpiredInvitationCannotBeAccepted", testInvitationExpired)
	run(t, newStores, "LastOwnerCannotBeDemotedOrRemoved", testLastOwner)
	run(t, newStores, "RemovingMemberDeletesPersonalKeysOnly", testRemoveMemberKeys)
	run(t, newStores, "ConcurrentDemotionsKeepAnOwner", testConcurrentDemotions)
}

// invite stores a fresh invitation of email into tn's workspace with role.
func (e *env) invite(tn *tenant, email string, role ports.Role) *ports.Invitation {
	inv := &ports.Invitation{ID: newID("inv_"), WorkspaceID: tn.WS.ID, Email: email, Role: role,
		CodeHash: []byte(newID("hash")), InvitedBy: tn.Account.Email, CreatedAt: e.at(0), ExpiresAt: e.at(7 * 24 * 3600e9)}
	e.must(e.s.Invitations.CreateInvitation(e.ctx, inv, e.event(tn.WS.ID, "member.invited", ports.Target{ID: inv.ID}, e.at(0))), "CreateInvitation")
	return inv
}

// join makes a new account a member of tn's workspace with role, through an invitation.
func (e *env) join(tn *tenant, role ports.Role) *ports.Member {
	acc := e.newAccount()
	inv := e.invite(tn, acc.Email, role)
	m := &ports.Member{ID: newID("mem_"), WorkspaceID: tn.WS.ID, AccountID: acc.ID, Email: acc.Email, Role: role, CreatedAt: e.at(1e9)}
	e.must(e.s.Invitations.AcceptInvitation(e.ctx, inv.ID, m, e.at(1e9), e.event(tn.WS.ID, "member.joined", ports.Target{ID: m.ID}, e.at(1e9))), "AcceptInvitation")
	return m
}

func testInvitationAccepted(e *env) {
	tn := e.newTenant()
	acc := e.newAccount()
	inv := e.invite(tn, acc.Email, ports.RoleAdmin)
	got, err := e.s.Invitations.InvitationByHash(e.ctx, inv.CodeHash)
	e.must(err, "InvitationByHash")
	if got.ID != inv.ID || got.Role != ports.RoleAdmin || !got.ExpiresAt.Equal(inv.ExpiresAt) {
		e.t.Errorf("InvitationByHash = %+v, want %+v", got, inv)
	}
	list, err := e.s.Invitations.Invitations(e.ctx, tn.WS.ID, e.at(0))
	e.must(err, "Invitations")
	if len(list) != 1 || list[0].ID != inv.ID {
		e.t.Errorf("Invitations = %+v, want just %s", list, inv.ID)
	}
	m := &ports.Member{ID: newID("mem_"), WorkspaceID: tn.WS.ID, AccountID: acc.ID, Role: ports.RoleAdmin, CreatedAt: e.at(1e9)}
	e.must(e.s.Invitations.AcceptInvitation(e.ctx, inv.ID, m, e.at(1e9), nil), "AcceptInvitation")
	again := &ports.Member{ID: newID("mem_"), WorkspaceID: tn.WS.ID, AccountID: acc.ID, Role: ports.RoleAdmin, CreatedAt: e.at(1e9)}
	e.wantCode(e.s.Invitations.AcceptInvitation(e.ctx, inv.ID, again, e.at(1e9), nil), ports.ENOTFOUND, "AcceptInvitation twice")
	members, total, err := e.s.Members.Members(e.ctx, tn.WS.ID, ports.Page{Page: 1, PerPage: 10})
	e.must(err, "Members")
	if total != 2 || len(members) != 2 || members[1].ID != m.ID || members[1].Email != acc.Email {
		e.t.Errorf("Members = %+v (total %d), want the owner then %s", members, total, m.ID)
	}
	ws, err := e.s.Members.AccountWorkspaces(e.ctx, acc.ID)
	e.must(err, "AccountWorkspaces")
	if len(ws) != 1 || ws[0].Workspace.ID != tn.WS.ID || ws[0].Member.Role != ports.RoleAdmin {
		e.t.Errorf("AccountWorkspaces = %+v, want %s as admin", ws, tn.WS.ID)
	}
}

func testInviteMemberConflict(e *env) {
	tn := e.newTenant()
	inv := &ports.Invitation{ID: newID("inv_"), WorkspaceID: tn.WS.ID, Email: tn.Account.Email, Role: ports.RoleViewer,
		CodeHash: []byte(newID("hash")), CreatedAt: e.at(0), ExpiresAt: e.at(3600e9)}
	e.wantCode(e.s.Invitations.CreateInvitation(e.ctx, inv, nil), ports.ECONFLICT, "CreateInvitation for a member")
}

func testInvitationExpired(e *env) {
	tn := e.newTenant()
	acc := e.newAccount()
	inv := e.invite(tn, acc.Email, ports.RoleViewer)
	late := inv.ExpiresAt
	m := &ports.Member{ID: newID("mem_"), WorkspaceID: tn.WS.ID, AccountID: acc.ID, Role: ports.RoleViewer, CreatedAt: late}
	e.wantCode(e.s.Invitations.AcceptInvitation(e.ctx, inv.ID, m, late, nil), ports.ENOTFOUND, "AcceptInvitation expired")
	list, err := e.s.Invitations.Invitations(e.ctx, tn.WS.ID, late)
	e.must(err, "Invitations")
	if len(list) != 0 {
		e.t.Errorf("Invitations at expiry = %+v, want none", list)
	}
	e.must(e.s.Invitations.DeleteInvitation(e.ctx, tn.WS.ID, inv.ID, nil), "DeleteInvitation")
	e.wantCode(e.s.Invitations.DeleteInvitation(e.ctx, tn.WS.ID, inv.ID, nil), ports.ENOTFOUND, "DeleteInvitation twice")
}

func testLastOwner(e *env) {
	tn := e.newTenant()
	_, err := e.s.Members.UpdateMemberRole(e.ctx, tn.WS.ID, tn.Owner.ID, ports.RoleAdmin, nil)
	e.wantCode(err, ports.ECONFLICT, "demote the last owner")
	e.wantCode(e.s.Members.RemoveMember(e.ctx, tn.WS.ID, tn.Owner.ID, nil), ports.ECONFLICT, "remove the last owner")
	other := e.join(tn, ports.RoleViewer)
	_, err = e.s.Members.UpdateMemberRole(e.ctx, tn.WS.ID, other.ID, ports.RoleOwner, nil)
	e.must(err, "promote")
	m, err := e.s.Members.UpdateMemberRole(e.ctx, tn.WS.ID, tn.Owner.ID, ports.RoleViewer, nil)
	e.must(err, "demote one of two owners")
	if m.Role != ports.RoleViewer {
		e.t.Errorf("UpdateMemberRole returned role %q, want viewer", m.Role)
	}
	e.wantCode(e.s.Members.RemoveMember(e.ctx, tn.WS.ID, other.ID, nil), ports.ECONFLICT, "remove the new last owner")
	e.wantCode(e.s.Members.RemoveMember(e.ctx, e.newTenant().WS.ID, other.ID, nil), ports.ENOTFOUND, "remove across workspaces")
}

func testRemoveMemberKeys(e *env) {
	tn := e.newTenant()
	m := e.join(tn, ports.RoleAdmin)
	personal := &ports.APIKey{ID: newID("key_"), WorkspaceID: tn.WS.ID, Name: "p", Kind: ports.APIKeyPersonal,
		MemberID: m.ID, SecretHash: []byte(newID("h")), Last4: "abcd", CreatedAt: e.at(0)}
	team := &ports.APIKey{ID: newID("key_"), WorkspaceID: tn.WS.ID, Name: "t", Kind: ports.APIKeyTeam, Role: ports.RoleAdmin,
		MemberID: m.ID, SecretHash: []byte(newID("h")), Last4: "abcd", CreatedAt: e.at(0)}
	e.must(e.s.APIKeys.CreateAPIKey(e.ctx, personal, nil), "CreateAPIKey personal")
	e.must(e.s.APIKeys.CreateAPIKey(e.ctx, team, nil), "CreateAPIKey team")
	e.must(e.s.Members.RemoveMember(e.ctx, tn.WS.ID, m.ID, e.event(tn.WS.ID, "member.removed", ports.Target{ID: m.ID}, e.at(2e9))), "RemoveMember")
	_, err := e.s.APIKeys.APIKeyByHash(e.ctx, personal.SecretHash)
	e.wantCode(err, ports.ENOTFOUND, "personal key of a removed member")
	_, err = e.s.APIKeys.APIKeyByHash(e.ctx, team.SecretHash)
	e.must(err, "team key created by a removed member")
	_, err = e.s.Workspaces.Member(e.ctx, tn.WS.ID, m.ID)
	e.wantCode(err, ports.ENOTFOUND, "removed member")
}

// testConcurrentDemotions has owners demote each other from 20 goroutines at once: whatever wins,
// the workspace keeps an owner.
func testConcurrentDemotions(e *env) {
	tn := e.newTenant()
	second := e.join(tn, ports.RoleOwner)
	ids := []string{tn.Owner.ID, second.ID}
	errs := make([]error, 20)
	fns := make([]func(), 20)
	for i := range fns {
		fns[i] = func() {
			if i%4 == 3 {
				errs[i] = e.s.Members.RemoveMember(e.ctx, tn.WS.ID, ids[i%2], nil)
				return
			}
			_, errs[i] = e.s.Members.UpdateMemberRole(e.ctx, tn.WS.ID, ids[i%2], ports.RoleViewer, nil)
		}
	}
	race(fns)
	wins := 0
	for i, err := range errs {
		if err == nil {
			wins++
		} else if ports.ErrorCode(err) != ports.ECONFLICT && ports.ErrorCode(err) != ports.ENOTFOUND {
			e.t.Errorf("goroutine %d: %v, want nil, ECONFLICT or ENOTFOUND", i, err)
		}
	}
	members, _, err := e.s.Members.Members(e.ctx, tn.WS.ID, ports.Page{Page: 1, PerPage: 10})
	e.must(err, "Members")
	owners := 0
	for _, m := range members {
		if m.Role == ports.RoleOwner {
			owners++
		}
	}
	if owners != 1 || wins == 0 {
		e.t.Errorf("after the race: %d owners and %d successful changes, want exactly 1 owner and some success", owners, wins)
	}
}
