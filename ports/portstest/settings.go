package portstest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

func testWorkspaceSettings(t *testing.T, newStores Factory) {
	run(t, newStores, "UpdateWorkspaceStoresTheSettings", testUpdateWorkspace)
	run(t, newStores, "UpdateWorkspaceRejectsTakenSlug", testUpdateWorkspaceSlugConflict)
	run(t, newStores, "UpdateUnknownWorkspaceIsNotFound", testUpdateWorkspaceNotFound)
	run(t, newStores, "WorkspaceIDsWalksEveryWorkspaceInOrder", testWorkspaceIDs)
	run(t, newStores, "SetCustomScopesReplacesTheScopes", testCustomScopes)
	run(t, newStores, "CustomScopesAreScopedToTheirWorkspace", testCustomScopesIsolation)
	run(t, newStores, "SetCustomScopesOfUnknownWorkspaceIsNotFound", testCustomScopesNotFound)
}

func (e *env) wantWorkspace(want *ports.Workspace, what string) {
	e.t.Helper()
	got, err := e.s.Workspaces.Workspace(e.ctx, want.ID)
	e.must(err, "Workspace")
	workspaceDiff(got, want).report(e.t, what)
}

func (e *env) workspaceEvent(ws *ports.Workspace, action string) *ports.AuditEvent {
	return e.event(ws.ID, action, ports.Target{Type: "workspace", ID: ws.ID, Name: ws.Name}, e.at(time.Hour))
}

func testUpdateWorkspace(e *env) {
	tn := e.newTenant()
	upd := cloneWorkspace(tn.WS)
	upd.Name, upd.Slug, upd.Timezone, upd.SigningAlgorithm = "Renamed", "renamed-"+tn.WS.ID[3:], "Asia/Tokyo", ports.AlgEdDSA
	// Only the four settings are stored; the rest of the record is ignored.
	upd.DefaultAudience, upd.CreatedAt = "https://elsewhere.test", e.at(time.Hour)
	ev := e.workspaceEvent(upd, "workspace.updated")
	e.must(e.s.Workspaces.UpdateWorkspace(e.ctx, cloneWorkspace(upd), cloneEvent(ev)), "UpdateWorkspace")
	want := cloneWorkspace(tn.WS)
	want.Name, want.Slug, want.Timezone, want.SigningAlgorithm = upd.Name, upd.Slug, upd.Timezone, upd.SigningAlgorithm
	e.wantWorkspace(want, "Workspace after UpdateWorkspace")
	e.wantRecorded(ev)

	// Keeping its own slug is no conflict, and the old slug is free again.
	want.Name = "Renamed again"
	e.must(e.s.Workspaces.UpdateWorkspace(e.ctx, cloneWorkspace(want), nil), "UpdateWorkspace(same slug)")
	e.wantWorkspace(want, "Workspace after a second UpdateWorkspace")
	other := e.newTenant()
	other.WS.Slug = tn.WS.Slug
	e.must(e.s.Workspaces.UpdateWorkspace(e.ctx, cloneWorkspace(other.WS), nil), "UpdateWorkspace(freed slug)")
	e.wantWorkspace(other.WS, "Workspace that took the freed slug")
}

func testUpdateWorkspaceSlugConflict(e *env) {
	a, b := e.newTenant(), e.newTenant()
	upd := cloneWorkspace(b.WS)
	upd.Name, upd.Slug = "Thief", a.WS.Slug
	ev := e.workspaceEvent(upd, "workspace.updated")
	e.wantCode(e.s.Workspaces.UpdateWorkspace(e.ctx, cloneWorkspace(upd), cloneEvent(ev)), ports.ECONFLICT,
		"UpdateWorkspace with another workspace's slug")
	e.wantNotRecorded(ev.ID, a.WS.ID, b.WS.ID)
	e.wantWorkspace(a.WS, "Workspace holding the slug")
	e.wantWorkspace(b.WS, "Workspace after a rejected update")
}

func testUpdateWorkspaceNotFound(e *env) {
	ws := e.tenantRecord(e.newAccount()).WS
	ev := e.workspaceEvent(ws, "workspace.updated")
	e.wantCode(e.s.Workspaces.UpdateWorkspace(e.ctx, cloneWorkspace(ws), cloneEvent(ev)), ports.ENOTFOUND,
		"UpdateWorkspace(unknown)")
	_, err := e.s.Workspaces.Workspace(e.ctx, ws.ID)
	e.wantCode(err, ports.ENOTFOUND, "Workspace after updating an unknown one")
	e.wantNotRecorded(ev.ID, ws.ID)
}

func testWorkspaceIDs(e *env) {
	var mine []string
	for range 5 {
		mine = append(mine, e.newTenant().WS.ID)
	}
	slices.Sort(mine)
	// Walk every workspace (the stores may be shared with other tests) in pages of 3.
	var all []string
	after := ""
	for {
		ids, err := e.s.Workspaces.WorkspaceIDs(e.ctx, after, 3)
		e.must(err, "WorkspaceIDs")
		if len(ids) > 3 {
			e.t.Fatalf("WorkspaceIDs(limit 3) returned %d ids", len(ids))
		}
		for _, id := range ids {
			if id <= after {
				e.t.Fatalf("WorkspaceIDs(after %q) returned %q: not ascending after the cursor", after, id)
			}
			after = id
		}
		all = append(all, ids...)
		if len(ids) < 3 {
			break
		}
	}
	for _, id := range mine {
		if !slices.Contains(all, id) {
			e.t.Errorf("walking WorkspaceIDs missed %s", id)
		}
	}
	ids, err := e.s.Workspaces.WorkspaceIDs(e.ctx, mine[1], 2)
	e.must(err, "WorkspaceIDs")
	if len(ids) != 2 || ids[0] <= mine[1] || ids[0] > mine[2] || ids[1] <= ids[0] {
		e.t.Errorf("WorkspaceIDs(after %s, 2) = %v, want the next ids", mine[1], ids)
	}
	ids, err = e.s.Workspaces.WorkspaceIDs(e.ctx, all[len(all)-1], 10)
	e.must(err, "WorkspaceIDs")
	if len(ids) != 0 {
		e.t.Errorf("WorkspaceIDs after the last id = %v, want none", ids)
	}
}

func (e *env) wantScopes(wsID string, want []ports.Scope, what string) {
	e.t.Helper()
	got, err := e.s.Workspaces.CustomScopes(e.ctx, wsID)
	e.must(err, "CustomScopes")
	if len(got) != len(want) || (len(want) > 0 && !slices.Equal(got, want)) {
		e.t.Errorf("%s: CustomScopes = %+v, want %+v", what, got, want)
	}
}

func testCustomScopes(e *env) {
	tn := e.newTenant()
	e.wantScopes(tn.WS.ID, nil, "new workspace")
	first := []ports.Scope{{Name: "orders:write", Description: "Create orders"}, {Name: "billing:read"},
		{Name: "orders:read", Description: "Read orders — all of them"}}
	ev := e.workspaceEvent(tn.WS, "workspace.scopes_updated")
	e.must(e.s.Workspaces.SetCustomScopes(e.ctx, tn.WS.ID, slices.Clone(first), cloneEvent(ev)), "SetCustomScopes")
	e.wantRecorded(ev)
	byName := slices.Clone(first)
	slices.SortFunc(byName, func(a, b ports.Scope) int { return strings.Compare(a.Name, b.Name) })
	e.wantScopes(tn.WS.ID, byName, "after SetCustomScopes")

	second := []ports.Scope{{Name: "orders:read", Description: "Read orders"}, {Name: "stock:read"}}
	e.must(e.s.Workspaces.SetCustomScopes(e.ctx, tn.WS.ID, slices.Clone(second), nil), "SetCustomScopes(replace)")
	e.wantScopes(tn.WS.ID, second, "after replacing the scopes")

	e.must(e.s.Workspaces.SetCustomScopes(e.ctx, tn.WS.ID, nil, nil), "SetCustomScopes(none)")
	e.wantScopes(tn.WS.ID, nil, "after clearing the scopes")
}

func testCustomScopesIsolation(e *env) {
	a, b := e.newTenant(), e.newTenant()
	scopes := []ports.Scope{{Name: "shared:read", Description: "A's"}}
	e.must(e.s.Workspaces.SetCustomScopes(e.ctx, a.WS.ID, slices.Clone(scopes), nil), "SetCustomScopes(A)")
	e.wantScopes(b.WS.ID, nil, "B after A set its scopes")
	other := []ports.Scope{{Name: "shared:read", Description: "B's"}, {Name: "b:only"}}
	e.must(e.s.Workspaces.SetCustomScopes(e.ctx, b.WS.ID, slices.Clone(other), nil), "SetCustomScopes(B)")
	e.wantScopes(a.WS.ID, scopes, "A after B set its scopes")
	e.wantScopes(b.WS.ID, []ports.Scope{other[1], other[0]}, "B")
}

func testCustomScopesNotFound(e *env) {
	id := newID("ws_")
	ev := e.event(id, "workspace.scopes_updated", ports.Target{Type: "workspace", ID: id}, e.at(0))
	err := e.s.Workspaces.SetCustomScopes(e.ctx, id, []ports.Scope{{Name: "x:y"}}, cloneEvent(ev))
	e.wantCode(err, ports.ENOTFOUND, "SetCustomScopes(unknown workspace)")
	e.wantNotRecorded(ev.ID, id)
	e.wantScopes(id, nil, "unknown workspace")
}
