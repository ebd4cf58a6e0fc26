package core

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tooken/tooken/ports"
)

// usageBuffer coalesces last-used times in memory so that authenticating a request writes nothing;
// Flush writes them in one batch.
type usageBuffer struct {
	mu   sync.Mutex
	last map[[2]string]time.Time
}

func newUsageBuffer() *usageBuffer {
	return &usageBuffer{last: make(map[[2]string]time.Time)}
}

func (b *usageBuffer) add(u ports.Usage) {
	k := [2]string{u.Kind, u.ID}
	b.mu.Lock()
	if u.At.After(b.last[k]) {
		b.last[k] = u.At
	}
	b.mu.Unlock()
}

// pending returns the buffered last-used time of one credential, if any.
func (b *usageBuffer) pending(kind, id string) (time.Time, bool) {
	b.mu.Lock()
	at, ok := b.last[[2]string{kind, id}]
	b.mu.Unlock()
	return at, ok
}

func (b *usageBuffer) take() []ports.Usage {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.last) == 0 {
		return nil
	}
	out := make([]ports.Usage, 0, len(b.last))
	for k, at := range b.last {
		out = append(out, ports.Usage{Kind: k[0], ID: k[1], At: at})
	}
	clear(b.last)
	return out
}

// FlushUsage writes the buffered last-used times. On failure they are kept for the next flush. The
// store samples token uses for token.used webhook events in the same transaction (see
// ports.UsageStore), so the request path pays nothing for them.
func (s *Service) FlushUsage(ctx context.Context) error {
	uses := s.usage.take()
	if len(uses) == 0 {
		return nil
	}
	if _, err := s.stores.Usage.MarkUsed(ctx, uses); err != nil {
		for _, u := range uses {
			s.usage.add(u)
		}
		return err
	}
	for _, u := range uses {
		if u.Kind == KindToken {
			s.tokens.update(u.ID, func(old *cachedToken, ok bool) (*cachedToken, bool) {
				if !ok || (old.LastUsedAt != nil && !u.At.After(*old.LastUsedAt)) {
					return old, false
				}
				c, at := *old, u.At
				c.LastUsedAt = &at
				return &c, true
			})
		}
	}
	return nil
}

// Flush writes the buffered last-used times and the aggregated authentication failures.
func (s *Service) Flush(ctx context.Context) error {
	return errors.Join(s.FlushUsage(ctx), s.FlushAuthFailures(ctx))
}

// RunFlusher flushes every interval until ctx ends, then once more (what a flush cut short by ctx
// ending took is kept for that last one, so it is not reported).
func (s *Service) RunFlusher(ctx context.Context, interval time.Duration, onError func(error)) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			if err := s.Flush(context.WithoutCancel(ctx)); err != nil {
				onError(err)
			}
			return
		case <-tick.C:
			if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
				onError(err) // a flush cut short by ctx is not one: what it took is flushed below
			}
		}
	}
}
