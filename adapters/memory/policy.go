package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/tooken/tooken/ports"
)

// NonCompliantTokens returns the ids (newest first, at most limit) and the number of the workspace's
// tokens active at now that break p: no expiry while p.RequireExpiry; an expiry more than
// p.MaxLifetime after creation, or none, while MaxLifetime is set; a rotation period longer than
// p.MaxRotationPeriod, or none, while MaxRotationPeriod is set.
func (s *TokenStore) NonCompliantTokens(ctx context.Context, workspaceID string, p ports.Policy, now time.Time, limit int) ([]string, int, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, 0, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	var rows []*tokenRow
	for _, r := range db.tokens {
		if r.WorkspaceID == workspaceID && r.Status(now) == ports.StatusActive && breaks(&r.Token, p) {
			rows = append(rows, r)
		}
	}
	slices.SortFunc(rows, func(a, b *tokenRow) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.seq, a.seq))
	})
	ids := []string{}
	for _, r := range rows[:min(len(rows), max(limit, 0))] {
		ids = append(ids, r.ID)
	}
	return ids, len(rows), nil
}

// breaks reports whether t breaks one of p's rules (DefaultLifetime concerns only new tokens).
func breaks(t *ports.Token, p ports.Policy) bool {
	if p.RequireExpiry && t.ExpiresAt == nil {
		return true
	}
	if p.MaxLifetime != nil && (t.ExpiresAt == nil || t.ExpiresAt.Sub(t.CreatedAt) > seconds(*p.MaxLifetime)) {
		return true
	}
	return p.MaxRotationPeriod != nil && (t.RotationPeriod == nil || *t.RotationPeriod > *p.MaxRotationPeriod)
}

// seconds converts a policy bound to a duration, saturating instead of overflowing.
func seconds(n int64) time.Duration {
	const maxSeconds = int64(1<<63-1) / int64(time.Second)
	switch {
	case n > maxSeconds:
		return 1<<63 - 1
	case n < -maxSeconds:
		return -1 << 63
	}
	return time.Duration(n) * time.Second
}
