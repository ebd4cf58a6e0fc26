package portstest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// testAuditChain checks the tamper-evident chain: every event a store writes, through any mutation
// or AppendAuditEvents, takes the next ChainSeq of its workspace and links to the event before it,
// the caller's event gets the chain fields, workspaces (and the no-workspace "") have independent
// chains, concurrent writers never fork a chain, and pruning keeps the rest of the chain verifiable.
func testAuditChain(t *testing.T, newStores Factory) {
	run(t, newStores, "EveryMutationChainsItsEvent", testChainAcrossMutations)
	run(t, newStores, "CallerEventGetsItsChainFields", testChainCallerFields)
	run(t, newStores, "HashCoversTheStoredMetadata", testChainMetadataAsStored)
	run(t, newStores, "WorkspacesHaveIndependentChains", testChainIndependence)
	run(t, newStores, "EventsOfNoWorkspaceChainUnderEmptyID", testChainNoWorkspace)
	run(t, newStores, "AuditChainPagesWithAfterAndLimit", testChainPaging)
	run(t, newStores, "ConcurrentWritersNeverForkTheChain", testChainConcurrentWriters)
	testAuditPrune(t, newStores)
}

// chain reads the workspace's whole chain through AuditChain, a few events at a time.
func (e *env) chain(wsID string) []ports.AuditEvent {
	e.t.Helper()
	const per = 7
	var out []ports.AuditEvent
	for after := int64(0); ; {
		page, err := e.s.Audit.AuditChain(e.ctx, wsID, after, per)
		e.must(err, "AuditChain")
		if len(page) > per {
			e.t.Fatalf("AuditChain(after %d, limit %d) returned %d events", after, per, len(page))
		}
		out = append(out, page...)
		if len(page) < per {
			return out
		}
		after = page[len(page)-1].ChainSeq
	}
}

// verifyChain checks that events are contiguous from ChainSeq first, that each links to the one
// before it, and that each Hash is AuditHash(PrevHash, event) recomputed from what was read back. A
// chain starting at 1 must have an empty PrevHash. It reports the first broken link only.
func (e *env) verifyChain(what string, events []ports.AuditEvent, first int64) {
	e.t.Helper()
	for i := range events {
		ev := &events[i]
		var problem string
		switch {
		case ev.ChainSeq != first+int64(i):
			problem = fmt.Sprintf("ChainSeq %d, want %d", ev.ChainSeq, first+int64(i))
		case i == 0 && first == 1 && ev.PrevHash != "":
			problem = fmt.Sprintf("the first event has PrevHash %q, want empty", ev.PrevHash)
		case i > 0 && ev.PrevHash != events[i-1].Hash:
			problem = fmt.Sprintf("PrevHash %q, want the previous event's Hash %q", ev.PrevHash, events[i-1].Hash)
		case ev.Hash == "" || ev.Hash != ports.AuditHash(ev.PrevHash, ev):
			problem = fmt.Sprintf("Hash %q, recomputed %q", ev.Hash, ports.AuditHash(ev.PrevHash, ev))
		}
		if problem != "" {
			e.t.Errorf("%s: event %d (%s %s): %s", what, i, ev.ID, ev.Action, problem)
			return
		}
	}
}

// wantChainFields checks that the caller's event got the chain fields of the stored one.
func wantChainFields(t *testing.T, caller *ports.AuditEvent, stored *ports.AuditEvent) {
	t.Helper()
	if caller.ChainSeq != stored.ChainSeq || caller.PrevHash != stored.PrevHash || caller.Hash != stored.Hash {
		t.Errorf("caller's %s event has chain fields (%d, %q, %q), stored (%d, %q, %q)", caller.Action,
			caller.ChainSeq, caller.PrevHash, caller.Hash, stored.ChainSeq, stored.PrevHash, stored.Hash)
	}
}

func testChainAcrossMutations(e *env) {
	tn := e.newTenant()
	ws := tn.WS.ID
	written := []*ports.AuditEvent{tn.Event}
	step := func(op string, ev *ports.AuditEvent, err error) {
		e.t.Helper()
		e.must(err, op)
		written = append(written, ev)
		if want := int64(len(written)); ev.ChainSeq != want {
			e.t.Errorf("%s: the caller's event has ChainSeq %d, want %d", op, ev.ChainSeq, want)
		}
	}
	at := func(m int) time.Time { return e.at(time.Duration(m) * time.Minute) }

	tok := e.tokenRecord(tn, "chained", at(0))
	ev := e.tokenEvent(tok, "token.created", at(0))
	step("CreateToken", ev, e.s.Tokens.CreateToken(e.ctx, cloneToken(tok), ev))
	dup := e.tokenRecord(tn, "CHAINED", at(1))
	e.wantCode(e.s.Tokens.CreateToken(e.ctx, dup, e.tokenEvent(dup, "token.created", at(1))), ports.ECONFLICT,
		"CreateToken(duplicate name)")
	ev = e.tokenEvent(tok, "token.rotated", at(2))
	_, err := e.s.Tokens.RotateToken(e.ctx, ws, tok.ID, ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"),
		NewKID: tn.Key.KID, At: at(2)}, ev)
	step("RotateToken", ev, err)
	ev = e.tokenEvent(tok, "token.revoked", at(3))
	_, _, err = e.s.Tokens.RevokeToken(e.ctx, ws, tok.ID, at(3), ev)
	step("RevokeToken", ev, err)
	_, revoked, err := e.s.Tokens.RevokeToken(e.ctx, ws, tok.ID, at(4), e.tokenEvent(tok, "token.revoked", at(4)))
	e.must(err, "RevokeToken(again)")
	if revoked {
		e.t.Errorf("RevokeToken(again): revoked=true")
	}
	a, b := e.event(ws, "auth.failed", ports.Target{}, at(5)), e.event(ws, "user.signed_in", ports.Target{}, at(5))
	e.must(e.s.Audit.AppendAuditEvents(e.ctx, a, b), "AppendAuditEvents")
	written = append(written, a, b)
	key := e.apiKeyRecord(tn, "chained", at(6))
	ev = e.apiKeyEvent(key, "api_key.created", at(6))
	step("CreateAPIKey", ev, e.s.APIKeys.CreateAPIKey(e.ctx, cloneAPIKey(key), ev))
	ev = e.apiKeyEvent(key, "api_key.regenerated", at(7))
	_, err = e.s.APIKeys.RegenerateAPIKey(e.ctx, ws, key.ID, randomBytes(32), "wxyz", ev)
	step("RegenerateAPIKey", ev, err)
	ev = e.apiKeyEvent(key, "api_key.deleted", at(8))
	step("DeleteAPIKey", ev, e.s.APIKeys.DeleteAPIKey(e.ctx, ws, key.ID, ev))
	upd := cloneWorkspace(tn.WS)
	upd.Name = "Chained"
	ev = e.workspaceEvent(upd, "workspace.updated")
	step("UpdateWorkspace", ev, e.s.Workspaces.UpdateWorkspace(e.ctx, upd, ev))
	ev = e.workspaceEvent(upd, "workspace.scopes_updated")
	step("SetCustomScopes", ev, e.s.Workspaces.SetCustomScopes(e.ctx, ws, []ports.Scope{{Name: "orders:read"}}, ev))
	k2 := signingKeyRecord(ws, at(9))
	ev = e.keyEvent(k2, "signing_key.created", at(9))
	step("AddSigningKey", ev, e.s.SigningKeys.AddSigningKey(e.ctx, cloneSigningKey(k2), ev))
	ev = e.keyEvent(k2, "signing_key.retired", at(10))
	step("RetireSigningKey", ev, e.s.SigningKeys.RetireSigningKey(e.ctx, ws, k2.KID, at(10), ev))
	ev = e.keyEvent(tn.Key, "signing_key.revoked", at(11))
	_, _, err = e.s.SigningKeys.RevokeSigningKey(e.ctx, ws, tn.Key.KID, at(11), ev)
	step("RevokeSigningKey", ev, err)

	got := e.chain(ws)
	if !slices.Equal(eventIDs(got), idsOf(written)) {
		e.t.Fatalf("AuditChain: %v, want the events in the order written %v", eventIDs(got), idsOf(written))
	}
	e.verifyChain("AuditChain", got, 1)
	for i, want := range written {
		eventDiff(&got[i], want).report(e.t, "AuditChain entry "+want.Action)
		if i > 0 { // tn.Event was cloned when the workspace was created
			wantChainFields(e.t, want, &got[i])
		}
	}
	list, _ := e.events(ws, ports.AuditFilter{})
	for _, ev := range list {
		if i := slices.IndexFunc(got, func(c ports.AuditEvent) bool { return c.ID == ev.ID }); i >= 0 {
			wantChainFields(e.t, &ev, &got[i])
		}
	}
}

func idsOf(events []*ports.AuditEvent) []string {
	ids := make([]string, len(events))
	for i, ev := range events {
		ids[i] = ev.ID
	}
	return ids
}

func testChainCallerFields(e *env) {
	tn := e.newTenant()
	a := e.event(tn.WS.ID, "auth.failed", ports.Target{}, e.at(time.Second))
	b := e.event(tn.WS.ID, "auth.failed", ports.Target{}, e.at(time.Second))
	// Whatever the caller put in the chain fields is replaced.
	a.ChainSeq, a.PrevHash, a.Hash = 99, "forged", "forged"
	e.must(e.s.Audit.AppendAuditEvents(e.ctx, a, b), "AppendAuditEvents")
	if a.ChainSeq != 2 || b.ChainSeq != 3 || a.PrevHash == "" || b.PrevHash != a.Hash || a.Hash == b.Hash {
		e.t.Errorf("caller's events: (%d, %q, %q) and (%d, %q, %q); want ChainSeq 2 and 3, linked", a.ChainSeq,
			a.PrevHash, a.Hash, b.ChainSeq, b.PrevHash, b.Hash)
	}
	got := e.chain(tn.WS.ID)
	if len(got) != 3 {
		e.t.Fatalf("AuditChain: %d events, want 3", len(got))
	}
	wantChainFields(e.t, a, &got[1])
	wantChainFields(e.t, b, &got[2])
	e.verifyChain("AuditChain", got, 1)
}

func testChainMetadataAsStored(e *env) {
	tn := e.newTenant()
	ev := e.event(tn.WS.ID, "token.created", ports.Target{Type: "token", ID: newID("tok_")},
		e.at(123456789*time.Nanosecond).In(time.FixedZone("UTC+9", 9*3600)))
	// Integers (one beyond float64 precision), a struct, HTML-escaped and non-ASCII text: the hash
	// covers the metadata as it reads back from JSON, whatever the caller's Go types.
	ev.Metadata = map[string]any{"count": 3, "big": int64(1<<53 + 1), "nested": struct {
		A string `json:"a"`
	}{"<&>"}, "name": "Ärger", "empty": map[string]any{}, "list": []int{1, 2}}
	empty := e.event(tn.WS.ID, "token.created", ports.Target{}, e.at(time.Second))
	empty.Metadata = map[string]any{}
	e.must(e.s.Audit.AppendAuditEvents(e.ctx, ev, empty), "AppendAuditEvents")
	got := e.chain(tn.WS.ID)
	e.verifyChain("AuditChain", got, 1)
	if len(got) == 3 {
		wantChainFields(e.t, ev, &got[1])
	}
}

func testChainIndependence(e *env) {
	a, b := e.newTenant(), e.newTenant()
	for i := range 3 {
		at := e.at(time.Duration(i) * time.Second)
		e.must(e.s.Audit.AppendAuditEvents(e.ctx, e.event(a.WS.ID, "a.event", ports.Target{}, at)), "AppendAuditEvents(a)")
		e.must(e.s.Audit.AppendAuditEvents(e.ctx, e.event(b.WS.ID, "b.event", ports.Target{}, at)), "AppendAuditEvents(b)")
	}
	// One call with events of both workspaces: each takes the next position of its own chain.
	mixed := []*ports.AuditEvent{e.event(a.WS.ID, "a.mixed", ports.Target{}, e.at(time.Minute)),
		e.event(b.WS.ID, "b.mixed", ports.Target{}, e.at(time.Minute)),
		e.event(a.WS.ID, "a.mixed", ports.Target{}, e.at(time.Minute))}
	e.must(e.s.Audit.AppendAuditEvents(e.ctx, mixed...), "AppendAuditEvents(both workspaces)")
	if mixed[0].ChainSeq != 5 || mixed[1].ChainSeq != 5 || mixed[2].ChainSeq != 6 {
		e.t.Errorf("mixed batch ChainSeqs %d, %d, %d; want 5, 5, 6", mixed[0].ChainSeq, mixed[1].ChainSeq, mixed[2].ChainSeq)
	}
	for _, tn := range []*tenant{a, b} {
		got := e.chain(tn.WS.ID)
		e.verifyChain("AuditChain of "+tn.WS.ID, got, 1)
		for _, ev := range got {
			if ev.WorkspaceID != tn.WS.ID {
				e.t.Errorf("AuditChain(%s) lists %s of workspace %s", tn.WS.ID, ev.ID, ev.WorkspaceID)
			}
		}
		if want := map[*tenant]int{a: 6, b: 5}[tn]; len(got) != want {
			e.t.Errorf("AuditChain(%s): %d events, want %d", tn.WS.ID, len(got), want)
		}
	}
	if got, err := e.s.Audit.AuditChain(e.ctx, newID("ws_"), 0, 100); err != nil || len(got) != 0 {
		e.t.Errorf("AuditChain(unknown workspace): %d events, %v; want none", len(got), err)
	}
}

func testChainNoWorkspace(e *env) {
	before := e.chain("")
	last := int64(0)
	if len(before) > 0 {
		last = before[len(before)-1].ChainSeq
	}
	x := &ports.AuditEvent{ID: newID("evt_"), Action: "user.sign_in_failed", Actor: ports.Actor{Type: "user"},
		IP: "198.51.100.1", OccurredAt: e.at(0)}
	y := cloneEvent(x)
	y.ID = newID("evt_")
	e.must(e.s.Audit.AppendAuditEvents(e.ctx, x, y), "AppendAuditEvents(no workspace)")
	if x.ChainSeq != last+1 || y.ChainSeq != last+2 || y.PrevHash != x.Hash {
		e.t.Errorf("events of no workspace got ChainSeq %d and %d, want %d and %d, linked", x.ChainSeq, y.ChainSeq,
			last+1, last+2)
	}
	got := e.chain("")
	if len(got) > 0 {
		e.verifyChain(`AuditChain("")`, got, got[0].ChainSeq)
	}
}

func testChainPaging(e *env) {
	tn := e.newTenant()
	for i := range 5 {
		e.must(e.s.Audit.AppendAuditEvents(e.ctx, e.event(tn.WS.ID, "page.event", ports.Target{},
			e.at(time.Duration(i)*time.Second))), "AppendAuditEvents")
	}
	for _, tc := range []struct {
		after    int64
		limit    int
		from, to int64 // the ChainSeqs expected, inclusive; from > to for none
	}{
		{0, 100, 1, 6}, {2, 3, 3, 5}, {4, 100, 5, 6}, {6, 10, 1, 0}, {99, 10, 1, 0}, {0, 0, 1, 0}, {0, 1, 1, 1},
	} {
		got, err := e.s.Audit.AuditChain(e.ctx, tn.WS.ID, tc.after, tc.limit)
		e.must(err, "AuditChain")
		var seqs, want []int64
		for _, ev := range got {
			seqs = append(seqs, ev.ChainSeq)
		}
		for s := tc.from; s <= tc.to; s++ {
			want = append(want, s)
		}
		if !slices.Equal(seqs, want) {
			e.t.Errorf("AuditChain(after %d, limit %d): ChainSeqs %v, want %v", tc.after, tc.limit, seqs, want)
		}
	}
}
