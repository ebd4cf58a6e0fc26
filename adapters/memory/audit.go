package memory

import (
	"cmp"
	"context"
	"slices"

	"github.com/tooken/tooken/ports"
)

// AuditLog implements ports.AuditLog.
type AuditLog struct{ db *DB }

var _ ports.AuditLog = (*AuditLog)(nil)

// AppendAuditEvents stores events all together, or none of them (ECONFLICT on a duplicate id).
func (s *AuditLog) AppendAuditEvents(ctx context.Context, events ...*ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	prepared, err := db.prepareEvents(events...)
	if err != nil {
		return err
	}
	db.appendEvents(prepared)
	return nil
}

// AuditEvents lists the workspace's events matching f, newest first, and the total matching f.
func (s *AuditLog) AuditEvents(ctx context.Context, workspaceID string, f ports.AuditFilter) ([]ports.AuditEvent, int, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, 0, err
	}
	if err := checkPage(f.Page); err != nil {
		return nil, 0, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	var rows []*eventRow
	for i := range db.events {
		ev := &db.events[i]
		if ev.WorkspaceID != workspaceID ||
			(f.Action != "" && ev.Action != f.Action) ||
			(f.ActorID != "" && ev.Actor.ID != f.ActorID) ||
			(f.TargetID != "" && ev.Target.ID != f.TargetID) ||
			(f.Since != nil && ev.OccurredAt.Before(*f.Since)) ||
			(f.Until != nil && !ev.OccurredAt.Before(*f.Until)) {
			continue
		}
		rows = append(rows, ev)
	}
	slices.SortFunc(rows, func(a, b *eventRow) int {
		return cmp.Or(b.OccurredAt.Compare(a.OccurredAt), cmp.Compare(b.seq, a.seq))
	})
	page := pageOf(rows, f.Page)
	out := make([]ports.AuditEvent, len(page))
	for i, r := range page {
		out[i] = copyEvent(r.AuditEvent)
	}
	return out, len(rows), nil
}
