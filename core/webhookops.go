package core

import (
	"context"
	"encoding/json"
	"time"

	"github.com/tooken/tooken/ports"
)

// SecretOverlap is how long a webhook's previous secret keeps signing after a rotation.
const SecretOverlap = 24 * time.Hour

// MaxDeliveryAttempts is how many delivery-log rows ListDeliveries returns.
const MaxDeliveryAttempts = 100

// ListDeliveries lists the webhook's delivery attempts, newest first, at most MaxDeliveryAttempts
// (webhooks:read or any member role).
func (s *Service) ListDeliveries(ctx context.Context, p *Principal, webhookID string) ([]ports.DeliveryAttempt, error) {
	if _, err := s.GetWebhook(ctx, p, webhookID); err != nil {
		return nil, err
	}
	return s.stores.Deliveries.Attempts(ctx, p.WorkspaceID, webhookID, MaxDeliveryAttempts)
}

// writableWebhook returns the webhook if p may change it and it is enabled (ECONFLICT otherwise:
// deliveries to a disabled webhook are dropped).
func (s *Service) writableWebhook(ctx context.Context, p *Principal, id string) (*ports.Webhook, error) {
	if err := p.requireScope(ScopeWebhooksWrite); err != nil {
		return nil, err
	}
	w, err := s.stores.Webhooks.Webhook(ctx, p.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	if !w.Enabled {
		return nil, ports.Errorf(ports.ECONFLICT, "Webhook %s is disabled", id)
	}
	return w, nil
}

func (s *Service) enqueue(ctx context.Context, d ports.WebhookDelivery) error {
	if s.cfg.Deliveries == nil {
		return ports.Errorf(ports.EUNAVAILABLE, "webhook delivery is not configured")
	}
	if err := s.cfg.Deliveries.Enqueue(ctx, d); err != nil {
		return ports.Internal(err)
	}
	return nil
}

// Redeliver sends a past delivery of the webhook again, as a new delivery with the same event and
// body (webhooks:write or admin); ENOTFOUND if the webhook has no such delivery, ECONFLICT if the
// webhook is disabled.
func (s *Service) Redeliver(ctx context.Context, p *Principal, webhookID, deliveryID string) (*ports.WebhookDelivery, error) {
	if _, err := s.writableWebhook(ctx, p, webhookID); err != nil {
		return nil, err
	}
	d, err := s.stores.Deliveries.Delivery(ctx, p.WorkspaceID, webhookID, deliveryID)
	if err != nil {
		return nil, err
	}
	d.ID = newID("dlv_")
	if err := s.enqueue(ctx, *d); err != nil {
		return nil, err
	}
	return d, nil
}

// PingWebhook enqueues a webhook.ping delivery to the webhook (webhooks:write or admin); ECONFLICT
// if it is disabled.
func (s *Service) PingWebhook(ctx context.Context, p *Principal, webhookID string) (*ports.WebhookDelivery, error) {
	w, err := s.writableWebhook(ctx, p, webhookID)
	if err != nil {
		return nil, err
	}
	id := newID("evt_")
	body, err := json.Marshal(map[string]any{"id": id, "event": "webhook.ping",
		"timestamp": s.Now().Format(time.RFC3339Nano),
		"data":      map[string]any{"workspace_id": w.WorkspaceID, "webhook_id": w.ID}})
	if err != nil {
		return nil, ports.Internal(err)
	}
	d := ports.WebhookDelivery{ID: newID("dlv_"), WorkspaceID: w.WorkspaceID, WebhookID: w.ID, EventID: id,
		Event: "webhook.ping", Payload: body}
	if err := s.enqueue(ctx, d); err != nil {
		return nil, err
	}
	return &d, nil
}

// RotateWebhookSecret gives the webhook a new secret, returned this once (webhooks:write or admin).
// The current secret keeps signing alongside it for SecretOverlap, so receivers can switch without
// dropping a delivery.
func (s *Service) RotateWebhookSecret(ctx context.Context, p *Principal, id string) (*ports.Webhook, error) {
	if err := p.requireScope(ScopeWebhooksWrite); err != nil {
		return nil, err
	}
	w, err := s.stores.Webhooks.Webhook(ctx, p.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	until := now.Add(SecretOverlap)
	w.PreviousSecret, w.PreviousSecretUntil = w.Secret, &until
	w.Secret, w.UpdatedAt = WebhookSecretPrefix+randomBase62(32), now
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "webhook.secret_rotated", webhookTarget(w),
		map[string]any{"previous_secret_until": until.Format(time.RFC3339)})
	if err := s.stores.Webhooks.RotateWebhookSecret(ctx, w, ev); err != nil {
		return nil, err
	}
	return w, nil
}

// AutoDisableAfter is how long a webhook may fail continuously before it is disabled.
const AutoDisableAfter = 72 * time.Hour

// NoteDeliveryOutcome records the outcome of a delivery attempt (the delivery worker calls it): a
// success ends the webhook's run of failures; a failure starts one, and once failures have lasted
// AutoDisableAfter the webhook is disabled, with a webhook.disabled audit event by the system. A
// webhook deleted meanwhile is ignored. Outcomes noted at the same time are applied one after the
// other (each against what the previous one stored), so a webhook is disabled once.
func (s *Service) NoteDeliveryOutcome(ctx context.Context, workspaceID, webhookID string, ok bool) error {
	for range maxHealthSwaps {
		w, err := s.stores.Webhooks.Webhook(ctx, workspaceID, webhookID)
		if ports.ErrorCode(err) == ports.ENOTFOUND {
			return nil
		} else if err != nil {
			return err
		}
		now := s.Now()
		prev, next := w.Health(), w.Health()
		var ev *ports.AuditEvent
		switch {
		case ok && prev.FailingSince == nil, !ok && prev.FailingSince != nil && (!prev.Enabled || now.Sub(*prev.FailingSince) < AutoDisableAfter):
			return nil // nothing changes
		case ok:
			next.FailingSince = nil
		case prev.FailingSince == nil:
			next.FailingSince = &now
		default:
			next.Enabled = false
			ev = s.event(ctx, ports.Actor{Type: "system", ID: "webhooks"}, workspaceID, "webhook.disabled", webhookTarget(w),
				map[string]any{"reason": "deliveries failed continuously for 72 hours",
					"failing_since": prev.FailingSince.UTC().Format(time.RFC3339)})
		}
		swapped, err := s.stores.Webhooks.SwapWebhookHealth(ctx, workspaceID, webhookID, prev, next, now, ev)
		if ports.ErrorCode(err) == ports.ENOTFOUND {
			return nil
		} else if err != nil || swapped {
			return err
		}
	}
	return ports.Errorf(ports.ECONFLICT, "the webhook %s kept changing while a delivery outcome was noted", webhookID)
}

// maxHealthSwaps bounds NoteDeliveryOutcome's attempts: each failed one means another writer changed
// the webhook's health in between.
const maxHealthSwaps = 8
