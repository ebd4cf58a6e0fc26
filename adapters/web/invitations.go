package web

import (
	"net/http"
	"strings"

	"github.com/tooken/tooken/ports"
)

// The invitation link core hands out is {PublicURL}/invitations/{code}.
func (s *Server) invitationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /invitations/{code}", s.invitation)
	mux.HandleFunc("POST /invitations/{code}", s.signedIn(s.acceptInvitation))
}

// invitationData is the acceptance page. Next is the page's own path, to come back to after signing
// in or up.
type invitationData struct {
	Invitation *ports.Invitation
	Workspace  *ports.Workspace
	Next       string
	Expired    bool
	OtherEmail bool // signed in with an email the invitation is not for
}

// invitation shows what the link joins: signed in, an Accept button; signed out, sign-in and
// sign-up links that come back here. An unknown, used or revoked code is 404.
func (s *Server) invitation(w http.ResponseWriter, r *http.Request) {
	inv, ws, err := s.svc.InvitationByCode(r.Context(), r.PathValue("code"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &invitationData{Invitation: inv, Workspace: ws, Next: "/invitations/" + r.PathValue("code"),
		Expired: !inv.ExpiresAt.After(s.svc.Now())}
	v := &view{Title: "Join " + ws.Name, Data: d}
	sess, err := s.svc.Session(r.Context(), s.cookie(r))
	switch {
	case ports.ErrorCode(err) == ports.EUNAUTHORIZED:
		s.render(w, r, http.StatusOK, "invitation", v)
	case err != nil:
		s.fail(w, r, err)
	default:
		d.OtherEmail = !strings.EqualFold(sess.Email, inv.Email)
		s.page(&req{w: w, r: r, sess: sess}, http.StatusOK, "invitation", v)
	}
}

// acceptInvitation joins the signed-in account to the invitation's workspace (the core checks the
// email, expiry and single use) and opens that workspace.
func (s *Server) acceptInvitation(q *req) {
	acc := &ports.Account{ID: q.sess.AccountID, Email: q.sess.Email}
	ws, _, err := s.svc.AcceptInvitation(q.r.Context(), acc, q.r.PathValue("code"))
	if err != nil {
		s.fail(q.w, q.r, err)
		return
	}
	http.Redirect(q.w, q.r, wsURL(ws.ID, "tokens"), http.StatusSeeOther)
}
