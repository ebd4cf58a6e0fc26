package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func i64(v int64) *int64 { return &v }

func TestPolicyRulesAtJustUnderAndJustOverTheirBounds(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	day := int64(86_400)
	if _, err := e.svc.SetPolicy(e.ctx, owner, ports.Policy{MaxLifetime: i64(day), RequireExpiry: true, MaxRotationPeriod: i64(3600)}); err != nil {
		t.Fatal(err)
	}
	create := func(name string, life time.Duration, rotation int64) error {
		exp := epoch.Add(life).Format(time.RFC3339)
		in := core.CreateTokenInput{Name: name, Scopes: []string{"tokens:read"}, ExpiresAt: &exp, RotationPeriod: &rotation}
		if life == 0 {
			in.ExpiresAt = nil
		}
		_, err := e.svc.CreateToken(e.ctx, owner, in)
		return err
	}
	rule := func(err error) string {
		if pe, ok := err.(*ports.Error); ok {
			return pe.Details["policy"]
		}
		return ""
	}
	for _, c := range []struct {
		name     string
		life     time.Duration
		rotation int64
		rule     string
	}{
		{"lifetime at the bound", 24 * time.Hour, 3600, ""},
		{"lifetime just under", 24*time.Hour - time.Second, 3599, ""},
		{"lifetime just over", 24*time.Hour + time.Second, 3600, "max_lifetime"},
		{"no expiry", 0, 3600, "require_expiry"},
		{"rotation just over", time.Hour, 3601, "max_rotation_period"},
	} {
		err := create(c.name, c.life, c.rotation)
		if got := rule(err); got != c.rule || (c.rule != "" && ports.ErrorCode(err) != ports.EUNPROCESSABLE) {
			t.Errorf("%s: err %v (rule %q), want rule %q", c.name, err, got, c.rule)
		}
	}
}

func TestDefaultLifetimeFillsAnOmittedExpiry(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	if _, err := e.svc.SetPolicy(e.ctx, owner, ports.Policy{DefaultLifetime: i64(3600), RequireExpiry: true}); err != nil {
		t.Fatal(err)
	}
	it := e.token(owner, "defaulted", "tokens:read")
	if it.Token.ExpiresAt == nil || !it.Token.ExpiresAt.Equal(epoch.Add(time.Hour)) {
		t.Fatalf("expires_at = %v, want now + default_lifetime", it.Token.ExpiresAt)
	}
	_, err := e.svc.SetPolicy(e.ctx, owner, ports.Policy{DefaultLifetime: i64(7200), MaxLifetime: i64(3600)})
	wantCode(t, err, ports.EINVALID)
}

func TestChangingThePolicyReportsButNeverRevokes(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	forever := e.token(owner, "forever", "tokens:read")
	exp := epoch.Add(time.Hour).Format(time.RFC3339)
	if _, err := e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "short", Scopes: []string{"tokens:read"}, ExpiresAt: &exp}); err != nil {
		t.Fatal(err)
	}
	r, err := e.svc.SetPolicy(e.ctx, owner, ports.Policy{RequireExpiry: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.NonCompliantTotal != 1 || len(r.NonCompliant) != 1 || r.NonCompliant[0] != forever.Token.ID {
		t.Fatalf("non-compliant report %+v, want only %s", r, forever.Token.ID)
	}
	e.auth(forever.Value) // still works
	got, _ := e.svc.GetPolicy(e.ctx, owner)
	if got.NonCompliantTotal != 1 || !got.Policy.RequireExpiry {
		t.Fatalf("GET policy %+v", got)
	}
	_, err = e.svc.RotateToken(e.ctx, owner, forever.Token.ID, nil)
	wantCode(t, err, ports.EUNPROCESSABLE)
	_, err = e.svc.SetPolicy(e.ctx, e.auth(forever.Value), ports.Policy{})
	wantCode(t, err, ports.EFORBIDDEN)
}

func TestRotationPeriodBoundsEachValueAndTheTokenRotatesItself(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it, err := e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "rolling", Scopes: []string{"tokens:read"}, RotationPeriod: i64(600)})
	if err != nil {
		t.Fatal(err)
	}
	p := e.auth(it.Value)
	e.clock.Advance(599 * time.Second)
	next, err := e.svc.RotateToken(e.ctx, p, it.Token.ID, nil)
	if err != nil {
		t.Fatalf("self-rotation before the value lapses: %v", err)
	}
	e.clock.Advance(2 * time.Second)
	e.auth(next.Value)
	e.clock.Advance(598 * time.Second)
	_, err = e.svc.Authenticate(e.ctx, next.Value)
	wantErr(t, err, ports.ErrTokenExpired)
	if tk, _ := e.svc.GetToken(e.ctx, owner, it.Token.ID); tk.Status(e.svc.Now()) != ports.StatusActive {
		t.Fatal("the token itself lives on when a value lapses")
	}
	_, err = e.svc.CreateToken(e.ctx, owner, core.CreateTokenInput{Name: "too fast", Scopes: []string{"tokens:read"}, RotationPeriod: i64(299)})
	wantCode(t, err, ports.EINVALID)
}

func TestAuthenticationFailuresAreAggregatedIntoFewEvents(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	it := e.token(owner, "svc", "tokens:read")
	if err := e.svc.RevokeToken(e.ctx, owner, it.Token.ID); err != nil {
		t.Fatal(err)
	}
	ctx := core.WithRequestMeta(e.ctx, core.RequestMeta{IP: "203.0.113.7"})
	for range 500 {
		_, _ = e.svc.Authenticate(ctx, it.Value)
		_, _ = e.svc.Authenticate(ctx, core.NewAPIKeySecret())
	}
	if err := e.svc.Flush(e.ctx); err != nil {
		t.Fatal(err)
	}
	list, _, n, err := e.svc.ListAuditEvents(e.ctx, owner, core.ListAuditInput{Action: "auth.failed"})
	if err != nil || n != 1 {
		t.Fatalf("auth.failed events in the workspace = %d (%v), want 1", n, err)
	}
	if ev := list[0]; ev.Metadata["count"] != 500 && ev.Metadata["count"] != float64(500) || ev.IP != "203.0.113.7" || ev.Actor.ID != it.Token.ID {
		t.Fatalf("aggregated event %+v", ev)
	}
}

// tamperedAudit returns the chain with one event's action changed, as an edited database row would.
type tamperedAudit struct {
	ports.AuditLog
	seq int64
}

func (a tamperedAudit) AuditChain(ctx context.Context, ws string, after int64, limit int) ([]ports.AuditEvent, error) {
	list, err := a.AuditLog.AuditChain(ctx, ws, after, limit)
	for i := range list {
		if list[i].ChainSeq == a.seq {
			list[i].Action = "token.tampered"
		}
	}
	return list, err
}

func TestAuditVerifyNamesTheFirstBrokenLink(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	for _, name := range []string{"a", "b", "c"} {
		it := e.token(owner, name, "tokens:read")
		if err := e.svc.RevokeToken(e.ctx, owner, it.Token.ID); err != nil {
			t.Fatal(err)
		}
	}
	r, err := e.svc.VerifyAuditChain(e.ctx, owner.WorkspaceID, nil)
	if err != nil || !r.OK() || r.Checked < 8 {
		t.Fatalf("intact chain: %+v %v", r, err)
	}
	e.stores.Audit = tamperedAudit{AuditLog: e.stores.Audit, seq: 5}
	svc := core.New(core.Config{PublicURL: "https://tooken.test"}, e.stores, nil, e.clock, nil)
	r, err = svc.VerifyAuditChain(e.ctx, owner.WorkspaceID, nil)
	if err != nil || r.OK() || r.BrokenSeq != 5 || r.Checked != 4 {
		t.Fatalf("tampered chain: %+v %v", r, err)
	}
}

func TestRetentionDeletesOldAuditEventsAndTheChainStillVerifies(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	e.token(owner, "old", "tokens:read")
	if _, err := e.svc.UpdateWorkspace(e.ctx, owner, core.UpdateWorkspaceInput{AuditRetentionDays: ptr(30)}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(31 * 24 * time.Hour)
	e.token(owner, "new", "tokens:read")
	if err := e.svc.Maintain(e.ctx); err != nil {
		t.Fatal(err)
	}
	list, _, n, _ := e.svc.ListAuditEvents(e.ctx, owner, core.ListAuditInput{})
	for _, ev := range list {
		if ev.OccurredAt.Before(e.svc.Now().AddDate(0, 0, -30)) {
			t.Fatalf("event %s older than the retention survived", ev.Action)
		}
	}
	if n == 0 {
		t.Fatal("recent events must stay")
	}
	if r, err := e.svc.VerifyAuditChain(e.ctx, owner.WorkspaceID, nil); err != nil || !r.OK() {
		t.Fatalf("chain after retention: %+v %v", r, err)
	}
}

// droppedAudit hides the chain's first event, as a deleted database row would.
type droppedAudit struct{ ports.AuditLog }

func (a droppedAudit) AuditChain(ctx context.Context, ws string, after int64, limit int) ([]ports.AuditEvent, error) {
	list, err := a.AuditLog.AuditChain(ctx, ws, after, limit)
	if len(list) > 0 && list[0].ChainSeq == 1 {
		list = list[1:]
	}
	return list, err
}

func TestAuditVerifyNoticesDeletedOldestEventsWithoutRetention(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	e.token(owner, "a", "tokens:read")
	e.stores.Audit = droppedAudit{e.stores.Audit}
	svc := core.New(core.Config{PublicURL: "https://tooken.test"}, e.stores, nil, e.clock, nil)
	r, err := svc.VerifyAuditChain(e.ctx, owner.WorkspaceID, nil)
	if err != nil || r.OK() || r.BrokenSeq != 2 {
		t.Fatalf("a chain missing its first event must be broken at #2: %+v %v", r, err)
	}
}
