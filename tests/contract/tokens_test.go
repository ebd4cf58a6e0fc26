package contract

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/sdk"
)

func TestCreateTokenReturnsValueOnceAndTheRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	exp := e.Clock.Now().Add(24 * time.Hour).Truncate(time.Second)
	md := map[string]any{"team": "billing", "tier": float64(2)}
	tok := mintReq(t, ws.Owner, sdk.CreateTokenRequest{
		Name: "billing-service", Scopes: []string{"tokens:read", "tokens:read", "audit:read"},
		ExpiresAt: rfc3339(exp), Audience: &[]string{"payments"}, Metadata: &md,
	})
	if tok.Token == "" || strings.Count(tok.Token, ".") != 2 {
		t.Errorf("token value = %q, want a JWT", tok.Token)
	}
	if !strings.HasPrefix(tok.Id, "tok_") || tok.Name != "billing-service" || tok.Status != sdk.TokenStatus("active") {
		t.Errorf("token = %+v", tok)
	}
	if want := []string{"tokens:read", "audit:read"}; !reflect.DeepEqual(tok.Scopes, want) {
		t.Errorf("scopes = %v, want %v (de-duplicated, in order)", tok.Scopes, want)
	}
	if tok.ExpiresAt == nil || !tok.ExpiresAt.Equal(exp) {
		t.Errorf("expires_at = %v, want %v", tok.ExpiresAt, exp)
	}
	if !reflect.DeepEqual(tok.Audience, []string{"payments"}) || !reflect.DeepEqual(tok.Metadata, md) {
		t.Errorf("audience = %v, metadata = %v", tok.Audience, tok.Metadata)
	}
	if tok.CreatedBy != ws.Email || tok.RevokedAt != nil || tok.RotatedAt != nil || tok.LastUsedAt != nil {
		t.Errorf("created_by = %q, revoked_at = %v, rotated_at = %v, last_used_at = %v", tok.CreatedBy, tok.RevokedAt, tok.RotatedAt, tok.LastUsedAt)
	}

	res, err := ws.Owner.GetTokenWithResponse(ctx, tok.Id)
	want(t, res, err, http.StatusOK)
	if bytes.Contains(res.Body, []byte(tok.Token)) || bytes.Contains(res.Body, []byte(`"token"`)) {
		t.Errorf("GET /v1/tokens/{id} shows the token value: %s", res.Body)
	}
	if res.JSON200.Id != tok.Id || !reflect.DeepEqual(res.JSON200.Scopes, tok.Scopes) {
		t.Errorf("got %+v, want the created token", res.JSON200)
	}
}

func TestCreateTokenDefaultsAudienceToTheWorkspaceAndNeverExpires(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	tok := mint(t, ws.Owner, "plain", "tokens:read")
	res, err := ws.Owner.GetWorkspaceWithResponse(t.Context())
	want(t, res, err, http.StatusOK)
	if !reflect.DeepEqual(tok.Audience, []string{res.JSON200.DefaultAudience}) || tok.ExpiresAt != nil {
		t.Errorf("audience = %v, expires_at = %v; want [%s] and null", tok.Audience, tok.ExpiresAt, res.JSON200.DefaultAudience)
	}
}

func TestCreateTokenRejectsMalformedInputWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	huge := `{"name":"` + strings.Repeat("a", 1<<20) + `","scopes":["tokens:read"]}`
	audience := make([]string, 11)
	for i := range audience {
		audience[i] = "aud"
	}
	for _, tc := range []struct {
		name, body, detail string
	}{
		{"malformed JSON", `{"name": "x", "scopes": [`, ""},
		{"wrong types", `{"name": 5, "scopes": "tokens:read"}`, ""},
		{"name of 101 characters", jsonOf(t, sdk.CreateTokenRequest{Name: strings.Repeat("n", 101), Scopes: []string{"tokens:read"}}), "name"},
		{"missing name", `{"scopes": ["tokens:read"]}`, "name"},
		{"empty scopes", jsonOf(t, sdk.CreateTokenRequest{Name: "x", Scopes: []string{}}), "scopes"},
		{"unknown scope", jsonOf(t, sdk.CreateTokenRequest{Name: "x", Scopes: []string{"tokens:admin"}}), "scopes"},
		{"eleven audiences", jsonOf(t, sdk.CreateTokenRequest{Name: "x", Scopes: []string{"tokens:read"}, Audience: &audience}), "audience"},
		{"metadata over 4 KiB", jsonOf(t, sdk.CreateTokenRequest{Name: "x", Scopes: []string{"tokens:read"},
			Metadata: &map[string]any{"blob": strings.Repeat("m", 5000)}}), "metadata"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ws.Owner.CreateTokenWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(tc.body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	res, err := ws.Owner.CreateTokenWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(huge))
	if got := want(t, res, err, http.StatusRequestEntityTooLarge); got.Error != "payload_too_large" {
		t.Errorf("body over 1 MiB: error %q, want payload_too_large", got.Error)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCreateTokenRejectsANameTakenIgnoringCaseWith409(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	first := mint(t, ws.Owner, "Billing-Service", "tokens:read")
	res, err := ws.Owner.CreateTokenWithResponse(ctx, sdk.CreateTokenRequest{Name: "billing-SERVICE", Scopes: []string{"tokens:read"}})
	want(t, res, err, http.StatusConflict)

	// The name stays taken after the token is revoked.
	rev, err := ws.Owner.RevokeTokenWithResponse(ctx, first.Id)
	want(t, rev, err, http.StatusNoContent)
	res, err = ws.Owner.CreateTokenWithResponse(ctx, sdk.CreateTokenRequest{Name: "billing-service", Scopes: []string{"tokens:read"}})
	want(t, res, err, http.StatusConflict)

	// Case folding is Unicode-aware.
	mint(t, ws.Owner, "Café-Ünïcode", "tokens:read")
	res, err = ws.Owner.CreateTokenWithResponse(ctx, sdk.CreateTokenRequest{Name: "CAFÉ-üNÏCODE", Scopes: []string{"tokens:read"}})
	want(t, res, err, http.StatusConflict)

	// Names are unique per workspace only.
	other := e.bootstrap(t, "Globex")
	mint(t, other.Owner, "billing-service", "tokens:read")
}

func TestCreateTokenRejectsPastOrUnparseableExpiryWith422(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	for name, exp := range map[string]string{
		"in the past": e.Clock.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
		"right now":   e.Clock.Now().Add(-time.Second).UTC().Format(time.RFC3339),
		"unparseable": "next tuesday",
		"date only":   "2099-01-01",
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ws.Owner.CreateTokenWithResponse(t.Context(), sdk.CreateTokenRequest{Name: "x", Scopes: []string{"tokens:read"}, ExpiresAt: &exp})
			wantDetail(t, want(t, res, err, http.StatusUnprocessableEntity), "expires_at")
		})
	}
}

func TestListTokensPagesNewestFirstWithLinkHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	var created []string
	for _, name := range []string{"one", "two", "three", "four", "five"} {
		created = append(created, mint(t, ws.Owner, name, "tokens:read").Id)
		e.Clock.Advance(time.Second) // distinct creation times
	}

	var seen []string
	params := &sdk.ListTokensParams{PerPage: ptr(2)}
	for page := 1; ; page++ {
		res, err := ws.Owner.ListTokensWithResponse(ctx, params)
		want(t, res, err, http.StatusOK)
		meta := res.JSON200.Meta
		if meta.Page != page || meta.PerPage != 2 || meta.Total != len(created) {
			t.Fatalf("page %d: meta = %+v", page, meta)
		}
		for _, tok := range res.JSON200.Data {
			seen = append(seen, tok.Id)
		}
		links := parseLinks(t, res.HTTPResponse.Header.Get("Link"))
		if _, ok := links["prev"]; ok != (page > 1) {
			t.Errorf("page %d: Link = %q, rel=\"prev\" present = %v", page, res.HTTPResponse.Header.Get("Link"), ok)
		}
		next, ok := links["next"]
		if !ok {
			break
		}
		if got := next.Query().Get("page"); got != strconv.Itoa(page+1) || next.Query().Get("per_page") != "2" || next.Path != "/v1/tokens" {
			t.Fatalf("page %d: next link = %s", page, next)
		}
		params = &sdk.ListTokensParams{Page: ptr(page + 1), PerPage: ptr(2)}
	}
	var newestFirst []string
	for i := len(created) - 1; i >= 0; i-- {
		newestFirst = append(newestFirst, created[i])
	}
	if !reflect.DeepEqual(seen, newestFirst) {
		t.Errorf("ids following rel=next = %v, want newest first %v", seen, newestFirst)
	}
}

// parseLinks parses an RFC 8288 Link header into its targets by relation.
func parseLinks(t *testing.T, h string) map[string]*url.URL {
	t.Helper()
	out := map[string]*url.URL{}
	if h == "" {
		return out
	}
	for _, part := range strings.Split(h, ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if !ok || !strings.HasPrefix(target, "<") || !strings.HasSuffix(target, ">") {
			t.Fatalf("malformed Link header %q", h)
		}
		u, err := url.Parse(strings.Trim(target, "<>"))
		if err != nil {
			t.Fatalf("Link target %q: %v", target, err)
		}
		for _, p := range strings.Split(params, ";") {
			if rel, ok := strings.CutPrefix(strings.TrimSpace(p), "rel="); ok {
				out[strings.Trim(rel, `"`)] = u
			}
		}
	}
	return out
}

func TestListTokensFiltersByStatusAndNameSubstring(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	active := mint(t, ws.Owner, "Billing-API", "tokens:read")
	e.Clock.Advance(time.Second)
	revoked := mint(t, ws.Owner, "billing-worker", "tokens:read")
	expiring := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "search", Scopes: []string{"tokens:read"},
		ExpiresAt: rfc3339(e.Clock.Now().Add(time.Hour))})
	e.Clock.Advance(time.Second)
	percent := mint(t, ws.Owner, "100%-done", "tokens:read")
	e.Clock.Advance(time.Second)
	underscore := mint(t, ws.Owner, "a_b", "tokens:read")
	rev, err := ws.Owner.RevokeTokenWithResponse(ctx, revoked.Id)
	want(t, rev, err, http.StatusNoContent)
	e.Clock.Advance(2 * time.Hour)

	for _, tc := range []struct {
		params sdk.ListTokensParams
		want   []string
	}{
		{sdk.ListTokensParams{Status: ptr(sdk.ListTokensParamsStatus("active"))}, []string{underscore.Id, percent.Id, active.Id}},
		{sdk.ListTokensParams{Status: ptr(sdk.ListTokensParamsStatus("revoked"))}, []string{revoked.Id}},
		{sdk.ListTokensParams{Status: ptr(sdk.ListTokensParamsStatus("expired"))}, []string{expiring.Id}},
		{sdk.ListTokensParams{Name: ptr("BILLING")}, []string{revoked.Id, active.Id}},
		{sdk.ListTokensParams{Name: ptr("billing"), Status: ptr(sdk.ListTokensParamsStatus("active"))}, []string{active.Id}},
		{sdk.ListTokensParams{Name: ptr("%")}, []string{percent.Id}},    // a literal, not a wildcard
		{sdk.ListTokensParams{Name: ptr("_")}, []string{underscore.Id}}, // a literal, not a wildcard
	} {
		res, err := ws.Owner.ListTokensWithResponse(ctx, &tc.params)
		want(t, res, err, http.StatusOK)
		var got []string
		for _, tok := range res.JSON200.Data {
			got = append(got, tok.Id)
		}
		if !reflect.DeepEqual(got, tc.want) || res.JSON200.Meta.Total != len(tc.want) {
			t.Errorf("list %+v = %v (total %d), want %v", tc.params, got, res.JSON200.Meta.Total, tc.want)
		}
	}
}

func TestListTokensRejectsOutOfBoundsQueryWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	for name, tc := range map[string]struct {
		params sdk.ListTokensParams
		detail string
	}{
		"per_page=0":            {sdk.ListTokensParams{PerPage: ptr(0)}, "per_page"},
		"per_page=101":          {sdk.ListTokensParams{PerPage: ptr(101)}, "per_page"},
		"page=0":                {sdk.ListTokensParams{Page: ptr(0)}, "page"},
		"unknown status filter": {sdk.ListTokensParams{Status: ptr(sdk.ListTokensParamsStatus("dormant"))}, "status"},
		"name of 101 chars":     {sdk.ListTokensParams{Name: ptr(strings.Repeat("n", 101))}, "name"},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ws.Owner.ListTokensWithResponse(invalidRequest(t.Context()), &tc.params)
			wantDetail(t, want(t, res, err, http.StatusBadRequest), tc.detail)
		})
	}
	t.Run("bounds are inclusive", func(t *testing.T) {
		for _, n := range []int{1, 100} {
			res, err := ws.Owner.ListTokensWithResponse(t.Context(), &sdk.ListTokensParams{Page: ptr(1), PerPage: ptr(n)})
			want(t, res, err, http.StatusOK)
		}
	})
	t.Run("per_page not a number", func(t *testing.T) {
		res, err := ws.Owner.ListTokens(invalidRequest(t.Context()), nil, func(_ context.Context, req *http.Request) error {
			req.URL.RawQuery = "per_page=many"
			return nil
		})
		wantHTTP(t, res, err, http.StatusBadRequest)
	})
}
