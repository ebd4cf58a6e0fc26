package core

import (
	"context"
	"fmt"
	"time"

	"github.com/tooken/tooken/ports"
)

// Policy bounds.
const (
	MinRotationPeriod = 300                      // seconds
	MaxDuration       = 100 * 365 * 24 * 60 * 60 // seconds: a century
	maxNonCompliantID = 100
)

// PolicyReport is a workspace's expiration policy and the active tokens that break it now.
type PolicyReport struct {
	Policy            ports.Policy
	NonCompliant      []string // ids, newest first, at most 100
	NonCompliantTotal int
}

// GetPolicy returns the workspace's expiration policy and its non-compliant active tokens (any
// member credential; tokens need tokens:read).
func (s *Service) GetPolicy(ctx context.Context, p *Principal) (*PolicyReport, error) {
	if err := p.requireScope(ScopeTokensRead); err != nil {
		return nil, err
	}
	ws, err := s.workspace(ctx, p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	return s.policyReport(ctx, ws.ID, ws.Policy)
}

func (s *Service) policyReport(ctx context.Context, workspaceID string, pol ports.Policy) (*PolicyReport, error) {
	ids, total, err := s.stores.Tokens.NonCompliantTokens(ctx, workspaceID, pol, s.Now(), maxNonCompliantID)
	if err != nil {
		return nil, err
	}
	return &PolicyReport{Policy: pol, NonCompliant: ids, NonCompliantTotal: total}, nil
}

// SetPolicy replaces the workspace's expiration policy (owner). Existing tokens are never revoked:
// the answer reports which active tokens break the new policy.
func (s *Service) SetPolicy(ctx context.Context, p *Principal, pol ports.Policy) (*PolicyReport, error) {
	if err := p.requireOwner(); err != nil {
		return nil, err
	}
	for field, v := range map[string]*int64{"max_lifetime": pol.MaxLifetime, "default_lifetime": pol.DefaultLifetime} {
		if v != nil && (*v < 1 || *v > MaxDuration) {
			return nil, invalid(field, fmt.Sprintf("%s must be between 1 and %d seconds", field, MaxDuration))
		}
	}
	if v := pol.MaxRotationPeriod; v != nil && (*v < MinRotationPeriod || *v > MaxDuration) {
		return nil, invalid("max_rotation_period", fmt.Sprintf("max_rotation_period must be between %d and %d seconds", MinRotationPeriod, MaxDuration))
	}
	if pol.DefaultLifetime != nil && pol.MaxLifetime != nil && *pol.DefaultLifetime > *pol.MaxLifetime {
		return nil, invalid("default_lifetime", "default_lifetime cannot exceed max_lifetime")
	}
	ws, err := s.stores.Workspaces.Workspace(ctx, p.WorkspaceID)
	if err != nil {
		return nil, err
	}
	ws.Policy = pol
	ev := s.event(ctx, p.actor(), ws.ID, "policy.updated", ports.Target{Type: "workspace", ID: ws.ID, Name: ws.Name}, policyMetadata(pol))
	if err := s.stores.Workspaces.UpdateWorkspace(ctx, ws, ev); err != nil {
		return nil, err
	}
	s.workspaces.del(ws.ID)
	return s.policyReport(ctx, ws.ID, pol)
}

func policyMetadata(pol ports.Policy) map[string]any {
	md := map[string]any{"require_expiry": pol.RequireExpiry}
	for k, v := range map[string]*int64{"max_lifetime": pol.MaxLifetime, "default_lifetime": pol.DefaultLifetime, "max_rotation_period": pol.MaxRotationPeriod} {
		if v != nil {
			md[k] = *v
		} else {
			md[k] = nil
		}
	}
	return md
}

// applyPolicy fills t's expiry from the default lifetime and refuses, with 422 naming the rule, a
// token the policy does not allow. start is when the token's lifetime began (its creation).
func applyPolicy(pol ports.Policy, t *ports.Token, start time.Time, fillDefault bool) error {
	if fillDefault && t.ExpiresAt == nil && pol.DefaultLifetime != nil {
		exp := start.Add(time.Duration(*pol.DefaultLifetime) * time.Second).Truncate(time.Second)
		t.ExpiresAt = &exp
	}
	if pol.RequireExpiry && t.ExpiresAt == nil {
		return policyError("require_expiry", "the workspace policy requires an expires_at")
	}
	if m := pol.MaxLifetime; m != nil {
		if t.ExpiresAt == nil || t.ExpiresAt.Sub(start) > time.Duration(*m)*time.Second {
			return policyError("max_lifetime", fmt.Sprintf("the workspace policy allows a lifetime of at most %d seconds", *m))
		}
	}
	if m := pol.MaxRotationPeriod; m != nil {
		if t.RotationPeriod == nil || *t.RotationPeriod > *m {
			return policyError("max_rotation_period", fmt.Sprintf("the workspace policy requires a rotation_period of at most %d seconds", *m))
		}
	}
	return nil
}

func policyError(rule, msg string) error {
	return &ports.Error{Code: ports.EUNPROCESSABLE, Message: "Policy " + rule + ": " + msg, Details: map[string]string{"policy": rule}}
}
