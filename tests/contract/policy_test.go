package contract

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tooken/tooken/sdk"
)

// setPolicy replaces the workspace's policy with the owner's key (200 required) and returns the report.
func setPolicy(t *testing.T, ws workspace, pol sdk.Policy) *sdk.PolicyReport {
	t.Helper()
	res, err := ws.Owner.SetPolicyWithResponse(t.Context(), pol)
	want(t, res, err, http.StatusOK)
	return res.JSON200
}

// getPolicy reads the workspace's policy report with c (200 required).
func getPolicy(t *testing.T, c *sdk.ClientWithResponses) *sdk.PolicyReport {
	t.Helper()
	res, err := c.GetPolicyWithResponse(t.Context())
	want(t, res, err, http.StatusOK)
	return res.JSON200
}

// wantPolicyViolation fails the test unless the call was refused with 422 naming rule in details.policy.
func wantPolicyViolation(t *testing.T, r sdkResponse, err error, rule string) {
	t.Helper()
	got := want(t, r, err, http.StatusUnprocessableEntity)
	if got.Details == nil || (*got.Details)["policy"] != rule {
		t.Errorf("details = %v, want {policy: %q} (message %q)", got.Details, rule, got.Message)
	}
}

// wantNonCompliant fails the test unless the report lists exactly ids (newest first) and their count.
func wantNonCompliant(t *testing.T, r *sdk.PolicyReport, ids ...string) {
	t.Helper()
	if ids == nil {
		ids = []string{}
	}
	if got := r.NonCompliant; got.Total != len(ids) || !slices.Equal(got.TokenIds, ids) {
		t.Errorf("non_compliant = %+v, want total %d and token_ids %v", got, len(ids), ids)
	}
}

func seconds(n int64) *int64 { return &n }

func TestPolicyIsEmptyByDefaultAndRoundTrips(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	initial := getPolicy(t, ws.Owner)
	if initial.Policy != (sdk.Policy{}) {
		t.Errorf("a new workspace's policy = %+v, want every rule off", initial.Policy)
	}
	wantNonCompliant(t, initial)

	pol := sdk.Policy{MaxLifetime: seconds(90 * 86400), DefaultLifetime: seconds(30 * 86400), RequireExpiry: true,
		MaxRotationPeriod: seconds(3600)}
	for name, got := range map[string]*sdk.PolicyReport{"PUT": setPolicy(t, ws, pol), "GET": getPolicy(t, ws.Owner)} {
		if !samePolicy(got.Policy, pol) {
			t.Errorf("%s policy = %s, want %s", name, policyString(got.Policy), policyString(pol))
		}
	}
	// A policy at its bounds: max_rotation_period 300, default_lifetime equal to max_lifetime.
	edge := sdk.Policy{MaxLifetime: seconds(60), DefaultLifetime: seconds(60), MaxRotationPeriod: seconds(300)}
	if got := setPolicy(t, ws, edge).Policy; !samePolicy(got, edge) {
		t.Errorf("policy = %s, want %s", policyString(got), policyString(edge))
	}
	if got := setPolicy(t, ws, sdk.Policy{}).Policy; got != (sdk.Policy{}) {
		t.Errorf("cleared policy = %s, want every rule off", policyString(got))
	}
	audit, err := ws.Owner.ListAuditLogsWithResponse(t.Context(), &sdk.ListAuditLogsParams{Action: ptr("policy.updated")})
	want(t, audit, err, http.StatusOK)
	if audit.JSON200.Meta.Total != 3 {
		t.Errorf("policy.updated events = %d, want one per change (3)", audit.JSON200.Meta.Total)
	}
	// Policies are per workspace.
	other := e.bootstrap(t, "Globex")
	setPolicy(t, ws, pol)
	if got := getPolicy(t, other.Owner).Policy; got != (sdk.Policy{}) {
		t.Errorf("another workspace's policy = %s, want every rule off", policyString(got))
	}
}

func samePolicy(a, b sdk.Policy) bool {
	return policyString(a) == policyString(b)
}

func policyString(p sdk.Policy) string {
	f := func(v *int64) string {
		if v == nil {
			return "null"
		}
		return time.Duration(*v * int64(time.Second)).String()
	}
	return "{max_lifetime " + f(p.MaxLifetime) + ", default_lifetime " + f(p.DefaultLifetime) +
		", require_expiry " + map[bool]string{true: "true", false: "false"}[p.RequireExpiry] +
		", max_rotation_period " + f(p.MaxRotationPeriod) + "}"
}

func TestSetPolicyRejectsBadValuesWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	kept := sdk.Policy{MaxLifetime: seconds(86400), RequireExpiry: true}
	setPolicy(t, ws, kept)
	body := func(maxLifetime, defaultLifetime, requireExpiry, maxRotation string) string {
		return `{"max_lifetime": ` + maxLifetime + `, "default_lifetime": ` + defaultLifetime +
			`, "require_expiry": ` + requireExpiry + `, "max_rotation_period": ` + maxRotation + `}`
	}
	const century = "3153600001" // 100 × 365 days + 1 s
	for name, tc := range map[string]struct{ body, detail string }{
		"max_rotation_period 299":          {body("null", "null", "false", "299"), "max_rotation_period"},
		"max_rotation_period 0":            {body("null", "null", "false", "0"), "max_rotation_period"},
		"max_rotation_period over century": {body("null", "null", "false", century), "max_rotation_period"},
		"max_lifetime 0":                   {body("0", "null", "false", "null"), "max_lifetime"},
		"max_lifetime -1":                  {body("-1", "null", "false", "null"), "max_lifetime"},
		"max_lifetime over a century":      {body(century, "null", "false", "null"), "max_lifetime"},
		"default_lifetime 0":               {body("null", "0", "false", "null"), "default_lifetime"},
		"default_lifetime over max":        {body("3600", "3601", "false", "null"), "default_lifetime"},
		"require_expiry as text":           {body("null", "null", `"yes"`, "null"), ""},
		"lifetime as text":                 {body(`"1h"`, "null", "false", "null"), ""},
		"malformed JSON":                   {`{"max_lifetime": 5`, ""},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ws.Owner.SetPolicyWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(tc.body))
			got := want(t, res, err, http.StatusBadRequest)
			if tc.detail != "" {
				wantDetail(t, got, tc.detail)
			}
		})
	}
	if got := getPolicy(t, ws.Owner).Policy; !samePolicy(got, kept) {
		t.Errorf("a refused request changed the policy to %s, want %s", policyString(got), policyString(kept))
	}
}

// The spec requires all four fields: PUT replaces the whole policy, so a body that omits or misspells a
// rule must not be read as "rule off" — `{}` would silently lift every limit of the workspace.
func TestSetPolicyRejectsABodyMissingRequiredFieldsWith400(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	kept := sdk.Policy{MaxLifetime: seconds(86400), RequireExpiry: true, MaxRotationPeriod: seconds(3600)}
	setPolicy(t, ws, kept)
	for name, body := range map[string]string{
		"empty object":  `{}`,
		"misspelt key":  `{"max_lifetime_seconds": 604800, "default_lifetime": null, "require_expiry": true, "max_rotation_period": 3600}`,
		"one rule only": `{"require_expiry": true}`,
	} {
		t.Run(name, func(t *testing.T) {
			res, err := ws.Owner.SetPolicyWithBodyWithResponse(invalidRequest(t.Context()), "application/json", strings.NewReader(body))
			want(t, res, err, http.StatusBadRequest)
		})
	}
	if got := getPolicy(t, ws.Owner).Policy; !samePolicy(got, kept) {
		t.Errorf("after the refused requests the policy is %s, want %s unchanged", policyString(got), policyString(kept))
	}
}

// GET needs tokens:read or any member role (team keys are owner or admin); PUT is the owner's
// (admin keys and tokens with every scope: forbidden_test.go).
func TestGetPolicyNeedsTokensReadOrAMemberRole(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	setPolicy(t, ws, sdk.Policy{RequireExpiry: true, DefaultLifetime: seconds(3600)})
	admin := e.client(t, createKey(t, ws.Owner, sdk.CreateAPIKeyRequest{Name: "admin", Kind: "team",
		Role: ptr(sdk.CreateAPIKeyRequestRole("admin"))}).Key)
	reader := e.client(t, mint(t, ws.Owner, "reader", "tokens:read").Token)
	for name, c := range map[string]*sdk.ClientWithResponses{"admin key": admin, "token with tokens:read": reader} {
		if got := getPolicy(t, c).Policy; !got.RequireExpiry || got.DefaultLifetime == nil || *got.DefaultLifetime != 3600 {
			t.Errorf("%s reads the policy as %s", name, policyString(got))
		}
	}
	weak := e.client(t, mint(t, ws.Owner, "weak", "webhooks:read").Token)
	res, err := weak.GetPolicyWithResponse(ctx)
	want(t, res, err, http.StatusForbidden)
	wantScopeChallenge(t, res.HTTPResponse.Header, "tokens:read")

	put, err := reader.SetPolicyWithResponse(ctx, sdk.Policy{})
	want(t, put, err, http.StatusForbidden)
	if got := getPolicy(t, ws.Owner).Policy; !got.RequireExpiry {
		t.Errorf("the token's refused PUT changed the policy to %s", policyString(got))
	}
}

// A policy change revokes nothing: the report lists the active tokens that break it, newest first;
// revoked and expired tokens are not listed, and every listed token keeps working.
func TestPolicyChangeReportsNonCompliantTokensAndRevokesNone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	ctx := t.Context()
	now := e.Clock.Freeze()
	create := func(name string, exp *time.Time, rotation *int64) *sdk.IssuedToken {
		e.Clock.Advance(time.Second) // one creation per second: newest first is well defined
		req := sdk.CreateTokenRequest{Name: name, Scopes: []string{"tokens:read"}, RotationPeriod: rotation}
		if exp != nil {
			req.ExpiresAt = rfc3339(*exp)
		}
		return mintReq(t, ws.Owner, req)
	}
	forever := create("forever", nil, nil)
	twoHours := create("two-hours", ptr(now.Add(2*time.Hour)), nil)
	rotating := create("rotating", nil, seconds(600))
	revoked := create("revoked", nil, nil)
	create("expiring", ptr(now.Add(time.Minute)), nil)
	compliant := create("compliant", ptr(now.Add(30*time.Minute)), seconds(300))
	revokeToken(t, ws.Owner, revoked.Id)
	e.Clock.Advance(2 * time.Minute) // expiring has expired

	wantNonCompliant(t, setPolicy(t, ws, sdk.Policy{RequireExpiry: true}), rotating.Id, forever.Id)
	wantNonCompliant(t, getPolicy(t, ws.Owner), rotating.Id, forever.Id)
	wantNonCompliant(t, setPolicy(t, ws, sdk.Policy{MaxLifetime: seconds(3600)}), rotating.Id, twoHours.Id, forever.Id)
	wantNonCompliant(t, setPolicy(t, ws, sdk.Policy{MaxRotationPeriod: seconds(600)}), twoHours.Id, forever.Id)
	wantNonCompliant(t, setPolicy(t, ws, sdk.Policy{MaxRotationPeriod: seconds(300)}), rotating.Id, twoHours.Id, forever.Id)
	wantNonCompliant(t, getPolicy(t, ws.Owner), rotating.Id, twoHours.Id, forever.Id)

	for _, tok := range []*sdk.IssuedToken{forever, twoHours, compliant} {
		wantVerdict(t, verify(t, e, tok.Token), "VALID", tok.Id)
	}
	active, err := ws.Owner.ListTokensWithResponse(ctx, &sdk.ListTokensParams{Status: ptr(sdk.ListTokensParamsStatus("active"))})
	want(t, active, err, http.StatusOK)
	if active.JSON200.Meta.Total != 4 {
		t.Errorf("%d active tokens after the policy changes, want 4", active.JSON200.Meta.Total)
	}
	audit, err := ws.Owner.ListAuditLogsWithResponse(ctx, &sdk.ListAuditLogsParams{Action: ptr("token.revoked")})
	want(t, audit, err, http.StatusOK)
	if audit.JSON200.Meta.Total != 1 {
		t.Errorf("token.revoked events = %d, want only the explicit revocation", audit.JSON200.Meta.Total)
	}
	wantNonCompliant(t, setPolicy(t, ws, sdk.Policy{}))
}

func TestPolicyReportListsAtMost100TokenIdsWithTheFullTotal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, limits{})
	ws := e.bootstrap(t, "Acme")
	e.Clock.Freeze()
	var ids []string
	for i := range 101 {
		e.Clock.Advance(time.Second)
		ids = append(ids, mint(t, ws.Owner, "t"+strings.Repeat("x", i%3)+uniqueName(""), "tokens:read").Id)
	}
	slices.Reverse(ids)
	r := setPolicy(t, ws, sdk.Policy{RequireExpiry: true})
	if r.NonCompliant.Total != 101 || !slices.Equal(r.NonCompliant.TokenIds, ids[:100]) {
		t.Errorf("non_compliant total %d with %d ids, want 101 with the 100 newest (%v…)", r.NonCompliant.Total,
			len(r.NonCompliant.TokenIds), ids[:2])
	}
}
