package portstest

import (
	"testing"
	"time"

	"github.com/tooken/tooken/ports"
)

// TestSessionStore checks a ports.SessionStore: round trips with the account's email joined in,
// duplicate ids, idempotent deletion, expiry sweeps and an account's memberships.
func TestSessionStore(t *testing.T, newStores Factory) {
	run(t, newStores, "CreateSessionRoundTripsEveryField", testSessionRoundTrip)
	run(t, newStores, "CreateSessionRejectsADuplicateID", testSessionDuplicate)
	run(t, newStores, "DeleteSessionRemovesItAndIsIdempotent", testSessionDelete)
	run(t, newStores, "DeleteExpiredSessionsKeepsLiveOnes", testSessionSweep)
}

func (e *env) newSession(acc *ports.Account, expires time.Time) *ports.Session {
	e.t.Helper()
	s := &ports.Session{ID: newID("sess"), AccountID: acc.ID, CSRFToken: newID("csrf"), CreatedAt: e.at(0), ExpiresAt: expires}
	c := *s
	e.must(e.s.Sessions.CreateSession(e.ctx, &c), "CreateSession")
	s.Email = acc.Email
	return s
}

func testSessionRoundTrip(e *env) {
	acc := e.newAccount()
	want := e.newSession(acc, e.at(time.Hour))
	got, err := e.s.Sessions.Session(e.ctx, want.ID)
	e.must(err, "Session")
	if got.ID != want.ID || got.AccountID != want.AccountID || got.Email != want.Email || got.CSRFToken != want.CSRFToken ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		e.t.Errorf("Session = %+v, want %+v", got, want)
	}
	_, err = e.s.Sessions.Session(e.ctx, newID("sess"))
	e.wantCode(err, ports.ENOTFOUND, "Session(unknown)")
}

func testSessionDuplicate(e *env) {
	acc := e.newAccount()
	s := e.newSession(acc, e.at(time.Hour))
	dup := &ports.Session{ID: s.ID, AccountID: acc.ID, CSRFToken: "other", CreatedAt: e.at(0), ExpiresAt: e.at(time.Hour)}
	e.wantCode(e.s.Sessions.CreateSession(e.ctx, dup), ports.ECONFLICT, "CreateSession(duplicate id)")
}

func testSessionDelete(e *env) {
	s := e.newSession(e.newAccount(), e.at(time.Hour))
	e.must(e.s.Sessions.DeleteSession(e.ctx, s.ID), "DeleteSession")
	_, err := e.s.Sessions.Session(e.ctx, s.ID)
	e.wantCode(err, ports.ENOTFOUND, "Session after DeleteSession")
	e.must(e.s.Sessions.DeleteSession(e.ctx, s.ID), "DeleteSession again")
}

func testSessionSweep(e *env) {
	acc := e.newAccount()
	far := e.at(100 * 365 * 24 * time.Hour) // later than any other test's sessions
	expired := e.newSession(acc, far)
	edge := e.newSession(acc, far.Add(time.Second))
	live := e.newSession(acc, far.Add(time.Second+time.Microsecond))
	n, err := e.s.Sessions.DeleteExpiredSessions(e.ctx, far.Add(time.Second))
	e.must(err, "DeleteExpiredSessions")
	if n < 2 {
		e.t.Errorf("DeleteExpiredSessions removed %d sessions, want at least 2", n)
	}
	for _, s := range []*ports.Session{expired, edge} {
		_, err := e.s.Sessions.Session(e.ctx, s.ID)
		e.wantCode(err, ports.ENOTFOUND, "Session expired at or before the cut-off")
	}
	_, err = e.s.Sessions.Session(e.ctx, live.ID)
	e.must(err, "Session expiring after the cut-off")
}
