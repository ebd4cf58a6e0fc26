package contract

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
	"github.com/tooken/tooken/sdk"
)

// invite invites email with role into ws over the API and returns the invitation with its link.
func invite(t *testing.T, ws workspace, email, role string) *sdk.InvitationWithURL {
	t.Helper()
	res, err := ws.Owner.CreateInvitationWithResponse(t.Context(), sdk.CreateInvitationRequest{Email: email, Role: sdk.Role(role)})
	want(t, res, err, http.StatusCreated)
	return res.JSON201
}

// join invites email with role into ws, accepts the invitation as a new account (as the dashboard
// does) and returns the member and a client acting with a personal API key of the member.
func (e *env) join(t *testing.T, ws workspace, email, role string) (*ports.Member, *sdk.ClientWithResponses) {
	t.Helper()
	ctx := t.Context()
	inv := invite(t, ws, email, role)
	acc := &ports.Account{ID: "acc_" + strings.ReplaceAll(email, "@", "_"), Email: email, CreatedAt: e.Clock.Now()}
	if err := e.Main.Stores().Accounts.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	_, m, err := e.Main.Service.AcceptInvitation(ctx, acc, inv.Url[strings.LastIndex(inv.Url, "/")+1:])
	if err != nil {
		t.Fatalf("accepting the invitation of %s: %v", email, err)
	}
	self := &core.Principal{WorkspaceID: m.WorkspaceID, Kind: core.KindUser, ID: acc.ID, Email: acc.Email,
		MemberID: m.ID, Role: ports.RoleOwner}
	_, secret, err := e.Main.Service.CreateAPIKey(ctx, self, core.CreateAPIKeyInput{Name: "mine", Kind: ports.APIKeyPersonal})
	if err != nil {
		t.Fatal(err)
	}
	return m, e.client(t, secret)
}

// ownerMember returns the member id of ws's bootstrap owner.
func ownerMember(t *testing.T, ws workspace) string {
	t.Helper()
	res, err := ws.Owner.ListMembersWithResponse(t.Context(), nil)
	want(t, res, err, http.StatusOK)
	for _, m := range res.JSON200.Data {
		if m.Email == ws.Email {
			return m.Id
		}
	}
	t.Fatalf("members = %+v, want %s among them", res.JSON200.Data, ws.Email)
	return ""
}

func TestInvitedMemberJoinsChangesRoleAndIsRemovedWithTheirKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	now := e.Clock.Freeze()

	inv := invite(t, ws, "Bob@Example.com", "admin")
	if !strings.HasPrefix(inv.Id, "inv_") || inv.Email != "bob@example.com" || inv.Role != "admin" || inv.InvitedBy != ws.Email {
		t.Errorf("invitation = %+v", inv)
	}
	if !strings.HasPrefix(inv.Url, e.URL+"/invitations/") || len(inv.Url) < len(e.URL+"/invitations/")+32 {
		t.Errorf("url = %q, want %s/invitations/<code>", inv.Url, e.URL)
	}
	if !inv.CreatedAt.Equal(now) || !inv.ExpiresAt.Equal(now.Add(7*24*time.Hour)) {
		t.Errorf("created_at, expires_at = %s, %s; want %s and 7 days later", inv.CreatedAt, inv.ExpiresAt, now)
	}
	pending, err := ws.Owner.ListInvitationsWithResponse(ctx)
	want(t, pending, err, http.StatusOK)
	if len(pending.JSON200.Data) != 1 || pending.JSON200.Data[0].Id != inv.Id {
		t.Errorf("pending = %+v, want the invitation", pending.JSON200.Data)
	}
	code := inv.Url[strings.LastIndex(inv.Url, "/")+1:]
	if strings.Contains(string(pending.Body), code) || strings.Contains(string(pending.Body), `"url"`) {
		t.Errorf("the list shows the link: %s", pending.Body)
	}
	acc := &ports.Account{ID: "acc_bob00000000000000000000", Email: "bob@example.com", CreatedAt: now}
	if err := e.Main.Stores().Accounts.CreateAccount(ctx, acc); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.Main.Service.AcceptInvitation(ctx, acc, code); err != nil {
		t.Fatal(err)
	}
	pending, err = ws.Owner.ListInvitationsWithResponse(ctx)
	want(t, pending, err, http.StatusOK)
	if len(pending.JSON200.Data) != 0 {
		t.Errorf("pending after acceptance = %+v, want none", pending.JSON200.Data)
	}
	e.Clock.Advance(time.Second) // members are listed by when they joined
	carol, carolKey := e.join(t, ws, "carol@example.com", "admin")

	page1, err := ws.Owner.ListMembersWithResponse(ctx, &sdk.ListMembersParams{PerPage: ptr(2)})
	want(t, page1, err, http.StatusOK)
	got := page1.JSON200
	if got.Meta != (sdk.ListMeta{Page: 1, PerPage: 2, Total: 3}) || len(got.Data) != 2 || got.Data[0].Email != ws.Email ||
		got.Data[0].Role != "owner" || got.Data[1].Email != "bob@example.com" || got.Data[1].Role != "admin" {
		t.Errorf("first page = %+v, want the owner then bob, of 3", got)
	}
	if link := page1.HTTPResponse.Header.Get("Link"); link != `</v1/members?page=2&per_page=2>; rel="next"` {
		t.Errorf("Link = %q", link)
	}
	page2, err := carolKey.ListMembersWithResponse(ctx, &sdk.ListMembersParams{Page: ptr(2), PerPage: ptr(2)})
	want(t, page2, err, http.StatusOK)
	if len(page2.JSON200.Data) != 1 || page2.JSON200.Data[0].Id != carol.ID {
		t.Errorf("second page = %+v, want carol", page2.JSON200.Data)
	}

	upd, err := ws.Owner.UpdateMemberWithResponse(ctx, carol.ID, sdk.UpdateMemberRequest{Role: "viewer"})
	want(t, upd, err, http.StatusOK)
	if upd.JSON200.Id != carol.ID || upd.JSON200.Role != "viewer" || upd.JSON200.Email != "carol@example.com" {
		t.Errorf("updated = %+v", upd.JSON200)
	}
	// Carol's personal key acts as a viewer at once: it may no longer mint.
	mintRes, err := carolKey.CreateTokenWithResponse(ctx, sdk.CreateTokenRequest{Name: "after-demotion", Scopes: []string{"tokens:read"}})
	want(t, mintRes, err, http.StatusForbidden)

	del, err := ws.Owner.RemoveMemberWithResponse(ctx, carol.ID)
	want(t, del, err, http.StatusNoContent)
	gone, err := carolKey.ListMembersWithResponse(ctx, nil)
	want(t, gone, err, http.StatusUnauthorized)
	again, err := ws.Owner.RemoveMemberWithResponse(ctx, carol.ID)
	want(t, again, err, http.StatusNotFound)

	dave := invite(t, ws, "dave@example.com", "viewer")
	rev, err := ws.Owner.RevokeInvitationWithResponse(ctx, dave.Id)
	want(t, rev, err, http.StatusNoContent)
	_, _, err = e.Main.Service.AcceptInvitation(ctx, &ports.Account{ID: "acc_dave", Email: "dave@example.com"},
		dave.Url[strings.LastIndex(dave.Url, "/")+1:])
	if ports.ErrorCode(err) != ports.ENOTFOUND {
		t.Errorf("accepting a revoked invitation: %v, want ENOTFOUND", err)
	}
	revAgain, err := ws.Owner.RevokeInvitationWithResponse(ctx, dave.Id)
	want(t, revAgain, err, http.StatusNotFound)

	audit, err := ws.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{PerPage: ptr(100)})
	want(t, audit, err, http.StatusOK)
	var actions []string
	for _, ev := range audit.JSON200.Data {
		actions = append(actions, ev.Action)
	}
	for _, a := range []string{"member.invited", "member.joined", "member.role_changed", "member.removed", "invitation.revoked"} {
		if !slices.Contains(actions, a) {
			t.Errorf("audit actions %v lack %s", actions, a)
		}
	}
	if strings.Contains(string(audit.Body), code) {
		t.Error("the audit log holds an invitation code")
	}
}

func TestLastOwnerCannotBeDemotedOrRemovedWith409(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	owner := ownerMember(t, ws)
	demote, err := ws.Owner.UpdateMemberWithResponse(ctx, owner, sdk.UpdateMemberRequest{Role: "admin"})
	want(t, demote, err, http.StatusConflict)
	remove, err := ws.Owner.RemoveMemberWithResponse(ctx, owner)
	want(t, remove, err, http.StatusConflict)
	keep, err := ws.Owner.UpdateMemberWithResponse(ctx, owner, sdk.UpdateMemberRequest{Role: "owner"})
	want(t, keep, err, http.StatusOK)

	// With a second owner, the first may step down.
	bob, _ := e.join(t, ws, "bob@example.com", "owner")
	demote, err = ws.Owner.UpdateMemberWithResponse(ctx, owner, sdk.UpdateMemberRequest{Role: "admin"})
	want(t, demote, err, http.StatusOK)
	removeBob, err := ws.Owner.RemoveMemberWithResponse(ctx, bob.ID)
	want(t, removeBob, err, http.StatusConflict)
}

func TestInvitingAMemberIsConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	e.join(t, ws, "bob@example.com", "viewer")
	for _, email := range []string{ws.Email, "BOB@example.com"} {
		res, err := ws.Owner.CreateInvitationWithResponse(t.Context(), sdk.CreateInvitationRequest{Email: email, Role: "admin"})
		want(t, res, err, http.StatusConflict)
	}
}

func TestMembersAndInvitationsOfAnotherWorkspaceAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	acme, globex := e.bootstrap(t, "Acme"), e.bootstrap(t, "Globex")
	ctx := t.Context()
	theirOwner := ownerMember(t, globex)
	theirInv := invite(t, globex, "eve@example.com", "viewer")
	for _, id := range []string{theirOwner, anyMemberID, "nope"} {
		upd, err := acme.Owner.UpdateMemberWithResponse(ctx, id, sdk.UpdateMemberRequest{Role: "viewer"})
		want(t, upd, err, http.StatusNotFound)
		del, err := acme.Owner.RemoveMemberWithResponse(ctx, id)
		want(t, del, err, http.StatusNotFound)
	}
	for _, id := range []string{theirInv.Id, anyInvitationID} {
		rev, err := acme.Owner.RevokeInvitationWithResponse(ctx, id)
		want(t, rev, err, http.StatusNotFound)
	}
	pending, err := globex.Owner.ListInvitationsWithResponse(ctx)
	want(t, pending, err, http.StatusOK)
	if len(pending.JSON200.Data) != 1 {
		t.Errorf("globex invitations = %+v, want theirs untouched", pending.JSON200.Data)
	}
	if got := ownerMember(t, globex); got != theirOwner {
		t.Errorf("globex owner = %s", got)
	}
}

// Only owners manage members and invitations; tokens may not even list members, whatever their
// scopes, and other members may only list them.
func TestTokensAdminsAndViewersCannotManageMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	owner := ownerMember(t, ws)
	inv := invite(t, ws, "pending@example.com", "viewer")
	_, admin := e.join(t, ws, "ada@example.com", "admin")
	_, viewer := e.join(t, ws, "vic@example.com", "viewer")
	allScopes := mint(t, ws.Owner, "mighty", "tokens:read", "tokens:write", "tokens:revoke", "tokens:rotate",
		"audit:read", "webhooks:read", "webhooks:write")
	writes := []operation{}
	for _, op := range authenticatedOperations("", "", "") {
		switch op.id {
		case "updateMember", "removeMember", "listInvitations", "createInvitation", "revokeInvitation":
			writes = append(writes, op)
		}
	}
	writes = append(writes,
		operation{"updateMember", func(ctx context.Context, c *sdk.ClientWithResponses) (*http.Response, error) {
			return c.UpdateMember(ctx, owner, sdk.UpdateMemberRequest{Role: "viewer"})
		}},
		operation{"removeMember", func(ctx context.Context, c *sdk.ClientWithResponses) (*http.Response, error) {
			return c.RemoveMember(ctx, owner)
		}},
		operation{"revokeInvitation", func(ctx context.Context, c *sdk.ClientWithResponses) (*http.Response, error) {
			return c.RevokeInvitation(ctx, inv.Id)
		}},
	)
	for name, c := range map[string]*sdk.ClientWithResponses{
		"token with every scope": e.client(t, allScopes.Token), "admin": admin, "viewer": viewer,
	} {
		t.Run(name, func(t *testing.T) {
			for _, op := range writes {
				resp, err := op.call(ctx, c)
				wantHTTP(t, resp, err, http.StatusForbidden)
			}
			res, err := c.ListMembersWithResponse(ctx, nil)
			if name == "token with every scope" {
				want(t, res, err, http.StatusForbidden)
			} else {
				want(t, res, err, http.StatusOK)
			}
		})
	}
	res, err := ws.Owner.ListMembersWithResponse(ctx, nil)
	want(t, res, err, http.StatusOK)
	if res.JSON200.Meta.Total != 3 || res.JSON200.Data[0].Role != "owner" {
		t.Errorf("a refused call changed the members: %+v", res.JSON200.Data)
	}
	pending, err := ws.Owner.ListInvitationsWithResponse(ctx)
	want(t, pending, err, http.StatusOK)
	if len(pending.JSON200.Data) != 1 || pending.JSON200.Data[0].Id != inv.Id {
		t.Errorf("a refused call changed the invitations: %+v", pending.JSON200.Data)
	}
}

func TestMemberRequestsRejectInvalidInputWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	owner := ownerMember(t, ws)
	for name, tc := range map[string]struct{ body, detail string }{
		"unknown role":      {`{"role": "god"}`, "role"},
		"missing role":      {`{}`, "role"},
		"null role":         {`{"role": null}`, "role"},
		"an unknown field":  {`{"role": "owner", "name": "x"}`, "name"},
		"malformed JSON":    {`{"role": "owner"`, ""},
		"wrong type":        {`{"role": 3}`, ""},
		"a list, no object": {`["owner"]`, ""},
	} {
		t.Run("PATCH member with "+name, func(t *testing.T) {
			res, err := ws.Owner.UpdateMemberWithBodyWithResponse(invalidRequest(t.Context()), owner, "application/json", strings.NewReader(tc.body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	for name, tc := range map[string]struct{ body, detail string }{
		"a bad email":     {`{"email": "not-an-email", "role": "admin"}`, "email"},
		"no email":        {`{"role": "admin"}`, "email"},
		"an unknown role": {`{"email": "a@example.com", "role": "god"}`, "role"},
		"malformed JSON":  {`{"email": `, ""},
	} {
		t.Run("POST invitation with "+name, func(t *testing.T) {
			res, err := ws.Owner.CreateInvitationWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(tc.body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	for name, p := range map[string]sdk.ListMembersParams{
		"page 0": {Page: ptr(0)}, "per_page 101": {PerPage: ptr(101)}, "per_page 0": {PerPage: ptr(0)},
	} {
		t.Run("GET members with "+name, func(t *testing.T) {
			res, err := ws.Owner.ListMembersWithResponse(invalidRequest(t.Context()), &p)
			want(t, res, err, http.StatusBadRequest)
		})
	}
}
