package httpapi

import (
	"context"
	"net/url"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

// ListMembers implements GET /v1/members.
func (s *Server) ListMembers(ctx context.Context, req ListMembersRequestObject) (ListMembersResponseObject, error) {
	pg, err := core.PageInput{Page: req.Params.Page, PerPage: req.Params.PerPage}.Resolve()
	if err != nil {
		return nil, err
	}
	list, total, err := s.svc.ListMembers(ctx, principal(ctx), pg)
	if err != nil {
		return nil, err
	}
	out := MemberList{Data: make([]Member, len(list)), Meta: listMeta(pg, total)}
	for i := range list {
		out.Data[i] = memberOut(&list[i])
	}
	return ListMembers200JSONResponse{Body: out, Headers: ListMembers200ResponseHeaders{
		Link: linkHeader("/v1/members", url.Values{}, pg, total),
	}}, nil
}

// UpdateMember implements PATCH /v1/members/{id}.
func (s *Server) UpdateMember(ctx context.Context, req UpdateMemberRequestObject) (UpdateMemberResponseObject, error) {
	m, err := s.svc.UpdateMemberRole(ctx, principal(ctx), req.Id, ports.Role(req.Body.Role))
	if err != nil {
		return nil, err
	}
	return UpdateMember200JSONResponse{Body: memberOut(m)}, nil
}

// RemoveMember implements DELETE /v1/members/{id}.
func (s *Server) RemoveMember(ctx context.Context, req RemoveMemberRequestObject) (RemoveMemberResponseObject, error) {
	if err := s.svc.RemoveMember(ctx, principal(ctx), req.Id); err != nil {
		return nil, err
	}
	return RemoveMember204Response{}, nil
}

// ListInvitations implements GET /v1/invitations.
func (s *Server) ListInvitations(ctx context.Context, _ ListInvitationsRequestObject) (ListInvitationsResponseObject, error) {
	list, err := s.svc.ListInvitations(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	out := InvitationList{Data: make([]Invitation, len(list))}
	for i := range list {
		out.Data[i] = invitationOut(&list[i])
	}
	return ListInvitations200JSONResponse{Body: out}, nil
}

// CreateInvitation implements POST /v1/invitations.
func (s *Server) CreateInvitation(ctx context.Context, req CreateInvitationRequestObject) (CreateInvitationResponseObject, error) {
	inv, link, err := s.svc.CreateInvitation(ctx, principal(ctx),
		core.CreateInvitationInput{Email: req.Body.Email, Role: ports.Role(req.Body.Role)})
	if err != nil {
		return nil, err
	}
	o := invitationOut(inv)
	return CreateInvitation201JSONResponse{Body: InvitationWithURL{
		Id: o.Id, Email: o.Email, Role: o.Role, InvitedBy: o.InvitedBy, CreatedAt: o.CreatedAt,
		ExpiresAt: o.ExpiresAt, Url: link,
	}}, nil
}

// RevokeInvitation implements DELETE /v1/invitations/{id}.
func (s *Server) RevokeInvitation(ctx context.Context, req RevokeInvitationRequestObject) (RevokeInvitationResponseObject, error) {
	if err := s.svc.RevokeInvitation(ctx, principal(ctx), req.Id); err != nil {
		return nil, err
	}
	return RevokeInvitation204Response{}, nil
}

func memberOut(m *ports.Member) Member {
	return Member{Id: m.ID, Email: m.Email, Role: Role(m.Role), CreatedAt: m.CreatedAt.UTC().Truncate(time.Second)}
}

func invitationOut(inv *ports.Invitation) Invitation {
	return Invitation{
		Id: inv.ID, Email: inv.Email, Role: Role(inv.Role), InvitedBy: inv.InvitedBy,
		CreatedAt: inv.CreatedAt.UTC().Truncate(time.Second), ExpiresAt: inv.ExpiresAt.UTC().Truncate(time.Second),
	}
}
