package sqlstore

import (
	"context"
	"time"

	"github.com/tooken/tooken/ports"
)

// SessionStore implements ports.SessionStore.
type SessionStore struct{ db *DB }

var _ ports.SessionStore = (*SessionStore)(nil)

type sessionRow struct {
	ID        string `db:"id"`
	AccountID string `db:"account_id"`
	Email     string `db:"email"`
	CSRFToken string `db:"csrf_token"`
	CreatedAt Time   `db:"created_at"`
	ExpiresAt Time   `db:"expires_at"`
}

// CreateSession stores s; ECONFLICT if its ID exists.
func (s *SessionStore) CreateSession(ctx context.Context, ss *ports.Session) error {
	_, err := s.db.exec(ctx, s.db.write,
		`INSERT INTO sessions (id, account_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)`,
		ss.ID, ss.AccountID, ss.CSRFToken, s.db.t(ss.CreatedAt), s.db.t(ss.ExpiresAt))
	return s.db.wrap(err, "", "session already exists")
}

// Session returns the session with its account's email; ENOTFOUND if none.
func (s *SessionStore) Session(ctx context.Context, id string) (*ports.Session, error) {
	var r sessionRow
	err := s.db.get(ctx, s.db.read, &r, `SELECT s.id, s.account_id, a.email, s.csrf_token, s.created_at, s.expires_at
FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id = ?`, id)
	if err != nil {
		return nil, s.db.wrap(err, "session not found", "")
	}
	return &ports.Session{ID: r.ID, AccountID: r.AccountID, Email: r.Email, CSRFToken: r.CSRFToken,
		CreatedAt: r.CreatedAt.T, ExpiresAt: r.ExpiresAt.T}, nil
}

// DeleteSession removes the session, if it exists.
func (s *SessionStore) DeleteSession(ctx context.Context, id string) error {
	_, err := s.db.exec(ctx, s.db.write, `DELETE FROM sessions WHERE id = ?`, id)
	return s.db.wrap(err, "", "")
}

// DeleteExpiredSessions removes the sessions that expired at or before `before`.
func (s *SessionStore) DeleteExpiredSessions(ctx context.Context, before time.Time) (int, error) {
	n, err := s.db.exec(ctx, s.db.write, `DELETE FROM sessions WHERE expires_at <= ?`, s.db.t(before))
	return int(n), s.db.wrap(err, "", "")
}
