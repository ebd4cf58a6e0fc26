package ports

import (
	"context"
	"time"
)

// Session is a signed-in dashboard session. The cookie carries a random secret; only its SHA-256
// (ID) is stored, so a copy of the database cannot be replayed as a session.
type Session struct {
	ID        string // hex SHA-256 of the cookie secret
	AccountID string
	Email     string // the account's email (read-only join)
	// CSRFToken is the synchronizer token every state-changing form of this session must echo.
	CSRFToken string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// SessionStore keeps dashboard sessions, and lists an account's memberships for the dashboard's
// workspace switcher.
type SessionStore interface {
	// CreateSession stores s (its AccountID must name an existing account); ECONFLICT if a session
	// with its ID exists.
	CreateSession(ctx context.Context, s *Session) error
	// Session returns the session with that ID, expired or not (callers compare ExpiresAt with their
	// clock); ENOTFOUND if none.
	Session(ctx context.Context, id string) (*Session, error)
	// DeleteSession removes the session; removing an unknown session is not an error.
	DeleteSession(ctx context.Context, id string) error
	// DeleteExpiredSessions removes every session whose ExpiresAt is at or before `before` and
	// returns how many it removed.
	DeleteExpiredSessions(ctx context.Context, before time.Time) (int, error)
}
