package portstest

import (
	"context"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestChangeStream checks a ports.ChangeStream with the stores that announce to it: after Subscribe,
// every announcing mutation delivers its Change (kind, workspace, id) to every subscriber, a mutation
// that fails or changes nothing announces nothing, and ending the context closes the channel.
func TestChangeStream(t *testing.T, newStores Factory) {
	run(t, newStores, "EveryAnnouncingMutationDeliversItsChange", testChangesDelivered)
	run(t, newStores, "EverySubscriberGetsEveryChange", testChangesFanOut)
	run(t, newStores, "MutationsThatFailOrChangeNothingAnnounceNothing", testChangesNoOps)
	run(t, newStores, "EndingTheContextClosesTheChannel", testChangesCancel)
}

// changeWait bounds the wait for a change that should come: it only keeps a broken store from
// hanging the suite, it is not a latency requirement.
const changeWait = 15 * time.Second

// watcher reads the changes of some workspaces from one subscription.
type watcher struct {
	e   *env
	ch  <-chan ports.Change
	wss map[string]bool
}

// subscribe subscribes until the test ends, keeping the changes of the given workspaces (and resyncs):
// the stores may be shared with other tests, whose changes are skipped.
func (e *env) subscribe(wsIDs ...string) *watcher {
	e.t.Helper()
	ch, err := e.s.Changes.Subscribe(e.ctx)
	e.must(err, "Subscribe")
	w := &watcher{e: e, ch: ch, wss: map[string]bool{}}
	for _, id := range wsIDs {
		w.wss[id] = true
	}
	return w
}

// next returns the next change of the watched workspaces (or a resync).
func (w *watcher) next() ports.Change {
	w.e.t.Helper()
	timeout := time.NewTimer(changeWait)
	defer timeout.Stop()
	for {
		select {
		case c, ok := <-w.ch:
			if !ok {
				w.e.t.Fatal("the change channel was closed while the context lives")
			}
			if c.Kind == ports.ChangeResync || w.wss[c.WorkspaceID] {
				return c
			}
		case <-timeout.C:
			w.e.t.Fatalf("no change delivered within %s", changeWait)
		}
	}
}

// want checks that the next change of the watched workspaces is {kind, wsID, id}. A resync in
// between is allowed (an adapter sends one whenever its listener reconnected), the change must
// still follow.
func (w *watcher) want(what, kind, wsID, id string) {
	w.e.t.Helper()
	got, want := w.next(), ports.Change{Kind: kind, WorkspaceID: wsID, ID: id}
	for got.Kind == ports.ChangeResync && kind != ports.ChangeResync {
		got = w.next()
	}
	if got != want {
		w.e.t.Errorf("after %s: change %+v, want %+v", what, got, want)
	}
}

func testChangesDelivered(e *env) {
	tn := e.newTenant()
	ws := tn.WS.ID
	w := e.subscribe(ws)

	tok := e.createToken(tn, "announced", e.at(0))
	e.rotateFrom(tok, tok.CurrentJTI, e.at(time.Minute), nil)
	w.want("RotateToken", ports.ChangeToken, ws, tok.ID)
	e.revokeAt(tok, e.at(2*time.Minute))
	w.want("RevokeToken", ports.ChangeToken, ws, tok.ID)

	k := e.createAPIKey(tn, "announced", e.at(0))
	_, err := e.s.APIKeys.RegenerateAPIKey(e.ctx, ws, k.ID, randomBytes(32), "wxyz", nil)
	e.must(err, "RegenerateAPIKey")
	w.want("RegenerateAPIKey", ports.ChangeAPIKey, ws, k.ID)
	e.must(e.s.APIKeys.DeleteAPIKey(e.ctx, ws, k.ID, nil), "DeleteAPIKey")
	w.want("DeleteAPIKey", ports.ChangeAPIKey, ws, k.ID)

	next := e.pendingKey(tn, e.at(0), e.at(time.Hour))
	e.addKey(next)
	w.want("AddSigningKey", ports.ChangeSigningKey, ws, next.KID)
	_, _, err = e.s.SigningKeys.RevokeSigningKey(e.ctx, ws, next.KID, e.at(time.Minute), nil)
	e.must(err, "RevokeSigningKey")
	w.want("RevokeSigningKey", ports.ChangeSigningKey, ws, next.KID)
	e.retire(tn.Key, e.at(time.Hour))
	w.want("RetireSigningKey", ports.ChangeSigningKey, ws, tn.Key.KID)

	upd := cloneWorkspace(tn.WS)
	upd.SigningAlgorithm = ports.AlgRS256
	e.must(e.s.Workspaces.UpdateWorkspace(e.ctx, upd, nil), "UpdateWorkspace")
	w.want("UpdateWorkspace", ports.ChangeWorkspace, ws, "")
	e.must(e.s.Workspaces.SetCustomScopes(e.ctx, ws, []ports.Scope{{Name: "a:b"}}, nil), "SetCustomScopes")
	w.want("SetCustomScopes", ports.ChangeWorkspace, ws, "")
}

func testChangesFanOut(e *env) {
	tn := e.newTenant()
	a, b := e.subscribe(tn.WS.ID), e.subscribe(tn.WS.ID)
	tok := e.createToken(tn, "fan out", e.at(0))
	e.revokeAt(tok, e.at(time.Minute))
	a.want("RevokeToken (first subscriber)", ports.ChangeToken, tn.WS.ID, tok.ID)
	b.want("RevokeToken (second subscriber)", ports.ChangeToken, tn.WS.ID, tok.ID)
}

func testChangesNoOps(e *env) {
	tn := e.newTenant()
	ws, unknownWS := tn.WS.ID, newID("ws_")
	w := e.subscribe(ws, unknownWS)
	tok := e.createToken(tn, "no-op", e.at(0))
	e.revokeAt(tok, e.at(time.Minute))
	w.want("RevokeToken", ports.ChangeToken, ws, tok.ID)

	_, _, err := e.s.Tokens.RevokeToken(e.ctx, ws, tok.ID, e.at(time.Hour), nil)
	e.must(err, "second RevokeToken")
	_, _, err = e.s.Tokens.RevokeToken(e.ctx, ws, newID("tok_"), e.at(time.Hour), nil)
	e.wantCode(err, ports.ENOTFOUND, "RevokeToken(unknown)")
	_, err = e.s.Tokens.RotateToken(e.ctx, ws, tok.ID, ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: newID("jti_"),
		At: e.at(time.Hour)}, nil)
	e.wantCode(err, ports.ECONFLICT, "RotateToken of a revoked token")
	_, err = e.s.APIKeys.RegenerateAPIKey(e.ctx, ws, newID("key_"), randomBytes(32), "abcd", nil)
	e.wantCode(err, ports.ENOTFOUND, "RegenerateAPIKey(unknown)")
	e.wantCode(e.s.APIKeys.DeleteAPIKey(e.ctx, ws, newID("key_"), nil), ports.ENOTFOUND, "DeleteAPIKey(unknown)")

	pending := e.pendingKey(tn, e.at(0), e.at(time.Hour))
	e.addKey(pending)
	w.want("AddSigningKey", ports.ChangeSigningKey, ws, pending.KID)
	err = e.s.SigningKeys.AddSigningKey(e.ctx, e.pendingKey(tn, e.at(time.Minute), e.at(2*time.Hour)), nil)
	e.wantCode(err, ports.ECONFLICT, "AddSigningKey(second pending)")
	e.wantCode(e.s.SigningKeys.AddSigningKey(e.ctx, signingKeyRecord(unknownWS, e.at(0)), nil), ports.ENOTFOUND,
		"AddSigningKey(unknown workspace)")
	e.signedToken(tn, "live", tn.Key.KID, nil)
	e.wantCode(e.s.SigningKeys.RetireSigningKey(e.ctx, ws, tn.Key.KID, e.at(time.Hour), nil), ports.ECONFLICT,
		"RetireSigningKey with a live value")
	_, _, err = e.s.SigningKeys.RevokeSigningKey(e.ctx, ws, pending.KID, e.at(time.Hour), nil)
	e.must(err, "RevokeSigningKey")
	w.want("RevokeSigningKey", ports.ChangeSigningKey, ws, pending.KID)
	_, revoked, err := e.s.SigningKeys.RevokeSigningKey(e.ctx, ws, pending.KID, e.at(2*time.Hour), nil)
	e.must(err, "second RevokeSigningKey")
	if revoked {
		e.t.Errorf("second RevokeSigningKey: revoked=true")
	}

	unknown := e.tenantRecord(e.newAccount()).WS
	unknown.ID = unknownWS
	e.wantCode(e.s.Workspaces.UpdateWorkspace(e.ctx, unknown, nil), ports.ENOTFOUND, "UpdateWorkspace(unknown)")
	e.wantCode(e.s.Workspaces.SetCustomScopes(e.ctx, unknownWS, nil, nil), ports.ENOTFOUND, "SetCustomScopes(unknown)")
	other := e.newTenant()
	taken := cloneWorkspace(tn.WS)
	taken.Slug = other.WS.Slug
	e.wantCode(e.s.Workspaces.UpdateWorkspace(e.ctx, taken, nil), ports.ECONFLICT, "UpdateWorkspace(taken slug)")

	// Changes arrive in commit order, so the next change is the sentinel's if nothing came before it.
	sentinel := e.createToken(tn, "sentinel", e.at(0))
	e.revokeAt(sentinel, e.at(time.Minute))
	w.want("mutations that failed or changed nothing, then RevokeToken", ports.ChangeToken, ws, sentinel.ID)
}

func testChangesCancel(e *env) {
	ctx, cancel := context.WithCancel(e.ctx)
	ch, err := e.s.Changes.Subscribe(ctx)
	e.must(err, "Subscribe")
	cancel()
	timeout := time.After(changeWait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-timeout:
			e.t.Fatalf("the change channel is still open %s after its context ended", changeWait)
		}
	}
}
