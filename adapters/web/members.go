package web

import (
	"net/http"
	"strings"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func (s *Server) memberRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/{ws}/settings/members", s.inWorkspace(s.members))
	mux.HandleFunc("POST /app/{ws}/settings/members/{id}/role", s.inWorkspace(s.changeMemberRole))
	mux.HandleFunc("POST /app/{ws}/settings/members/{id}/remove", s.inWorkspace(s.removeMember))
	mux.HandleFunc("POST /app/{ws}/settings/invitations", s.inWorkspace(s.invite))
	mux.HandleFunc("POST /app/{ws}/settings/invitations/{id}/revoke", s.inWorkspace(s.revokeInvitation))
	s.invitationRoutes(mux)
}

// membersData is the Members tab; Link is set right after an invitation was created (shown once).
type membersData struct {
	Members     []ports.Member
	Total       int
	Invitations []ports.Invitation
	Invited     *ports.Invitation
	Link        string
	Roles       []ports.Role
	Self        string // the signed-in account's member id
}

var roles = []ports.Role{ports.RoleOwner, ports.RoleAdmin, ports.RoleViewer}

// membersPage renders the tab after an action; err (the action's) is shown with the lists.
func (s *Server) membersPage(q *req, status int, d *membersData, err error) {
	v := &view{Title: "Members", Nav: "settings", Tab: "members", Data: d}
	d.Roles, d.Self = roles, q.p.MemberID
	var lerr error
	d.Members, d.Total, lerr = s.svc.ListMembers(q.r.Context(), q.p, ports.Page{Page: 1, PerPage: 100})
	if lerr == nil && q.p.Role == ports.RoleOwner {
		d.Invitations, lerr = s.svc.ListInvitations(q.r.Context(), q.p)
	}
	s.showTab(q, status, "settings_members", v, err, lerr)
}

func (s *Server) members(q *req) { s.membersPage(q, http.StatusOK, &membersData{}, nil) }

func (s *Server) changeMemberRole(q *req) {
	_, err := s.svc.UpdateMemberRole(q.r.Context(), q.p, q.r.PathValue("id"), ports.Role(q.r.PostFormValue("role")))
	s.afterMemberChange(q, err)
}

func (s *Server) removeMember(q *req) {
	id := q.r.PathValue("id")
	err := s.svc.RemoveMember(q.r.Context(), q.p, id)
	if err == nil && id == q.p.MemberID {
		http.Redirect(q.w, q.r, "/app", http.StatusSeeOther) // left the workspace
		return
	}
	s.afterMemberChange(q, err)
}

// afterMemberChange shows the tab again: the core's refusal (say, of the last owner) in place, or
// the lists as they are now, with the signed-in account's possibly changed role.
func (s *Server) afterMemberChange(q *req, err error) {
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		s.fail(q.w, q.r, err)
		return
	}
	if err == nil {
		http.Redirect(q.w, q.r, wsURL(q.ws.ID, "settings", "members"), http.StatusSeeOther)
		return
	}
	s.membersPage(q, http.StatusOK, &membersData{}, err)
}

func (s *Server) invite(q *req) {
	in := core.CreateInvitationInput{Email: strings.TrimSpace(q.r.PostFormValue("email")), Role: ports.Role(q.r.PostFormValue("role"))}
	inv, link, err := s.svc.CreateInvitation(q.r.Context(), q.p, in)
	s.membersPage(q, http.StatusCreated, &membersData{Invited: inv, Link: link}, err)
}

func (s *Server) revokeInvitation(q *req) {
	if err := s.svc.RevokeInvitation(q.r.Context(), q.p, q.r.PathValue("id")); err != nil {
		s.afterMemberChange(q, err)
		return
	}
	http.Redirect(q.w, q.r, wsURL(q.ws.ID, "settings", "members"), http.StatusSeeOther)
}
