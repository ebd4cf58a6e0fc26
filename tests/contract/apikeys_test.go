package contract

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tooken/tooken/sdk"
)

// createKey creates an API key and returns it with its secret.
func createKey(t *testing.T, c *sdk.ClientWithResponses, req sdk.CreateAPIKeyRequest) *sdk.APIKeyWithSecret {
	t.Helper()
	res, err := c.CreateAPIKeyWithResponse(t.Context(), req)
	want(t, res, err, http.StatusCreated)
	return res.JSON201
}

func TestAPIKeyLifecycleCreateListRegenerateDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()

	team := createKey(t, ws.Owner, sdk.CreateAPIKeyRequest{Name: "ci-deployer", Kind: "team"})
	if !strings.HasPrefix(team.Key, "tok_live_") || team.Last4 != team.Key[len(team.Key)-4:] || !strings.HasPrefix(team.Id, "key_") {
		t.Errorf("created key = %+v", team)
	}
	if team.Kind != "team" || team.Role == nil || *team.Role != "admin" || team.CreatedBy != ws.Email {
		t.Errorf("team key kind = %q, role = %v, created_by = %q; want team, admin (the default), %s", team.Kind, team.Role, team.CreatedBy, ws.Email)
	}
	personal := createKey(t, ws.Owner, sdk.CreateAPIKeyRequest{Name: "mine", Kind: "personal"})
	if personal.Kind != "personal" {
		t.Errorf("personal key kind = %q", personal.Kind)
	}

	list, err := ws.Owner.ListAPIKeysWithResponse(ctx)
	want(t, list, err, http.StatusOK)
	byID := map[string]sdk.APIKey{}
	for _, k := range list.JSON200.Data {
		byID[k.Id] = k
	}
	if len(list.JSON200.Data) != 3 || byID[team.Id].Name != "ci-deployer" || byID[personal.Id].Name != "mine" {
		t.Errorf("list = %+v, want the bootstrap key and both new keys", list.JSON200.Data)
	}
	if strings.Contains(string(list.Body), team.Key) || strings.Contains(string(list.Body), `"key"`) {
		t.Errorf("the list shows secrets: %s", list.Body)
	}

	reg, err := ws.Owner.RegenerateAPIKeyWithResponse(ctx, team.Id)
	want(t, reg, err, http.StatusOK)
	if reg.JSON200.Id != team.Id || reg.JSON200.Name != team.Name || reg.JSON200.Key == team.Key {
		t.Errorf("regenerated = %+v, want the same id and name with a new secret", reg.JSON200)
	}
	old, err := e.client(t, team.Key).GetWorkspaceWithResponse(ctx)
	want(t, old, err, http.StatusUnauthorized)
	fresh, err := e.client(t, reg.JSON200.Key).GetWorkspaceWithResponse(ctx)
	want(t, fresh, err, http.StatusOK)

	del, err := ws.Owner.DeleteAPIKeyWithResponse(ctx, team.Id)
	want(t, del, err, http.StatusNoContent)
	gone, err := e.client(t, reg.JSON200.Key).GetWorkspaceWithResponse(ctx)
	want(t, gone, err, http.StatusUnauthorized)
	again, err := ws.Owner.DeleteAPIKeyWithResponse(ctx, team.Id)
	want(t, again, err, http.StatusNotFound)
}

func TestCreateAPIKeyRejectsInvalidInputWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	for name, tc := range map[string]struct{ body, detail string }{
		"kind robot":                 {`{"name": "r2", "kind": "robot"}`, "kind"},
		"missing kind":               {`{"name": "r2"}`, "kind"},
		"name of 101 characters":     {`{"name": "` + strings.Repeat("k", 101) + `", "kind": "team"}`, "name"},
		"empty name":                 {`{"name": "", "kind": "team"}`, "name"},
		"role viewer for a team key": {`{"name": "v", "kind": "team", "role": "viewer"}`, "role"},
		"role on a personal key":     {`{"name": "p", "kind": "personal", "role": "admin"}`, "role"},
		"wrong types":                {`{"name": ["x"], "kind": 1}`, ""},
		"malformed JSON":             {`{"name": "x", "kind": "team"`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ws.Owner.CreateAPIKeyWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(tc.body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
}

func TestUnknownAPIKeyAndAPIKeyOfAnotherWorkspaceAreNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	acme, globex := e.bootstrap(t, "Acme"), e.bootstrap(t, "Globex")
	ctx := t.Context()
	theirs := createKey(t, globex.Owner, sdk.CreateAPIKeyRequest{Name: "theirs", Kind: "team"})
	for _, id := range []string{theirs.Id, "key_doesnotexist0000000000", "nope"} {
		reg, err := acme.Owner.RegenerateAPIKeyWithResponse(ctx, id)
		want(t, reg, err, http.StatusNotFound)
		del, err := acme.Owner.DeleteAPIKeyWithResponse(ctx, id)
		want(t, del, err, http.StatusNotFound)
	}
	res, err := e.client(t, theirs.Key).GetWorkspaceWithResponse(ctx)
	want(t, res, err, http.StatusOK)
	if res.JSON200.Id != globex.ID {
		t.Errorf("their key now acts in %s", res.JSON200.Id)
	}
}

func TestGetWorkspaceNamesTheIssuerOfThisServer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme Corp")
	res, err := ws.Owner.GetWorkspaceWithResponse(t.Context())
	want(t, res, err, http.StatusOK)
	w := res.JSON200
	if w.Id != ws.ID || w.Name != "Acme Corp" || w.Slug != "acme-corp" || w.Timezone != "UTC" || w.DefaultAudience != ws.ID {
		t.Errorf("workspace = %+v", w)
	}
	if want := e.URL + "/w/" + ws.ID; w.Issuer != want {
		t.Errorf("issuer = %q, want %q", w.Issuer, want)
	}
	if res.Headers200 == nil || res.Headers200.XRateLimitLimit == nil || *res.Headers200.XRateLimitLimit <= 0 {
		t.Errorf("rate-limit headers = %+v", res.Headers200)
	}
}
