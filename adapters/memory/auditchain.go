package memory

import (
	"context"
	"time"

	"github.com/tooken/tooken/ports"
)

// chainHead is the last event of a workspace's audit chain. It outlives pruning, so a pruned chain
// continues where it stopped.
type chainHead struct {
	seq    int64
	hash   string
	pruned int64 // ChainSeq of the newest event retention deleted
}

// pendingEvent is an event ready to be stored (a normalised copy) and the caller's event, which gets
// the chain fields once it is stored.
type pendingEvent struct {
	stored ports.AuditEvent
	src    *ports.AuditEvent
}

// prepareEvents copies events for storage, failing without side effects if any of them cannot be
// stored; db.mu is held.
func (db *DB) prepareEvents(events ...*ports.AuditEvent) ([]pendingEvent, error) {
	out := make([]pendingEvent, 0, len(events))
	seen := map[string]bool{}
	for _, ev := range events {
		if ev == nil {
			continue
		}
		if err := db.checkEvent(ev); err != nil {
			return nil, err
		}
		if seen[ev.ID] {
			return nil, ports.Errorf(ports.ECONFLICT, "Audit event %s given twice", ev.ID)
		}
		seen[ev.ID] = true
		c, err := storedEvent(ev)
		if err != nil {
			return nil, err
		}
		out = append(out, pendingEvent{stored: c, src: ev})
	}
	return out, nil
}

// appendEvents stores prepared events, each chained to the last event of its workspace; db.mu is
// held, which serialises every writer. The hash covers the stored copy (UTC microsecond time,
// metadata as it reads back from JSON), so that it verifies against what AuditChain returns.
func (db *DB) appendEvents(events []pendingEvent) {
	for _, p := range events {
		ev := p.stored
		head := db.heads[ev.WorkspaceID]
		ev.ChainSeq, ev.PrevHash = head.seq+1, head.hash
		ev.Hash = ports.AuditHash(ev.PrevHash, &ev)
		db.heads[ev.WorkspaceID] = chainHead{seq: ev.ChainSeq, hash: ev.Hash, pruned: head.pruned}
		db.events = append(db.events, eventRow{AuditEvent: ev, seq: db.next()})
		db.eventIDs[ev.ID] = true
		p.src.ChainSeq, p.src.PrevHash, p.src.Hash = ev.ChainSeq, ev.PrevHash, ev.Hash
	}
}

// AuditChain lists the workspace's events with ChainSeq > after in chain order, at most limit, as
// stored.
func (s *AuditLog) AuditChain(ctx context.Context, workspaceID string, after int64, limit int) ([]ports.AuditEvent, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	out := []ports.AuditEvent{}
	// Events are appended in chain order, so each workspace's events already are in ChainSeq order.
	for i := range db.events {
		if len(out) >= limit {
			break
		}
		if ev := &db.events[i]; ev.WorkspaceID == workspaceID && ev.ChainSeq > after {
			out = append(out, copyEvent(ev.AuditEvent))
		}
	}
	return out, nil
}

// PruneAuditEvents deletes the workspace's events that occurred before `before` and returns how
// many. Only the start of the chain is cut: an event that occurred before `before` but follows, in
// the chain, one that is kept (clocks of several writers disagree) is kept too, so that the kept
// events form an unbroken chain. The chain head is untouched.
func (s *AuditLog) PruneAuditEvents(ctx context.Context, workspaceID string, before time.Time) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	before = normTime(before)
	firstKept := int64(-1)
	for i := range db.events {
		if ev := &db.events[i]; ev.WorkspaceID == workspaceID && !ev.OccurredAt.Before(before) {
			firstKept = ev.ChainSeq
			break
		}
	}
	kept, n := db.events[:0], 0
	head := db.heads[workspaceID]
	for _, ev := range db.events {
		if ev.WorkspaceID == workspaceID && ev.OccurredAt.Before(before) && (firstKept < 0 || ev.ChainSeq < firstKept) {
			delete(db.eventIDs, ev.ID)
			head.pruned = max(head.pruned, ev.ChainSeq)
			n++
			continue
		}
		kept = append(kept, ev)
	}
	clear(db.events[len(kept):])
	db.events = kept
	if n > 0 {
		db.heads[workspaceID] = head
	}
	return n, nil
}

// AuditHead implements ports.AuditLog.
func (s *AuditLog) AuditHead(ctx context.Context, workspaceID string) (ports.ChainHead, error) {
	if err := ctxErr(ctx); err != nil {
		return ports.ChainHead{}, err
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	h := s.db.heads[workspaceID]
	return ports.ChainHead{LastSeq: h.seq, LastHash: h.hash, PrunedThrough: h.pruned}, nil
}
