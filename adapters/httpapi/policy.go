package httpapi

import (
	"context"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// GetPolicy implements GET /v1/workspace/policy.
func (s *Server) GetPolicy(ctx context.Context, _ GetPolicyRequestObject) (GetPolicyResponseObject, error) {
	r, err := s.svc.GetPolicy(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	return GetPolicy200JSONResponse{Body: policyReportOut(r)}, nil
}

// SetPolicy implements PUT /v1/workspace/policy.
func (s *Server) SetPolicy(ctx context.Context, req SetPolicyRequestObject) (SetPolicyResponseObject, error) {
	b := req.Body
	r, err := s.svc.SetPolicy(ctx, principal(ctx), ports.Policy{
		MaxLifetime: b.MaxLifetime, DefaultLifetime: b.DefaultLifetime, RequireExpiry: b.RequireExpiry,
		MaxRotationPeriod: b.MaxRotationPeriod,
	})
	if err != nil {
		return nil, err
	}
	return SetPolicy200JSONResponse{Body: policyReportOut(r)}, nil
}

func policyReportOut(r *core.PolicyReport) PolicyReport {
	out := PolicyReport{Policy: Policy{
		MaxLifetime: r.Policy.MaxLifetime, DefaultLifetime: r.Policy.DefaultLifetime,
		RequireExpiry: r.Policy.RequireExpiry, MaxRotationPeriod: r.Policy.MaxRotationPeriod,
	}}
	out.NonCompliant.Total = r.NonCompliantTotal
	out.NonCompliant.TokenIds = nonNil(r.NonCompliant)
	return out
}
