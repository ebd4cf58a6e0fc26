package e2e

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// valueExp returns the exp claim of a token value (0 when it has none).
func valueExp(t *testing.T, value string) time.Time {
	t.Helper()
	_, claims, _ := jwtParts(t, value)
	exp, ok := claims["exp"].(float64)
	if !ok {
		return time.Time{}
	}
	return time.Unix(int64(exp), 0).UTC()
}

// TestRotatingTokenRenewsItselfBeforeEachValueLapses creates a token with rotation_period 600: each
// value expires 600 s after it is issued; the token rotates itself over HTTP at 2/3 of each value's
// life (no tokens:rotate scope), the rotated-out value is refused at once, and a value left to lapse
// is refused as expired at exactly 600 s — while the token stays active and its owner can renew it.
func TestRotatingTokenRenewsItselfBeforeEachValueLapses(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	tok := s.createToken(t, ws.APIKey, map[string]any{"name": "svc", "scopes": []string{"tokens:read"}, "rotation_period": 600})
	if tok.RotationPeriod == nil || *tok.RotationPeriod != 600 || tok.ExpiresAt != nil {
		t.Fatalf("created token: rotation_period %v, expires_at %v; want 600 and null", tok.RotationPeriod, tok.ExpiresAt)
	}
	if got := s.getToken(t, ws.APIKey, tok.ID).RotationPeriod; got == nil || *got != 600 {
		t.Errorf("GET: rotation_period = %v, want 600", got)
	}
	if exp := valueExp(t, tok.Token); !exp.Equal(t0.Add(600 * time.Second)) {
		t.Errorf("first value's exp = %v, want %v", exp, t0.Add(600*time.Second))
	}

	value := tok.Token
	for i := range 5 {
		s.Clock.Advance(400 * time.Second)
		next := s.rotate(t, value, tok.ID, nil)
		if want := s.Clock.Now().Add(600 * time.Second); !valueExp(t, next.Token).Equal(want) {
			t.Errorf("rotation %d: exp = %v, want %v", i+1, valueExp(t, next.Token), want)
		}
		r := s.do(t, "GET", "/v1/tokens/"+tok.ID, value, nil)
		requireError(t, r, http.StatusUnauthorized, "unauthorized", "Token value has been rotated")
		value = next.Token
		if !s.works(t, value, tok.ID) {
			t.Fatalf("rotation %d: the new value does not work", i+1)
		}
	}

	// Left alone, the value lapses exactly rotation_period after it was issued.
	s.Clock.Advance(599 * time.Second)
	if !s.works(t, value, tok.ID) {
		t.Fatal("the value stopped working before its 600 s were over")
	}
	s.Clock.Advance(time.Second)
	requireError(t, s.do(t, "GET", "/v1/tokens/"+tok.ID, value, nil), http.StatusUnauthorized, "unauthorized", "Token has expired")
	// Too late to rotate itself: the lapsed value no longer authenticates.
	requireError(t, s.do(t, "POST", "/v1/tokens/"+tok.ID+"/rotate", value, nil), http.StatusUnauthorized, "unauthorized", "Token has expired")
	got := s.getToken(t, ws.APIKey, tok.ID)
	if got.Status != "active" || got.ExpiresAt != nil {
		t.Errorf("after a value lapsed: status %q, expires_at %v; want active and null", got.Status, got.ExpiresAt)
	}
	renewed := s.rotate(t, ws.APIKey, tok.ID, nil)
	if !s.works(t, renewed.Token, tok.ID) {
		t.Error("the value the owner issued after the lapse does not work")
	}
	if n := s.audit(t, ws, "action=token.rotated&target_id="+tok.ID).Meta.Total; n != 6 {
		t.Errorf("%d token.rotated events, want 6", n)
	}
}

// policyReport is the API's PolicyReport.
type policyReport struct {
	Policy struct {
		MaxLifetime       *int64 `json:"max_lifetime"`
		DefaultLifetime   *int64 `json:"default_lifetime"`
		RequireExpiry     bool   `json:"require_expiry"`
		MaxRotationPeriod *int64 `json:"max_rotation_period"`
	} `json:"policy"`
	NonCompliant struct {
		Total    int      `json:"total"`
		TokenIDs []string `json:"token_ids"`
	} `json:"non_compliant"`
}

func (s *server) policy(t *testing.T, credential string) policyReport {
	t.Helper()
	var p policyReport
	s.do(t, "GET", "/v1/workspace/policy", credential, nil).want(t, http.StatusOK).decode(t, &p)
	return p
}

func (s *server) setPolicy(t *testing.T, credential string, policy map[string]any) policyReport {
	t.Helper()
	var p policyReport
	s.do(t, "PUT", "/v1/workspace/policy", credential, policy).want(t, http.StatusOK).decode(t, &p)
	return p
}

// requirePolicyError checks a 422 whose details name the policy rule.
func requirePolicyError(t *testing.T, r *response, rule string) {
	t.Helper()
	requireError(t, r, http.StatusUnprocessableEntity, "unprocessable_entity", rule)
	var body struct {
		Details map[string]string `json:"details"`
	}
	r.decode(t, &body)
	if body.Details["policy"] != rule {
		t.Errorf("%v: details = %v, want {policy: %s}", r, body.Details, rule)
	}
}

// TestPolicyChangeReportsNonCompliantTokensThatKeepWorking sets a policy that two existing tokens
// break: the answer (and GET) lists them, newest first, and both keep working — but neither can be
// rotated while it breaks the policy, and new tokens are held to every rule, each 422 naming its rule.
func TestPolicyChangeReportsNonCompliantTokensThatKeepWorking(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ws := s.bootstrap(t, "Acme")
	create := func(req map[string]any) tokenJSON {
		s.Clock.Advance(time.Second) // one token per second: "newest first" is well defined
		req["scopes"] = []string{"tokens:read"}
		return s.createToken(t, ws.APIKey, req)
	}
	forever := create(map[string]any{"name": "forever"})
	month := create(map[string]any{"name": "month", "expires_at": rfc3339(t0.Add(30 * 24 * time.Hour))})
	rotating := create(map[string]any{"name": "rotating", "expires_at": rfc3339(t0.Add(time.Hour)), "rotation_period": 600})
	before := s.snapshot(t, ws)

	week := int64(7 * 24 * 3600)
	policy := map[string]any{"max_lifetime": week, "default_lifetime": 86400, "require_expiry": true, "max_rotation_period": 3600}
	for name, rep := range map[string]policyReport{"PUT": s.setPolicy(t, ws.APIKey, policy), "GET": s.policy(t, ws.APIKey)} {
		if p := rep.Policy; p.MaxLifetime == nil || *p.MaxLifetime != week || !p.RequireExpiry {
			t.Errorf("%s: policy = %+v, want %v", name, p, policy)
		}
		if nc := rep.NonCompliant; nc.Total != 2 || !slices.Equal(nc.TokenIDs, []string{month.ID, forever.ID}) {
			t.Errorf("%s: non_compliant = %+v, want month then forever", name, nc)
		}
	}
	if after := s.snapshot(t, ws); after.Tokens != before.Tokens || after.Events != before.Events+1 {
		t.Errorf("setting the policy: before %+v, after %+v; want one event more and no token change", before, after)
	}
	if n := s.audit(t, ws, "action=token.revoked").Meta.Total; n != 0 {
		t.Errorf("%d token.revoked events after a policy change, want 0", n)
	}

	// They keep working, but cannot rotate (by themselves or by the owner) while they break it.
	for rule, tok := range map[string]tokenJSON{"require_expiry": forever, "max_lifetime": month} {
		requirePolicyError(t, s.do(t, "POST", "/v1/tokens/"+tok.ID+"/rotate", tok.Token, nil), rule)
		requirePolicyError(t, s.do(t, "POST", "/v1/tokens/"+tok.ID+"/rotate", ws.APIKey, map[string]any{"grace_period": 60}), rule)
		if !s.works(t, tok.Token, tok.ID) || s.getToken(t, ws.APIKey, tok.ID).Status != "active" {
			t.Errorf("%s stopped working under a policy it breaks", tok.Name)
		}
	}
	rotated := s.rotate(t, rotating.Token, rotating.ID, nil)
	if !s.works(t, rotated.Token, rotating.ID) {
		t.Error("the compliant token's self-rotated value does not work")
	}

	// New tokens: default lifetime filled in, every rule at and over its bound.
	now := s.Clock.Now()
	filled := s.createToken(t, ws.APIKey, map[string]any{"name": "filled", "scopes": []string{"tokens:read"}, "rotation_period": 3600})
	if filled.ExpiresAt == nil || *filled.ExpiresAt != rfc3339(now.Add(24*time.Hour)) {
		t.Errorf("expires_at = %v, want the default lifetime's %s", filled.ExpiresAt, rfc3339(now.Add(24*time.Hour)))
	}
	s.createToken(t, ws.APIKey, map[string]any{"name": "longest", "scopes": []string{"tokens:read"}, "rotation_period": 3600,
		"expires_at": rfc3339(now.Add(time.Duration(week) * time.Second))})
	for rule, req := range map[string]map[string]any{
		"max_rotation_period": {"rotation_period": 3601},
		"max_lifetime":        {"rotation_period": 3600, "expires_at": rfc3339(now.Add(time.Duration(week+1) * time.Second))},
	} {
		req["name"], req["scopes"] = "refused-"+rule, []string{"tokens:read"}
		requirePolicyError(t, s.do(t, "POST", "/v1/tokens", ws.APIKey, req), rule)
	}
	requirePolicyError(t, s.do(t, "POST", "/v1/tokens", ws.APIKey, map[string]any{"name": "no-rotation", "scopes": []string{"tokens:read"}}),
		"max_rotation_period")
	s.setPolicy(t, ws.APIKey, map[string]any{"max_lifetime": nil, "default_lifetime": nil, "require_expiry": true, "max_rotation_period": nil})
	requirePolicyError(t, s.do(t, "POST", "/v1/tokens", ws.APIKey, map[string]any{"name": "no-expiry", "scopes": []string{"tokens:read"}}),
		"require_expiry")

	// Lifting the policy clears the report; forever can rotate again.
	rep := s.setPolicy(t, ws.APIKey, map[string]any{"max_lifetime": nil, "default_lifetime": nil, "require_expiry": false, "max_rotation_period": nil})
	if rep.NonCompliant.Total != 0 || len(rep.NonCompliant.TokenIDs) != 0 {
		t.Errorf("non_compliant = %+v without a policy, want none", rep.NonCompliant)
	}
	s.rotate(t, forever.Token, forever.ID, nil)
}

// TestPolicySetOnOneReplicaIsEnforcedOnTheOther: a replica that has the workspace cached learns of a
// policy change made on another within the propagation bound of 1 s, and then enforces it.
func TestPolicySetOnOneReplicaIsEnforcedOnTheOther(t *testing.T) {
	t.Parallel()
	a := startServer(t)
	b := a.replica(t)
	ws := a.bootstrap(t, "Acme")
	b.createToken(t, ws.APIKey, map[string]any{"name": "warm", "scopes": []string{"tokens:read"}}) // caches the workspace
	if b.policy(t, ws.APIKey).Policy.RequireExpiry {
		t.Fatal("require_expiry is on before any policy was set")
	}
	a.setPolicy(t, ws.APIKey, map[string]any{"max_lifetime": nil, "default_lifetime": nil, "require_expiry": true, "max_rotation_period": nil})
	deadline := time.Now().Add(time.Second)
	for !b.policy(t, ws.APIKey).Policy.RequireExpiry {
		if time.Now().After(deadline) {
			t.Fatal("the other replica still reports the old policy 1 s after the change")
		}
		time.Sleep(10 * time.Millisecond)
	}
	requirePolicyError(t, b.do(t, "POST", "/v1/tokens", ws.APIKey, map[string]any{"name": "late", "scopes": []string{"tokens:read"}}),
		"require_expiry")
	if nc := b.policy(t, ws.APIKey).NonCompliant; nc.Total != 1 {
		t.Errorf("non_compliant on the other replica = %+v, want the warm-up token", nc)
	}
}
