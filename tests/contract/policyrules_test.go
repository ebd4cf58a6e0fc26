package contract

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/tooken/tooken/sdk"
)

// policyCase is one token creation under a policy: created, or refused with 422 naming rule.
type policyCase struct {
	name string
	req  sdk.CreateTokenRequest // Name is filled in
	rule string                 // "" = 201
}

// Each rule at, just under and just over its bound, with the clock stopped so bounds hold to the second.
func TestPolicyRulesAtTheirBoundsAtCreation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	now := e.Clock.Freeze()
	at := func(d time.Duration) *string { return rfc3339(now.Add(d)) }
	for _, group := range []struct {
		policy sdk.Policy
		cases  []policyCase
	}{
		{sdk.Policy{RequireExpiry: true}, []policyCase{
			{"no expires_at", sdk.CreateTokenRequest{}, "require_expiry"},
			{"an expires_at", sdk.CreateTokenRequest{ExpiresAt: at(time.Second)}, ""},
			{"a rotation_period but no expires_at", sdk.CreateTokenRequest{RotationPeriod: seconds(300)}, "require_expiry"},
		}},
		{sdk.Policy{MaxLifetime: seconds(3600)}, []policyCase{
			{"lifetime just under", sdk.CreateTokenRequest{ExpiresAt: at(3599 * time.Second)}, ""},
			{"lifetime at the bound", sdk.CreateTokenRequest{ExpiresAt: at(3600 * time.Second)}, ""},
			{"lifetime just over", sdk.CreateTokenRequest{ExpiresAt: at(3601 * time.Second)}, "max_lifetime"},
			{"no expires_at", sdk.CreateTokenRequest{}, "max_lifetime"},
		}},
		{sdk.Policy{MaxRotationPeriod: seconds(600)}, []policyCase{
			{"rotation_period just under", sdk.CreateTokenRequest{RotationPeriod: seconds(599)}, ""},
			{"rotation_period at the bound", sdk.CreateTokenRequest{RotationPeriod: seconds(600)}, ""},
			{"rotation_period just over", sdk.CreateTokenRequest{RotationPeriod: seconds(601)}, "max_rotation_period"},
			{"no rotation_period", sdk.CreateTokenRequest{}, "max_rotation_period"},
		}},
		{sdk.Policy{MaxRotationPeriod: seconds(300)}, []policyCase{
			{"rotation_period at the minimum", sdk.CreateTokenRequest{RotationPeriod: seconds(300)}, ""},
			{"rotation_period one over", sdk.CreateTokenRequest{RotationPeriod: seconds(301)}, "max_rotation_period"},
		}},
	} {
		setPolicy(t, ws, group.policy)
		for _, tc := range group.cases {
			t.Run(policyString(group.policy)+"/"+tc.name, func(t *testing.T) {
				req := tc.req
				req.Name, req.Scopes = uniqueName("p"), []string{"tokens:read"}
				res, err := ws.Owner.CreateTokenWithResponse(t.Context(), req)
				if tc.rule != "" {
					wantPolicyViolation(t, res, err, tc.rule)
					return
				}
				want(t, res, err, http.StatusCreated)
			})
		}
	}
	// Nothing refused was created.
	list, err := ws.Owner.ListTokensWithResponse(t.Context(), nil)
	want(t, list, err, http.StatusOK)
	if list.JSON200.Meta.Total != 6 {
		t.Errorf("%d tokens, want the 6 allowed ones", list.JSON200.Meta.Total)
	}
}

// default_lifetime fills in a missing expires_at (so require_expiry and max_lifetime are met); an
// explicit expires_at is kept as given.
func TestPolicyDefaultLifetimeFillsAMissingExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	now := e.Clock.Freeze()
	setPolicy(t, ws, sdk.Policy{MaxLifetime: seconds(7200), DefaultLifetime: seconds(3600), RequireExpiry: true})
	filled := mint(t, ws.Owner, "filled", "tokens:read")
	if filled.ExpiresAt == nil || !filled.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Errorf("expires_at = %v, want the default lifetime %v", filled.ExpiresAt, now.Add(time.Hour))
	}
	if exp := claimsOf(t, filled.Token).Exp; exp == nil || *exp != now.Add(time.Hour).Unix() {
		t.Errorf("the value's exp = %v, want %d", exp, now.Add(time.Hour).Unix())
	}
	explicit := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "explicit", Scopes: []string{"tokens:read"}, ExpiresAt: rfc3339(now.Add(2 * time.Hour))})
	if explicit.ExpiresAt == nil || !explicit.ExpiresAt.Equal(now.Add(2*time.Hour)) {
		t.Errorf("expires_at = %v, want the one given", explicit.ExpiresAt)
	}
	e.Clock.Advance(time.Hour)
	wantVerdict(t, verify(t, e, filled.Token), "EXPIRED", "?"+filled.Id)
}

// A token that met the policy when it was created but breaks one set later keeps working, yet cannot be
// rotated — neither by the owner nor by itself — until the policy allows it again.
func TestRotateRefusesATokenThatBreaksAPolicySetAfterItWith422(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	now := e.Clock.Freeze()
	forever := mint(t, ws.Owner, "forever", "tokens:read")
	twoHours := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "two-hours", Scopes: []string{"tokens:read"}, ExpiresAt: rfc3339(now.Add(2 * time.Hour))})
	slow := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "slow", Scopes: []string{"tokens:read"}, RotationPeriod: seconds(900),
		ExpiresAt: rfc3339(now.Add(time.Hour))})
	fast := mintReq(t, ws.Owner, sdk.CreateTokenRequest{Name: "fast", Scopes: []string{"tokens:read"}, RotationPeriod: seconds(600),
		ExpiresAt: rfc3339(now.Add(time.Hour))})

	for _, tc := range []struct {
		policy  sdk.Policy
		refused map[string]*sdk.IssuedToken
		allowed *sdk.IssuedToken
	}{
		{sdk.Policy{RequireExpiry: true}, map[string]*sdk.IssuedToken{"require_expiry": forever}, twoHours},
		{sdk.Policy{MaxLifetime: seconds(3600)}, map[string]*sdk.IssuedToken{"max_lifetime": twoHours}, fast},
		{sdk.Policy{MaxRotationPeriod: seconds(600)}, map[string]*sdk.IssuedToken{"max_rotation_period": slow}, fast},
	} {
		setPolicy(t, ws, tc.policy)
		for rule, tok := range tc.refused {
			before, err := ws.Owner.GetTokenWithResponse(ctx, tok.Id)
			want(t, before, err, http.StatusOK)
			res, err := ws.Owner.RotateTokenWithResponse(ctx, tok.Id, sdk.RotateTokenRequest{})
			wantPolicyViolation(t, res, err, rule)
			self, err := e.client(t, tok.Token).RotateTokenWithResponse(ctx, tok.Id, sdk.RotateTokenRequest{GracePeriod: ptr(60)})
			wantPolicyViolation(t, self, err, rule)
			wantVerdict(t, verify(t, e, tok.Token), "VALID", tok.Id)
			got, err := ws.Owner.GetTokenWithResponse(ctx, tok.Id)
			want(t, got, err, http.StatusOK)
			// The refused self-rotation was a use of the token: only last_used_at may differ.
			got.JSON200.LastUsedAt, before.JSON200.LastUsedAt = nil, nil
			if !reflect.DeepEqual(got.JSON200, before.JSON200) || got.JSON200.Status != "active" {
				t.Errorf("%s: a refused rotation changed the token: %+v", rule, got.JSON200)
			}
		}
		res, err := ws.Owner.RotateTokenWithResponse(ctx, tc.allowed.Id, sdk.RotateTokenRequest{})
		want(t, res, err, http.StatusOK)
		*tc.allowed = *res.JSON200
	}
	// Lifting the policy makes the refused rotation possible again.
	setPolicy(t, ws, sdk.Policy{})
	res, err := ws.Owner.RotateTokenWithResponse(ctx, forever.Id, sdk.RotateTokenRequest{})
	want(t, res, err, http.StatusOK)
	audit, err := ws.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Action: ptr("token.rotated")})
	want(t, audit, err, http.StatusOK)
	if audit.JSON200.Meta.Total != 4 {
		t.Errorf("token.rotated events = %d, want the 4 allowed rotations only", audit.JSON200.Meta.Total)
	}
}
