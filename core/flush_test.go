package core_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// failingAppends fails the next `fail` audit appends as an unreachable database would.
type failingAppends struct {
	ports.AuditLog
	fail atomic.Int32
}

func (a *failingAppends) AppendAuditEvents(ctx context.Context, events ...*ports.AuditEvent) error {
	if a.fail.Add(-1) >= 0 {
		return ports.Errorf(ports.EUNAVAILABLE, "database unavailable")
	}
	return a.AuditLog.AppendAuditEvents(ctx, events...)
}

// Failed authentications whose flush fails are written, all of them, by the next flush.
func TestAuthFailuresSurviveAFailedFlush(t *testing.T) {
	audit := &failingAppends{}
	e := newEnvWrapping(t, core.Config{}, func(s *ports.Stores) {
		audit.AuditLog = s.Audit
		s.Audit = audit
	})
	owner := e.workspace("acme")
	it := e.token(owner, "svc", "tokens:read")
	if err := e.svc.RevokeToken(e.ctx, owner, it.Token.ID); err != nil {
		t.Fatal(err)
	}
	fail := func(n int) {
		for range n {
			_, _ = e.svc.Authenticate(e.ctx, it.Value)
		}
	}
	fail(3)
	audit.fail.Store(1)
	if err := e.svc.FlushAuthFailures(e.ctx); ports.ErrorCode(err) != ports.EUNAVAILABLE {
		t.Fatalf("flush against an unavailable store: %v", err)
	}
	fail(2)
	if err := e.svc.FlushAuthFailures(e.ctx); err != nil {
		t.Fatal(err)
	}
	list, _, n, err := e.svc.ListAuditEvents(e.ctx, owner, core.ListAuditInput{Action: "auth.failed"})
	if err != nil || n != 1 {
		t.Fatalf("auth.failed events = %d (%v), want 1", n, err)
	}
	if c := list[0].Metadata["count"]; c != 5 && c != float64(5) {
		t.Errorf("count = %v, want the 3 failures of the failed flush and the 2 after it", c)
	}
}

// cutUsage holds the first MarkUsed until its context ends and fails it, as a flush interrupted by
// shutdown would fail; later calls go through.
type cutUsage struct {
	ports.UsageStore
	entered chan struct{}
	once    sync.Once
}

func (u *cutUsage) MarkUsed(ctx context.Context, uses []ports.Usage) ([]ports.Usage, error) {
	first := false
	u.once.Do(func() { first = true })
	if first {
		close(u.entered)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return u.UsageStore.MarkUsed(ctx, uses)
}

// Stopping the flusher while a flush is in flight reports no error, and the last flush writes what
// the interrupted one had taken.
func TestStoppingTheFlusherMidFlushLosesNothingAndReportsNothing(t *testing.T) {
	usage := &cutUsage{entered: make(chan struct{})}
	e := newEnvWrapping(t, core.Config{}, func(s *ports.Stores) {
		usage.UsageStore = s.Usage
		s.Usage = usage
	})
	owner := e.workspace("acme")
	it := e.token(owner, "svc", "tokens:read")
	e.auth(it.Value)
	ctx, cancel := context.WithCancel(e.ctx)
	var errs []error
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.svc.RunFlusher(ctx, time.Millisecond, func(err error) { errs = append(errs, err) })
	}()
	<-usage.entered
	cancel()
	<-done
	if len(errs) != 0 {
		t.Errorf("errors reported: %v", errs)
	}
	tok, err := e.stores.Tokens.Token(e.ctx, owner.WorkspaceID, it.Token.ID)
	if err != nil || tok.LastUsedAt == nil || !tok.LastUsedAt.Equal(e.svc.Now()) {
		t.Fatalf("stored token after the flusher stopped: %+v, %v; want last_used_at %v", tok, err, e.svc.Now())
	}
}
