package web

import (
	"net/http"
	"strings"

	"github.com/tooken/tooken/core"
)

// settingsTabs are the Settings tabs, in order.
var settingsTabs = []struct{ Slug, Name string }{
	{"general", "General"},
	{"api-keys", "API Keys"},
	{"members", "Members"},
	{"webhooks", "Webhooks"},
	{"policies", "Policies"},
	{"signing-keys", "Signing Keys"},
}

func (s *Server) settingsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/{ws}/settings", s.inWorkspace(func(q *req) {
		http.Redirect(q.w, q.r, wsURL(q.ws.ID, "settings", "general"), http.StatusSeeOther)
	}))
	mux.HandleFunc("GET /app/{ws}/settings/general", s.inWorkspace(s.general))
	mux.HandleFunc("POST /app/{ws}/settings/general", s.inWorkspace(s.updateGeneral))
	s.memberRoutes(mux)
	s.webhookRoutes(mux)
	s.policyRoutes(mux)
	s.signingKeyRoutes(mux)
}

func (s *Server) general(q *req) {
	s.page(q, http.StatusOK, "settings_general", &view{Title: "General", Nav: "settings", Tab: "general"})
}

// updateGeneral changes name, slug and timezone (core allows owners only).
func (s *Server) updateGeneral(q *req) {
	name, slug, tz := strings.TrimSpace(q.r.PostFormValue("name")), strings.TrimSpace(q.r.PostFormValue("slug")),
		strings.TrimSpace(q.r.PostFormValue("timezone"))
	ws, err := s.svc.UpdateWorkspace(q.r.Context(), q.p, core.UpdateWorkspaceInput{Name: &name, Slug: &slug, Timezone: &tz})
	v := &view{Title: "General", Nav: "settings", Tab: "general"}
	if err != nil {
		s.formError(q, "settings_general", v, err)
		return
	}
	q.ws, v.Notice = ws, "Settings saved."
	s.page(q, http.StatusOK, "settings_general", v)
}
