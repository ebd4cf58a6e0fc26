package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/tooken/tooken/ports"
)

// AccountStore implements ports.AccountStore.
type AccountStore struct{ db *DB }

type accountRow struct {
	ID           string `db:"id"`
	Email        string `db:"email"`
	PasswordHash string `db:"password_hash"`
	CreatedAt    Time   `db:"created_at"`
}

// CreateAccount stores a with its email lower-cased; ECONFLICT if the email is taken.
func (s *AccountStore) CreateAccount(ctx context.Context, a *ports.Account) error {
	a.Email = strings.ToLower(a.Email)
	_, err := s.db.exec(ctx, s.db.write,
		`INSERT INTO accounts (id, email, password_hash, created_at) VALUES (?, ?, ?, ?)`,
		a.ID, a.Email, a.PasswordHash, s.db.t(a.CreatedAt))
	return s.db.wrap(err, "", fmt.Sprintf("an account with email %q already exists", a.Email))
}

// AccountByEmail returns the account with that email, case-insensitively; ENOTFOUND if none.
func (s *AccountStore) AccountByEmail(ctx context.Context, email string) (*ports.Account, error) {
	var r accountRow
	err := s.db.get(ctx, s.db.read, &r,
		`SELECT id, email, password_hash, created_at FROM accounts WHERE email = ?`, strings.ToLower(email))
	if err != nil {
		return nil, s.db.wrap(err, "account not found", "")
	}
	return &ports.Account{ID: r.ID, Email: r.Email, PasswordHash: r.PasswordHash, CreatedAt: r.CreatedAt.T}, nil
}
