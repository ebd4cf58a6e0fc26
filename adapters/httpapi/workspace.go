package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// ListAuditLogs implements GET /v1/audit-logs.
func (s *Server) ListAuditLogs(ctx context.Context, req ListAuditLogsRequestObject) (ListAuditLogsResponseObject, error) {
	prm := req.Params
	in := core.ListAuditInput{PageInput: core.PageInput{Page: prm.Page, PerPage: prm.PerPage}}
	q := url.Values{}
	for _, f := range []struct {
		name string
		src  *string
		dst  *string
	}{
		{"action", prm.Action, &in.Action}, {"actor_id", prm.ActorId, &in.ActorID},
		{"target_id", prm.TargetId, &in.TargetID}, {"since", prm.Since, &in.Since}, {"until", prm.Until, &in.Until},
	} {
		if f.src != nil {
			*f.dst = *f.src
			q.Set(f.name, *f.src)
		}
	}
	list, pg, total, err := s.svc.ListAuditEvents(ctx, principal(ctx), in)
	if err != nil {
		return nil, err
	}
	out := AuditEventList{Data: make([]AuditEvent, len(list)), Meta: listMeta(pg, total)}
	for i := range list {
		out.Data[i] = auditOut(&list[i])
	}
	return ListAuditLogs200JSONResponse{Body: out, Headers: ListAuditLogs200ResponseHeaders{
		Link: linkHeader("/v1/audit-logs", q, pg, total),
	}}, nil
}

// GetWorkspace implements GET /v1/workspace.
func (s *Server) GetWorkspace(ctx context.Context, _ GetWorkspaceRequestObject) (GetWorkspaceResponseObject, error) {
	ws, err := s.svc.GetWorkspace(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	return GetWorkspace200JSONResponse{Body: s.workspaceOut(ws)}, nil
}

// ListAPIKeys implements GET /v1/api-keys.
func (s *Server) ListAPIKeys(ctx context.Context, _ ListAPIKeysRequestObject) (ListAPIKeysResponseObject, error) {
	keys, err := s.svc.ListAPIKeys(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	out := APIKeyList{Data: make([]APIKey, len(keys))}
	for i := range keys {
		out.Data[i] = apiKeyOut(&keys[i])
	}
	return ListAPIKeys200JSONResponse{Body: out}, nil
}

// CreateAPIKey implements POST /v1/api-keys.
func (s *Server) CreateAPIKey(ctx context.Context, req CreateAPIKeyRequestObject) (CreateAPIKeyResponseObject, error) {
	in := core.CreateAPIKeyInput{Name: req.Body.Name, Kind: ports.APIKeyKind(req.Body.Kind)}
	if req.Body.Role != nil {
		in.Role = ports.Role(*req.Body.Role)
	}
	k, secret, err := s.svc.CreateAPIKey(ctx, principal(ctx), in)
	if err != nil {
		return nil, err
	}
	return CreateAPIKey201JSONResponse{Body: apiKeySecretOut(k, secret)}, nil
}

// RegenerateAPIKey implements POST /v1/api-keys/{id}/regenerate.
func (s *Server) RegenerateAPIKey(ctx context.Context, req RegenerateAPIKeyRequestObject) (RegenerateAPIKeyResponseObject, error) {
	k, secret, err := s.svc.RegenerateAPIKey(ctx, principal(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return RegenerateAPIKey200JSONResponse{Body: apiKeySecretOut(k, secret)}, nil
}

// DeleteAPIKey implements DELETE /v1/api-keys/{id}.
func (s *Server) DeleteAPIKey(ctx context.Context, req DeleteAPIKeyRequestObject) (DeleteAPIKeyResponseObject, error) {
	if err := s.svc.DeleteAPIKey(ctx, principal(ctx), req.Id); err != nil {
		return nil, err
	}
	return DeleteAPIKey204Response{}, nil
}

// GetDiscovery implements GET /w/{workspace_id}/.well-known/openid-configuration.
func (s *Server) GetDiscovery(ctx context.Context, req GetDiscoveryRequestObject) (GetDiscoveryResponseObject, error) {
	d, err := s.svc.Discover(ctx, req.WorkspaceId)
	if err != nil {
		return nil, err
	}
	cc := s.cacheControl()
	return GetDiscovery200JSONResponse{
		Body: Discovery{Issuer: d.Issuer, JwksUri: d.JWKSURI, RevocationFeedUri: d.RevocationFeedURI,
			RevocationStreamUri: d.RevocationStreamURI, TokenSigningAlgValuesSupported: d.Algorithms},
		Headers: GetDiscovery200ResponseHeaders{CacheControl: &cc},
	}, nil
}

// GetJWKS implements GET /w/{workspace_id}/.well-known/jwks.json.
func (s *Server) GetJWKS(ctx context.Context, req GetJWKSRequestObject) (GetJWKSResponseObject, error) {
	doc, err := s.svc.JWKS(ctx, req.WorkspaceId)
	if err != nil {
		return nil, err
	}
	return rawJWKS{doc: doc, cacheControl: s.cacheControl()}, nil
}

// rawJWKS writes the signer's JWKS document as it is, without a decode/encode round trip.
type rawJWKS struct {
	doc          []byte
	cacheControl string
}

// VisitGetJWKSResponse implements GetJWKSResponseObject.
func (r rawJWKS) VisitGetJWKSResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", r.cacheControl)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r.doc)
	return err
}

func (s *Server) cacheControl() string {
	return fmt.Sprintf("public, max-age=%d", int(s.jwksMaxAge.Seconds()))
}

// Healthz implements GET /healthz.
func (s *Server) Healthz(context.Context, HealthzRequestObject) (HealthzResponseObject, error) {
	return Healthz200JSONResponse{Status: "ok"}, nil
}

// Readyz implements GET /readyz.
func (s *Server) Readyz(ctx context.Context, _ ReadyzRequestObject) (ReadyzResponseObject, error) {
	if err := s.svc.Ready(ctx); err != nil {
		return nil, err
	}
	return Readyz200JSONResponse{Status: "ok"}, nil
}
