package core

import (
	"context"

	"github.com/tooken/tooken/ports"
)

// InvitationByCode returns the pending invitation whose link carries code, with its workspace, so
// that the acceptance page can say what is being joined. An unknown, used or revoked code is
// ENOTFOUND; an expired one is returned (AcceptInvitation refuses it).
func (s *Service) InvitationByCode(ctx context.Context, code string) (*ports.Invitation, *ports.Workspace, error) {
	inv, err := s.invitationByCode(ctx, code)
	if err != nil {
		return nil, nil, err
	}
	ws, err := s.stores.Workspaces.Workspace(ctx, inv.WorkspaceID)
	if err != nil {
		return nil, nil, err
	}
	return inv, ws, nil
}

func (s *Service) invitationByCode(ctx context.Context, code string) (*ports.Invitation, error) {
	if code == "" || len(code) > 64 {
		return nil, ports.Errorf(ports.ENOTFOUND, "Invitation not found")
	}
	inv, err := s.stores.Invitations.InvitationByHash(ctx, hashSecret(code))
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		return nil, ports.Errorf(ports.ENOTFOUND, "Invitation not found; it may have been used or revoked")
	}
	return inv, err
}
