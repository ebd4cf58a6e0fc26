package web

import (
	"net/http"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func (s *Server) apiKeyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/{ws}/settings/api-keys", s.inWorkspace(s.apiKeys))
	mux.HandleFunc("POST /app/{ws}/settings/api-keys", s.inWorkspace(s.createAPIKey))
	mux.HandleFunc("POST /app/{ws}/settings/api-keys/{id}/regenerate", s.inWorkspace(s.regenerateAPIKey))
	mux.HandleFunc("POST /app/{ws}/settings/api-keys/{id}/delete", s.inWorkspace(s.deleteAPIKey))
}

// apiKeysData is the API Keys tab; Secret is set right after a key was generated (shown once).
type apiKeysData struct {
	Keys   []ports.APIKey
	Secret string
	Key    *ports.APIKey
}

func (s *Server) apiKeysPage(q *req, status int, d *apiKeysData, err error) {
	v := &view{Title: "API Keys", Nav: "settings", Tab: "api-keys", Data: d}
	keys, lerr := s.svc.ListAPIKeys(q.r.Context(), q.p)
	if ports.ErrorCode(lerr) == ports.EFORBIDDEN {
		lerr = nil // viewers and admins see the tab without the keys
	}
	if err == nil {
		err = lerr
	}
	d.Keys = keys
	if err != nil {
		s.formError(q, "settings_apikeys", v, err)
		return
	}
	s.page(q, status, "settings_apikeys", v)
}

func (s *Server) apiKeys(q *req) { s.apiKeysPage(q, http.StatusOK, &apiKeysData{}, nil) }

func (s *Server) createAPIKey(q *req) {
	in := core.CreateAPIKeyInput{Name: q.r.PostFormValue("name"), Kind: ports.APIKeyKind(q.r.PostFormValue("kind"))}
	if in.Kind == ports.APIKeyTeam {
		in.Role = ports.Role(q.r.PostFormValue("role"))
	}
	k, secret, err := s.svc.CreateAPIKey(q.r.Context(), q.p, in)
	s.apiKeysPage(q, http.StatusCreated, &apiKeysData{Secret: secret, Key: k}, err)
}

func (s *Server) regenerateAPIKey(q *req) {
	k, secret, err := s.svc.RegenerateAPIKey(q.r.Context(), q.p, q.r.PathValue("id"))
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		s.fail(q.w, q.r, err)
		return
	}
	s.apiKeysPage(q, http.StatusOK, &apiKeysData{Secret: secret, Key: k}, err)
}

func (s *Server) deleteAPIKey(q *req) {
	if err := s.svc.DeleteAPIKey(q.r.Context(), q.p, q.r.PathValue("id")); err != nil {
		s.fail(q.w, q.r, err)
		return
	}
	http.Redirect(q.w, q.r, wsURL(q.ws.ID, "settings", "api-keys"), http.StatusSeeOther)
}
