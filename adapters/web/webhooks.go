package web

import (
	"net/http"
	"strings"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func (s *Server) webhookRoutes(mux *http.ServeMux) {
	const one = "/app/{ws}/settings/webhooks/{id}"
	mux.HandleFunc("GET /app/{ws}/settings/webhooks", s.inWorkspace(s.webhooks))
	mux.HandleFunc("POST /app/{ws}/settings/webhooks", s.inWorkspace(s.createWebhook))
	mux.HandleFunc("GET "+one, s.inWorkspace(s.webhook))
	mux.HandleFunc("POST "+one+"/enable", s.inWorkspace(s.enableWebhook(true)))
	mux.HandleFunc("POST "+one+"/disable", s.inWorkspace(s.enableWebhook(false)))
	mux.HandleFunc("POST "+one+"/delete", s.inWorkspace(s.deleteWebhook))
	mux.HandleFunc("POST "+one+"/rotate-secret", s.inWorkspace(s.rotateWebhookSecret))
	mux.HandleFunc("POST "+one+"/ping", s.inWorkspace(s.pingWebhook))
	mux.HandleFunc("POST "+one+"/deliveries/{delivery}/redeliver", s.inWorkspace(s.redeliver))
}

// webhooksData is the Webhooks tab; Created is set right after a webhook was made (its secret is
// shown once).
type webhooksData struct {
	Webhooks   []ports.Webhook
	Events     []string
	Created    *ports.Webhook
	FormURL    string
	FormEvents []string
	FormDesc   string
}

func (s *Server) webhooksPage(q *req, status int, d *webhooksData, err error) {
	v := &view{Title: "Webhooks", Nav: "settings", Tab: "webhooks", Data: d}
	d.Events = core.WebhookEvents
	var lerr error
	d.Webhooks, lerr = s.svc.ListWebhooks(q.r.Context(), q.p)
	s.showTab(q, status, "settings_webhooks", v, err, lerr)
}

func (s *Server) webhooks(q *req) { s.webhooksPage(q, http.StatusOK, &webhooksData{}, nil) }

func (s *Server) createWebhook(q *req) {
	in := core.CreateWebhookInput{URL: strings.TrimSpace(q.r.PostFormValue("url")), Events: q.r.PostForm["events"],
		Description: strings.TrimSpace(q.r.PostFormValue("description"))}
	w, err := s.svc.CreateWebhook(q.r.Context(), q.p, in)
	d := &webhooksData{Created: w}
	if err != nil {
		d.FormURL, d.FormEvents, d.FormDesc = in.URL, in.Events, in.Description
	}
	s.webhooksPage(q, http.StatusCreated, d, err)
}

// webhookData is one webhook's page with its delivery log; Secret is set right after a rotation.
type webhookData struct {
	Webhook    *ports.Webhook
	Deliveries []ports.DeliveryAttempt
	Secret     string
}

func (s *Server) webhookPage(q *req, status int, d *webhookData, notice string, err error) {
	ctx, id := q.r.Context(), q.r.PathValue("id")
	w, gerr := s.svc.GetWebhook(ctx, q.p, id)
	if gerr != nil {
		s.fail(q.w, q.r, gerr)
		return
	}
	d.Webhook = w
	v := &view{Title: "Webhook", Nav: "settings", Tab: "webhooks", Data: d, Notice: notice}
	d.Deliveries, gerr = s.svc.ListDeliveries(ctx, q.p, id)
	s.showTab(q, status, "webhook", v, err, gerr)
}

func (s *Server) webhook(q *req) { s.webhookPage(q, http.StatusOK, &webhookData{}, "", nil) }

func (s *Server) enableWebhook(on bool) func(*req) {
	return func(q *req) {
		_, err := s.svc.UpdateWebhook(q.r.Context(), q.p, q.r.PathValue("id"), core.UpdateWebhookInput{Enabled: &on})
		s.webhookDone(q, err, map[bool]string{true: "Webhook enabled.", false: "Webhook disabled: no deliveries until it is enabled again."}[on])
	}
}

func (s *Server) deleteWebhook(q *req) {
	if err := s.svc.DeleteWebhook(q.r.Context(), q.p, q.r.PathValue("id")); err != nil {
		s.webhookDone(q, err, "")
		return
	}
	http.Redirect(q.w, q.r, wsURL(q.ws.ID, "settings", "webhooks"), http.StatusSeeOther)
}

func (s *Server) rotateWebhookSecret(q *req) {
	w, err := s.svc.RotateWebhookSecret(q.r.Context(), q.p, q.r.PathValue("id"))
	if err != nil {
		s.webhookDone(q, err, "")
		return
	}
	s.webhookPage(q, http.StatusOK, &webhookData{Secret: w.Secret},
		"New secret created. The previous one keeps signing alongside it for 24 hours.", nil)
}

func (s *Server) pingWebhook(q *req) {
	_, err := s.svc.PingWebhook(q.r.Context(), q.p, q.r.PathValue("id"))
	s.webhookDone(q, err, "Test ping queued; it appears in the delivery log once attempted.")
}

func (s *Server) redeliver(q *req) {
	_, err := s.svc.Redeliver(q.r.Context(), q.p, q.r.PathValue("id"), q.r.PathValue("delivery"))
	s.webhookDone(q, err, "Redelivery queued.")
}

// webhookDone shows the webhook's page after an action: the notice, or the core's refusal.
func (s *Server) webhookDone(q *req, err error, notice string) {
	if ports.ErrorCode(err) == ports.ENOTFOUND {
		s.fail(q.w, q.r, err)
		return
	}
	s.webhookPage(q, http.StatusOK, &webhookData{}, notice, err)
}
