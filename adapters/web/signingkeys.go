package web

import (
	"net/http"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func (s *Server) signingKeyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /app/{ws}/settings/signing-keys", s.inWorkspace(s.signingKeys))
	mux.HandleFunc("POST /app/{ws}/settings/signing-keys/rotate", s.inWorkspace(s.rotateSigningKey))
	mux.HandleFunc("POST /app/{ws}/settings/signing-keys/{kid}/revoke", s.inWorkspace(s.revokeSigningKey))
}

// signingKeysData is the Signing Keys tab (owners only; others see an explanation).
type signingKeysData struct {
	Keys []core.SigningKeyView
}

// Revocable reports whether a key in state may still be revoked.
func (signingKeysData) Revocable(state string) bool {
	return state != ports.KeyRevoked && state != ports.KeyRetired
}

func (s *Server) signingKeysPage(q *req, status int, notice string, err error) {
	d := &signingKeysData{}
	v := &view{Title: "Signing Keys", Nav: "settings", Tab: "signing-keys", Data: d, Notice: notice}
	var lerr error
	if q.p.Role == ports.RoleOwner {
		d.Keys, lerr = s.svc.ListSigningKeys(q.r.Context(), q.p)
	}
	s.showTab(q, status, "settings_signingkeys", v, err, lerr)
}

func (s *Server) signingKeys(q *req) { s.signingKeysPage(q, http.StatusOK, "", nil) }

func (s *Server) rotateSigningKey(q *req) {
	k, err := s.svc.RotateSigningKey(q.r.Context(), q.p)
	notice := ""
	if err == nil {
		notice = "New key " + k.Key.KID + " is published now and starts signing at " + (&view{}).Time(k.Key.ActivatesAt) + "."
	}
	s.signingKeysPage(q, http.StatusOK, notice, err)
}

func (s *Server) revokeSigningKey(q *req) {
	_, err := s.svc.RevokeSigningKey(q.r.Context(), q.p, q.r.PathValue("kid"))
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		s.fail(q.w, q.r, err)
		return
	}
	notice := ""
	if err == nil {
		notice = "Key " + q.r.PathValue("kid") + " is revoked."
	}
	s.signingKeysPage(q, http.StatusOK, notice, err)
}
