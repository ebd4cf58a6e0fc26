package web

import (
	"net/http"
)

func (s *Server) workspaceRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app", s.signedIn(s.workspaces))
	mux.HandleFunc("POST /app/workspaces", s.signedIn(s.createWorkspace))
	mux.HandleFunc("GET /app/{ws}", s.inWorkspace(func(q *req) {
		http.Redirect(q.w, q.r, wsURL(q.ws.ID, "tokens"), http.StatusSeeOther)
	}))
}

// workspaces lists the account's workspaces; with none yet it is the first-workspace prompt.
func (s *Server) workspaces(q *req) {
	s.page(q, http.StatusOK, "workspaces", &view{Title: "Workspaces"})
}

func (s *Server) createWorkspace(q *req) {
	ws, err := s.svc.CreateSessionWorkspace(q.r.Context(), q.sess, q.r.PostFormValue("name"))
	if err != nil {
		s.formError(q, "workspaces", &view{Title: "Workspaces"}, err)
		return
	}
	http.Redirect(q.w, q.r, wsURL(ws.ID, "tokens"), http.StatusSeeOther)
}
