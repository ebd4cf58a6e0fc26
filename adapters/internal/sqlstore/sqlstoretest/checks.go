package sqlstoretest

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tooken/tooken/ports"
)

func testErrors(c *check) {
	wsID, _ := c.workspace()
	acc := &ports.Account{ID: id("acc_"), Email: id("Dup") + "@Example.test", CreatedAt: c.base}
	c.must(c.s.Accounts.CreateAccount(c.ctx, acc), "CreateAccount")
	dup := &ports.Account{ID: id("acc_"), Email: strings.ToUpper(acc.Email), CreatedAt: c.base}
	err := c.s.Accounts.CreateAccount(c.ctx, dup)
	wantCode(c.t, err, ports.ECONFLICT, "CreateAccount(duplicate email)")
	if msg := ports.ErrorMessage(err); !strings.Contains(msg, strings.ToLower(acc.Email)) {
		c.t.Errorf("conflict message %q does not name the email", msg)
	}
	if errors.Unwrap(err) == nil {
		c.t.Errorf("conflict error %v does not keep its cause for the logs", err)
	}

	tok := c.token(wsID, "dup", c.base)
	err = c.s.Tokens.CreateToken(c.ctx, &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: "DUP",
		CreatedAt: c.base, CurrentJTI: id("jti_")}, nil)
	wantCode(c.t, err, ports.ECONFLICT, "CreateToken(duplicate name)")
	if msg, want := ports.ErrorMessage(err), `a token named "DUP" already exists`; msg != want {
		c.t.Errorf("conflict message %q, want %q", msg, want)
	}

	missing := id("tok_")
	_, err = c.s.Tokens.Token(c.ctx, wsID, missing)
	wantCode(c.t, err, ports.ENOTFOUND, "Token(unknown)")
	if msg, want := ports.ErrorMessage(err), "Token "+missing+" not found"; msg != want {
		c.t.Errorf("not-found message %q, want %q", msg, want)
	}
	_, err = c.s.Tokens.Token(c.ctx, id("ws_"), tok.ID)
	wantCode(c.t, err, ports.ENOTFOUND, "Token(other workspace)")
	_, _, err = c.s.Tokens.Tokens(c.ctx, wsID, ports.TokenFilter{Status: "bogus"})
	wantCode(c.t, err, ports.EINVALID, "Tokens(unknown status)")
	_, err = c.s.Usage.MarkUsed(c.ctx, []ports.Usage{{Kind: "bogus", ID: tok.ID, At: c.base}})
	wantCode(c.t, err, ports.EINVALID, "MarkUsed(unknown kind)")
	_, err = c.s.Workspaces.Workspace(c.ctx, id("ws_"))
	wantCode(c.t, err, ports.ENOTFOUND, "Workspace(unknown)")
}

func testTimes(c *check) {
	wsID, _ := c.workspace()
	zone := time.FixedZone("UTC+9", 9*3600)
	created := c.base.In(zone).Add(123456789 * time.Nanosecond)
	expires := created.Add(time.Hour + 999*time.Nanosecond)
	tok := &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: "times", Scopes: []string{"a"},
		Audience: []string{}, CreatedAt: created, ExpiresAt: &expires, CurrentJTI: id("jti_")}
	c.must(c.s.Tokens.CreateToken(c.ctx, tok, nil), "CreateToken")
	got, err := c.s.Tokens.Token(c.ctx, wsID, tok.ID)
	c.must(err, "Token")
	for name, pair := range map[string][2]time.Time{
		"CreatedAt": {got.CreatedAt, created}, "ExpiresAt": {*got.ExpiresAt, expires},
	} {
		g, want := pair[0], pair[1].UTC().Truncate(time.Microsecond)
		if g.Location() != time.UTC || !g.Equal(want) {
			c.t.Errorf("%s: got %s (%s), want %s in UTC", name, g, g.Location(), want)
		}
	}
	if got.LastUsedAt != nil || got.RevokedAt != nil || got.RotatedAt != nil || got.PreviousValidUntil != nil {
		c.t.Errorf("unset times read back non-nil: %+v", got)
	}
	if got.Audience == nil || len(got.Audience) != 0 || got.Metadata != nil {
		c.t.Errorf("Audience %#v / Metadata %#v: want an empty slice and nil", got.Audience, got.Metadata)
	}
	list, _, err := c.s.Tokens.Tokens(c.ctx, wsID, ports.TokenFilter{Status: ports.StatusExpired,
		Now: expires.Add(-time.Nanosecond)})
	c.must(err, "Tokens")
	if len(list) != 1 {
		c.t.Errorf("a token whose stored expiry (truncated) is before now must list as expired")
	}
}

func testNameFolding(c *check) {
	wsID, _ := c.workspace()
	tok := c.token(wsID, "Ärger-Straße", c.base)
	err := c.s.Tokens.CreateToken(c.ctx, &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: "äRGER-STRASSE",
		CreatedAt: c.base.Add(time.Second), CurrentJTI: id("jti_")}, nil)
	c.must(err, "CreateToken(different name under full case folding)")
	err = c.s.Tokens.CreateToken(c.ctx, &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: "äRGER-STRAßE",
		CreatedAt: c.base, CurrentJTI: id("jti_")}, nil)
	wantCode(c.t, err, ports.ECONFLICT, "CreateToken(same name, non-ASCII case)")
	list, total, err := c.s.Tokens.Tokens(c.ctx, wsID, ports.TokenFilter{NameContains: "äRG", Page: ports.Page{Page: 1, PerPage: 10}})
	c.must(err, "Tokens")
	if total != 2 || len(list) != 2 || list[1].ID != tok.ID {
		c.t.Errorf("Tokens(name ÄRG): total %d, %d tokens; want both", total, len(list))
	}
}

func testConcurrentWriters(c *check) {
	wsID, _ := c.workspace()
	const writers = 40
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			tok := &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: id("w"), CreatedAt: c.base,
				CurrentJTI: id("jti_")}
			ev := c.event(wsID, "token.created", tok.ID, c.base)
			if errs[i] = c.s.Tokens.CreateToken(c.ctx, tok, ev); errs[i] != nil {
				return
			}
			if _, errs[i] = c.s.Usage.MarkUsed(c.ctx, []ports.Usage{{Kind: "token", ID: tok.ID, At: c.base}}); errs[i] != nil {
				return
			}
			_, _, errs[i] = c.s.Tokens.Tokens(c.ctx, wsID, ports.TokenFilter{Page: ports.Page{Page: 1, PerPage: 5}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			c.t.Errorf("writer %d: %v", i, err)
		}
	}
	if _, total := c.events(wsID, ports.AuditFilter{Action: "token.created"}); total != writers {
		c.t.Errorf("token.created events: %d, want %d", total, writers)
	}
}

func testRotateCAS(c *check) {
	wsID, _ := c.workspace()
	tok := c.token(wsID, "cas", c.base)
	const racers = 20
	errs := make([]error, racers)
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			r := ports.Rotation{FromJTI: tok.CurrentJTI, NewJTI: id("jti_"), At: c.base.Add(time.Minute)}
			_, errs[i] = c.s.Tokens.RotateToken(c.ctx, wsID, tok.ID, r, c.event(wsID, "token.rotated", tok.ID, r.At))
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch ports.ErrorCode(err) {
		case "":
			wins++
		case ports.ECONFLICT:
		default:
			c.t.Errorf("rotation %d: %v, want nil or ECONFLICT", i, err)
		}
	}
	if wins != 1 {
		c.t.Errorf("%d rotations won, want 1", wins)
	}
	if _, total := c.events(wsID, ports.AuditFilter{Action: "token.rotated"}); total != 1 {
		c.t.Errorf("token.rotated events: %d, want 1", total)
	}
}

func testRevokeIdempotent(c *check) {
	wsID, _ := c.workspace()
	tok := c.token(wsID, "revoke", c.base)
	first, revoked, err := c.s.Tokens.RevokeToken(c.ctx, wsID, tok.ID, c.base.Add(time.Minute),
		c.event(wsID, "token.revoked", tok.ID, c.base))
	c.must(err, "RevokeToken")
	second, again, err := c.s.Tokens.RevokeToken(c.ctx, wsID, tok.ID, c.base.Add(time.Hour),
		c.event(wsID, "token.revoked", tok.ID, c.base))
	c.must(err, "second RevokeToken")
	if !revoked || again || !second.RevokedAt.Equal(*first.RevokedAt) {
		c.t.Errorf("revoked %v then %v, RevokedAt %v then %v", revoked, again, first.RevokedAt, second.RevokedAt)
	}
	if _, total := c.events(wsID, ports.AuditFilter{TargetID: tok.ID}); total != 1 {
		c.t.Errorf("token.revoked events: %d, want 1", total)
	}
}

func testMarkUsed(c *check) {
	wsID, owner := c.workspace()
	tok := c.token(wsID, "used", c.base)
	key := &ports.APIKey{ID: id("key_"), WorkspaceID: wsID, Name: "k", Kind: ports.APIKeyPersonal,
		MemberID: owner.ID, SecretHash: []byte(id("h")), Last4: "abcd", CreatedAt: c.base}
	c.must(c.s.APIKeys.CreateAPIKey(c.ctx, key, nil), "CreateAPIKey")
	t1, t2, t3 := c.base.Add(time.Minute), c.base.Add(2*time.Minute), c.base.Add(3*time.Minute)
	_, err := c.s.Usage.MarkUsed(c.ctx, []ports.Usage{
		{Kind: "token", ID: tok.ID, At: t2}, {Kind: "token", ID: tok.ID, At: t1},
		{Kind: "api_key", ID: key.ID, At: t1}, {Kind: "token", ID: id("tok_"), At: t3},
	})
	c.must(err, "MarkUsed")
	_, err = c.s.Usage.MarkUsed(c.ctx, []ports.Usage{{Kind: "token", ID: tok.ID, At: t1}, {Kind: "api_key", ID: key.ID, At: t3}})
	c.must(err, "MarkUsed")
	gotTok, err := c.s.Tokens.Token(c.ctx, wsID, tok.ID)
	c.must(err, "Token")
	gotKey, err := c.s.APIKeys.APIKey(c.ctx, wsID, key.ID)
	c.must(err, "APIKey")
	if gotTok.LastUsedAt == nil || !gotTok.LastUsedAt.Equal(t2) {
		c.t.Errorf("token LastUsedAt %v, want %v", gotTok.LastUsedAt, t2)
	}
	if gotKey.LastUsedAt == nil || !gotKey.LastUsedAt.Equal(t3) {
		c.t.Errorf("api key LastUsedAt %v, want %v", gotKey.LastUsedAt, t3)
	}
}

func testAudit(c *check) {
	wsID, _ := c.workspace()
	target := id("tok_")
	same := c.base.Add(time.Hour)
	e1, e2, e3 := c.event(wsID, "a.one", target, same), c.event(wsID, "a.two", target, same), c.event(wsID, "a.one", target, same)
	early := c.event(wsID, "a.one", target, c.base)
	e3.Metadata = map[string]any{"n": 1.0, "s": "x"}
	c.must(c.s.Audit.AppendAuditEvents(c.ctx, early, e1, e2, e3), "AppendAuditEvents")
	list, total, err := c.s.Audit.AuditEvents(c.ctx, wsID, ports.AuditFilter{TargetID: target})
	c.must(err, "AuditEvents")
	if total != 4 || len(list) != 4 || list[0].Metadata["s"] != "x" || list[1].Metadata != nil {
		c.t.Fatalf("AuditEvents: total %d, %d events, first metadata %v", total, len(list), list[0].Metadata)
	}
	got, _ := c.events(wsID, ports.AuditFilter{TargetID: target})
	if want := []string{e3.ID, e2.ID, e1.ID, early.ID}; !slices.Equal(got, want) {
		c.t.Errorf("order %s, want newest first with insertion order as tie-breaker %s", fmtIDs(got...), fmtIDs(want...))
	}
	got, total = c.events(wsID, ports.AuditFilter{Action: "a.one", Since: &same, Page: ports.Page{Page: 2, PerPage: 1}})
	if want := []string{e1.ID}; !slices.Equal(got, want) || total != 2 {
		c.t.Errorf("since+action page 2: %s total %d, want %s total 2", fmtIDs(got...), total, fmtIDs(want...))
	}
	got, total = c.events(wsID, ports.AuditFilter{Until: &same, ActorID: "acc_a.one"})
	if want := []string{early.ID}; !slices.Equal(got, want) || total != 1 {
		c.t.Errorf("until (exclusive): %s total %d, want %s", fmtIDs(got...), total, fmtIDs(want...))
	}
	if got, total := c.events(id("ws_"), ports.AuditFilter{}); len(got) != 0 || total != 0 {
		c.t.Errorf("events of another workspace: %v", got)
	}
}

func testZeroPage(c *check) {
	wsID, _ := c.workspace()
	for i := range 3 {
		c.token(wsID, id("z"), c.base.Add(time.Duration(i)*time.Second))
	}
	list, total, err := c.s.Tokens.Tokens(c.ctx, wsID, ports.TokenFilter{})
	c.must(err, "Tokens")
	if len(list) != 3 || total != 3 {
		c.t.Errorf("Tokens with a zero page: %d tokens, total %d; want 3, 3", len(list), total)
	}
}
