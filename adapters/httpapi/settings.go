package httpapi

import (
	"context"
	"slices"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// UpdateWorkspace implements PATCH /v1/workspace.
func (s *Server) UpdateWorkspace(ctx context.Context, req UpdateWorkspaceRequestObject) (UpdateWorkspaceResponseObject, error) {
	in := core.UpdateWorkspaceInput{Name: req.Body.Name, Slug: req.Body.Slug, Timezone: req.Body.Timezone,
		AuditRetentionDays: req.Body.AuditRetentionDays}
	if req.Body.SigningAlgorithm != nil {
		alg := string(*req.Body.SigningAlgorithm)
		in.SigningAlgorithm = &alg
	}
	ws, err := s.svc.UpdateWorkspace(ctx, principal(ctx), in)
	if err != nil {
		return nil, err
	}
	return UpdateWorkspace200JSONResponse{Body: s.workspaceOut(ws)}, nil
}

func (s *Server) workspaceOut(ws *ports.Workspace) Workspace {
	return Workspace{
		Id: ws.ID, Name: ws.Name, Slug: ws.Slug, Timezone: ws.Timezone, Issuer: s.svc.Issuer(ws.ID),
		DefaultAudience: ws.DefaultAudience, SigningAlgorithm: SigningAlgorithm(ws.SigningAlgorithm),
		AuditRetentionDays: ws.AuditRetentionDays,
		CreatedAt:          ws.CreatedAt.UTC().Truncate(time.Second),
	}
}

// GetScopes implements GET /v1/workspace/scopes.
func (s *Server) GetScopes(ctx context.Context, _ GetScopesRequestObject) (GetScopesResponseObject, error) {
	custom, err := s.svc.ListScopes(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	return GetScopes200JSONResponse{Body: scopeSetOut(custom)}, nil
}

// SetScopes implements PUT /v1/workspace/scopes.
func (s *Server) SetScopes(ctx context.Context, req SetScopesRequestObject) (SetScopesResponseObject, error) {
	if req.Body.Custom == nil { // null: withExactFields has made sure the key is there
		return nil, &ports.Error{Code: ports.EINVALID, Message: "custom must be a list (an empty list removes every custom scope)",
			Details: map[string]string{"custom": "must be a list"}}
	}
	in := make([]ports.Scope, len(req.Body.Custom))
	for i, c := range req.Body.Custom {
		in[i] = ports.Scope{Name: c.Name}
		if c.Description != nil {
			in[i].Description = *c.Description
		}
	}
	custom, err := s.svc.SetScopes(ctx, principal(ctx), in)
	if err != nil {
		return nil, err
	}
	return SetScopes200JSONResponse{Body: scopeSetOut(custom)}, nil
}

func scopeSetOut(custom []ports.Scope) ScopeSet {
	out := ScopeSet{Builtin: slices.Clone(core.BuiltinScopes), Custom: make([]CustomScope, len(custom))}
	for i, c := range custom {
		out.Custom[i] = CustomScope{Name: c.Name, Description: &c.Description}
	}
	return out
}

// ListSigningKeys implements GET /v1/signing-keys.
func (s *Server) ListSigningKeys(ctx context.Context, _ ListSigningKeysRequestObject) (ListSigningKeysResponseObject, error) {
	keys, err := s.svc.ListSigningKeys(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	out := SigningKeyList{Data: make([]SigningKey, len(keys))}
	for i := range keys {
		out.Data[i] = signingKeyOut(&keys[i])
	}
	return ListSigningKeys200JSONResponse{Body: out}, nil
}

// RotateSigningKey implements POST /v1/signing-keys/rotate.
func (s *Server) RotateSigningKey(ctx context.Context, _ RotateSigningKeyRequestObject) (RotateSigningKeyResponseObject, error) {
	k, err := s.svc.RotateSigningKey(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	return RotateSigningKey201JSONResponse{Body: signingKeyOut(k)}, nil
}

// RevokeSigningKey implements POST /v1/signing-keys/{kid}/revoke.
func (s *Server) RevokeSigningKey(ctx context.Context, req RevokeSigningKeyRequestObject) (RevokeSigningKeyResponseObject, error) {
	k, err := s.svc.RevokeSigningKey(ctx, principal(ctx), req.Kid)
	if err != nil {
		return nil, err
	}
	return RevokeSigningKey200JSONResponse{Body: signingKeyOut(k)}, nil
}

func signingKeyOut(v *core.SigningKeyView) SigningKey {
	k := &v.Key
	return SigningKey{
		Kid: k.KID, Algorithm: SigningAlgorithm(k.Algorithm), State: SigningKeyState(v.State),
		CreatedAt: k.CreatedAt.UTC().Truncate(time.Second), ActivatesAt: k.ActivatesAt.UTC().Truncate(time.Second),
		RetiredAt: sec(k.RetiredAt), RevokedAt: sec(k.RevokedAt),
	}
}
