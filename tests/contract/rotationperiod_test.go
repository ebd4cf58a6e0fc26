package contract

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/sdk"
)

// wantExp fails the test unless the value's exp claim is at.
func wantExp(t *testing.T, value string, at time.Time) {
	t.Helper()
	if exp := claimsOf(t, value).Exp; exp == nil || *exp != at.Unix() {
		t.Errorf("the value's exp = %v, want %d (%s)", exp, at.Unix(), at.Format(time.RFC3339))
	}
}

func wantRotationPeriod(t *testing.T, what string, got *int64, want int64) {
	t.Helper()
	if got == nil || *got != want {
		t.Errorf("%s: rotation_period = %v, want %d", what, got, want)
	}
}

// rotation_period is returned everywhere a token is, and bounds the exp of each value issued: at
// creation, at each rotation (also a self-rotation), and never beyond expires_at.
func TestRotationPeriodRoundTripsAndBoundsEachValue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	now := e.Clock.Freeze()
	tok := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "rotating", Scopes: []string{"tokens:read"}, RotationPeriod: seconds(600)})
	wantRotationPeriod(t, "create", tok.RotationPeriod, 600)
	if tok.ExpiresAt != nil {
		t.Errorf("expires_at = %v, want null: the rotation period bounds values, not the token", tok.ExpiresAt)
	}
	wantExp(t, tok.Token, now.Add(600*time.Second))
	got, err := ws.Owner.GetTokenWithResponse(ctx, tok.Id)
	want(t, got, err, http.StatusOK)
	wantRotationPeriod(t, "get", got.JSON200.RotationPeriod, 600)
	list, err := ws.Owner.ListTokensWithResponse(ctx, nil)
	want(t, list, err, http.StatusOK)
	wantRotationPeriod(t, "list", list.JSON200.Data[0].RotationPeriod, 600)
	v := verify(t, e, tok.Token)
	wantVerdict(t, v, "VALID", tok.Id)
	wantRotationPeriod(t, "verify", v.Token.RotationPeriod, 600)

	plain := mint(t, ws.Owner, "plain", "tokens:read")
	if plain.RotationPeriod != nil || claimsOf(t, plain.Token).Exp != nil {
		t.Errorf("without rotation_period: rotation_period = %v, exp = %v; want both null", plain.RotationPeriod, claimsOf(t, plain.Token).Exp)
	}
	short := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "short", Scopes: []string{"tokens:read"}, RotationPeriod: seconds(600),
		ExpiresAt: rfc3339(now.Add(400 * time.Second))})
	wantExp(t, short.Token, now.Add(400*time.Second))

	// The token rotates itself before its value lapses; the new value gets a full period.
	e.Clock.Advance(500 * time.Second)
	res, err := e.client(t, tok.Token).RotateTokenWithResponse(ctx, tok.Id, sdk.RotateTokenRequest{})
	want(t, res, err, http.StatusOK)
	next := res.JSON200
	wantRotationPeriod(t, "rotate", next.RotationPeriod, 600)
	wantExp(t, next.Token, now.Add(1100*time.Second))
	wantVerdict(t, verify(t, e, tok.Token), "REVOKED", tok.Id)
	wantVerdict(t, verify(t, e, next.Token), "VALID", tok.Id)

	// A value that lapses is expired although the token stays active and rotatable.
	e.Clock.Advance(600 * time.Second)
	wantVerdict(t, verify(t, e, next.Token), "EXPIRED", "?"+tok.Id)
	old, err := e.client(t, next.Token).GetTokenWithResponse(ctx, tok.Id)
	want(t, old, err, http.StatusUnauthorized)
	got, err = ws.Owner.GetTokenWithResponse(ctx, tok.Id)
	want(t, got, err, http.StatusOK)
	if got.JSON200.Status != "active" {
		t.Errorf("status = %q after a value lapsed, want active", got.JSON200.Status)
	}
	again, err := ws.Owner.RotateTokenWithResponse(ctx, tok.Id, sdk.RotateTokenRequest{})
	want(t, again, err, http.StatusOK)
	wantExp(t, again.JSON200.Token, now.Add(1700*time.Second))
	wantVerdict(t, verify(t, e, again.JSON200.Token), "VALID", tok.Id)
}

func TestCreateTokenRejectsARotationPeriodOutOfRangeWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	for name, tc := range map[string]struct{ value, detail string }{
		"299":              {"299", "rotation_period"},
		"0":                {"0", "rotation_period"},
		"-600":             {"-600", "rotation_period"},
		"over a century":   {"3153600001", "rotation_period"},
		"text":             {`"600"`, ""},
		"fractional":       {"600.5", ""},
		"beyond int64 max": {"9223372036854775808", ""},
	} {
		t.Run(name, func(t *testing.T) {
			body := `{"name": "rp", "scopes": ["tokens:read"], "rotation_period": ` + tc.value + `}`
			res, err := ws.Owner.CreateTokenWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	list, err := ws.Owner.ListTokensWithResponse(t.Context(), nil)
	want(t, list, err, http.StatusOK)
	if list.JSON200.Meta.Total != 0 {
		t.Errorf("%d tokens created by refused requests", list.JSON200.Meta.Total)
	}
	tok := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "rp", Scopes: []string{"tokens:read"}, RotationPeriod: seconds(300)})
	wantRotationPeriod(t, "minimum", tok.RotationPeriod, 300)
}

// audit_retention_days: null (keep forever) by default, set with PATCH, and 0 means forever again.
func TestAuditRetentionDaysRoundTrips(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	read := func() *int {
		res, err := ws.Owner.GetWorkspaceWithResponse(ctx)
		want(t, res, err, http.StatusOK)
		return res.JSON200.AuditRetentionDays
	}
	if d := read(); d != nil {
		t.Errorf("a new workspace's audit_retention_days = %d, want null (forever)", *d)
	}
	for _, days := range []int{30, 1, 36500, 0} {
		res, err := ws.Owner.UpdateWorkspaceWithResponse(ctx, sdk.UpdateWorkspaceRequest{AuditRetentionDays: ptr(days)})
		want(t, res, err, http.StatusOK)
		for what, got := range map[string]*int{"PATCH": res.JSON200.AuditRetentionDays, "GET": read()} {
			switch {
			case days == 0 && got != nil:
				t.Errorf("%s after setting 0: audit_retention_days = %d, want null (forever)", what, *got)
			case days != 0 && (got == nil || *got != days):
				t.Errorf("%s after setting %d: audit_retention_days = %v", what, days, got)
			}
		}
	}
	// Other settings leave it alone.
	for _, req := range []sdk.UpdateWorkspaceRequest{{AuditRetentionDays: ptr(90)}, {Name: ptr("Acme Corp")}} {
		res, err := ws.Owner.UpdateWorkspaceWithResponse(ctx, req)
		want(t, res, err, http.StatusOK)
	}
	if d := read(); d == nil || *d != 90 {
		t.Errorf("audit_retention_days = %v after changing the name, want 90 kept", d)
	}
	audit, err := ws.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Action: ptr("workspace.updated")})
	want(t, audit, err, http.StatusOK)
	if audit.JSON200.Meta.Total != 6 {
		t.Errorf("workspace.updated events = %d, want 6", audit.JSON200.Meta.Total)
	}
}

func TestUpdateWorkspaceRejectsAnAuditRetentionOutOfRangeWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	res, err := ws.Owner.UpdateWorkspaceWithResponse(t.Context(), sdk.UpdateWorkspaceRequest{AuditRetentionDays: ptr(365)})
	want(t, res, err, http.StatusOK)
	for name, tc := range map[string]struct{ value, detail string }{
		"-1":         {"-1", "audit_retention_days"},
		"36501":      {"36501", "audit_retention_days"},
		"huge":       {strconv.Itoa(1 << 40), "audit_retention_days"},
		"text":       {`"30"`, ""},
		"fractional": {"1.5", ""},
	} {
		t.Run(name, func(t *testing.T) {
			body := `{"audit_retention_days": ` + tc.value + `, "name": "Renamed"}`
			res, err := ws.Owner.UpdateWorkspaceWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	got, err := ws.Owner.GetWorkspaceWithResponse(t.Context())
	want(t, got, err, http.StatusOK)
	if d := got.JSON200.AuditRetentionDays; d == nil || *d != 365 || got.JSON200.Name != "Acme" {
		t.Errorf("a refused update changed the workspace: retention %v, name %q", d, got.JSON200.Name)
	}
}
