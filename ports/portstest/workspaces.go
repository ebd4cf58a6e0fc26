package portstest

import (
	"testing"

	"github.com/tooken/tooken/ports"
)

// TestWorkspaceStore checks a ports.WorkspaceStore: a workspace is created with its owner, signing key
// and audit event in one call, slugs are unique (and a rejected workspace leaves nothing behind),
// members are read with their account's email, and members are scoped to their workspace; settings
// updates (the expiration policy and audit retention included), the walk over every workspace id and
// custom scopes.
func TestWorkspaceStore(t *testing.T, newStores Factory) {
	run(t, newStores, "CreateWorkspaceRoundTripsWorkspace", testWorkspaceRoundTrip)
	run(t, newStores, "CreateWorkspaceStoresOwnerWithAccountEmail", testWorkspaceOwner)
	run(t, newStores, "CreateWorkspaceStoresSigningKey", testWorkspaceSigningKey)
	run(t, newStores, "CreateWorkspaceRecordsAuditEvent", testWorkspaceEvent)
	run(t, newStores, "CreateWorkspaceRejectsTakenSlugAndStoresNothing", testWorkspaceSlugConflict)
	run(t, newStores, "AccountCanOwnSeveralWorkspaces", testAccountOwnsSeveralWorkspaces)
	run(t, newStores, "UnknownWorkspaceIsNotFound", testWorkspaceNotFound)
	run(t, newStores, "UnknownMemberIsNotFound", testMemberNotFound)
	run(t, newStores, "MembersAreScopedToTheirWorkspace", testMemberIsolation)
	testWorkspaceSettings(t, newStores)
	testWorkspacePolicy(t, newStores)
}

func testWorkspaceRoundTrip(e *env) {
	tn := e.newTenant()
	got, err := e.s.Workspaces.Workspace(e.ctx, tn.WS.ID)
	e.must(err, "Workspace")
	workspaceDiff(got, tn.WS).report(e.t, "Workspace")
}

func testWorkspaceOwner(e *env) {
	tn := e.newTenant()
	got, err := e.s.Workspaces.Member(e.ctx, tn.WS.ID, tn.Owner.ID)
	e.must(err, "Member")
	memberDiff(got, tn.Owner).report(e.t, "Member")
	got, err = e.s.Workspaces.MemberByAccount(e.ctx, tn.WS.ID, tn.Account.ID)
	e.must(err, "MemberByAccount")
	memberDiff(got, tn.Owner).report(e.t, "MemberByAccount")
}

func testWorkspaceSigningKey(e *env) {
	tn := e.newTenant()
	keys, err := e.s.SigningKeys.SigningKeys(e.ctx, tn.WS.ID)
	e.must(err, "SigningKeys")
	if len(keys) != 1 {
		e.t.Fatalf("SigningKeys of a new workspace: %d keys, want the 1 given to CreateWorkspace", len(keys))
	}
	signingKeyDiff(&keys[0], tn.Key).report(e.t, "SigningKeys[0]")
}

func testWorkspaceEvent(e *env) {
	tn := e.newTenant()
	e.wantRecorded(tn.Event)
	if _, total := e.events(tn.WS.ID, ports.AuditFilter{}); total != 1 {
		e.t.Errorf("AuditEvents of a new workspace: total %d, want 1 (workspace.created)", total)
	}
}

func testWorkspaceSlugConflict(e *env) {
	first := e.newTenant()
	second := e.tenantRecord(e.newAccount())
	second.WS.Slug = first.WS.Slug
	err := e.s.Workspaces.CreateWorkspace(e.ctx, cloneWorkspace(second.WS), cloneMember(second.Owner),
		cloneSigningKey(second.Key), cloneEvent(second.Event))
	e.wantCode(err, ports.ECONFLICT, "CreateWorkspace with a taken slug")

	_, err = e.s.Workspaces.Workspace(e.ctx, second.WS.ID)
	e.wantCode(err, ports.ENOTFOUND, "Workspace of the rejected workspace")
	_, err = e.s.Workspaces.Member(e.ctx, second.WS.ID, second.Owner.ID)
	e.wantCode(err, ports.ENOTFOUND, "Member of the rejected workspace")
	_, err = e.s.Workspaces.MemberByAccount(e.ctx, second.WS.ID, second.Account.ID)
	e.wantCode(err, ports.ENOTFOUND, "MemberByAccount of the rejected workspace")
	keys, err := e.s.SigningKeys.SigningKeys(e.ctx, second.WS.ID)
	e.must(err, "SigningKeys")
	if len(keys) != 0 {
		e.t.Errorf("SigningKeys of the rejected workspace: %d keys, want 0", len(keys))
	}
	e.wantNotRecorded(second.Event.ID, second.WS.ID, first.WS.ID)

	got, err := e.s.Workspaces.Workspace(e.ctx, first.WS.ID)
	e.must(err, "Workspace")
	workspaceDiff(got, first.WS).report(e.t, "Workspace holding the slug")
}

func testAccountOwnsSeveralWorkspaces(e *env) {
	acc := e.newAccount()
	a, b := e.newTenantOf(acc), e.newTenantOf(acc)
	for _, tn := range []*tenant{a, b} {
		got, err := e.s.Workspaces.MemberByAccount(e.ctx, tn.WS.ID, acc.ID)
		e.must(err, "MemberByAccount")
		memberDiff(got, tn.Owner).report(e.t, "MemberByAccount in "+tn.WS.ID)
	}
}

func testWorkspaceNotFound(e *env) {
	_, err := e.s.Workspaces.Workspace(e.ctx, newID("ws_"))
	e.wantCode(err, ports.ENOTFOUND, "Workspace(unknown)")
}

func testMemberNotFound(e *env) {
	tn := e.newTenant()
	_, err := e.s.Workspaces.Member(e.ctx, tn.WS.ID, newID("mem_"))
	e.wantCode(err, ports.ENOTFOUND, "Member(unknown id)")
	_, err = e.s.Workspaces.MemberByAccount(e.ctx, tn.WS.ID, newID("acc_"))
	e.wantCode(err, ports.ENOTFOUND, "MemberByAccount(unknown account)")
	other := e.newAccount()
	_, err = e.s.Workspaces.MemberByAccount(e.ctx, tn.WS.ID, other.ID)
	e.wantCode(err, ports.ENOTFOUND, "MemberByAccount(account that is not a member)")
}

func testMemberIsolation(e *env) {
	a, b := e.newTenant(), e.newTenant()
	_, err := e.s.Workspaces.Member(e.ctx, b.WS.ID, a.Owner.ID)
	e.wantCode(err, ports.ENOTFOUND, "Member(B, member of A)")
	_, err = e.s.Workspaces.MemberByAccount(e.ctx, b.WS.ID, a.Account.ID)
	e.wantCode(err, ports.ENOTFOUND, "MemberByAccount(B, account of A)")
	got, err := e.s.Workspaces.Member(e.ctx, a.WS.ID, a.Owner.ID)
	e.must(err, "Member(A, member of A)")
	memberDiff(got, a.Owner).report(e.t, "Member of A")
}
