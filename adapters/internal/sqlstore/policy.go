package sqlstore

import (
	"context"
	"math"
	"strings"
	"time"

	"github.com/tooken/tooken/ports"
)

// NonCompliantTokens returns the ids (newest first, at most limit) and the number of the workspace's
// tokens active at now that break p: no expiry while p.RequireExpiry; an expiry more than
// p.MaxLifetime after creation, or none, while MaxLifetime is set; a rotation period longer than
// p.MaxRotationPeriod, or none, while MaxRotationPeriod is set. One query returns both.
func (s *TokenStore) NonCompliantTokens(ctx context.Context, workspaceID string, p ports.Policy, now time.Time, limit int) ([]string, int, error) {
	db := s.db
	var rules []string
	var ruleArgs []any
	if p.RequireExpiry {
		rules = append(rules, "expires_at IS NULL")
	}
	if p.MaxLifetime != nil {
		if micros, ok := secondsToMicros(*p.MaxLifetime); ok {
			rules = append(rules, "expires_at IS NULL OR "+db.d.Elapsed("created_at", "expires_at")+" > ?")
			ruleArgs = append(ruleArgs, micros)
		} else {
			rules = append(rules, "expires_at IS NULL")
		}
	}
	if p.MaxRotationPeriod != nil {
		rules = append(rules, "rotation_period IS NULL OR rotation_period > ?")
		ruleArgs = append(ruleArgs, *p.MaxRotationPeriod)
	}
	ids := []string{}
	if len(rules) == 0 {
		return ids, 0, nil
	}
	cond := ` FROM tokens WHERE workspace_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
AND ((` + strings.Join(rules, ") OR (") + `))`
	args := append([]any{workspaceID, db.t(now)}, ruleArgs...)
	if limit <= 0 {
		var total int
		if err := db.get(ctx, db.read, &total, `SELECT COUNT(*)`+cond, args...); err != nil {
			return nil, 0, db.wrap(err, "", "")
		}
		return ids, total, nil
	}
	var rows []struct {
		ID    string `db:"id"`
		Total int    `db:"total"`
	}
	// The window count is computed before LIMIT applies: every row carries the full total.
	if err := db.sel(ctx, db.read, &rows, `SELECT id, COUNT(*) OVER () AS total`+cond+
		` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...); err != nil {
		return nil, 0, db.wrap(err, "", "")
	}
	if len(rows) == 0 {
		return ids, 0, nil
	}
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	return ids, rows[0].Total, nil
}

// secondsToMicros converts a policy bound to microseconds; ok is false when no stored lifetime can
// exceed it (it is beyond what int64 microseconds hold).
func secondsToMicros(n int64) (micros int64, ok bool) {
	const limit = math.MaxInt64 / 1000000
	switch {
	case n > limit:
		return 0, false
	case n < -limit:
		return math.MinInt64, true
	}
	return n * 1000000, true
}
