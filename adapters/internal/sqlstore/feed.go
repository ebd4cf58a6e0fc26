package sqlstore

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// RevocationFeed implements ports.RevocationFeed.
type RevocationFeed struct{ db *DB }

type revocationRow struct {
	Seq         int64  `db:"seq"`
	WorkspaceID string `db:"workspace_id"`
	TokenID     string `db:"token_id"`
	JTI         string `db:"jti"`
	ExpiresAt   Time   `db:"expires_at"`
	RevokedAt   Time   `db:"revoked_at"`
}

const revocationColumns = `seq, workspace_id, token_id, jti, expires_at, revoked_at`

// appendRevocations appends entries to the feed in the caller's transaction (their Seq is assigned
// by the database), after taking the dialect's feed lock.
func (db *DB) appendRevocations(ctx context.Context, tx *sqlx.Tx, entries ...ports.Revocation) error {
	if len(entries) == 0 {
		return nil
	}
	args := make([]any, 0, 5*len(entries))
	for _, r := range entries {
		args = append(args, r.WorkspaceID, r.TokenID, r.JTI, db.nt(r.ExpiresAt), db.t(r.RevokedAt))
	}
	if db.d.FeedLock != "" && db.d.WritableCTEs {
		// Every row the join yields needs the lock's row first, so the lock is held before any seq is
		// drawn; one round trip instead of two.
		_, err := db.exec(ctx, tx, `WITH feed_lock AS MATERIALIZED (`+db.d.FeedLock+`)
INSERT INTO revocations (workspace_id, token_id, jti, expires_at, revoked_at)
SELECT v.* FROM feed_lock, (VALUES `+valuesList(`(?::text, ?::text, ?::text, ?::timestamptz, ?::timestamptz)`, len(entries))+`)
AS v (workspace_id, token_id, jti, expires_at, revoked_at)`, args...)
		return err
	}
	if db.d.FeedLock != "" {
		if _, err := db.exec(ctx, tx, db.d.FeedLock); err != nil {
			return err
		}
	}
	_, err := db.exec(ctx, tx, `INSERT INTO revocations (workspace_id, token_id, jti, expires_at, revoked_at) VALUES `+
		valuesList(`(?, ?, ?, ?, ?)`, len(entries)), args...)
	return err
}

// Revocations lists the workspace's entries with Seq > after whose ExpiresAt is nil or after now, in
// Seq order, at most limit.
func (f *RevocationFeed) Revocations(ctx context.Context, workspaceID string, after int64, now time.Time, limit int) ([]ports.Revocation, error) {
	return f.list(ctx, `SELECT `+revocationColumns+` FROM revocations
WHERE workspace_id = ? AND seq > ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY seq LIMIT ?`,
		workspaceID, after, f.db.t(now), max(limit, 0))
}

// RevocationsSince lists every workspace's entries with Seq > after, in Seq order, at most limit.
func (f *RevocationFeed) RevocationsSince(ctx context.Context, after int64, limit int) ([]ports.Revocation, error) {
	return f.list(ctx, `SELECT `+revocationColumns+` FROM revocations WHERE seq > ? ORDER BY seq LIMIT ?`,
		after, max(limit, 0))
}

func (f *RevocationFeed) list(ctx context.Context, query string, args ...any) ([]ports.Revocation, error) {
	var rows []revocationRow
	if err := f.db.sel(ctx, f.db.read, &rows, query, args...); err != nil {
		return nil, f.db.wrap(err, "", "")
	}
	out := make([]ports.Revocation, len(rows))
	for i, r := range rows {
		out[i] = ports.Revocation{Seq: r.Seq, WorkspaceID: r.WorkspaceID, TokenID: r.TokenID, JTI: r.JTI,
			ExpiresAt: r.ExpiresAt.Ptr(), RevokedAt: r.RevokedAt.T}
	}
	return out, nil
}

// PruneRevocations deletes the entries whose ExpiresAt is at or before now and returns how many.
func (f *RevocationFeed) PruneRevocations(ctx context.Context, now time.Time) (int, error) {
	n, err := f.db.exec(ctx, f.db.write, `DELETE FROM revocations WHERE expires_at <= ?`, f.db.t(now))
	if err != nil {
		return 0, f.db.wrap(err, "", "")
	}
	return int(n), nil
}
