package contract

import (
	"net/http"
	"slices"
	"testing"

	"github.com/tooken/tooken/sdk"
)

func TestEveryPermissionedOperationForbidsATokenWithoutTheScopeOrRoleWith403(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	target := mint(t, ws.Owner, "target", "tokens:read")
	spare := createKey(t, ws.Owner, sdk.CreateAPIKeyRequest{Name: "spare", Kind: "team"})
	kid := activeKey(t, ws).Kid
	weak := e.client(t, mint(t, ws.Owner, "weak", "webhooks:read").Token)
	// webhooks:read grants the webhook reads; a token with only audit:read lacks it.
	auditor := e.client(t, mint(t, ws.Owner, "auditor", "audit:read").Token)

	ops := permissionedOperations(target.Id, spare.Id, kid)
	requireOperationsFor(t, ops, http.StatusForbidden)
	for _, op := range ops {
		c := weak
		if slices.Contains(webhookReads, op.id) {
			c = auditor
		}
		resp, err := op.call(t.Context(), c)
		wantHTTP(t, resp, err, http.StatusForbidden)
	}
	// Nothing changed.
	if got := activeKey(t, ws).Kid; got != kid || len(signingKeys(t, ws)) != 1 {
		t.Errorf("a refused call changed the signing keys: %v", states(signingKeys(t, ws)))
	}
	res, err := ws.Owner.GetTokenWithResponse(t.Context(), target.Id)
	want(t, res, err, http.StatusOK)
	if res.JSON200.Status != "active" || res.JSON200.RotatedAt != nil {
		t.Errorf("a refused call changed the token: %+v", res.JSON200)
	}
}

// Workspace settings, custom scopes and signing keys are the owner's: neither an admin key nor a
// token holding every scope may change them (or, for signing keys, list them).
func TestTokensAndAdminKeysCannotManageWorkspaceSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	kid := activeKey(t, ws).Kid
	admin := createKey(t, ws.Owner, sdk.CreateAPIKeyRequest{Name: "admin", Kind: "team", Role: ptr(sdk.CreateAPIKeyRequestRole("admin"))})
	allScopes := mint(t, ws.Owner, "mighty", "tokens:read", "tokens:write", "tokens:revoke", "tokens:rotate",
		"audit:read", "webhooks:read", "webhooks:write")
	ownerOnly := []string{"updateWorkspace", "setScopes", "setPolicy", "listSigningKeys", "rotateSigningKey", "revokeSigningKey"}
	for name, cred := range map[string]string{"token with every scope": allScopes.Token, "admin team key": admin.Key} {
		t.Run(name, func(t *testing.T) {
			c := e.client(t, cred)
			for _, op := range authenticatedOperations("", "", kid) {
				if !slices.Contains(ownerOnly, op.id) {
					continue
				}
				resp, err := op.call(ctx, c)
				wantHTTP(t, resp, err, http.StatusForbidden)
			}
			// Both may still read the workspace and its scopes.
			w, err := c.GetWorkspaceWithResponse(ctx)
			want(t, w, err, http.StatusOK)
			s, err := c.GetScopesWithResponse(ctx)
			want(t, s, err, http.StatusOK)
			// And the policy, which neither may change.
			p, err := c.GetPolicyWithResponse(ctx)
			want(t, p, err, http.StatusOK)
		})
	}
	w, err := ws.Owner.GetWorkspaceWithResponse(ctx)
	want(t, w, err, http.StatusOK)
	if w.JSON200.Timezone != "UTC" || activeKey(t, ws).Kid != kid || len(signingKeys(t, ws)) != 1 {
		t.Errorf("a refused call changed the settings: %+v, keys %v", w.JSON200, states(signingKeys(t, ws)))
	}
	s, err := ws.Owner.GetScopesWithResponse(ctx)
	want(t, s, err, http.StatusOK)
	if len(s.JSON200.Custom) != 0 {
		t.Errorf("a refused call set custom scopes: %+v", s.JSON200.Custom)
	}
	p, err := ws.Owner.GetPolicyWithResponse(ctx)
	want(t, p, err, http.StatusOK)
	if p.JSON200.Policy != (sdk.Policy{}) {
		t.Errorf("a refused call set the policy: %+v", p.JSON200.Policy)
	}
}
