package core

import (
	"context"
	"time"

	"github.com/tooken/tooken/ports"
)

// MaxFeedPage bounds one page of the revocation feed.
const MaxFeedPage = 1000

// Revocations lists a workspace's revocation feed after cursor `after` (the public, paged feed);
// ENOTFOUND for an unknown workspace.
func (s *Service) Revocations(ctx context.Context, workspaceID string, after int64, limit int) ([]ports.Revocation, error) {
	if after < 0 {
		return nil, invalid("after", "after must be a cursor returned by the feed")
	}
	if limit < 1 || limit > MaxFeedPage {
		return nil, invalid("limit", "limit must be between 1 and 1000")
	}
	if _, err := s.workspace(ctx, workspaceID); err != nil {
		return nil, workspaceNotFound(err, workspaceID)
	}
	return s.stores.Feed.Revocations(ctx, workspaceID, after, s.Now(), limit)
}

// FeedEvent is one item of a revocation stream: an entry, or word that the workspace's signing keys
// changed (verifiers refetch the JWKS).
type FeedEvent struct {
	Revocation  *ports.Revocation
	KeysChanged bool
}

// WatchRevocations streams a workspace's revocation entries after cursor `after` — the backlog first,
// then each new entry as it commits on any replica — and a KeysChanged event when its signing keys
// change, until ctx ends. ENOTFOUND for an unknown workspace.
func (s *Service) WatchRevocations(ctx context.Context, workspaceID string, after int64) (<-chan FeedEvent, error) {
	if _, err := s.workspace(ctx, workspaceID); err != nil {
		return nil, workspaceNotFound(err, workspaceID)
	}
	wake := s.watchers.add(workspaceID)
	out := make(chan FeedEvent)
	go func() {
		defer close(out)
		defer s.watchers.remove(workspaceID, wake)
		send := func(e FeedEvent) bool {
			select {
			case out <- e:
				return true
			case <-ctx.Done():
				return false
			}
		}
		retry := time.NewTicker(5 * time.Second) // re-reads after a failed read even if nothing wakes us
		defer retry.Stop()
		for {
			for {
				page, err := s.stores.Feed.Revocations(ctx, workspaceID, after, s.Now(), MaxFeedPage)
				if err != nil {
					break // the next wake-up (or the reconnecting client) retries
				}
				for i := range page {
					if !send(FeedEvent{Revocation: &page[i]}) {
						return
					}
					after = page[i].Seq
				}
				if len(page) < MaxFeedPage {
					break
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-retry.C:
			case c := <-wake:
				if c.Kind == ports.ChangeSigningKey || c.Kind == ports.ChangeResync {
					if !send(FeedEvent{KeysChanged: true}) {
						return
					}
				}
			}
		}
	}()
	return out, nil
}
