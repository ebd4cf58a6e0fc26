package core

import (
	"context"
	"sync"
	"time"

	"github.com/tooken/tooken/ports"
)

// maxFailureKeys bounds the authentication-failure buffer; past it, failures are counted together.
const maxFailureKeys = 10_000

// failureKey groups failed authentications into one audit event per window.
type failureKey struct {
	workspaceID string // "" when the credential names no known workspace
	ip          string
	reason      string
	actorType   string
	actorID     string
}

// failureBuffer aggregates failed authentications so that an attack produces one audit event per
// (workspace, client IP, reason, credential) and flush interval, never one per request.
type failureBuffer struct {
	mu     sync.Mutex
	counts map[failureKey]int
	since  time.Time
}

func (b *failureBuffer) add(k failureKey, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.counts == nil {
		b.counts, b.since = make(map[failureKey]int), now
	}
	b.count(k, 1)
}

// count adds n failures to k's group, or to the overflow group when the buffer is full; b.mu is held.
func (b *failureBuffer) count(k failureKey, n int) {
	if _, ok := b.counts[k]; !ok && len(b.counts) >= maxFailureKeys {
		k = failureKey{reason: "overflow"}
	}
	b.counts[k] += n
}

func (b *failureBuffer) take() (map[failureKey]int, time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, since := b.counts, b.since
	b.counts = nil
	return c, since
}

// restore adds counts taken by a flush that failed back to the buffer (within its bound), so the
// next flush writes them, dated from the earlier of the two windows.
func (b *failureBuffer) restore(counts map[failureKey]int, since time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.counts == nil {
		b.counts, b.since = counts, since
		return
	}
	for k, n := range counts {
		b.count(k, n)
	}
	if since.Before(b.since) {
		b.since = since
	}
}

// recordAuthFailure notes a failed authentication for the audit log.
func (s *Service) recordAuthFailure(ctx context.Context, err error, t *ports.Token) {
	k := failureKey{ip: RequestMetaFrom(ctx).IP, reason: ports.ErrorMessage(err)}
	if t != nil {
		k.workspaceID, k.actorType, k.actorID = t.WorkspaceID, KindToken, t.ID
	}
	s.failures.add(k, s.Now())
}

// FlushAuthFailures writes one auth.failed audit event per aggregated group. On failure the groups
// are kept for the next flush.
func (s *Service) FlushAuthFailures(ctx context.Context) error {
	counts, since := s.failures.take()
	if len(counts) == 0 {
		return nil
	}
	events := make([]*ports.AuditEvent, 0, len(counts))
	for k, n := range counts {
		actor := ports.Actor{Type: "system", ID: "authentication"}
		if k.actorType != "" {
			actor = ports.Actor{Type: k.actorType, ID: k.actorID}
		}
		ev := s.event(ctx, actor, k.workspaceID, "auth.failed", ports.Target{Type: "credential", ID: k.actorID},
			map[string]any{"count": n, "reason": k.reason, "since": since.UTC().Format(time.RFC3339)})
		ev.IP, ev.UserAgent, ev.RequestID = k.ip, "", ""
		events = append(events, ev)
	}
	if err := s.stores.Audit.AppendAuditEvents(ctx, events...); err != nil {
		s.failures.restore(counts, since)
		return err
	}
	return nil
}
