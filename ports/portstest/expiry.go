package portstest

import (
	"slices"
	"time"

	"github.com/tooken/tooken/ports"
)

// testExpiryCandidates checks the window of ExpiryCandidates (bounds included, revoked tokens and
// tokens with neither a near expiry nor a rotation period left out), that it spans workspaces, and
// its paging by id.
func testExpiryCandidates(e *env) {
	tn1, tn2 := e.newTenant(), e.newTenant()
	from, to := e.at(-time.Hour), e.at(time.Hour)
	var want []string
	add := func(tn *tenant, name string, expires *time.Duration, rotation bool, revoked, in bool) {
		tok := e.tokenRecord(tn, name, e.at(-3*time.Hour))
		if expires != nil {
			tok.ExpiresAt = ptr(e.at(*expires))
		}
		if rotation {
			tok.RotationPeriod = ptr(int64(3600))
		}
		e.storeToken(tok)
		if revoked {
			_, _, err := e.s.Tokens.RevokeToken(e.ctx, tok.WorkspaceID, tok.ID, e.at(-2*time.Hour), nil)
			e.must(err, "RevokeToken "+name)
		}
		if in {
			want = append(want, tok.ID)
		}
	}
	d := func(d time.Duration) *time.Duration { return &d }
	add(tn1, "before-window", d(-time.Hour-time.Microsecond), false, false, false)
	add(tn1, "at-from", d(-time.Hour), false, false, true)
	add(tn2, "inside-other-workspace", d(0), false, false, true)
	add(tn1, "at-to", d(time.Hour), false, false, true)
	add(tn1, "after-window", d(time.Hour+time.Microsecond), false, false, false)
	add(tn1, "revoked-inside", d(0), false, true, false)
	add(tn1, "no-expiry", nil, false, false, false)
	add(tn2, "rotating-no-expiry", nil, true, false, true)
	add(tn1, "rotating-expired-before-window", d(-2*time.Hour), true, false, false)
	add(tn1, "rotating-expires-later", d(5*time.Hour), true, false, true)
	add(tn1, "rotating-revoked", nil, true, true, false)
	slices.Sort(want)

	ours := func(list []ports.Token) []string {
		var ids []string
		for _, t := range list {
			if t.WorkspaceID == tn1.WS.ID || t.WorkspaceID == tn2.WS.ID {
				ids = append(ids, t.ID)
			}
		}
		return ids
	}
	all, err := e.s.Tokens.ExpiryCandidates(e.ctx, from, to, "", 1000)
	e.must(err, "ExpiryCandidates")
	if got := ours(all); !slices.Equal(got, want) {
		e.t.Errorf("ExpiryCandidates = %v, want %v (by id)", got, want)
	}
	for _, tok := range all {
		if tok.ID == want[0] {
			tokenDiff(&tok, e.token(tok.WorkspaceID, tok.ID)).report(e.t, "ExpiryCandidates' "+tok.Name)
		}
	}
	var paged []ports.Token
	for after := ""; ; {
		page, err := e.s.Tokens.ExpiryCandidates(e.ctx, from, to, after, 2)
		e.must(err, "ExpiryCandidates(limit 2)")
		if len(page) > 2 {
			e.t.Fatalf("ExpiryCandidates(limit 2) returned %d tokens", len(page))
		}
		paged = append(paged, page...)
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	if got := ours(paged); !slices.Equal(got, want) {
		e.t.Errorf("ExpiryCandidates by pages of 2 = %v, want %v", got, want)
	}
}

// testDuplicateEventID checks that an audit event id is recorded once: a second append with the same
// id is ECONFLICT and records nothing (the expiry job's exactly-once notices rest on it).
func testDuplicateEventID(e *env) {
	tn := e.newTenant()
	tok := e.createToken(tn, "dup", e.at(0))
	ev := e.tokenEvent(tok, "token.expired", e.at(time.Minute))
	e.must(e.s.Audit.AppendAuditEvents(e.ctx, ev), "AppendAuditEvents")
	again := e.tokenEvent(tok, "token.expired", e.at(2*time.Minute))
	again.ID = ev.ID
	e.wantCode(e.s.Audit.AppendAuditEvents(e.ctx, again), ports.ECONFLICT, "AppendAuditEvents(same id)")
	if got := e.eventsAbout(tn.WS.ID, tok.ID, "token.expired"); len(got) != 1 {
		e.t.Errorf("token.expired events after a duplicate append: %d, want 1", len(got))
	}
}
