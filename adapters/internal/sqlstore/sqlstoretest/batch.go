package sqlstoretest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// testBatchedCreates makes creates queue behind a writer that holds the workspace's audit-chain
// head, so that they are written together once it lets go, and checks that each call still
// succeeds or fails on its own: of two calls with the same name one wins and the other gets
// ECONFLICT without an event, and a call whose event cannot be written (its id is taken) fails
// alone while the rest of its batch is stored. On PostgreSQL it also checks that queued calls share
// a transaction.
func testBatchedCreates(t *testing.T, h Harness) {
	db := migrated(t, h)
	c := newCheck(t, db)
	wsID, _ := c.workspace()
	first := &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: "first", CreatedAt: c.base, CurrentJTI: id("jti_")}
	taken := c.event(wsID, "token.created", first.ID, c.base)
	c.must(c.s.Tokens.CreateToken(c.ctx, first, taken), "CreateToken first")
	w := h.Store(db).Writer()

	names := []string{"dup", "DUP"}
	var plain []string
	for i := range 14 {
		plain = append(plain, fmt.Sprintf("plain-%d", i))
	}
	names = append(names, plain...)
	toks, errs := c.createQueued(w, wsID, names)
	var dupWins int
	for i, name := range names {
		switch {
		case strings.EqualFold(name, "dup") && errs[i] == nil:
			dupWins++
		case strings.EqualFold(name, "dup"):
			wantCode(t, errs[i], ports.ECONFLICT, "CreateToken "+name)
			_, err := c.s.Tokens.Token(c.ctx, wsID, toks[i].ID)
			wantCode(t, err, ports.ENOTFOUND, "Token that lost its name")
			if ids, _ := c.events(wsID, ports.AuditFilter{TargetID: toks[i].ID}); len(ids) != 0 {
				t.Errorf("events of the create that lost its name: %v, want none", ids)
			}
		case errs[i] != nil:
			t.Errorf("CreateToken %s: %v, want nil", name, errs[i])
		}
	}
	if dupWins != 1 {
		t.Errorf("%d of the two creates named dup/DUP succeeded, want exactly 1", dupWins)
	}
	if w.DriverName() == "postgres" {
		var txs int
		c.must(w.GetContext(c.ctx, &txs, `SELECT count(DISTINCT xmin::text) FROM tokens WHERE workspace_id = $1 AND name LIKE 'plain-%'`, wsID),
			"count the transactions of the queued creates")
		if txs > len(plain)/2 {
			t.Errorf("the %d queued creates were written by %d transactions, want them batched (at most %d)", len(plain), txs, len(plain)/2)
		}
	}

	names = []string{"e", "bad-event", "f"}
	toks, errs = c.createQueued(w, wsID, names, func(i int, _ *ports.Token, ev *ports.AuditEvent) {
		if names[i] == "bad-event" {
			ev.ID = taken.ID
		}
	})
	for i, name := range names {
		if name != "bad-event" {
			c.must(errs[i], "CreateToken "+name+" queued with a create that fails")
			continue
		}
		wantCode(t, errs[i], ports.ECONFLICT, "CreateToken with a taken event id")
		_, err := c.s.Tokens.Token(c.ctx, wsID, toks[i].ID)
		wantCode(t, err, ports.ENOTFOUND, "Token whose event was refused")
	}
	if _, total := c.events(wsID, ports.AuditFilter{Action: "token.created"}); total != 20 {
		t.Errorf("token.created events: %d, want 20 (the first, two blockers, 15 of the first round, 2 of the second)", total)
	}
}

// createQueued holds the workspace's chain head in a transaction of its own, starts one create per
// name (the first takes the writer and waits on the lock; the others queue behind it), lets go, and
// returns the tokens and errors. edit may change a token and its event before they are sent.
func (c *check) createQueued(w *sqlx.DB, wsID string, names []string, edit ...func(int, *ports.Token, *ports.AuditEvent)) ([]*ports.Token, []error) {
	c.t.Helper()
	hold, err := w.BeginTxx(c.ctx, nil)
	c.must(err, "begin the holding transaction")
	_, err = hold.ExecContext(c.ctx, sqlx.Rebind(sqlx.BindType(w.DriverName()),
		`UPDATE audit_heads SET last_seq = last_seq WHERE workspace_id = ?`), wsID)
	c.must(err, "lock the chain head")
	blocker := &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: id("blocker-"), CreatedAt: c.base, CurrentJTI: id("jti_")}
	var wg sync.WaitGroup
	wg.Go(func() {
		c.must(c.s.Tokens.CreateToken(c.ctx, blocker, c.event(wsID, "token.created", blocker.ID, c.base)), "CreateToken blocker")
	})
	time.Sleep(100 * time.Millisecond)
	toks := make([]*ports.Token, len(names))
	evs := make([]*ports.AuditEvent, len(names))
	errs := make([]error, len(names))
	for i, name := range names {
		toks[i] = &ports.Token{ID: id("tok_"), WorkspaceID: wsID, Name: name, CreatedAt: c.base, CurrentJTI: id("jti_")}
		evs[i] = c.event(wsID, "token.created", toks[i].ID, c.base)
		for _, fn := range edit {
			fn(i, toks[i], evs[i])
		}
		wg.Go(func() { errs[i] = c.s.Tokens.CreateToken(c.ctx, toks[i], evs[i]) })
	}
	time.Sleep(200 * time.Millisecond)
	c.must(hold.Commit(), "release the chain head")
	wg.Wait()
	return toks, errs
}
