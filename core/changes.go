package core

import (
	"context"
	"sync"
	"time"

	"github.com/tooken/tooken/ports"
)

// RunChangeListener applies the changes committed by every replica to this replica's caches until
// ctx ends or the subscription closes: a revoked or rotated token, a regenerated or deleted API key, a
// new or revoked signing key, changed workspace settings. It also wakes the revocation streams of the
// workspace concerned. Whatever was cached before the subscription started is dropped, since changes
// made before it cannot be seen.
func (s *Service) RunChangeListener(ctx context.Context) error {
	changes, err := s.stores.Changes.Subscribe(ctx)
	if err != nil {
		return err
	}
	s.apply(ports.Change{Kind: ports.ChangeResync})
	for c := range changes {
		s.apply(c)
	}
	return nil
}

func (s *Service) apply(c ports.Change) {
	switch c.Kind {
	case ports.ChangeToken:
		s.ForgetToken(c.ID)
	case ports.ChangeAPIKey:
		s.forgetAPIKey(c.ID)
	case ports.ChangeSigningKey:
		s.signer.Forget(c.WorkspaceID)
		s.values.clear()
	case ports.ChangeWorkspace:
		s.workspaces.del(c.WorkspaceID)
		s.scopes.del(c.WorkspaceID)
	case ports.ChangeResync:
		s.keyGen.Add(1)
		s.tokenGen.Add(1)
		s.keys.clear()
		s.tokens.clear()
		s.values.clear()
		s.workspaces.clear()
		s.scopes.clear()
		s.signer.Forget("")
	}
	s.watchers.notify(c)
}

// RunReconciler is the safety net under RunChangeListener: every interval it reads the revocation
// feed past the last entry it saw and drops those tokens from the cache, so a lost notification
// cannot leave a revoked or rotated-out value accepted for longer than interval.
func (s *Service) RunReconciler(ctx context.Context, interval time.Duration, onError func(error)) {
	var last int64
	first := true
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		for {
			page, err := s.stores.Feed.RevocationsSince(ctx, last, 1000)
			if err != nil {
				if ctx.Err() == nil {
					onError(err)
				}
				break
			}
			for _, r := range page {
				if !first {
					s.ForgetToken(r.TokenID)
				}
				last = r.Seq
			}
			if len(page) < 1000 {
				break
			}
		}
		first = false
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// watchers wakes the revocation streams of a workspace when its feed or its keys change.
type watchers struct {
	mu   sync.Mutex
	byWS map[string]map[chan ports.Change]struct{}
}

func (w *watchers) add(ws string) chan ports.Change {
	ch := make(chan ports.Change, 1)
	w.mu.Lock()
	if w.byWS == nil {
		w.byWS = make(map[string]map[chan ports.Change]struct{})
	}
	if w.byWS[ws] == nil {
		w.byWS[ws] = make(map[chan ports.Change]struct{})
	}
	w.byWS[ws][ch] = struct{}{}
	w.mu.Unlock()
	return ch
}

func (w *watchers) remove(ws string, ch chan ports.Change) {
	w.mu.Lock()
	delete(w.byWS[ws], ch)
	if len(w.byWS[ws]) == 0 {
		delete(w.byWS, ws)
	}
	w.mu.Unlock()
}

// notify wakes the watchers concerned without ever blocking: a watcher that has not consumed its
// last wake-up will re-read the feed anyway. A signing-key change is never dropped behind a token one.
func (w *watchers) notify(c ports.Change) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ws, set := range w.byWS {
		if c.Kind != ports.ChangeResync && ws != c.WorkspaceID {
			continue
		}
		for ch := range set {
			select {
			case ch <- c:
			default:
				if c.Kind == ports.ChangeSigningKey || c.Kind == ports.ChangeResync {
					select {
					case <-ch:
					default:
					}
					ch <- c
				}
			}
		}
	}
}
