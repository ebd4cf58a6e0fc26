package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
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
	RotationPeriod     *int64 `db:"rotation_period"`
	LastUsedAt         Time   `db:"last_used_at"`
	RevokedAt          Time   `db:"revoked_at"`
	RotatedAt          Time   `db:"rotated_at"`
	CurrentJTI         string `db:"current_jti"`
	CurrentKID         string `db:"current_kid"`
	PreviousJTI        string `db:"previous_jti"`
	PreviousKID        string `db:"previous_kid"`
	PreviousValidUntil Time   `db:"previous_valid_until"`
}

func (r *tokenRow) token() (ports.Token, error) {
	t := ports.Token{ID: r.ID, WorkspaceID: r.WorkspaceID, Name: r.Name, Metadata: rawJSON(r.Metadata),
		CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.T, ExpiresAt: r.ExpiresAt.Ptr(), RotationPeriod: r.RotationPeriod,
		LastUsedAt: r.LastUsedAt.Ptr(), RevokedAt: r.RevokedAt.Ptr(), RotatedAt: r.RotatedAt.Ptr(),
		CurrentJTI: r.CurrentJTI, CurrentKID: r.CurrentKID, PreviousJTI: r.PreviousJTI, PreviousKID: r.PreviousKID,
		PreviousValidUntil: r.PreviousValidUntil.Ptr()}
	if err := json.Unmarshal(r.Scopes, &t.Scopes); err != nil {
		return t, fmt.Errorf("token %s scopes: %w", r.ID, err)
	}
	if err := json.Unmarshal(r.Audience, &t.Audience); err != nil {
		return t, fmt.Errorf("token %s audience: %w", r.ID, err)
	}
	return t, nil
}

const tokenColumns = `id, workspace_id, name, scopes, audience, metadata, created_by, created_at, expires_at,
last_used_at, revoked_at, rotated_at, current_jti, current_kid, previous_jti, previous_kid, previous_valid_until,
rotation_period`

// tokenInWorkspace is the workspace condition of an UPDATE of a live token by id. Written as IS
// TRUE, it filters the row the primary key finds and is never an index condition: as a plain
// "workspace_id = ?" beside "revoked_at IS NULL", PostgreSQL planned such updates through the partial
// index tokens_current_kid_idx (workspace_id, current_kid) WHERE revoked_at IS NULL while the table
// had no statistics yet (a database that just grew from empty, until autovacuum analyzes it) — a
// scan of every live token of the workspace per revoke.
const tokenInWorkspace = `(workspace_id = ?) IS TRUE`

// revokeToken revokes a live token: its revoked_at, then id and workspace.
const revokeToken = `UPDATE tokens SET revoked_at = ? WHERE id = ? AND ` + tokenInWorkspace + ` AND revoked_at IS NULL`

// rotateToken moves a live token whose current value id is still the expected one to a new value:
// the new jti and kid, the previous jti (empty: none) twice, its validity, the rotation time, then
// id, workspace and the expected jti. The right-hand side of SET reads the row as it was, so
// previous_kid takes the old current_kid.
const rotateToken = `UPDATE tokens
SET current_jti = ?, current_kid = ?, previous_jti = ?,
    previous_kid = CASE WHEN ? = '' THEN '' ELSE current_kid END,
    previous_valid_until = ?, rotated_at = ?
WHERE id = ? AND ` + tokenInWorkspace + ` AND current_jti = ? AND revoked_at IS NULL`

func tokenNotFound(id string) string { return fmt.Sprintf("Token %s not found", id) }

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

// returningToken ends an UPDATE of one token that returns the row as it leaves it.
const returningToken = ` RETURNING ` + tokenColumns

// updatedToken runs query, an UPDATE of one token ending in returningToken, and returns the token as
// the update left it; nil when no row matched. One round trip, where an UPDATE and then a SELECT
// took two.
func (db *DB) updatedToken(ctx context.Context, tx *sqlx.Tx, query string, args ...any) (*ports.Token, error) {
	var r tokenRow
	err := db.get(ctx, tx, &r, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
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
	page, args := limit(f.Page, args)
	query := `SELECT ` + tokenColumns + ` FROM tokens` + cond + ` ORDER BY created_at DESC, id DESC` + page
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

// limit returns the LIMIT/OFFSET clause of a page with bound parameters, and args with their
// values appended, so that every page shares one prepared statement; a zero page means every row.
func limit(p ports.Page, args []any) (string, []any) {
	if p.PerPage <= 0 {
		return "", args
	}
	return " LIMIT ? OFFSET ?", append(args, p.PerPage, max(p.Offset(), 0))
}

// RevokeToken marks the token revoked at `at` and records ev in one transaction, unless it is
// already revoked: then it returns the token unchanged with revoked=false and records nothing. The
// current value, and the previous one while its grace period lasts, enter the revocation feed in the
// same transaction, and ChangeToken is announced.
func (s *TokenStore) RevokeToken(ctx context.Context, workspaceID, id string, at time.Time, ev *ports.AuditEvent) (*ports.Token, bool, error) {
	db := s.db
	var t *ports.Token
	var revoked bool
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		var err error
		if t, err = db.updatedToken(ctx, tx, revokeToken+returningToken, db.t(at), id, workspaceID); err != nil {
			return nil, err
		}
		if revoked = t != nil; !revoked {
			t, err = s.get(ctx, tx, workspaceID, id)
			return nil, err
		}
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		if err := db.appendRevocations(ctx, tx, revokedValues(t, at)...); err != nil {
			return nil, err
		}
		return []ports.Change{{Kind: ports.ChangeToken, WorkspaceID: workspaceID, ID: id}}, nil
	})
	if err != nil {
		return nil, false, db.wrap(err, "", "")
	}
	return t, revoked, nil
}

// revokedValues returns the feed entries of revoking t at `at`: its current value, and its previous
// one while the grace period lasts (PreviousValidUntil after at).
func revokedValues(t *ports.Token, at time.Time) []ports.Revocation {
	entry := func(jti string) ports.Revocation {
		return ports.Revocation{WorkspaceID: t.WorkspaceID, TokenID: t.ID, JTI: jti, ExpiresAt: t.ExpiresAt, RevokedAt: at}
	}
	out := []ports.Revocation{entry(t.CurrentJTI)}
	if t.PreviousJTI != "" && t.PreviousValidUntil != nil && t.PreviousValidUntil.After(at.Truncate(time.Microsecond)) {
		out = append(out, entry(t.PreviousJTI))
	}
	return out
}

// RotateToken makes r.NewJTI (signed by r.NewKID) the current value id and records ev in one
// transaction, provided the token is not revoked and its current value id is still r.FromJTI;
// otherwise ECONFLICT. With a grace period, FromJTI and its kid become the previous value; without
// one, no previous value remains. r.FromJTI enters the revocation feed from the end of the grace
// period (or r.At), and ChangeToken is announced.
func (s *TokenStore) RotateToken(ctx context.Context, workspaceID, id string, r ports.Rotation, ev *ports.AuditEvent) (*ports.Token, error) {
	db := s.db
	previous, revokedAt := "", r.At
	if r.PreviousValidUntil != nil {
		previous, revokedAt = r.FromJTI, *r.PreviousValidUntil
	}
	var t *ports.Token
	err := db.mutate(ctx, func(tx *sqlx.Tx) ([]ports.Change, error) {
		old, err := s.get(ctx, tx, workspaceID, id)
		if err != nil {
			return nil, err
		}
		if t, err = db.updatedToken(ctx, tx, rotateToken+returningToken, r.NewJTI, r.NewKID, previous, previous, db.nt(r.PreviousValidUntil),
			db.t(r.At), id, workspaceID, r.FromJTI); err != nil {
			return nil, err
		}
		if t == nil {
			if t, err = s.get(ctx, tx, workspaceID, id); err != nil {
				return nil, err
			}
			if t.RevokedAt != nil {
				return nil, ports.Errorf(ports.ECONFLICT, "token %s is revoked", id)
			}
			return nil, ports.Errorf(ports.ECONFLICT, "token %s was rotated concurrently", id)
		}
		if err := db.insertEvents(ctx, tx, ev); err != nil {
			return nil, err
		}
		entries := []ports.Revocation{{WorkspaceID: workspaceID, TokenID: id, JTI: r.FromJTI, ExpiresAt: t.ExpiresAt, RevokedAt: revokedAt}}
		if old.PreviousJTI != "" && old.PreviousValidUntil != nil && old.PreviousValidUntil.After(r.At) {
			// the grace period of the value rotated out before ends early
			entries = append(entries, ports.Revocation{WorkspaceID: workspaceID, TokenID: id, JTI: old.PreviousJTI, ExpiresAt: t.ExpiresAt, RevokedAt: r.At})
		}
		if err := db.appendRevocations(ctx, tx, entries...); err != nil {
			return nil, err
		}
		return []ports.Change{{Kind: ports.ChangeToken, WorkspaceID: workspaceID, ID: id}}, nil
	})
	if err != nil {
		return nil, db.wrap(err, "", "")
	}
	return t, nil
}

// ExpiryCandidates lists unrevoked tokens of every workspace with an id greater than after, by id, at
// most limit, whose expires_at lies in [from, to], or which have a rotation period and no expires_at
// before from.
func (s *TokenStore) ExpiryCandidates(ctx context.Context, from, to time.Time, after string, limit int) ([]ports.Token, error) {
	db := s.db
	var rows []tokenRow
	if err := db.sel(ctx, db.read, &rows, `SELECT `+tokenColumns+` FROM tokens
WHERE revoked_at IS NULL AND id > ? AND ((expires_at >= ? AND expires_at <= ?)
OR (rotation_period IS NOT NULL AND (expires_at IS NULL OR expires_at >= ?)))
ORDER BY id LIMIT ?`, after, db.t(from), db.t(to), db.t(from), max(limit, 0)); err != nil {
		return nil, db.wrap(err, "", "")
	}
	out := make([]ports.Token, len(rows))
	for i := range rows {
		t, err := rows[i].token()
		if err != nil {
			return nil, ports.Internal(err)
		}
		out[i] = t
	}
	return out, nil
}
