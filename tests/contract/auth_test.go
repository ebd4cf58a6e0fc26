package contract

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/sdk"
)

func TestEveryAuthenticatedOperationRejectsABadCredentialWith401(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	live := mint(t, ws.Owner, "live", "tokens:read")
	spare := createKey(t, ws.Owner, sdk.CreateAPIKeyRequest{Name: "spare", Kind: "team"})

	revoked := mint(t, ws.Owner, "revoked", "tokens:read", "tokens:write")
	rev, err := ws.Owner.RevokeTokenWithResponse(ctx, revoked.Id)
	want(t, rev, err, http.StatusNoContent)
	rotated := mint(t, ws.Owner, "rotated", "tokens:read")
	rot, err := ws.Owner.RotateTokenWithResponse(ctx, rotated.Id, sdk.RotateTokenRequest{})
	want(t, rot, err, http.StatusOK)
	expiring := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "expiring", Scopes: []string{"tokens:read"},
		ExpiresAt: rfc3339(e.Clock.Now().Add(time.Minute))})
	deleted := createKey(t, ws.Owner, sdk.CreateAPIKeyRequest{Name: "deleted", Kind: "team", Role: ptr(sdk.CreateAPIKeyRequestRole("owner"))})
	del, err := ws.Owner.DeleteAPIKeyWithResponse(ctx, deleted.Id)
	want(t, del, err, http.StatusNoContent)
	regenerated := createKey(t, ws.Owner, sdk.CreateAPIKeyRequest{Name: "regenerated", Kind: "team", Role: ptr(sdk.CreateAPIKeyRequestRole("owner"))})
	reg, err := ws.Owner.RegenerateAPIKeyWithResponse(ctx, regenerated.Id)
	want(t, reg, err, http.StatusOK)
	e.Clock.Advance(2 * time.Minute)

	header := func(v string) sdk.ClientOption {
		return sdk.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", v)
			return nil
		})
	}
	credentials := []struct {
		name       string
		credential string
		opts       []sdk.ClientOption
	}{
		{name: "no Authorization header"},
		{name: "Basic scheme", opts: []sdk.ClientOption{header("Basic dXNlcjpwYXNzd29yZA==")}},
		{name: "empty bearer", opts: []sdk.ClientOption{header("Bearer ")}},
		{name: "garbage bearer", credential: "garbage"},
		{name: "API key with a bad checksum", credential: badChecksum(ws.Key)},
		{name: "unknown API key", credential: core.NewAPIKeySecret()},
		{name: "deleted API key", credential: deleted.Key},
		{name: "regenerated API key's old secret", credential: regenerated.Key},
		{name: "forged JWT", credential: "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0b2tfeCJ9.c2lnbmF0dXJl"},
		{name: "tampered token", credential: live.Token[:len(live.Token)-6] + "AAAAAA"},
		{name: "revoked token", credential: revoked.Token},
		{name: "rotated-out token value", credential: rotated.Token},
		{name: "expired token", credential: expiring.Token},
	}
	ops := authenticatedOperations(live.Id, spare.Id, activeKey(t, ws).Kid)
	requireOperationsFor(t, ops, http.StatusUnauthorized)
	for _, cred := range credentials {
		t.Run(cred.name, func(t *testing.T) {
			c := e.client(t, cred.credential, cred.opts...)
			for _, op := range ops {
				resp, err := op.call(ctx, c)
				got := wantHTTP(t, resp, err, http.StatusUnauthorized)
				if strings.Contains(got.Message, cred.credential) && cred.credential != "" {
					t.Errorf("%s: the 401 message echoes the credential: %q", op.id, got.Message)
				}
			}
		})
	}
	// Nothing was changed by the refused calls.
	res, err := ws.Owner.GetTokenWithResponse(ctx, live.Id)
	want(t, res, err, http.StatusOK)
	if res.JSON200.Status != "active" || res.JSON200.RotatedAt != nil {
		t.Errorf("a refused call changed the token: %+v", res.JSON200)
	}
}

// badChecksum returns the API key with its last (checksum) character changed.
func badChecksum(key string) string {
	last := key[len(key)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return key[:len(key)-1] + string(repl)
}

func TestTokenLackingAScopeIsForbiddenWithTheScopeInTheChallenge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	target := mint(t, ws.Owner, "target", "tokens:read")
	weak := e.client(t, mint(t, ws.Owner, "weak", "webhooks:read").Token)

	create, err := weak.CreateTokenWithResponse(ctx, sdk.CreateTokenRequest{Name: "sneaky", Scopes: []string{"webhooks:read"}})
	want(t, create, err, http.StatusForbidden)
	wantScopeChallenge(t, create.HTTPResponse.Header, "tokens:write")
	list, err := weak.ListTokensWithResponse(ctx, nil)
	want(t, list, err, http.StatusForbidden)
	wantScopeChallenge(t, list.HTTPResponse.Header, "tokens:read")
	get, err := weak.GetTokenWithResponse(ctx, target.Id)
	want(t, get, err, http.StatusForbidden)
	wantScopeChallenge(t, get.HTTPResponse.Header, "tokens:read")
	rev, err := weak.RevokeTokenWithResponse(ctx, target.Id)
	want(t, rev, err, http.StatusForbidden)
	wantScopeChallenge(t, rev.HTTPResponse.Header, "tokens:revoke")
	rot, err := weak.RotateTokenWithResponse(ctx, target.Id, sdk.RotateTokenRequest{})
	want(t, rot, err, http.StatusForbidden)
	wantScopeChallenge(t, rot.HTTPResponse.Header, "tokens:rotate")
	audit, err := weak.ListAuditLogsWithResponse(ctx, nil)
	want(t, audit, err, http.StatusForbidden)
	wantScopeChallenge(t, audit.HTTPResponse.Header, "audit:read")

	// Any credential of the workspace may read it.
	w, err := weak.GetWorkspaceWithResponse(ctx)
	want(t, w, err, http.StatusOK)
	if w.JSON200.Id != ws.ID {
		t.Errorf("workspace = %s, want %s", w.JSON200.Id, ws.ID)
	}
}

func TestTokenMayRotateItselfWithoutTheRotateScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	self := mint(t, ws.Owner, "self", "tokens:read")
	res, err := e.client(t, self.Token).RotateTokenWithResponse(t.Context(), self.Id, sdk.RotateTokenRequest{})
	want(t, res, err, http.StatusOK)
	wantVerdict(t, verify(t, e, res.JSON200.Token), "VALID", self.Id)
}

func TestTokensAndAdminKeysCannotManageAPIKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	spare := createKey(t, ws.Owner, sdk.CreateAPIKeyRequest{Name: "spare", Kind: "team"})
	admin := createKey(t, ws.Owner, sdk.CreateAPIKeyRequest{Name: "admin", Kind: "team", Role: ptr(sdk.CreateAPIKeyRequestRole("admin"))})
	allScopes := mint(t, ws.Owner, "mighty", "tokens:read", "tokens:write", "tokens:revoke", "tokens:rotate",
		"audit:read", "webhooks:read", "webhooks:write")
	for name, cred := range map[string]string{"token with every scope": allScopes.Token, "admin team key": admin.Key} {
		t.Run(name, func(t *testing.T) {
			c := e.client(t, cred)
			list, err := c.ListAPIKeysWithResponse(ctx)
			want(t, list, err, http.StatusForbidden)
			create, err := c.CreateAPIKeyWithResponse(ctx, sdk.CreateAPIKeyRequest{Name: "escalate", Kind: "team", Role: ptr(sdk.CreateAPIKeyRequestRole("owner"))})
			want(t, create, err, http.StatusForbidden)
			reg, err := c.RegenerateAPIKeyWithResponse(ctx, spare.Id)
			want(t, reg, err, http.StatusForbidden)
			del, err := c.DeleteAPIKeyWithResponse(ctx, spare.Id)
			want(t, del, err, http.StatusForbidden)
		})
	}
	// The admin key still manages tokens.
	mint(t, e.client(t, admin.Key), "by-admin", "tokens:read")
	// And the spare key survived.
	res, err := e.client(t, spare.Key).GetWorkspaceWithResponse(ctx)
	want(t, res, err, http.StatusOK)
}

func TestTokenCannotMintBeyondItsOwnGrant(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	exp := e.Clock.Now().Add(time.Hour)
	minter := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "minter", Scopes: []string{"tokens:write", "tokens:read"},
		ExpiresAt: rfc3339(exp)})
	c := e.client(t, minter.Token)
	for name, req := range map[string]sdk.CreateTokenRequest{
		"a scope it lacks":        {Name: "a", Scopes: []string{"audit:read"}, ExpiresAt: rfc3339(exp)},
		"no expiry":               {Name: "b", Scopes: []string{"tokens:read"}},
		"a later expiry":          {Name: "c", Scopes: []string{"tokens:read"}, ExpiresAt: rfc3339(exp.Add(time.Hour))},
		"an audience it lacks":    {Name: "d", Scopes: []string{"tokens:read"}, ExpiresAt: rfc3339(exp), Audience: &[]string{"elsewhere"}},
		"more scopes than it has": {Name: "e", Scopes: []string{"tokens:read", "tokens:revoke"}, ExpiresAt: rfc3339(exp)},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := c.CreateTokenWithResponse(ctx, req)
			want(t, res, err, http.StatusForbidden)
		})
	}
	child := mintReq(t, c, sdk.CreateTokenRequest{Name: "child", Scopes: []string{"tokens:read"}, ExpiresAt: rfc3339(exp.Add(-time.Minute))})
	if child.CreatedBy != ws.Email || !slices.Equal(child.Audience, minter.Audience) {
		t.Errorf("child created_by = %q, audience = %v; want %q and the minter's %v", child.CreatedBy, child.Audience, ws.Email, minter.Audience)
	}
}
