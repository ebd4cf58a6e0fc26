package core_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/adapters/argon2id"
	"github.com/tooken/tooken/adapters/jwks"
	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// TestScanExpiry walks a test clock over every threshold (just before, at, just after) and checks
// that each notice is recorded once, by one scan, never again.
func TestScanExpiry(t *testing.T) {
	e := newEnv(t)
	p := e.workspace("acme")
	at := func(d time.Duration) *string { s := epoch.Add(d).Format(time.RFC3339Nano); return &s }
	create := func(name string, in core.CreateTokenInput) *core.IssuedToken {
		t.Helper()
		in.Name, in.Scopes = name, []string{"tokens:read"}
		it, err := e.svc.CreateToken(e.ctx, p, in)
		if err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
		return it
	}
	const day = 24 * time.Hour
	long := create("long", core.CreateTokenInput{ExpiresAt: at(10 * day)})
	short := create("short", core.CreateTokenInput{ExpiresAt: at(3 * day)}) // its 7-day notice predates it
	rotating := create("rotating", core.CreateTokenInput{RotationPeriod: ptr(int64(3 * 3600))})
	revoked := create("revoked", core.CreateTokenInput{ExpiresAt: at(10 * day)})
	if err := e.svc.RevokeToken(e.ctx, p, revoked.Token.ID); err != nil {
		t.Fatal(err)
	}

	second := newReplica(t, e) // another replica on the same stores, without this one's memory
	scan := func(d time.Duration, want int) {
		t.Helper()
		e.clock.Set(epoch.Add(d))
		n, err := e.svc.ScanExpiry(e.ctx)
		if err != nil || n != want {
			t.Fatalf("at +%v: ScanExpiry = %d, %v; want %d", d, n, err, want)
		}
		if n, err := second.ScanExpiry(e.ctx); err != nil || n != 0 {
			t.Fatalf("at +%v: second replica's ScanExpiry = %d, %v; want 0", d, n, err)
		}
	}
	scan(0, 0)
	scan(2*time.Hour-time.Microsecond, 0) // the rotating value lapses at +3h; its notice is due at +2h
	scan(2*time.Hour, 1)
	scan(2*time.Hour+time.Microsecond, 0)

	e.clock.Set(epoch.Add(150 * time.Minute))
	if _, err := e.svc.RotateToken(e.ctx, e.auth(rotating.Value), rotating.Token.ID, nil); err != nil {
		t.Fatal(err)
	}
	scan(270*time.Minute-time.Microsecond, 0) // the new value lapses at +5h30m: notice at +4h30m
	scan(270*time.Minute, 1)
	scan(2*day-time.Microsecond, 0)
	scan(2*day, 1) // short: 1 day before
	scan(3*day-time.Microsecond, 0)
	scan(3*day, 2) // long: 7 days before; short: expired
	scan(3*day+time.Microsecond, 0)
	scan(9*day, 1)  // long: 1 day before
	scan(10*day, 1) // long: expired
	scan(40*day, 0)

	count := func(action, target string) int {
		t.Helper()
		_, n, err := e.stores.Audit.AuditEvents(e.ctx, p.WorkspaceID,
			ports.AuditFilter{Page: ports.Page{Page: 1, PerPage: 100}, Action: action, TargetID: target})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, c := range []struct {
		action, target string
		want           int
	}{
		{core.ActionTokenExpiring, long.Token.ID, 2}, {core.ActionTokenExpired, long.Token.ID, 1},
		{core.ActionTokenExpiring, short.Token.ID, 1}, {core.ActionTokenExpired, short.Token.ID, 1},
		{core.ActionTokenExpiring, rotating.Token.ID, 2}, {core.ActionTokenExpired, rotating.Token.ID, 0},
		{core.ActionTokenExpiring, revoked.Token.ID, 0}, {core.ActionTokenExpired, revoked.Token.ID, 0},
	} {
		if got := count(c.action, c.target); got != c.want {
			t.Errorf("%s events for %s = %d, want %d", c.action, c.target, got, c.want)
		}
	}
}

// TestScanExpiryConcurrent races replicas over the same thresholds: each notice is recorded once.
func TestScanExpiryConcurrent(t *testing.T) {
	e := newEnv(t)
	p := e.workspace("acme")
	for i := range 20 {
		exp := epoch.Add(time.Duration(i+1) * time.Hour).Format(time.RFC3339)
		if _, err := e.svc.CreateToken(e.ctx, p, core.CreateTokenInput{Name: "t" + string(rune('a'+i)),
			Scopes: []string{"tokens:read"}, ExpiresAt: &exp}); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Set(epoch.Add(30 * time.Hour))
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 8 {
		r := newReplica(t, e)
		wg.Go(func() {
			n, err := r.ScanExpiry(e.ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 20 {
		t.Fatalf("replicas recorded %d notices, want 20 (one token.expired per token)", total)
	}
}

// newReplica returns another Service on e's stores and clock.
func newReplica(t *testing.T, e *env) *core.Service {
	t.Helper()
	signer, err := jwks.New(e.stores.SigningKeys, make([]byte, 32), "https://tooken.test", e.clock)
	if err != nil {
		t.Fatal(err)
	}
	return core.New(core.Config{PublicURL: "https://tooken.test"}, e.stores, signer, e.clock,
		argon2id.Hasher{Memory: 1024, Time: 1, Threads: 1})
}

// TestScanExpiryRespectsAuditRetention: a scan does not catch up on thresholds older than the
// workspace's audit retention, whose events may have been pruned already (recording them again
// would break "exactly once").
func TestScanExpiryRespectsAuditRetention(t *testing.T) {
	e := newEnv(t)
	p := e.workspace("acme")
	if _, err := e.svc.UpdateWorkspace(e.ctx, p, core.UpdateWorkspaceInput{AuditRetentionDays: ptr(1)}); err != nil {
		t.Fatal(err)
	}
	for i, d := range []time.Duration{time.Hour, 47 * time.Hour} {
		exp := epoch.Add(d).Format(time.RFC3339)
		if _, err := e.svc.CreateToken(e.ctx, p, core.CreateTokenInput{Name: "t" + string(rune('a'+i)),
			Scopes: []string{"tokens:read"}, ExpiresAt: &exp}); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.Set(epoch.Add(48 * time.Hour)) // the first expired 47 h ago, beyond the 1-day retention
	if n, err := e.svc.ScanExpiry(e.ctx); err != nil || n != 1 {
		t.Fatalf("ScanExpiry = %d, %v; want only the expiry within the retention", n, err)
	}
}
