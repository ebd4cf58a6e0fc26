package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/tooken/tooken/core"
)

func TestRevokedAndRotatedOutValuesEnterTheFeed(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	a := e.token(owner, "a", "tokens:read")
	b := e.token(owner, "b", "tokens:read")
	if err := e.svc.RevokeToken(e.ctx, owner, a.Token.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RotateToken(e.ctx, owner, b.Token.ID, ptr(60)); err != nil {
		t.Fatal(err)
	}
	feed, more, err := e.svc.Revocations(e.ctx, owner.WorkspaceID, 0, 100)
	if err != nil || len(feed) != 2 || more {
		t.Fatalf("feed = %+v, %v", feed, err)
	}
	if feed[0].JTI != a.Token.CurrentJTI || !feed[0].RevokedAt.Equal(epoch) {
		t.Errorf("revocation entry %+v", feed[0])
	}
	if feed[1].JTI != b.Token.CurrentJTI || !feed[1].RevokedAt.Equal(epoch.Add(time.Minute)) {
		t.Errorf("a rotated-out value is refused from the end of its grace period: %+v", feed[1])
	}
	rest, _, _ := e.svc.Revocations(e.ctx, owner.WorkspaceID, feed[0].Seq, 100)
	if len(rest) != 1 || rest[0].Seq != feed[1].Seq {
		t.Errorf("after a cursor: %+v", rest)
	}
	if first, more, _ := e.svc.Revocations(e.ctx, owner.WorkspaceID, 0, 1); len(first) != 1 || !more {
		t.Errorf("a full page with more behind it: %d entries, has_more %v", len(first), more)
	}
	other := e.workspace("globex")
	if mine, _, _ := e.svc.Revocations(e.ctx, other.WorkspaceID, 0, 100); len(mine) != 0 {
		t.Errorf("another workspace's feed shows %d entries", len(mine))
	}
	_, _, err = e.svc.Revocations(e.ctx, "ws_unknown", 0, 100)
	wantCode(t, err, "not_found")
}

func TestAWatcherGetsTheBacklogThenNewEntriesAndKeyChanges(t *testing.T) {
	e := newEnv(t)
	owner := e.workspace("acme")
	a := e.token(owner, "a", "tokens:read")
	b := e.token(owner, "b", "tokens:read")
	if err := e.svc.RevokeToken(e.ctx, owner, a.Token.ID); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	events, err := e.svc.WatchRevocations(ctx, owner.WorkspaceID, 0)
	if err != nil {
		t.Fatal(err)
	}
	next := func() core.FeedEvent {
		t.Helper()
		select {
		case ev := <-events:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no event")
		}
		return core.FeedEvent{}
	}
	if ev := next(); ev.Revocation == nil || ev.Revocation.JTI != a.Token.CurrentJTI {
		t.Fatalf("backlog: %+v", ev)
	}
	if err := e.svc.RevokeToken(e.ctx, owner, b.Token.ID); err != nil {
		t.Fatal(err)
	}
	if ev := next(); ev.Revocation == nil || ev.Revocation.JTI != b.Token.CurrentJTI {
		t.Fatalf("new entry: %+v", ev)
	}
	if _, err := e.svc.RotateSigningKey(e.ctx, owner); err != nil {
		t.Fatal(err)
	}
	if ev := next(); !ev.KeysChanged {
		t.Fatalf("key change: %+v", ev)
	}
	cancel()
	for range events {
	}
}
