package portstest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

func testTokenLists(t *testing.T, newStores Factory) {
	run(t, newStores, "TokensListsNewestFirstWithPaging", testTokensPaging)
	run(t, newStores, "TokensFiltersByStatusAtNow", testTokensStatusFilter)
	run(t, newStores, "TokensNameContainsIgnoresCase", testTokensNameFilter)
	run(t, newStores, "TokensNameContainsTreatsWildcardsLiterally", testTokensNameWildcards)
	run(t, newStores, "TokensCombinesFiltersWithPaging", testTokensCombinedFilters)
}

// wantTokens lists the workspace's tokens with f and checks the ids (in order) and the total.
func (e *env) wantTokens(wsID string, f ports.TokenFilter, wantTotal int, want ...*ports.Token) {
	e.t.Helper()
	list, total := e.tokens(wsID, f)
	wantIDs := make([]string, len(want))
	for i, tok := range want {
		wantIDs[i] = tok.ID
	}
	what := fmt.Sprintf("Tokens(status=%q name=%q page=%d per_page=%d)", f.Status, f.NameContains, f.Page.Page, f.PerPage)
	if got := tokenIDs(list); !slices.Equal(got, wantIDs) {
		e.t.Errorf("%s: ids %v, want %v", what, got, wantIDs)
	}
	if total != wantTotal {
		e.t.Errorf("%s: total %d, want %d", what, total, wantTotal)
	}
}

// createTokensAt creates one token per name, in a shuffled order, the i-th created at base + i minutes.
func (e *env) createTokensAt(tn *tenant, names ...string) []*ports.Token {
	e.t.Helper()
	toks := make([]*ports.Token, len(names))
	for i, name := range names {
		toks[i] = e.tokenRecord(tn, name, e.at(time.Duration(i)*time.Minute))
	}
	shuffled := slices.Clone(toks)
	rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, tok := range shuffled {
		e.storeToken(tok)
	}
	return toks
}

func testTokensPaging(e *env) {
	tn := e.newTenant()
	t := e.createTokensAt(tn, "t0", "t1", "t2", "t3", "t4", "t5", "t6")
	page := func(n, per int) ports.TokenFilter { return ports.TokenFilter{Page: ports.Page{Page: n, PerPage: per}} }
	e.wantTokens(tn.WS.ID, page(1, 100), 7, t[6], t[5], t[4], t[3], t[2], t[1], t[0])
	e.wantTokens(tn.WS.ID, page(1, 3), 7, t[6], t[5], t[4])
	e.wantTokens(tn.WS.ID, page(2, 3), 7, t[3], t[2], t[1])
	e.wantTokens(tn.WS.ID, page(3, 3), 7, t[0])
	e.wantTokens(tn.WS.ID, page(4, 3), 7)
	e.wantTokens(tn.WS.ID, page(7, 1), 7, t[0])
}

func testTokensStatusFilter(e *env) {
	tn := e.newTenant()
	now := e.at(time.Hour)
	toks := make([]*ports.Token, 6)
	expiries := []*time.Time{
		nil,                             // 0 active, never expires
		ptr(now.Add(time.Microsecond)),  // 1 active until just after now
		ptr(now.Add(-time.Minute)),      // 2 expired
		ptr(now),                        // 3 expired exactly at now
		nil,                             // 4 revoked
		ptr(now.Add(-30 * time.Minute)), // 5 revoked after it expired
	}
	for i, exp := range expiries {
		toks[i] = e.tokenRecord(tn, fmt.Sprintf("status %d", i), e.at(time.Duration(i)*time.Second))
		toks[i].ExpiresAt = exp
		e.storeToken(toks[i])
	}
	for _, i := range []int{4, 5} {
		_, _, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, toks[i].ID, now.Add(-10*time.Minute), nil)
		e.must(err, "RevokeToken")
	}
	all := ports.Page{Page: 1, PerPage: 100}
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, Status: ports.StatusActive, Now: now}, 2, toks[1], toks[0])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, Status: ports.StatusExpired, Now: now}, 2, toks[3], toks[2])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, Status: ports.StatusRevoked, Now: now}, 2, toks[5], toks[4])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, Now: now}, 6, toks[5], toks[4], toks[3], toks[2], toks[1], toks[0])

	later := now.Add(time.Microsecond)
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, Status: ports.StatusActive, Now: later}, 1, toks[0])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, Status: ports.StatusExpired, Now: later}, 3,
		toks[3], toks[2], toks[1])
}

func testTokensNameFilter(e *env) {
	tn := e.newTenant()
	t := e.createTokensAt(tn, "Deploy-Bot", "deploy prod", "CI runner", "Redeployer", "backup")
	all := ports.Page{Page: 1, PerPage: 100}
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "DEPLOY"}, 3, t[3], t[1], t[0])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "deploy-b"}, 1, t[0])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "ci RUN"}, 1, t[2])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "Backup"}, 1, t[4])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "nothing"}, 0)
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: ""}, 5, t[4], t[3], t[2], t[1], t[0])
}

func testTokensNameWildcards(e *env) {
	tn := e.newTenant()
	t := e.createTokensAt(tn, "ci_runner", "ci%runner", "cixrunner", `back\slash`, "Backslash", "100% safe", "plain")
	all := ports.Page{Page: 1, PerPage: 100}
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "_"}, 1, t[0])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "%"}, 2, t[5], t[1])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "I_R"}, 1, t[0])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "i%R"}, 1, t[1])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: `k\s`}, 1, t[3])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: `\`}, 1, t[3])
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "%%"}, 0)
	e.wantTokens(tn.WS.ID, ports.TokenFilter{Page: all, NameContains: "[a-z]"}, 0)
}

func testTokensCombinedFilters(e *env) {
	tn := e.newTenant()
	now := e.at(time.Hour)
	t := e.createTokensAt(tn, "svc-a", "svc-b", "svc-c", "svc-d", "svc-e", "other-a", "other-b")
	for _, i := range []int{1, 3, 6} {
		_, _, err := e.s.Tokens.RevokeToken(e.ctx, tn.WS.ID, t[i].ID, now.Add(-time.Minute), nil)
		e.must(err, "RevokeToken")
	}
	f := func(page, per int, status ports.TokenStatus, name string) ports.TokenFilter {
		return ports.TokenFilter{Page: ports.Page{Page: page, PerPage: per}, Status: status, Now: now, NameContains: name}
	}
	e.wantTokens(tn.WS.ID, f(1, 2, ports.StatusActive, "SVC"), 3, t[4], t[2])
	e.wantTokens(tn.WS.ID, f(2, 2, ports.StatusActive, "SVC"), 3, t[0])
	e.wantTokens(tn.WS.ID, f(1, 1, ports.StatusRevoked, "svc"), 2, t[3])
	e.wantTokens(tn.WS.ID, f(2, 1, ports.StatusRevoked, "svc"), 2, t[1])
	e.wantTokens(tn.WS.ID, f(1, 2, "", "other"), 2, t[6], t[5])
	e.wantTokens(tn.WS.ID, f(1, 10, ports.StatusExpired, "svc"), 0)
}
