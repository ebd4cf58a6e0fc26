package httpapi

import (
	"context"
	"time"

	"github.com/tooken/tooken/core"
	"github.com/tooken/tooken/ports"
)

func webhookOut(w *ports.Webhook) Webhook {
	events := make([]WebhookEvent, len(w.Events))
	for i, e := range w.Events {
		events[i] = WebhookEvent(e)
	}
	return Webhook{
		Id: w.ID, Url: w.URL, Events: events, Enabled: w.Enabled, Description: w.Description,
		CreatedAt: w.CreatedAt.UTC().Truncate(time.Second), UpdatedAt: w.UpdatedAt.UTC().Truncate(time.Second),
	}
}

func eventNames(events []WebhookEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = string(e)
	}
	return out
}

// ListWebhooks implements GET /v1/webhooks.
func (s *Server) ListWebhooks(ctx context.Context, _ ListWebhooksRequestObject) (ListWebhooksResponseObject, error) {
	list, err := s.svc.ListWebhooks(ctx, principal(ctx))
	if err != nil {
		return nil, err
	}
	out := WebhookList{Data: make([]Webhook, len(list))}
	for i := range list {
		out.Data[i] = webhookOut(&list[i])
	}
	return ListWebhooks200JSONResponse{Body: out}, nil
}

// CreateWebhook implements POST /v1/webhooks.
func (s *Server) CreateWebhook(ctx context.Context, req CreateWebhookRequestObject) (CreateWebhookResponseObject, error) {
	in := core.CreateWebhookInput{URL: req.Body.Url, Events: eventNames(req.Body.Events), Enabled: req.Body.Enabled}
	if req.Body.Description != nil {
		in.Description = *req.Body.Description
	}
	w, err := s.svc.CreateWebhook(ctx, principal(ctx), in)
	if err != nil {
		return nil, err
	}
	return CreateWebhook201JSONResponse{Body: webhookSecretOut(w)}, nil
}

// GetWebhook implements GET /v1/webhooks/{id}.
func (s *Server) GetWebhook(ctx context.Context, req GetWebhookRequestObject) (GetWebhookResponseObject, error) {
	w, err := s.svc.GetWebhook(ctx, principal(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return GetWebhook200JSONResponse{Body: webhookOut(w)}, nil
}

// UpdateWebhook implements PATCH /v1/webhooks/{id}.
func (s *Server) UpdateWebhook(ctx context.Context, req UpdateWebhookRequestObject) (UpdateWebhookResponseObject, error) {
	b := req.Body
	in := core.UpdateWebhookInput{URL: b.Url, Enabled: b.Enabled, Description: b.Description}
	if b.Events != nil {
		events := eventNames(*b.Events)
		in.Events = &events
	}
	w, err := s.svc.UpdateWebhook(ctx, principal(ctx), req.Id, in)
	if err != nil {
		return nil, err
	}
	return UpdateWebhook200JSONResponse{Body: webhookOut(w)}, nil
}

// DeleteWebhook implements DELETE /v1/webhooks/{id}.
func (s *Server) DeleteWebhook(ctx context.Context, req DeleteWebhookRequestObject) (DeleteWebhookResponseObject, error) {
	if err := s.svc.DeleteWebhook(ctx, principal(ctx), req.Id); err != nil {
		return nil, err
	}
	return DeleteWebhook204Response{}, nil
}

func attemptOut(a *ports.DeliveryAttempt) DeliveryAttempt {
	o := DeliveryAttempt{DeliveryId: a.DeliveryID, EventId: a.EventID, Event: a.Event, Attempt: a.Attempt,
		LatencyMs: a.LatencyMS, CreatedAt: a.At.UTC()}
	if a.StatusCode != 0 {
		o.StatusCode = &a.StatusCode
	}
	if a.Error != "" {
		o.Error = &a.Error
	}
	return o
}

func queuedOut(d *ports.WebhookDelivery) QueuedDelivery {
	return QueuedDelivery{DeliveryId: d.ID, EventId: d.EventID, Event: d.Event}
}

// ListWebhookDeliveries implements GET /v1/webhooks/{id}/deliveries.
func (s *Server) ListWebhookDeliveries(ctx context.Context, req ListWebhookDeliveriesRequestObject) (ListWebhookDeliveriesResponseObject, error) {
	list, err := s.svc.ListDeliveries(ctx, principal(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	out := DeliveryAttemptList{Data: make([]DeliveryAttempt, len(list))}
	for i := range list {
		out.Data[i] = attemptOut(&list[i])
	}
	return ListWebhookDeliveries200JSONResponse{Body: out}, nil
}

// RedeliverWebhookDelivery implements POST /v1/webhooks/{id}/deliveries/{delivery_id}/redeliver.
func (s *Server) RedeliverWebhookDelivery(ctx context.Context, req RedeliverWebhookDeliveryRequestObject) (RedeliverWebhookDeliveryResponseObject, error) {
	d, err := s.svc.Redeliver(ctx, principal(ctx), req.Id, req.DeliveryId)
	if err != nil {
		return nil, err
	}
	return RedeliverWebhookDelivery202JSONResponse{Body: queuedOut(d)}, nil
}

// TestWebhook implements POST /v1/webhooks/{id}/test.
func (s *Server) TestWebhook(ctx context.Context, req TestWebhookRequestObject) (TestWebhookResponseObject, error) {
	d, err := s.svc.PingWebhook(ctx, principal(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return TestWebhook202JSONResponse{Body: queuedOut(d)}, nil
}

// RotateWebhookSecret implements POST /v1/webhooks/{id}/rotate-secret.
func (s *Server) RotateWebhookSecret(ctx context.Context, req RotateWebhookSecretRequestObject) (RotateWebhookSecretResponseObject, error) {
	w, err := s.svc.RotateWebhookSecret(ctx, principal(ctx), req.Id)
	if err != nil {
		return nil, err
	}
	return RotateWebhookSecret200JSONResponse{Body: webhookSecretOut(w)}, nil
}

func webhookSecretOut(w *ports.Webhook) WebhookWithSecret {
	o := webhookOut(w)
	return WebhookWithSecret{Id: o.Id, Url: o.Url, Events: o.Events, Enabled: o.Enabled, Description: o.Description,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Secret: w.Secret}
}
