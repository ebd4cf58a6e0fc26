package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// TokenStore implements ports.TokenStore.
type TokenStore struct{ db *DB }

type tokenRow struct {
	ID                 string `db:"id"`
	WorkspaceID        string `db:"workspace_id"`
	Name               string `db:"name"`
	Scopes             []byte `db:"scopes"`
	Audience           []byte `db:"audience"`
	Metadata           []byte `db:"metadata"`
	CreatedBy          string `db:"created_by"`
	CreatedAt          Time   `db:"created_at"`
	ExpiresAt          Time   `db:"expires_at"`
	LastUsedAt         Time   `db:"last_used_at"`
	RevokedAt          Time   `db:"revoked_at"`
	RotatedAt          Time   `db:"rotated_at"`
	CurrentJTI         string `db:"current_jti"`
	PreviousJTI        string `db:"previous_jti"`
	PreviousValidUntil Time   `db:"previous_valid_until"`
}

func (r *tokenRow) token() (ports.Token, error) {
	t := ports.Token{ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Metadata: rawJSON(r.Metadata),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.T, ExpiresAt: r.ExpiresAt.Ptr(),
		LastUsedAt: r.LastUsedAt.Ptr(), RevokedAt: r.RevokedAt.Ptr(), RotatedAt: r.RotatedAt.Ptr(),
		CurrentJTI: r.CurrentJTI, PreviousJTI: r.PreviousJTI, PreviousValidUntil: r.PreviousValidUntil.Ptr()}
	if err := json.Unmarshal(r.Scopes, &t.Scopes); err != nil {
		return t, fmt.Errorf("token %s scopes: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.Audience, &t.Audience); err != nil {
		return t, fmt.Errorf("token %s audience: %w", r.ID, err)
	}
	return t, nil
}

const tokenColumns = `id, workspace_id, name, scopes, audience, metadata, created_by, created_at, expires_at,
last_used_at, revoked_at, rotated_at, current_jti, previous_jti, previous_valid_until`

func tokenNotFound(id string) string { return fmt.Sprintf("Token %s not found", id) }

// CreateToken stores t and ev in one transaction; ECONFLICT if another token of the workspace has
// the same name case-insensitively.
func (s *TokenStore) CreateToken(ctx context.Context, t *ports.Token, ev *ports.AuditEvent) error {
	db := s.db
	scopes, err := jsonText(t.Scopes)
	if err != nil {
		return ports.Internal(err)
	}
	audience, err := jsonText(t.Audience)
	if err != nil {
		return ports.Internal(err)
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := db.exec(ctx, tx, `INSERT INTO tokens (`+tokenColumns+`, name_key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			t.ID, t.WorkspaceID, t.Name, scopes, audience, rawText(t.Metadata), t.CreatedBy,
			db.t(t.CreatedAt), db.nt(t.ExpiresAt), db.nt(t.LastUsedAt), db.nt(t.RevokedAt), db.nt(t.RotatedAt),
			t.CurrentJTI, t.PreviousJTI, db.nt(t.PreviousValidUntil), strings.ToLower(t.Name)); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, ev)
	})
	return db.wrap(err, "", fmt.Sprintf("a token named %q already exists", t.Name))
}

// Token returns one token; ENOTFOUND if it is not in the workspace.
func (s *TokenStore) Token(ctx context.Context, workspaceID, id string) (*ports.Token, error) {
	t, err := s.get(ctx, s.db.read, workspaceID, id)
	return t, s.db.wrap(err, "", "")
}

func (s *TokenStore) get(ctx context.Context, q sqlx.QueryerContext, workspaceID, id string) (*ports.Token, error) {
	var r tokenRow
	if err := s.db.get(ctx, q, &r,
		`SELECT `+tokenColumns+` FROM tokens WHERE workspace_id = ? AND id = ?`, workspaceID, id); err != nil {
		return nil, s.db.wrap(err, tokenNotFound(id), "")
	}
	t, err := r.token()
	if err != nil {
		return nil, ports.Internal(err)
	}
	return &t, nil
}

// Tokens lists the workspace's tokens matching f, newest first, and the total count matching f.
func (s *TokenStore) Tokens(ctx context.Context, workspaceID string, f ports.TokenFilter) ([]ports.Token, int, error) {
	db := s.db
	where, args := []string{"workspace_id = ?"}, []any{workspaceID}
	now := f.Now
	if now.IsZero() {
		now = time.Now()
	}
	switch f.Status {
	case "":
	case ports.StatusActive:
		where = append(where, "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)")
		args = append(args, db.t(now))
	case ports.StatusExpired:
		where = append(where, "revoked_at IS NULL AND expires_at <= ?")
		args = append(args, db.t(now))
	case ports.StatusRevoked:
		where = append(where, "revoked_at IS NOT NULL")
	default:
		return nil, 0, ports.Errorf(ports.EINVALID, "unknown token status %q", f.Status)
	}
	if f.NameContains != "" {
		where = append(where, `name_key LIKE ? ESCAPE '\'`)
		args = append(args, likeContains(strings.ToLower(f.NameContains)))
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	var total int
	if err := db.get(ctx, db.read, &total, `SELECT COUNT(*) FROM tokens`+cond, args...); err != nil {
		return nil, 0, db.wrap(err, "", "")
	}
	var rows []tokenRow
	query := `SELECT ` + tokenColumns + ` FROM tokens` + cond + ` ORDER BY created_at DESC, id DESC` + limit(f.Page)
	if err := db.sel(ctx, db.read, &rows, query, args...); err != nil {
		return nil, 0, db.wrap(err, "", "")
	}
	tokens := make([]ports.Token, len(rows))
	for i := range rows {
		t, err := rows[i].token()
		if err != nil {
			return nil, 0, ports.Internal(err)
		}
		tokens[i] = t
	}
	return tokens, total, nil
}

// limit returns the LIMIT/OFFSET clause of a page; a zero page means every row.
func limit(p ports.Page) string {
	if p.PerPage <= 0 {
		return ""
	}
	return fmt.Sprintf(" LIMIT %d OFFSET %d", p.PerPage, max(p.Offset(), 0))
}

// RevokeToken marks the token revoked at `at` and records ev in one transaction, unless it is
// already revoked: then it returns the token unchanged with revoked=false and records nothing.
func (s *TokenStore) RevokeToken(ctx context.Context, workspaceID, id string, at time.Time, ev *ports.AuditEvent) (*ports.Token, bool, error) {
	db := s.db
	var t *ports.Token
	var revoked bool
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := db.exec(ctx, tx, `UPDATE tokens SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL`,
			db.t(at), workspaceID, id)
		if err != nil {
			return err
		}
		if t, err = s.get(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		if revoked = n > 0; !revoked {
			return nil
		}
		return db.insertEvents(ctx, tx, ev)
	})
	if err != nil {
		return nil, false, db.wrap(err, "", "")
	}
	return t, revoked, nil
}

// RotateToken makes r.NewJTI the current value id and records ev in one transaction, provided the
// token is not revoked and its current value id is still r.FromJTI; otherwise ECONFLICT. FromJTI
// becomes the previous value id only with a grace period; without one, no previous value remains.
func (s *TokenStore) RotateToken(ctx context.Context, workspaceID, id string, r ports.Rotation, ev *ports.AuditEvent) (*ports.Token, error) {
	db := s.db
	previous := ""
	if r.PreviousValidUntil != nil {
		previous = r.FromJTI
	}
	var t *ports.Token
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := db.exec(ctx, tx, `UPDATE tokens
SET current_jti = ?, previous_jti = ?, previous_valid_until = ?, rotated_at = ?
WHERE workspace_id = ? AND id = ? AND current_jti = ? AND revoked_at IS NULL`,
			r.NewJTI, previous, db.nt(r.PreviousValidUntil), db.t(r.At), workspaceID, id, r.FromJTI)
		if err != nil {
			return err
		}
		if t, err = s.get(ctx, tx, workspaceID, id); err != nil {
			return err
		}
		if n == 0 {
			if t.RevokedAt != nil {
				return ports.Errorf(ports.ECONFLICT, "token %s is revoked", id)
			}
			return ports.Errorf(ports.ECONFLICT, "token %s was rotated concurrently", id)
		}
		return db.insertEvents(ctx, tx, ev)
	})
	if err != nil {
		return nil, db.wrap(err, "", "")
	}
	return t, nil
}
