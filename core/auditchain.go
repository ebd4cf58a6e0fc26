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
// is not the hash of the event before it, or whose position skips or repeats one. It starts at the
// oldest kept event (retention deletes older ones; that event's PrevHash is then taken as given).
func (s *Service) VerifyAuditChain(ctx context.Context, workspaceID string, progress func(checked int)) (*ChainReport, error) {
	r := &ChainReport{WorkspaceID: workspaceID}
	var after, prevSeq int64
	prevHash, started := "", false
	for {
		page, err := s.stores.Audit.AuditChain(ctx, workspaceID, after, 1000)
		if err != nil {
			return nil, err
		}
		for i := range page {
			ev := &page[i]
			after = ev.ChainSeq
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
		if len(page) < 1000 {
			return r, nil
		}
	}
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
