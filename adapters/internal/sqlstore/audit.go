package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// AuditLog implements ports.AuditLog.
type AuditLog struct{ db *DB }

type auditRow struct {
	ID          string `db:"id"`
	WorkspaceID string `db:"workspace_id"`
	Action      string `db:"action"`
	ActorType   string `db:"actor_type"`
	ActorID     string `db:"actor_id"`
	ActorEmail  string `db:"actor_email"`
	TargetType  string `db:"target_type"`
	TargetID    string `db:"target_id"`
	TargetName  string `db:"target_name"`
	IP          string `db:"ip"`
	UserAgent   string `db:"user_agent"`
	RequestID   string `db:"request_id"`
	Metadata    []byte `db:"metadata"`
	OccurredAt  Time   `db:"occurred_at"`
	ChainSeq    int64  `db:"chain_seq"`
	PrevHash    string `db:"prev_hash"`
	Hash        string `db:"hash"`
}

const auditColumns = `id, workspace_id, action, actor_type, actor_id, actor_email, target_type, target_id,
target_name, ip, user_agent, request_id, metadata, occurred_at, chain_seq, prev_hash, hash`

// auditEvents converts rows read back into events.
func auditEvents(rows []auditRow) ([]ports.AuditEvent, error) {
	events := make([]ports.AuditEvent, len(rows))
	for i, r := range rows {
		events[i] = ports.AuditEvent{ID: r.ID, WorkspaceID: r.WorkspaceID, Action: r.Action,
			Actor:  ports.Actor{Type: r.ActorType, ID: r.ActorID, Email: r.ActorEmail},
			Target: ports.Target{Type: r.TargetType, ID: r.TargetID, Name: r.TargetName},
			IP:     r.IP, UserAgent: r.UserAgent, RequestID: r.RequestID, OccurredAt: r.OccurredAt.T,
			ChainSeq: r.ChainSeq, PrevHash: r.PrevHash, Hash: r.Hash}
		if r.Metadata != nil {
			if err := json.Unmarshal(r.Metadata, &events[i].Metadata); err != nil {
				return nil, ports.Internal(fmt.Errorf("audit event %s metadata: %w", r.ID, err))
			}
		}
	}
	return events, nil
}

// AppendAuditEvents stores events in one transaction.
func (s *AuditLog) AppendAuditEvents(ctx context.Context, events ...*ports.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error { return s.db.insertEvents(ctx, tx, events...) })
	return s.db.wrap(err, "", "")
}

// AuditEvents lists the workspace's events matching f, newest first, and the total matching f.
func (s *AuditLog) AuditEvents(ctx context.Context, workspaceID string, f ports.AuditFilter) ([]ports.AuditEvent, int, error) {
	db := s.db
	where, args := []string{"workspace_id = ?"}, []any{workspaceID}
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.ActorID != "" {
		add("actor_id = ?", f.ActorID)
	}
	if f.TargetID != "" {
		add("target_id = ?", f.TargetID)
	}
	if f.Since != nil {
		add("occurred_at >= ?", db.t(*f.Since))
	}
	if f.Until != nil {
		add("occurred_at < ?", db.t(*f.Until))
	}
	cond := " WHERE " + strings.Join(where, " AND ")
	var total int
	if err := db.get(ctx, db.read, &total, `SELECT COUNT(*) FROM audit_events`+cond, args...); err != nil {
		return nil, 0, db.wrap(err, "", "")
	}
	var rows []auditRow
	page, args := limit(f.Page, args)
	query := `SELECT ` + auditColumns + ` FROM audit_events` + cond + ` ORDER BY occurred_at DESC, seq DESC` + page
	if err := db.sel(ctx, db.read, &rows, query, args...); err != nil {
		return nil, 0, db.wrap(err, "", "")
	}
	events, err := auditEvents(rows)
	if err != nil {
		return nil, 0, err
	}
	return events, total, nil
}

// UsageStore implements ports.UsageStore.
type UsageStore struct{ db *DB }

// MarkUsed sets last_used_at of each credential to At unless it already holds a later time, and
// samples token uses for token.used events (see ports.UsageStore), enqueueing their deliveries
// through the outbox, all in one transaction; credentials that no longer exist are ignored.
func (s *UsageStore) MarkUsed(ctx context.Context, uses []ports.Usage) ([]ports.Usage, error) {
	if len(uses) == 0 {
		return nil, nil
	}
	for _, u := range uses {
		if u.Kind != "token" && u.Kind != "api_key" {
			return nil, ports.Errorf(ports.EINVALID, "unknown credential kind %q", u.Kind)
		}
	}
	db := s.db
	var sampled []ports.Usage
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		sampled = nil
		var tokens []*ports.Token
		var at []time.Time
		for _, u := range latestUses(uses) {
			table := "tokens"
			if u.Kind == "api_key" {
				table = "api_keys"
			}
			t := db.t(u.At)
			if _, err := db.exec(ctx, tx, `UPDATE `+table+` SET last_used_at = ?
WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)`, t, u.ID, t); err != nil {
				return err
			}
			if u.Kind != "token" {
				continue
			}
			tok, err := db.sampleTokenUse(ctx, tx, u)
			if err != nil {
				return err
			}
			if tok != nil {
				sampled, tokens, at = append(sampled, u), append(tokens, tok), append(at, u.At)
			}
		}
		ds, err := db.tokenUsedDeliveries(ctx, tx, tokens, at)
		if err != nil || len(ds) == 0 {
			return err
		}
		return (*db.outbox.Load())(ctx, tx.Tx, ds)
	})
	if err != nil {
		return nil, db.wrap(err, "", "")
	}
	return sampled, nil
}

// latestUses keeps the latest use of each credential, sorted by kind and id so that concurrent
// batches lock rows in the same order (no deadlocks).
func latestUses(uses []ports.Usage) []ports.Usage {
	type key struct{ kind, id string }
	latest := make(map[key]ports.Usage, len(uses))
	for _, u := range uses {
		k := key{u.Kind, u.ID}
		if prev, ok := latest[k]; !ok || u.At.After(prev.At) {
			latest[k] = u
		}
	}
	out := slices.Collect(maps.Values(latest))
	slices.SortFunc(out, func(a, b ports.Usage) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ID, b.ID))
	})
	return out
}
