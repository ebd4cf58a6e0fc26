package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/tooken/tooken/core"
)

// CreateToken implements POST /v1/tokens.
func (s *Server) CreateToken(ctx context.Context, req CreateTokenRequestObject) (CreateTokenResponseObject, error) {
	in := core.CreateTokenInput{Name: req.Body.Name, Scopes: req.Body.Scopes, ExpiresAt: req.Body.ExpiresAt,
		RotationPeriod: req.Body.RotationPeriod}
	if req.Body.Audience != nil {
		in.Audience = *req.Body.Audience
	}
	if req.Body.Metadata != nil {
		md, err := json.Marshal(*req.Body.Metadata)
		if err != nil {
			return nil, err
		}
		in.Metadata = md
	}
	it, err := s.svc.CreateToken(ctx, principal(ctx), in)
	if err != nil {
		return nil, err
	}
	return newIssuedAnswer(http.StatusCreated, tokenOut(&it.Token, s.svc.Now()), it.Value)
}

// ListTokens implements GET /v1/tokens.
func (s *Server) ListTokens(ctx context.Context, req ListTokensRequestObject) (ListTokensResponseObject, error) {
	prm := req.Params
	in := core.ListTokensInput{PageInput: core.PageInput{Page: prm.Page, PerPage: prm.PerPage}}
	q := url.Values{}
	if prm.Status != nil {
		in.Status = string(*prm.Status)
		q.Set("status", in.Status)
	}
	if prm.Name != nil {
		in.Name = *prm.Name
		q.Set("name", in.Name)
	}
	list, pg, total, err := s.svc.ListTokens(ctx, principal(ctx), in)
	if err != nil {
		return nil, err
	}
	now := s.svc.Now()
	out := TokenList{Data: make([]Token, len(list)), Meta: listMeta(pg, total)}
	for i := range list {
		out.Data[i] = tokenOut(&list[i], now)
	}
	return ListTokens200JSONResponse{Body: out, Headers: ListTokens200ResponseHeaders{
		Link: linkHeader("/v1/tokens", q, pg, total),
	}}, nil
}

// GetToken implements GET /v1/tokens/{id}.
func (s *Server) GetToken(ctx context.Context, req GetTokenRequestObject) (GetTokenResponseObject, error) {
	t, err := s.svc.GetToken(ctx, principal(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	a, err := tokenAnswer(tokenOut(t, s.svc.Now()))
	if err != nil {
		return nil, err
	}
	return a, nil
}

// RevokeToken implements DELETE /v1/tokens/{id}.
func (s *Server) RevokeToken(ctx context.Context, req RevokeTokenRequestObject) (RevokeTokenResponseObject, error) {
	if err := s.svc.RevokeToken(ctx, principal(ctx), req.Id); err != nil {
		return nil, err
	}
	return RevokeToken204Response{}, nil
}

// RotateToken implements POST /v1/tokens/{id}/rotate.
func (s *Server) RotateToken(ctx context.Context, req RotateTokenRequestObject) (RotateTokenResponseObject, error) {
	var grace *int
	if req.Body != nil {
		grace = req.Body.GracePeriod
	}
	it, err := s.svc.RotateToken(ctx, principal(ctx), req.Id, grace)
	if err != nil {
		return nil, err
	}
	return newIssuedAnswer(http.StatusOK, tokenOut(&it.Token, s.svc.Now()), it.Value)
}

// VerifyToken implements POST /v1/tokens/verify.
func (s *Server) VerifyToken(ctx context.Context, req VerifyTokenRequestObject) (VerifyTokenResponseObject, error) {
	var scopes []string
	if req.Body.Scopes != nil {
		scopes = *req.Body.Scopes
	}
	v, err := s.svc.VerifyToken(ctx, req.Body.Token, scopes)
	if err != nil {
		return nil, err
	}
	out := VerifyResponse{Valid: v.Valid, Code: VerifyResponseCode(v.Code)}
	if v.Token != nil {
		t := tokenOut(v.Token, s.svc.Now())
		out.Token = &t
	}
	a, err := verifyAnswer(out)
	if err != nil {
		return nil, err
	}
	return a, nil
}
