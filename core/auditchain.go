package core

import (
	"context"
	"fmt"

	"github.com/tooken/tooken/ports"
)

// ChainReport is the result of re-checking one workspace's audit chain.
type ChainReport struct {
	WorkspaceID string
	Checked     int   // events whose hash was recomputed
	Unchained   int   // events written before the chain existed (an upgraded install), skipped
	BrokenSeq   int64 // ChainSeq of the first broken link; 0 when the chain is intact
	BrokenID    string
	Reason      string
}

// OK reports whether the chain is intact.
func (r *ChainReport) OK() bool { return r.BrokenSeq == 0 }

// VerifyAuditChain re-reads a workspace's audit events in chain order and recomputes every hash. It
// names the first broken link: an event whose stored hash does not match its content, whose PrevHash
// is not the hash of the event before it, or whose position skips or repeats one — and it notices
// events deleted at either end, by comparing the chain with its head: the first event must follow the
// last one retention deleted, and the last must be the head's (events written while it runs, after
// the head it read, are left for the next run).
func (s *Service) VerifyAuditChain(ctx context.Context, workspaceID string, progress func(checked int)) (*ChainReport, error) {
	r := &ChainReport{WorkspaceID: workspaceID}
	head, err := s.stores.Audit.AuditHead(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	var after, prevSeq int64
	prevHash, started, first := "", false, true
	for {
		page, err := s.stores.Audit.AuditChain(ctx, workspaceID, after, 1000)
		if err != nil {
			return nil, err
		}
		done := len(page) < 1000
		for i := range page {
			ev := &page[i]
			if ev.ChainSeq > head.LastSeq { // written after we read the head: not ours to judge
				done = true
				break
			}
			after = ev.ChainSeq
			if first && ev.ChainSeq != head.PrunedThrough+1 {
				return r.broken(ev, fmt.Sprintf("the chain starts at #%d, but only events up to #%d were removed by retention: older events were deleted", ev.ChainSeq, head.PrunedThrough)), nil
			}
			first = false
			if !started && ev.Hash == "" {
				r.Unchained++
				continue
			}
			switch {
			case started && ev.ChainSeq != prevSeq+1:
				return r.broken(ev, fmt.Sprintf("position %d follows %d: events are missing or reordered", ev.ChainSeq, prevSeq)), nil
			case started && ev.PrevHash != prevHash:
				return r.broken(ev, "its previous-hash does not match the event before it"), nil
			case ports.AuditHash(ev.PrevHash, ev) != ev.Hash:
				return r.broken(ev, "its content does not match its hash (the event was altered)"), nil
			}
			started, prevSeq, prevHash = true, ev.ChainSeq, ev.Hash
			r.Checked++
		}
		if progress != nil {
			progress(r.Checked)
		}
		if done {
			break
		}
	}
	if after != head.LastSeq || (started && prevHash != head.LastHash) {
		r.BrokenSeq, r.Reason = after+1, fmt.Sprintf("the chain ends at #%d but its head records #%d: the newest events were deleted", after, head.LastSeq)
	}
	return r, nil
}

func (r *ChainReport) broken(ev *ports.AuditEvent, reason string) *ChainReport {
	r.BrokenSeq, r.BrokenID, r.Reason = ev.ChainSeq, ev.ID, reason
	return r
}

// VerifyAllAuditChains verifies every workspace's chain, and the chain of events that belong to no
// workspace (failed authentications with unknown credentials), stopping at the first error.
func (s *Service) VerifyAllAuditChains(ctx context.Context, report func(*ChainReport)) error {
	verify := func(id string) error {
		r, err := s.VerifyAuditChain(ctx, id, nil)
		if err == nil {
			report(r)
		}
		return err
	}
	if err := verify(""); err != nil {
		return err
	}
	return s.eachWorkspace(ctx, verify)
}
