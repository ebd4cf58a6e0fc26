package memory

import (
	"context"
	"time"

	"github.com/tooken/tooken/ports"
)

// RevocationFeed implements ports.RevocationFeed.
type RevocationFeed struct{ db *DB }

var _ ports.RevocationFeed = (*RevocationFeed)(nil)

// appendRevocation appends the entry for value jti of t, refused from revokedAt; db.mu is held.
func (db *DB) appendRevocation(t *ports.Token, jti string, revokedAt time.Time) {
	db.feedSeq++
	db.feed = append(db.feed, ports.Revocation{Seq: db.feedSeq, WorkspaceID: t.WorkspaceID, TokenID: t.ID,
		JTI: jti, ExpiresAt: copyTimePtr(t.ExpiresAt), RevokedAt: normTime(revokedAt)})
}

// Revocations lists the workspace's entries with Seq > after whose ExpiresAt is nil or after now, in
// Seq order, at most limit.
func (f *RevocationFeed) Revocations(ctx context.Context, workspaceID string, after int64, now time.Time, limit int) ([]ports.Revocation, error) {
	return f.list(ctx, after, limit, func(r *ports.Revocation) bool {
		return r.WorkspaceID == workspaceID && (r.ExpiresAt == nil || r.ExpiresAt.After(now))
	})
}

// RevocationsSince lists every workspace's entries with Seq > after, in Seq order, at most limit.
func (f *RevocationFeed) RevocationsSince(ctx context.Context, after int64, limit int) ([]ports.Revocation, error) {
	return f.list(ctx, after, limit, func(*ports.Revocation) bool { return true })
}

func (f *RevocationFeed) list(ctx context.Context, after int64, limit int, keep func(*ports.Revocation) bool) ([]ports.Revocation, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := f.db
	db.mu.Lock()
	defer db.mu.Unlock()
	out := []ports.Revocation{}
	for i := range db.feed {
		r := &db.feed[i]
		if len(out) >= limit {
			break
		}
		if r.Seq > after && keep(r) {
			c := *r
			c.ExpiresAt = copyTimePtr(r.ExpiresAt)
			out = append(out, c)
		}
	}
	return out, nil
}

// PruneRevocations deletes the entries whose ExpiresAt is at or before now and returns how many.
func (f *RevocationFeed) PruneRevocations(ctx context.Context, now time.Time) (int, error) {
	if err := ctxErr(ctx); err != nil {
		return 0, err
	}
	db := f.db
	db.mu.Lock()
	defer db.mu.Unlock()
	kept := db.feed[:0]
	for _, r := range db.feed {
		if r.ExpiresAt == nil || r.ExpiresAt.After(now) {
			kept = append(kept, r)
		}
	}
	n := len(db.feed) - len(kept)
	clear(db.feed[len(kept):])
	db.feed = kept
	return n, nil
}
