package portstest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

func testAuditPrune(t *testing.T, newStores Factory) {
	run(t, newStores, "PruneAuditEventsDeletesOnlyOlderEventsOfTheWorkspace", testPruneOlder)
	run(t, newStores, "PruneAuditEventsKeepsTheChainGoing", testPruneContinues)
	run(t, newStores, "PruneAuditEventsCutsOnlyTheStartOfTheChain", testPruneOutOfOrder)
}

// chainWriters is the number of goroutines writing to one workspace at once.
const chainWriters = 20

func testChainConcurrentWriters(e *env) {
	tn := e.newTenant()
	var mu sync.Mutex
	written := []*ports.AuditEvent{tn.Event}
	errs := make([]error, chainWriters)
	var wg sync.WaitGroup
	for i := range chainWriters {
		wg.Go(func() {
			at := e.at(time.Duration(i) * time.Millisecond)
			var evs []*ports.AuditEvent
			if i%2 == 0 {
				evs = []*ports.AuditEvent{e.event(tn.WS.ID, "auth.failed", ports.Target{}, at),
					e.event(tn.WS.ID, "auth.failed", ports.Target{}, at)}
				errs[i] = e.s.Audit.AppendAuditEvents(e.ctx, evs...)
			} else {
				tok := e.tokenRecord(tn, newID("writer-"), at)
				evs = []*ports.AuditEvent{e.tokenEvent(tok, "token.created", at)}
				errs[i] = e.s.Tokens.CreateToken(e.ctx, tok, evs[0])
			}
			if errs[i] == nil {
				mu.Lock()
				written = append(written, evs...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			e.t.Errorf("writer %d: %v", i, err)
		}
	}
	got := e.chain(tn.WS.ID)
	if len(got) != len(written) {
		e.t.Errorf("AuditChain: %d events, want %d", len(got), len(written))
	}
	e.verifyChain("AuditChain after concurrent writers", got, 1)
	gotIDs, wantIDs := eventIDs(got), idsOf(written)
	slices.Sort(gotIDs)
	slices.Sort(wantIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		e.t.Errorf("AuditChain lists %v, want the events written %v", gotIDs, wantIDs)
	}
	seqs := map[int64]string{}
	for _, ev := range written[1:] {
		if other, ok := seqs[ev.ChainSeq]; ok {
			e.t.Errorf("events %s and %s were both given ChainSeq %d", other, ev.ID, ev.ChainSeq)
		}
		seqs[ev.ChainSeq] = ev.ID
		if i := slices.IndexFunc(got, func(c ports.AuditEvent) bool { return c.ID == ev.ID }); i >= 0 {
			wantChainFields(e.t, ev, &got[i])
		}
	}
}

// prune runs PruneAuditEvents and checks how many events it reports deleted.
func (e *env) prune(wsID string, before time.Time, want int) {
	e.t.Helper()
	n, err := e.s.Audit.PruneAuditEvents(e.ctx, wsID, before)
	e.must(err, "PruneAuditEvents")
	if n != want {
		e.t.Errorf("PruneAuditEvents(before %s): %d deleted, want %d", fmtTime(before), n, want)
	}
}

// appendAt appends one event of the workspace that occurred at `at` and returns it.
func (e *env) appendAt(wsID string, at time.Time) *ports.AuditEvent {
	e.t.Helper()
	ev := e.event(wsID, "auth.failed", ports.Target{}, at)
	e.must(e.s.Audit.AppendAuditEvents(e.ctx, ev), "AppendAuditEvents")
	return ev
}

func testPruneOlder(e *env) {
	a, b := e.newTenant(), e.newTenant() // workspace.created at -24h
	var evs []*ports.AuditEvent
	for _, h := range []int{-3, -2, -1, 0} {
		evs = append(evs, e.appendAt(a.WS.ID, e.at(time.Duration(h)*time.Hour)))
		e.appendAt(b.WS.ID, e.at(time.Duration(h)*time.Hour))
	}
	before := e.chain(a.WS.ID)
	cut := evs[2].OccurredAt // an event exactly at the bound is kept
	e.prune(a.WS.ID, cut, 3)
	got := e.chain(a.WS.ID)
	if want := []string{evs[2].ID, evs[3].ID}; !slices.Equal(eventIDs(got), want) {
		e.t.Fatalf("AuditChain after pruning: %v, want %v", eventIDs(got), want)
	}
	if got[0].ChainSeq != 4 || got[0].PrevHash != before[2].Hash {
		e.t.Errorf("first kept event: ChainSeq %d PrevHash %q, want 4 and the pruned event's Hash %q",
			got[0].ChainSeq, got[0].PrevHash, before[2].Hash)
	}
	e.verifyChain("AuditChain from the first kept event", got, 4)
	if _, total := e.events(a.WS.ID, ports.AuditFilter{}); total != 2 {
		e.t.Errorf("AuditEvents total after pruning: %d, want 2", total)
	}
	if got := e.chain(b.WS.ID); len(got) != 5 {
		e.t.Errorf("the other workspace has %d events after pruning, want all 5", len(got))
	}
	e.prune(a.WS.ID, cut, 0)
	e.prune(newID("ws_"), e.at(time.Hour), 0)
}

func testPruneContinues(e *env) {
	tn := e.newTenant()
	e.appendAt(tn.WS.ID, e.at(-time.Hour))
	last := e.appendAt(tn.WS.ID, e.at(-time.Minute))
	e.prune(tn.WS.ID, e.at(time.Hour), 3) // everything
	if got := e.chain(tn.WS.ID); len(got) != 0 {
		e.t.Fatalf("AuditChain after pruning everything: %v", eventIDs(got))
	}
	// The chain goes on from where it stopped: pruning never resets it.
	next := e.appendAt(tn.WS.ID, e.at(2*time.Hour))
	if next.ChainSeq != 4 || next.PrevHash != last.Hash {
		e.t.Errorf("event after pruning: ChainSeq %d PrevHash %q, want 4 and %q", next.ChainSeq, next.PrevHash, last.Hash)
	}
	e.verifyChain("AuditChain after pruning everything", e.chain(tn.WS.ID), 4)
}

// testPruneOutOfOrder: an event that occurred before the bound but was chained after a kept one (the
// clocks of two writers disagree) is kept, so that no hole opens in the middle of the chain.
func testPruneOutOfOrder(e *env) {
	tn := e.newTenant()
	old := e.appendAt(tn.WS.ID, e.at(-2*time.Hour))
	kept := e.appendAt(tn.WS.ID, e.at(0))
	late := e.appendAt(tn.WS.ID, e.at(-3*time.Hour))
	e.prune(tn.WS.ID, e.at(-time.Hour), 2) // workspace.created and old
	got := e.chain(tn.WS.ID)
	if want := []string{kept.ID, late.ID}; !slices.Equal(eventIDs(got), want) {
		e.t.Errorf("AuditChain after pruning: %v, want %v (not %s)", eventIDs(got), want, old.ID)
	}
	e.verifyChain("AuditChain after pruning", got, 3)
}
