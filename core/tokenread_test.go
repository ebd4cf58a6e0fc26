package core_test

import (
	"testing"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// TestGetTokenIsServedFromCacheAndStaysCurrent reads a token repeatedly and checks that only the
// first read reaches the store, that this replica's uses show at once (buffered, then flushed), that
// a revocation shows at once, and that a last use written by another replica shows soon after the
// cached copy is older than TokenReadMaxAge (it is then reloaded in the background, once).
func TestGetTokenIsServedFromCacheAndStaysCurrent(t *testing.T) {
	const maxAge = 50 * time.Millisecond
	e := newEnvWith(t, core.Config{TokenReadMaxAge: maxAge})
	p := e.workspace("cached-read")
	it := e.token(p, "reader", "tokens:read")
	get := func(what string) *ports.Token {
		t.Helper()
		tok, err := e.svc.GetToken(e.ctx, p, it.Token.ID)
		if err != nil {
			t.Fatalf("GetToken (%s): %v", what, err)
		}
		return tok
	}
	wantLastUsed := func(tok *ports.Token, want time.Time, what string) {
		t.Helper()
		if tok.LastUsedAt == nil || !tok.LastUsedAt.Equal(want) {
			t.Errorf("%s: last_used_at %v, want %s", what, tok.LastUsedAt, want)
		}
	}

	get("first read")
	before := e.reads.n.Load()
	if tok := get("second read"); tok.LastUsedAt != nil {
		t.Errorf("last_used_at %v before any use, want none", tok.LastUsedAt)
	}
	if n := e.reads.n.Load() - before; n != 0 {
		t.Errorf("a read of a cached token made %d store reads, want 0", n)
	}

	e.clock.Advance(time.Minute)
	e.auth(it.Value)
	used := e.clock.Now().UTC()
	wantLastUsed(get("after a use, before the flush"), used, "buffered use")
	if err := e.svc.FlushUsage(e.ctx); err != nil {
		t.Fatal(err)
	}
	wantLastUsed(get("after the flush"), used, "flushed use")

	elsewhere := used.Add(time.Minute)
	if _, err := e.stores.Usage.MarkUsed(e.ctx, []ports.Usage{{Kind: core.KindToken, ID: it.Token.ID, At: elsewhere}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(maxAge + 10*time.Millisecond)
	before = e.reads.n.Load()
	get("the first read once the cached copy is older than TokenReadMaxAge") // served, and reloaded in the background
	deadline := time.Now().Add(time.Second)
	for tok := get("after another replica's flush"); tok.LastUsedAt == nil || !tok.LastUsedAt.Equal(elsewhere); tok = get("after another replica's flush") {
		if time.Now().After(deadline) {
			t.Fatalf("last_used_at %v a second after the cached copy aged, want another replica's %s", tok.LastUsedAt, elsewhere)
		}
		time.Sleep(time.Millisecond)
	}
	if n := e.reads.n.Load() - before; n != 1 {
		t.Errorf("refreshing an aged cached token took %d store reads, want 1", n)
	}

	if err := e.svc.RevokeToken(e.ctx, p, it.Token.ID); err != nil {
		t.Fatal(err)
	}
	if tok := get("after revoking"); tok.RevokedAt == nil {
		t.Errorf("GetToken right after RevokeToken: not revoked")
	}
}

// TestATokenReadOvertakenByARevocationIsNotCached lets a token read return the state it read before
// another replica revoked the token and the change notification arrived: that one read may show the
// old state, but it must not be cached, or the revoked token would be accepted until the cache aged.
func TestATokenReadOvertakenByARevocationIsNotCached(t *testing.T) {
	e := newEnv(t)
	p := e.workspace("overtaken")
	it := e.token(p, "racer", "tokens:read")
	e.svc.ForgetToken(it.Token.ID)

	read, release := make(chan struct{}), make(chan struct{})
	hook := func() {
		close(read)
		<-release
	}
	e.reads.afterTokenRead.Store(&hook)
	done := make(chan error)
	go func() {
		_, err := e.svc.GetToken(e.ctx, p, it.Token.ID)
		done <- err
	}()
	<-read
	e.reads.afterTokenRead.Store(nil)
	if _, _, err := e.stores.Tokens.RevokeToken(e.ctx, p.WorkspaceID, it.Token.ID, e.clock.Now(), nil); err != nil {
		t.Fatal(err)
	}
	e.svc.ForgetToken(it.Token.ID) // the change notification of the other replica's revocation
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	tok, err := e.svc.GetToken(e.ctx, p, it.Token.ID)
	if err != nil {
		t.Fatal(err)
	}
	if tok.RevokedAt == nil {
		t.Error("GetToken after the revocation's notification returned the token unrevoked: a read that began before it was cached")
	}
	_, err = e.svc.Authenticate(e.ctx, it.Value)
	wantErr(t, err, ports.ErrTokenRevoked)
}

// TestAgedTokensAreReloadedOneAtATime holds the background reload of one aged token in the store:
// reads of another aged token meanwhile are answered from the cache and start no reload of their
// own (tokens cached together must not all reach the database together); once the first reload is
// done, a read of the second reloads it.
func TestAgedTokensAreReloadedOneAtATime(t *testing.T) {
	const maxAge = 20 * time.Millisecond
	e := newEnvWith(t, core.Config{TokenReadMaxAge: maxAge})
	p := e.workspace("one-at-a-time")
	first, second := e.token(p, "first", "tokens:read").Token.ID, e.token(p, "second", "tokens:read").Token.ID
	get := func(id string) {
		t.Helper()
		if _, err := e.svc.GetToken(e.ctx, p, id); err != nil {
			t.Fatal(err)
		}
	}
	get(first)
	get(second)
	time.Sleep(maxAge + 5*time.Millisecond)

	held, release := make(chan struct{}), make(chan struct{})
	hook := func() {
		close(held)
		<-release
	}
	e.reads.afterTokenRead.Store(&hook)
	before := e.reads.n.Load()
	get(first)
	<-held
	e.reads.afterTokenRead.Store(nil)
	for range 10 {
		get(second)
	}
	if n := e.reads.n.Load() - before; n != 1 {
		t.Fatalf("%d store reads while one reload was held, want 1: the second token's reads started reloads of their own", n)
	}

	close(release)
	deadline := time.Now().Add(time.Second)
	for e.reads.n.Load()-before < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the second token was not reloaded within a second of the first reload ending")
		}
		get(second)
		time.Sleep(time.Millisecond)
	}
}
