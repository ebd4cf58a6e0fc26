package core_test

import (
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// joinAs invites email with role into owner's workspace, accepts it as a new account and returns
// a user principal of the new member.
func (e *env) joinAs(owner *core.Principal, email string, role ports.Role) (*core.Principal, *ports.Member) {
	e.t.Helper()
	_, url, err := e.svc.CreateInvitation(e.ctx, owner, core.CreateInvitationInput{Email: email, Role: role})
	if err != nil {
		e.t.Fatal(err)
	}
	acc := &ports.Account{ID: "acc_" + strings.Repeat("x", 20) + email[:4], Email: email, CreatedAt: epoch}
	if err := e.stores.Accounts.CreateAccount(e.ctx, acc); err != nil {
		e.t.Fatal(err)
	}
	_, m, err := e.svc.AcceptInvitation(e.ctx, acc, url[strings.LastIndex(url, "/")+1:])
	if err != nil {
		e.t.Fatal(err)
	}
	return &core.Principal{WorkspaceID: m.WorkspaceID, Kind: core.KindUser, ID: acc.ID, Email: acc.Email,
		MemberID: m.ID, Role: m.Role}, m
}

func TestPersonalKeyFollowsRoleChangeAndDiesWithMember(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	user, m := e.joinAs(owner, "bob1@acme.test", ports.RoleAdmin)
	_, secret, err := e.svc.CreateAPIKey(e.ctx, &core.Principal{WorkspaceID: user.WorkspaceID, Kind: core.KindUser,
		ID: user.ID, Email: user.Email, MemberID: m.ID, Role: ports.RoleOwner}, core.CreateAPIKeyInput{Name: "mine", Kind: ports.APIKeyPersonal})
	if err != nil {
		t.Fatal(err)
	}
	if got := e.auth(secret).Role; got != ports.RoleAdmin {
		t.Fatalf("personal key role = %q, want admin", got)
	}
	if _, err := e.svc.UpdateMemberRole(e.ctx, owner, m.ID, ports.RoleViewer); err != nil {
		t.Fatal(err)
	}
	if got := e.auth(secret).Role; got != ports.RoleViewer {
		t.Fatalf("personal key role after demotion = %q, want viewer at once", got)
	}
	if err := e.svc.RemoveMember(e.ctx, owner, m.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(e.ctx, secret)
	wantErr(t, err, ports.ErrMissingCredential)
	if got := e.auth(e.ownerSecret(owner)).Kind; got != core.KindAPIKey {
		t.Fatalf("team key kind = %q", got)
	}
}

// ownerSecret creates a fresh team owner key in p's workspace and returns its secret.
func (e *env) ownerSecret(p *core.Principal) string {
	_, s, err := e.svc.CreateAPIKey(e.ctx, p, core.CreateAPIKeyInput{Name: "team", Kind: ports.APIKeyTeam, Role: ports.RoleOwner})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func TestLastOwnerIsKeptAndTokensAreRefused(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	_, err := e.svc.UpdateMemberRole(e.ctx, owner, owner.MemberID, ports.RoleAdmin)
	wantCode(t, err, ports.ECONFLICT)
	wantCode(t, e.svc.RemoveMember(e.ctx, owner, owner.MemberID), ports.ECONFLICT)
	tok := e.auth(e.token(owner, "t", core.ScopeTokensRead).Value)
	_, _, err = e.svc.ListMembers(e.ctx, tok, ports.Page{})
	wantCode(t, err, ports.EFORBIDDEN)
	_, _, err = e.svc.CreateInvitation(e.ctx, tok, core.CreateInvitationInput{Email: "a@b.test", Role: ports.RoleViewer})
	wantCode(t, err, ports.EFORBIDDEN)
	viewer, _ := e.joinAs(owner, "vera@acme.test", ports.RoleViewer)
	list, total, err := e.svc.ListMembers(e.ctx, viewer, ports.Page{})
	if err != nil || total != 2 || len(list) != 2 {
		t.Fatalf("viewer ListMembers = %d of %d, %v; want 2 of 2", len(list), total, err)
	}
	wantCode(t, e.svc.RemoveMember(e.ctx, viewer, owner.MemberID), ports.EFORBIDDEN)
}

func TestInvitationRules(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	_, _, err := e.svc.CreateInvitation(e.ctx, owner, core.CreateInvitationInput{Email: "OWNER@acme.test", Role: ports.RoleAdmin})
	wantCode(t, err, ports.ECONFLICT)
	inv, url, err := e.svc.CreateInvitation(e.ctx, owner, core.CreateInvitationInput{Email: "Carol@acme.test", Role: ports.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "https://tooken.test/invitations/") || !inv.ExpiresAt.Equal(epoch.Add(7*24*time.Hour)) {
		t.Fatalf("url %q expires %v", url, inv.ExpiresAt)
	}
	code := url[strings.LastIndex(url, "/")+1:]
	mallory := &ports.Account{ID: "acc_mallory", Email: "mallory@acme.test"}
	_, _, err = e.svc.AcceptInvitation(e.ctx, mallory, code)
	wantCode(t, err, ports.EFORBIDDEN)
	carol := &ports.Account{ID: "acc_carol", Email: "carol@acme.test"}
	if err := e.stores.Accounts.CreateAccount(e.ctx, carol); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(7 * 24 * time.Hour)
	_, _, err = e.svc.AcceptInvitation(e.ctx, carol, code)
	wantCode(t, err, ports.EUNPROCESSABLE)
	e.clock.Advance(-time.Hour)
	ws, m, err := e.svc.AcceptInvitation(e.ctx, carol, code)
	if err != nil || ws.ID != owner.WorkspaceID || m.Role != ports.RoleAdmin {
		t.Fatalf("accept = %v, %v, %v", ws, m, err)
	}
	_, _, err = e.svc.AcceptInvitation(e.ctx, carol, code)
	wantCode(t, err, ports.ENOTFOUND)
	aw, err := e.svc.AccountWorkspaces(e.ctx, carol.ID)
	if err != nil || len(aw) != 1 || aw[0].Member.Role != ports.RoleAdmin {
		t.Fatalf("AccountWorkspaces = %+v, %v", aw, err)
	}
	inv2, _, _ := e.svc.CreateInvitation(e.ctx, owner, core.CreateInvitationInput{Email: "dan@acme.test", Role: ports.RoleViewer})
	if err := e.svc.RevokeInvitation(e.ctx, owner, inv2.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, e.svc.RevokeInvitation(e.ctx, owner, inv2.ID), ports.ENOTFOUND)
}

// TestSignInIsRecordedInEachWorkspaceOfTheAccount signs in an account that belongs to two of three
// workspaces and checks that each of its two workspaces, and only those, record auth.signed_in.
func TestSignInIsRecordedInEachWorkspaceOfTheAccount(t *testing.T) {
	e := newEnv(t)
	const email, password = "carol@example.test", "correct horse battery staple"
	acc, err := e.svc.SignUp(e.ctx, email, password)
	if err != nil {
		t.Fatal(err)
	}
	owners := []*core.Principal{e.workspace("one"), e.workspace("two"), e.workspace("other")}
	for _, owner := range owners[:2] {
		_, url, err := e.svc.CreateInvitation(e.ctx, owner, core.CreateInvitationInput{Email: email, Role: ports.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.AcceptInvitation(e.ctx, acc, url[strings.LastIndex(url, "/")+1:]); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.svc.SignIn(e.ctx, email, password); err != nil {
		t.Fatal(err)
	}
	for i, owner := range owners {
		list, _, total, err := e.svc.ListAuditEvents(e.ctx, owner, core.ListAuditInput{Action: "auth.signed_in"})
		if err != nil {
			t.Fatal(err)
		}
		want := 1
		if i == 2 {
			want = 0
		}
		if total != want {
			t.Errorf("workspace %d: %d auth.signed_in events, want %d", i, total, want)
		}
		for _, ev := range list {
			if ev.Actor.ID != acc.ID || ev.Actor.Type != core.KindUser {
				t.Errorf("workspace %d: auth.signed_in by %+v, want the account %s", i, ev.Actor, acc.ID)
			}
		}
	}
}
