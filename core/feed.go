package core

import (
	"context"

	"github.com/tooken/tooken/ports"
)

// MaxFeedPage bounds one page of the revocation feed.
const MaxFeedPage = 1000

// Revocations lists a page of a workspace's revocation feed after cursor `after` (the public, paged
// feed) and whether more entries follow; ENOTFOUND for an unknown workspace.
func (s *Service) Revocations(ctx context.Context, workspaceID string, after int64, limit int) ([]ports.Revocation, bool, error) {
	if after < 0 {
		return nil, false, invalid("after", "after must be a cursor returned by the feed")
	}
	if limit < 1 || limit > MaxFeedPage {
		return nil, false, invalid("limit", "limit must be between 1 and 1000")
	}
	if _, err := s.workspace(ctx, workspaceID); err != nil {
		return nil, false, workspaceNotFound(err, workspaceID)
	}
	list, err := s.stores.Feed.Revocations(ctx, workspaceID, after, s.Now(), limit+1)
	if err != nil || len(list) <= limit {
		return list, false, err
	}
	return list[:limit], true, nil
}

// FeedEvent is one item of a revocation stream: an entry, or word that the workspace's signing keys
// changed (verifiers refetch the JWKS).
type FeedEvent struct {
	Revocation  *ports.Revocation
	KeysChanged bool
}

// WatchRevocations streams a workspace's revocation entries after cursor `after` — the backlog first,
// then each new entry as it commits on any replica — and a KeysChanged event when its signing keys
// change, until ctx ends. If the feed cannot be read the stream ends, so that followers notice (and
// fail closed once stale) instead of trusting heartbeats of a server that cannot see revocations.
// ENOTFOUND for an unknown workspace.
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
		for {
			for {
				page, err := s.stores.Feed.Revocations(ctx, workspaceID, after, s.Now(), MaxFeedPage)
				if err != nil {
					return
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
