package portstest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestAuditLog checks a ports.AuditLog: round trips of every field, newest-first order with paging and
// totals, the filters Action, ActorID, TargetID, Since (inclusive) and Until (exclusive), that a
// workspace's list never shows another workspace's events, the tamper-evident chain of every event
// written (AuditChain, with concurrent writers) and PruneAuditEvents.
func TestAuditLog(t *testing.T, newStores Factory) {
	run(t, newStores, "AppendAuditEventsRoundTripsEveryField", testAuditRoundTrip)
	run(t, newStores, "AppendNoEventsSucceeds", testAuditAppendNothing)
	run(t, newStores, "AuditEventsListsNewestFirstWithPaging", testAuditPaging)
	run(t, newStores, "AuditEventsFilters", testAuditFilters)
	run(t, newStores, "AuditEventsListsOnlyTheWorkspaceEvents", testAuditIsolation)
	testAuditChain(t, newStores)
}

func testAuditRoundTrip(e *env) {
	tn := e.newTenant()
	full := e.event(tn.WS.ID, "auth.failed", ports.Target{Type: "token", ID: newID("tok_"), Name: "ci"}, e.at(time.Microsecond))
	full.Metadata = map[string]any{"reason": "expired", "count": 3.0, "nested": map[string]any{"ok": false}}
	bare := &ports.AuditEvent{ID: newID("evt_"), WorkspaceID: tn.WS.ID, Action: "user.signed_in",
		Actor: ports.Actor{Type: "user", ID: tn.Account.ID}, OccurredAt: e.at(2 * time.Microsecond)}
	system := e.event(tn.WS.ID, "token.expired", ports.Target{Type: "token", ID: newID("tok_")}, e.at(time.Second))
	system.Actor = ports.Actor{Type: "system"}
	e.must(e.s.Audit.AppendAuditEvents(e.ctx, cloneEvent(full), cloneEvent(bare), cloneEvent(system)),
		"AppendAuditEvents")

	list, total := e.events(tn.WS.ID, ports.AuditFilter{})
	if total != 4 {
		e.t.Errorf("AuditEvents total: %d, want 4 (3 appended + workspace.created)", total)
	}
	for _, want := range []*ports.AuditEvent{full, bare, system} {
		i := slices.IndexFunc(list, func(ev ports.AuditEvent) bool { return ev.ID == want.ID })
		if i < 0 {
			e.t.Errorf("AuditEvents does not list %s (%s)", want.ID, want.Action)
			continue
		}
		eventDiff(&list[i], want).report(e.t, "AuditEvents entry "+want.Action)
	}
}

func testAuditAppendNothing(e *env) {
	e.must(e.s.Audit.AppendAuditEvents(e.ctx), "AppendAuditEvents()")
}

// wantEventList lists the workspace's events with f and checks the ids (in order) and the total.
func (e *env) wantEventList(wsID string, f ports.AuditFilter, wantTotal int, want ...*ports.AuditEvent) {
	e.t.Helper()
	list, total := e.events(wsID, f)
	wantIDs := make([]string, len(want))
	for i, ev := range want {
		wantIDs[i] = ev.ID
	}
	what := fmt.Sprintf("AuditEvents(action=%q actor=%q target=%q since=%s until=%s page=%d per_page=%d)",
		f.Action, f.ActorID, f.TargetID, fmtTimePtr(f.Since), fmtTimePtr(f.Until), f.Page.Page, f.PerPage)
	if got := eventIDs(list); !slices.Equal(got, wantIDs) {
		e.t.Errorf("%s: ids %v, want %v", what, got, wantIDs)
	}
	if total != wantTotal {
		e.t.Errorf("%s: total %d, want %d", what, total, wantTotal)
	}
}

func testAuditPaging(e *env) {
	tn := e.newTenant()
	evs := make([]*ports.AuditEvent, 5)
	for i := range evs {
		evs[i] = e.event(tn.WS.ID, "token.created", ports.Target{Type: "token", ID: newID("tok_")},
			e.at(time.Duration(i)*time.Minute))
	}
	for _, i := range []int{3, 0, 4, 2, 1} {
		e.must(e.s.Audit.AppendAuditEvents(e.ctx, cloneEvent(evs[i])), "AppendAuditEvents")
	}
	created := tn.Event
	page := func(n, per int) ports.AuditFilter { return ports.AuditFilter{Page: ports.Page{Page: n, PerPage: per}} }
	e.wantEventList(tn.WS.ID, page(1, 100), 6, evs[4], evs[3], evs[2], evs[1], evs[0], created)
	e.wantEventList(tn.WS.ID, page(1, 2), 6, evs[4], evs[3])
	e.wantEventList(tn.WS.ID, page(2, 2), 6, evs[2], evs[1])
	e.wantEventList(tn.WS.ID, page(3, 2), 6, evs[0], created)
	e.wantEventList(tn.WS.ID, page(4, 2), 6)
}

func testAuditFilters(e *env) {
	tn := e.newTenant()
	x, y := newID("key_"), newID("key_")
	t1, t2, t3, k1 := newID("tok_"), newID("tok_"), newID("tok_"), newID("key_")
	spec := []struct {
		action, actor, target, targetType string
	}{
		{"token.created", x, t1, "token"},
		{"token.revoked", x, t1, "token"},
		{"token.created", y, t2, "token"},
		{"api_key.created", y, k1, "api_key"},
		{"token.created", x, t3, "token"},
	}
	ev := make([]*ports.AuditEvent, len(spec))
	for i, s := range spec {
		ev[i] = e.event(tn.WS.ID, s.action, ports.Target{Type: s.targetType, ID: s.target},
			e.at(time.Duration(i)*time.Minute))
		ev[i].Actor.ID = s.actor
	}
	e.must(e.s.Audit.AppendAuditEvents(e.ctx, cloneEvent(ev[2]), cloneEvent(ev[0]), cloneEvent(ev[4]),
		cloneEvent(ev[1]), cloneEvent(ev[3])), "AppendAuditEvents")

	all := ports.Page{Page: 1, PerPage: 100}
	at := func(m int) *time.Time { return ptr(e.at(time.Duration(m) * time.Minute)) }
	ws := tn.WS.ID
	e.wantEventList(ws, ports.AuditFilter{Page: all, Action: "token.created"}, 3, ev[4], ev[2], ev[0])
	e.wantEventList(ws, ports.AuditFilter{Page: all, ActorID: x}, 3, ev[4], ev[1], ev[0])
	e.wantEventList(ws, ports.AuditFilter{Page: all, TargetID: t1}, 2, ev[1], ev[0])
	e.wantEventList(ws, ports.AuditFilter{Page: all, Since: at(2)}, 3, ev[4], ev[3], ev[2])
	e.wantEventList(ws, ports.AuditFilter{Page: all, Until: at(2)}, 3, ev[1], ev[0], tn.Event)
	e.wantEventList(ws, ports.AuditFilter{Page: all, Since: at(1), Until: at(4)}, 3, ev[3], ev[2], ev[1])
	e.wantEventList(ws, ports.AuditFilter{Page: all, Since: at(2), Until: at(2)}, 0)
	e.wantEventList(ws, ports.AuditFilter{Page: all, Action: "token.created", ActorID: x}, 2, ev[4], ev[0])
	e.wantEventList(ws, ports.AuditFilter{Page: all, ActorID: y, Since: at(3)}, 1, ev[3])
	e.wantEventList(ws, ports.AuditFilter{Page: ports.Page{Page: 1, PerPage: 1}, Action: "token.created"}, 3, ev[4])
	e.wantEventList(ws, ports.AuditFilter{Page: ports.Page{Page: 3, PerPage: 1}, Action: "token.created"}, 3, ev[0])
	e.wantEventList(ws, ports.AuditFilter{Page: all, Action: "token"}, 0)
	e.wantEventList(ws, ports.AuditFilter{Page: all, TargetID: newID("tok_")}, 0)
}

func testAuditIsolation(e *env) {
	a, b := e.newTenant(), e.newTenant()
	actor, target := newID("key_"), newID("tok_")
	evA := e.event(a.WS.ID, "token.created", ports.Target{Type: "token", ID: target}, e.at(0))
	evA.Actor.ID = actor
	evB := e.event(b.WS.ID, "token.created", ports.Target{Type: "token", ID: newID("tok_")}, e.at(time.Second))
	e.must(e.s.Audit.AppendAuditEvents(e.ctx, cloneEvent(evA), cloneEvent(evB)), "AppendAuditEvents")

	all := ports.Page{Page: 1, PerPage: 100}
	e.wantEventList(b.WS.ID, ports.AuditFilter{Page: all}, 2, evB, b.Event)
	e.wantEventList(b.WS.ID, ports.AuditFilter{Page: all, Action: "token.created"}, 1, evB)
	e.wantEventList(b.WS.ID, ports.AuditFilter{Page: all, ActorID: actor}, 0)
	e.wantEventList(b.WS.ID, ports.AuditFilter{Page: all, TargetID: target}, 0)
	e.wantEventList(b.WS.ID, ports.AuditFilter{Page: all, TargetID: a.WS.ID}, 0)
	e.wantEventList(a.WS.ID, ports.AuditFilter{Page: all}, 2, evA, a.Event)
}
