package core

import (
	"context"

	"github.com/tooken/tooken/ports"
)

// ListAuditInput is the raw audit log list request; Since and Until are RFC 3339 text.
type ListAuditInput struct {
	PageInput
	Action   string
	ActorID  string
	TargetID string
	Since    string
	Until    string
}

// ListAuditEvents lists p's workspace's audit events, newest first, with the total matching.
func (s *Service) ListAuditEvents(ctx context.Context, p *Principal, in ListAuditInput) ([]ports.AuditEvent, ports.Page, int, error) {
	if err := p.requireScope(ScopeAuditRead); err != nil {
		return nil, ports.Page{}, 0, err
	}
	pg, err := in.page()
	if err != nil {
		return nil, pg, 0, err
	}
	f := ports.AuditFilter{Page: pg, Action: in.Action, ActorID: in.ActorID, TargetID: in.TargetID}
	for _, v := range []string{in.Action, in.ActorID, in.TargetID} {
		if len(v) > 200 {
			return nil, pg, 0, invalid("filter", "filters must be at most 200 characters")
		}
	}
	if in.Since != "" {
		t, err := parseTime("since", in.Since, ports.EINVALID)
		if err != nil {
			return nil, pg, 0, err
		}
		f.Since = &t
	}
	if in.Until != "" {
		t, err := parseTime("until", in.Until, ports.EINVALID)
		if err != nil {
			return nil, pg, 0, err
		}
		f.Until = &t
	}
	list, total, err := s.stores.Audit.AuditEvents(ctx, p.WorkspaceID, f)
	return list, pg, total, err
}
