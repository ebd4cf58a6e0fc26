package memory

import (
	"context"
	"time"

	"github.com/tooken/tooken/ports"
)

// SessionStore implements ports.SessionStore.
type SessionStore struct{ db *DB }

var _ ports.SessionStore = (*SessionStore)(nil)

// CreateSession stores s; ECONFLICT if its ID exists.
func (s *SessionStore) CreateSession(ctx context.Context, ss *ports.Session) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.sessions[ss.ID]; ok {
		return ports.Errorf(ports.ECONFLICT, "Session already exists")
	}
	if _, ok := db.accounts[ss.AccountID]; !ok {
		return ports.Errorf(ports.ENOTFOUND, "Account not found")
	}
	c := *ss
	c.Email = ""
	c.CreatedAt, c.ExpiresAt = normTime(ss.CreatedAt), normTime(ss.ExpiresAt)
	db.sessions[c.ID] = &c
	return nil
}

// Session returns the session with its account's email; ENOTFOUND if none.
func (s *SessionStore) Session(ctx context.Context, id string) (*ports.Session, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	ss, ok := db.sessions[id]
	if !ok {
		return nil, ports.Errorf(ports.ENOTFOUND, "Session not found")
	}
	c := *ss
	c.Email = db.accounts[ss.AccountID].Email
	return &c, nil
}

// DeleteSession removes the session, if it exists.
func (s *SessionStore) DeleteSession(ctx context.Context, id string) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	delete(s.db.sessions, id)
	return nil
}

// DeleteExpiredSessions removes the sessions that expired at or before `before`.
func (s *SessionStore) DeleteExpiredSessions(ctx context.Context, before time.Time) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	s.db.mu.Lock()
	defer s.db.mu.Unlock()
	n := 0
	for id, ss := range s.db.sessions {
		if !ss.ExpiresAt.After(before) {
			delete(s.db.sessions, id)
			n++
		}
	}
	return n, nil
}
