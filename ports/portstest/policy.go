package portstest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// testWorkspacePolicy checks that a workspace's expiration policy and audit retention round-trip
// through CreateWorkspace and UpdateWorkspace.
func testWorkspacePolicy(t *testing.T, newStores Factory) {
	run(t, newStores, "CreateWorkspaceStoresPolicyAndRetention", testCreateWorkspacePolicy)
	run(t, newStores, "UpdateWorkspaceStoresPolicyAndRetention", testUpdateWorkspacePolicy)
}

// testTokenPolicy checks NonCompliantTokens (each rule at, just under and just over its bound; only
// active tokens; newest first, limit and total; workspace isolation) and RotationPeriod round trips.
func testTokenPolicy(t *testing.T, newStores Factory) {
	run(t, newStores, "RotationPeriodRoundTrips", testRotationPeriodRoundTrip)
	run(t, newStores, "NonCompliantTokensRequireExpiry", testNonCompliantRequireExpiry)
	run(t, newStores, "NonCompliantTokensMaxLifetime", testNonCompliantMaxLifetime)
	run(t, newStores, "NonCompliantTokensMaxRotationPeriod", testNonCompliantMaxRotation)
	run(t, newStores, "NonCompliantTokensListsOnlyActiveTokens", testNonCompliantActiveOnly)
	run(t, newStores, "NonCompliantTokensLimitAndTotal", testNonCompliantLimit)
	run(t, newStores, "NonCompliantTokensIsScopedToTheWorkspace", testNonCompliantIsolation)
}

func fullPolicy() ports.Policy {
	return ports.Policy{MaxLifetime: ptr(int64(90 * 24 * 3600)), DefaultLifetime: ptr(int64(30 * 24 * 3600)),
		RequireExpiry: true, MaxRotationPeriod: ptr(int64(7 * 24 * 3600))}
}

func testCreateWorkspacePolicy(e *env) {
	tn := e.tenantRecord(e.newAccount())
	tn.WS.AuditRetentionDays, tn.WS.Policy = ptr(365), fullPolicy()
	e.must(e.s.Workspaces.CreateWorkspace(e.ctx, cloneWorkspace(tn.WS), cloneMember(tn.Owner),
		cloneSigningKey(tn.Key), cloneEvent(tn.Event)), "CreateWorkspace")
	e.wantWorkspace(tn.WS, "Workspace created with a policy")
}

func testUpdateWorkspacePolicy(e *env) {
	tn := e.newTenant()
	e.wantWorkspace(tn.WS, "Workspace without policy") // nil limits, no retention
	upd := cloneWorkspace(tn.WS)
	upd.AuditRetentionDays, upd.Policy = ptr(90), fullPolicy()
	ev := e.workspaceEvent(upd, "policy.updated")
	given := cloneWorkspace(upd)
	e.must(e.s.Workspaces.UpdateWorkspace(e.ctx, given, cloneEvent(ev)), "UpdateWorkspace(policy)")
	*given.AuditRetentionDays, *given.Policy.MaxLifetime = 1, 1 // the store keeps no reference to them
	e.wantWorkspace(upd, "Workspace after setting the policy")
	e.wantRecorded(ev)
	got, err := e.s.Workspaces.Workspace(e.ctx, tn.WS.ID)
	e.must(err, "Workspace")
	*got.Policy.MaxRotationPeriod = 1
	e.wantWorkspace(upd, "Workspace after the caller changed what it read")

	// Only some rules, zero values included; then none at all.
	upd.AuditRetentionDays, upd.Policy = ptr(0), ports.Policy{MaxLifetime: ptr(int64(0))}
	e.must(e.s.Workspaces.UpdateWorkspace(e.ctx, cloneWorkspace(upd), nil), "UpdateWorkspace(partial policy)")
	e.wantWorkspace(upd, "Workspace after a partial policy")
	upd.AuditRetentionDays, upd.Policy = nil, ports.Policy{}
	e.must(e.s.Workspaces.UpdateWorkspace(e.ctx, cloneWorkspace(upd), nil), "UpdateWorkspace(no policy)")
	e.wantWorkspace(upd, "Workspace after clearing the policy")
}

func testRotationPeriodRoundTrip(e *env) {
	tn := e.newTenant()
	for i, period := range []*int64{nil, ptr(int64(1)), ptr(int64(90 * 24 * 3600))} {
		tok := e.tokenRecord(tn, fmt.Sprintf("rotating-%d", i), e.at(time.Duration(i)*time.Second))
		tok.RotationPeriod = period
		e.storeToken(tok)
		e.wantToken(tok, fmt.Sprintf("Token with RotationPeriod %s", fmtPtr(period)))
	}
}

// policyToken stores an active token of the tenant created 10 minutes before the base instant
// (plus seq microseconds, so that each is newer than the one before), with the given lifetime
// (none when nil) and rotation period.
func (e *env) policyToken(tn *tenant, seq int, lifetime *time.Duration, rotation *int64) *ports.Token {
	e.t.Helper()
	created := e.at(-10*time.Minute + time.Duration(seq)*time.Microsecond)
	tok := e.tokenRecord(tn, fmt.Sprintf("policy-%d", seq), created)
	if lifetime != nil {
		tok.ExpiresAt = ptr(created.Add(*lifetime))
	}
	tok.RotationPeriod = rotation
	e.storeToken(tok)
	return tok
}

// wantNonCompliant checks the ids (in order) and total NonCompliantTokens returns at the base instant.
func (e *env) wantNonCompliant(tn *tenant, p ports.Policy, limit, wantTotal int, want ...*ports.Token) {
	e.t.Helper()
	ids, total, err := e.s.Tokens.NonCompliantTokens(e.ctx, tn.WS.ID, p, e.at(0), limit)
	e.must(err, "NonCompliantTokens")
	wantIDs := make([]string, len(want))
	for i, t := range want {
		wantIDs[i] = t.ID
	}
	what := fmt.Sprintf("NonCompliantTokens(max lifetime %s, require expiry %v, max rotation %s, limit %d)",
		fmtPtr(p.MaxLifetime), p.RequireExpiry, fmtPtr(p.MaxRotationPeriod), limit)
	if !slices.Equal(ids, wantIDs) || total != wantTotal {
		e.t.Errorf("%s: %v total %d, want %v total %d", what, ids, total, wantIDs, wantTotal)
	}
}

func testNonCompliantRequireExpiry(e *env) {
	tn := e.newTenant()
	never := e.policyToken(tn, 1, nil, nil)
	e.policyToken(tn, 2, ptr(time.Hour), nil)
	e.policyToken(tn, 3, ptr(100*365*24*time.Hour), nil)
	e.wantNonCompliant(tn, ports.Policy{RequireExpiry: true}, 10, 1, never)
	e.wantNonCompliant(tn, ports.Policy{}, 10, 0)
	e.wantNonCompliant(tn, ports.Policy{DefaultLifetime: ptr(int64(60))}, 10, 0) // concerns new tokens only
}

func testNonCompliantMaxLifetime(e *env) {
	tn := e.newTenant()
	const bound = 3600
	limit := time.Duration(bound) * time.Second
	e.policyToken(tn, 1, ptr(limit), nil)                  // at the bound
	e.policyToken(tn, 2, ptr(limit-time.Microsecond), nil) // just under
	over := e.policyToken(tn, 3, ptr(limit+time.Microsecond), nil)
	overBySecond := e.policyToken(tn, 4, ptr(limit+time.Second), nil)
	never := e.policyToken(tn, 5, nil, nil)
	e.policyToken(tn, 6, ptr(time.Minute), nil)
	e.wantNonCompliant(tn, ports.Policy{MaxLifetime: ptr(int64(bound))}, 10, 3, never, overBySecond, over)
	// Expiry is required too and two rules break: each token is listed once.
	e.wantNonCompliant(tn, ports.Policy{MaxLifetime: ptr(int64(bound)), RequireExpiry: true}, 10, 3,
		never, overBySecond, over)
	e.wantNonCompliant(tn, ports.Policy{MaxLifetime: ptr(int64(bound + 1))}, 10, 1, never)
}

func testNonCompliantMaxRotation(e *env) {
	tn := e.newTenant()
	const bound = 600
	e.policyToken(tn, 1, nil, ptr(int64(bound)))   // at the bound
	e.policyToken(tn, 2, nil, ptr(int64(bound-1))) // just under
	over := e.policyToken(tn, 3, nil, ptr(int64(bound+1)))
	none := e.policyToken(tn, 4, ptr(time.Hour), nil)
	e.wantNonCompliant(tn, ports.Policy{MaxRotationPeriod: ptr(int64(bound))}, 10, 2, none, over)
	e.wantNonCompliant(tn, ports.Policy{MaxRotationPeriod: ptr(int64(bound - 1))}, 10, 3, none, over,
		e.token(tn.WS.ID, e.tokenIDNamed(tn, "policy-1")))
	// Every rule at once: the token without expiry breaks RequireExpiry and MaxLifetime as well.
	e.wantNonCompliant(tn, ports.Policy{MaxRotationPeriod: ptr(int64(bound)), RequireExpiry: true,
		MaxLifetime: ptr(int64(2 * 3600))}, 10, 4, none, over, e.token(tn.WS.ID, e.tokenIDNamed(tn, "policy-2")),
		e.token(tn.WS.ID, e.tokenIDNamed(tn, "policy-1")))
}

// tokenIDNamed returns the id of the tenant's token with that name.
func (e *env) tokenIDNamed(tn *tenant, name string) string {
	e.t.Helper()
	list, _ := e.tokens(tn.WS.ID, ports.TokenFilter{NameContains: name})
	for _, t := range list {
		if t.Name == name {
			return t.ID
		}
	}
	e.t.Fatalf("no token named %q", name)
	return ""
}

func testNonCompliantActiveOnly(e *env) {
	tn := e.newTenant()
	p := ports.Policy{RequireExpiry: true, MaxLifetime: ptr(int64(60))}
	active := e.policyToken(tn, 1, ptr(time.Hour), nil)
	revoked := e.policyToken(tn, 2, nil, nil)
	_, _, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, revoked.ID, e.at(-time.Minute), nil)
	e.must(err, "RevokeToken")
	e.policyToken(tn, 3, ptr(10*time.Minute-4*time.Microsecond), nil) // expired just before now
	e.policyToken(tn, 4, ptr(10*time.Minute-4*time.Microsecond), nil) // expires exactly now: expired
	later := e.policyToken(tn, 5, ptr(10*time.Minute-4*time.Microsecond), nil)
	if !later.ExpiresAt.After(e.at(0)) {
		e.t.Fatalf("setup: token 5 expires at %s, not after now", fmtTime(*later.ExpiresAt))
	}
	e.wantNonCompliant(tn, p, 10, 2, later, active)
}

func testNonCompliantLimit(e *env) {
	tn := e.newTenant()
	var breaking []*ports.Token
	for i := range 5 {
		breaking = append(breaking, e.policyToken(tn, i, nil, nil))
		e.policyToken(tn, 10+i, ptr(time.Hour), nil)
	}
	slices.Reverse(breaking) // newest first
	p := ports.Policy{RequireExpiry: true}
	e.wantNonCompliant(tn, p, 2, 5, breaking[:2]...)
	e.wantNonCompliant(tn, p, 5, 5, breaking...)
	e.wantNonCompliant(tn, p, 100, 5, breaking...)
	e.wantNonCompliant(tn, p, 0, 5)
}

func testNonCompliantIsolation(e *env) {
	a, b := e.newTenant(), e.newTenant()
	mine := e.policyToken(a, 1, nil, nil)
	e.policyToken(b, 2, nil, nil)
	e.policyToken(b, 3, nil, ptr(int64(1)))
	e.wantNonCompliant(a, ports.Policy{RequireExpiry: true, MaxRotationPeriod: ptr(int64(60))}, 10, 1, mine)
	ids, total, err := e.s.Tokens.NonCompliantTokens(e.ctx, newID("ws_"), ports.Policy{RequireExpiry: true}, e.at(0), 10)
	if err != nil || len(ids) != 0 || total != 0 {
		e.t.Errorf("NonCompliantTokens(unknown workspace): %v total %d, %v; want none", ids, total, err)
	}
}
