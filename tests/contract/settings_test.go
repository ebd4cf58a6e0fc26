package contract

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/tooken/tooken/sdk"
)

func TestUpdateWorkspaceChangesOnlyTheGivenFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	before, err := ws.Owner.GetWorkspaceWithResponse(ctx)
	want(t, before, err, http.StatusOK)

	res, err := ws.Owner.UpdateWorkspaceWithResponse(ctx, sdk.UpdateWorkspaceRequest{Name: ptr("Acme Corp"), Timezone: ptr("Europe/Paris")})
	want(t, res, err, http.StatusOK)
	w := *res.JSON200
	if w.Name != "Acme Corp" || w.Timezone != "Europe/Paris" || w.Slug != before.JSON200.Slug || w.SigningAlgorithm != "ES256" ||
		w.Id != ws.ID || w.Issuer != before.JSON200.Issuer {
		t.Errorf("updated = %+v, want the name and timezone changed and the rest as before %+v", w, before.JSON200)
	}
	res, err = ws.Owner.UpdateWorkspaceWithResponse(ctx, sdk.UpdateWorkspaceRequest{Slug: ptr("acme-2")})
	want(t, res, err, http.StatusOK)
	got, err := ws.Owner.GetWorkspaceWithResponse(ctx)
	want(t, got, err, http.StatusOK)
	if g := got.JSON200; g.Slug != "acme-2" || g.Name != "Acme Corp" || g.Timezone != "Europe/Paris" {
		t.Errorf("workspace = %+v, want both updates kept", g)
	}
	// An empty patch changes nothing; re-sending the current slug is no conflict.
	res, err = ws.Owner.UpdateWorkspaceWithResponse(ctx, sdk.UpdateWorkspaceRequest{})
	want(t, res, err, http.StatusOK)
	res, err = ws.Owner.UpdateWorkspaceWithResponse(ctx, sdk.UpdateWorkspaceRequest{Slug: ptr("acme-2")})
	want(t, res, err, http.StatusOK)

	audit, err := ws.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Action: ptr("workspace.updated")})
	want(t, audit, err, http.StatusOK)
	if audit.JSON200.Meta.Total < 2 {
		t.Errorf("workspace.updated events = %d, want one per change", audit.JSON200.Meta.Total)
	}
}

func TestUpdateWorkspaceRejectsInvalidSettingsWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	for name, tc := range map[string]struct{ body, detail string }{
		"slug with capitals":      {`{"slug": "Acme"}`, "slug"},
		"slug with a space":       {`{"slug": "acme corp"}`, "slug"},
		"slug with a lead hyphen": {`{"slug": "-acme"}`, "slug"},
		"slug with a end hyphen":  {`{"slug": "acme-"}`, "slug"},
		"empty slug":              {`{"slug": ""}`, "slug"},
		"slug of 41 characters":   {`{"slug": "` + strings.Repeat("a", 41) + `"}`, "slug"},
		"unknown timezone":        {`{"timezone": "Mars/Olympus_Mons"}`, "timezone"},
		"timezone Local":          {`{"timezone": "Local"}`, "timezone"},
		"empty timezone":          {`{"timezone": ""}`, "timezone"},
		"algorithm HS256":         {`{"signing_algorithm": "HS256"}`, "signing_algorithm"},
		"algorithm lowercase":     {`{"signing_algorithm": "es256"}`, "signing_algorithm"},
		"empty name":              {`{"name": ""}`, "name"},
		"name of 101 characters":  {`{"name": "` + strings.Repeat("n", 101) + `"}`, "name"},
		"wrong types":             {`{"name": 5}`, ""},
		"malformed JSON":          {`{"name": "x"`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ws.Owner.UpdateWorkspaceWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(tc.body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	res, err := ws.Owner.GetWorkspaceWithResponse(t.Context())
	want(t, res, err, http.StatusOK)
	if w := res.JSON200; w.Name != "Acme" || w.Slug != "acme" || w.Timezone != "UTC" || w.SigningAlgorithm != "ES256" {
		t.Errorf("a refused update changed the workspace: %+v", w)
	}
}

func TestUpdateWorkspaceToASlugTakenConflictsWith409(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	acme, globex := e.bootstrap(t, "Acme"), e.bootstrap(t, "Globex")
	res, err := acme.Owner.UpdateWorkspaceWithResponse(t.Context(), sdk.UpdateWorkspaceRequest{Slug: ptr("globex"), Name: ptr("Renamed")})
	want(t, res, err, http.StatusConflict)
	got, err := acme.Owner.GetWorkspaceWithResponse(t.Context())
	want(t, got, err, http.StatusOK)
	if got.JSON200.Slug != "acme" || got.JSON200.Name != "Acme" {
		t.Errorf("the refused update changed the workspace: %+v", got.JSON200)
	}
	theirs, err := globex.Owner.GetWorkspaceWithResponse(t.Context())
	want(t, theirs, err, http.StatusOK)
	if theirs.JSON200.Slug != "globex" {
		t.Errorf("the other workspace's slug = %q", theirs.JSON200.Slug)
	}
}

func TestCustomScopesCanBeSetListedAndGivenToTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	builtin := []string{"tokens:read", "tokens:write", "tokens:revoke", "tokens:rotate", "audit:read", "webhooks:read", "webhooks:write"}
	initial, err := ws.Owner.GetScopesWithResponse(ctx)
	want(t, initial, err, http.StatusOK)
	if !sameSet(initial.JSON200.Builtin, builtin) || len(initial.JSON200.Custom) != 0 {
		t.Errorf("scopes = %+v, want the built-in ones and no custom ones", initial.JSON200)
	}

	custom := []sdk.CustomScope{{Name: "orders:read", Description: ptr("Read orders")}, {Name: "billing-v2:invoices.write"}}
	set, err := ws.Owner.SetScopesWithResponse(ctx, sdk.SetScopesRequest{Custom: custom})
	want(t, set, err, http.StatusOK)
	// Any credential of the workspace may read them.
	reader := e.client(t, mint(t, ws.Owner, "reader", "webhooks:read").Token)
	got, err := reader.GetScopesWithResponse(ctx)
	want(t, got, err, http.StatusOK)
	for _, s := range []*sdk.ScopeSet{set.JSON200, got.JSON200} {
		if !sameSet(s.Builtin, builtin) || !sameSet(scopeNames(s.Custom), []string{"orders:read", "billing-v2:invoices.write"}) {
			t.Errorf("scopes = %+v, want the built-in ones and both custom ones", s)
		}
		if i := slices.IndexFunc(s.Custom, func(c sdk.CustomScope) bool { return c.Name == "orders:read" }); i < 0 || s.Custom[i].Description == nil || *s.Custom[i].Description != "Read orders" {
			t.Errorf("custom scopes = %+v, want orders:read with its description", s.Custom)
		}
	}

	tok := mint(t, ws.Owner, "orders", "orders:read", "tokens:read")
	if !slices.Contains(tok.Scopes, "orders:read") {
		t.Errorf("token scopes = %v, want orders:read", tok.Scopes)
	}
	wantVerdict(t, verify(t, e, tok.Token, "orders:read"), "VALID", tok.Id)
	wantVerdict(t, verify(t, e, tok.Token, "orders:write"), "INSUFFICIENT_SCOPE", tok.Id)
	bad, err := ws.Owner.CreateTokenWithResponse(ctx, sdk.CreateTokenRequest{Name: "unknown", Scopes: []string{"orders:write"}})
	wantDetail(t, want(t, bad, err, http.StatusBadRequest), "scopes")

	// Removing a scope: tokens keep it, new tokens cannot get it.
	cleared, err := ws.Owner.SetScopesWithResponse(ctx, sdk.SetScopesRequest{Custom: []sdk.CustomScope{}})
	want(t, cleared, err, http.StatusOK)
	if len(cleared.JSON200.Custom) != 0 {
		t.Errorf("custom scopes after clearing = %+v", cleared.JSON200.Custom)
	}
	wantVerdict(t, verify(t, e, tok.Token, "orders:read"), "VALID", tok.Id)
	gone, err := ws.Owner.CreateTokenWithResponse(ctx, sdk.CreateTokenRequest{Name: "late", Scopes: []string{"orders:read"}})
	wantDetail(t, want(t, gone, err, http.StatusBadRequest), "scopes")

	// Custom scopes are per workspace.
	other := e.bootstrap(t, "Globex")
	theirs, err := other.Owner.CreateTokenWithResponse(ctx, sdk.CreateTokenRequest{Name: "x", Scopes: []string{"orders:read"}})
	want(t, theirs, err, http.StatusBadRequest)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func scopeNames(custom []sdk.CustomScope) []string {
	var out []string
	for _, c := range custom {
		out = append(out, c.Name)
	}
	return out
}

func TestSetScopesRejectsBadCustomScopesWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	scope := func(names ...string) string {
		var items []string
		for _, n := range names {
			items = append(items, `{"name": "`+n+`", "description": "d"}`)
		}
		return `{"custom": [` + strings.Join(items, ", ") + `]}`
	}
	many := make([]string, 101)
	for i := range many {
		many[i] = "svc:s" + strconv.Itoa(i)
	}
	for name, tc := range map[string]struct{ body, detail string }{
		"no colon":             {scope("orders"), "scopes"},
		"capitals":             {scope("Orders:read"), "scopes"},
		"empty action":         {scope("orders:"), "scopes"},
		"empty resource":       {scope(":read"), "scopes"},
		"leading digit":        {scope("1orders:read"), "scopes"},
		"a space":              {scope("orders: read"), "scopes"},
		"two colons":           {scope("orders:read:all"), "scopes"},
		"empty name":           {scope(""), "scopes"},
		"a built-in name":      {scope("orders:read", "tokens:read"), "scopes"},
		"listed twice":         {scope("orders:read", "orders:write", "orders:read"), "scopes"},
		"description over 200": {`{"custom": [{"name": "orders:read", "description": "` + strings.Repeat("d", 201) + `"}]}`, ""},
		"101 scopes":           {scope(many...), ""},
		"malformed JSON":       {`{"custom": [`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ws.Owner.SetScopesWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(tc.body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	res, err := ws.Owner.GetScopesWithResponse(t.Context())
	want(t, res, err, http.StatusOK)
	if len(res.JSON200.Custom) != 0 {
		t.Errorf("a refused request set custom scopes: %+v", res.JSON200.Custom)
	}
}

// The spec requires `custom` and each scope's `description`; the server must not read a body without
// them as "no custom scopes" or "empty description" — `{}` or a misspelt key would silently wipe
// every custom scope of the workspace.
func TestSetScopesRejectsABodyMissingRequiredFieldsWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	kept := []sdk.CustomScope{{Name: "orders:read", Description: ptr("Read orders")}}
	set, err := ws.Owner.SetScopesWithResponse(t.Context(), sdk.SetScopesRequest{Custom: kept})
	want(t, set, err, http.StatusOK)
	for name, body := range map[string]string{
		"empty object": `{}`,
		"custom null":  `{"custom": null}`,
		"misspelt key": `{"scopes": [{"name": "orders:write", "description": "d"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ws.Owner.SetScopesWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(body))
			want(t, res, err, http.StatusBadRequest)
		})
	}
	res, err := ws.Owner.GetScopesWithResponse(t.Context())
	want(t, res, err, http.StatusOK)
	if len(res.JSON200.Custom) != 1 || res.JSON200.Custom[0].Name != "orders:read" {
		t.Errorf("custom scopes after the refused requests = %+v, want %+v unchanged", res.JSON200.Custom, kept)
	}
}
