package core

import (
	"context"
	"net/url"
	"slices"
	"unicode/utf8"

	"github.com/tooken/tooken/ports"
)

// WebhookSecretPrefix starts every webhook signing secret.
const WebhookSecretPrefix = "whsec_"

// Webhook input bounds.
const (
	MaxWebhookURLLen         = 2048
	MaxWebhookDescriptionLen = 500
	MaxWebhookEvents         = 20
)

// WebhookEvents lists the events a webhook may subscribe to.
var WebhookEvents = ports.WebhookEventNames

// CreateWebhookInput is the request to create a webhook.
type CreateWebhookInput struct {
	URL         string
	Events      []string
	Enabled     *bool // default true
	Description string
}

// UpdateWebhookInput changes a webhook; nil fields stay as they are.
type UpdateWebhookInput struct {
	URL         *string
	Events      *[]string
	Enabled     *bool
	Description *string
}

// ListWebhooks lists p's workspace's webhooks, newest first (webhooks:read or any member role).
func (s *Service) ListWebhooks(ctx context.Context, p *Principal) ([]ports.Webhook, error) {
	if err := p.requireScope(ScopeWebhooksRead); err != nil {
		return nil, err
	}
	return s.stores.Webhooks.Webhooks(ctx, p.WorkspaceID)
}

// GetWebhook returns one webhook of p's workspace.
func (s *Service) GetWebhook(ctx context.Context, p *Principal, id string) (*ports.Webhook, error) {
	if err := p.requireScope(ScopeWebhooksRead); err != nil {
		return nil, err
	}
	return s.stores.Webhooks.Webhook(ctx, p.WorkspaceID, id)
}

// CreateWebhook creates a webhook (webhooks:write or admin) and returns it; its Secret is shown to
// the caller this once. The URL must pass the installation's URL guard (public https targets).
func (s *Service) CreateWebhook(ctx context.Context, p *Principal, in CreateWebhookInput) (*ports.Webhook, error) {
	if err := p.requireScope(ScopeWebhooksWrite); err != nil {
		return nil, err
	}
	events, err := validateWebhookEvents(in.Events)
	if err != nil {
		return nil, err
	}
	if err := validateWebhookDescription(in.Description); err != nil {
		return nil, err
	}
	if err := s.checkWebhookURL(ctx, in.URL); err != nil {
		return nil, err
	}
	now := s.Now()
	w := &ports.Webhook{
		ID: newID("wh_"), WorkspaceID: p.WorkspaceID, URL: in.URL, Events: events, Enabled: true,
		Description: in.Description, Secret: WebhookSecretPrefix + randomBase62(32), CreatedAt: now, UpdatedAt: now,
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "webhook.created", webhookTarget(w),
		map[string]any{"url": w.URL, "events": w.Events, "enabled": w.Enabled})
	if err := s.stores.Webhooks.CreateWebhook(ctx, w, ev); err != nil {
		return nil, err
	}
	return w, nil
}

// UpdateWebhook changes a webhook's URL, events, enabled flag or description (webhooks:write or admin).
func (s *Service) UpdateWebhook(ctx context.Context, p *Principal, id string, in UpdateWebhookInput) (*ports.Webhook, error) {
	if err := p.requireScope(ScopeWebhooksWrite); err != nil {
		return nil, err
	}
	w, err := s.stores.Webhooks.Webhook(ctx, p.WorkspaceID, id)
	if err != nil {
		return nil, err
	}
	changed := []string{}
	if in.Events != nil {
		if w.Events, err = validateWebhookEvents(*in.Events); err != nil {
			return nil, err
		}
		changed = append(changed, "events")
	}
	if in.Description != nil {
		if err := validateWebhookDescription(*in.Description); err != nil {
			return nil, err
		}
		w.Description = *in.Description
		changed = append(changed, "description")
	}
	if in.URL != nil {
		if err := s.checkWebhookURL(ctx, *in.URL); err != nil {
			return nil, err
		}
		w.URL = *in.URL
		changed = append(changed, "url")
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
		if w.Enabled {
			w.FailingSince = nil // re-enabled: a fresh start for the automatic disabling
		}
		changed = append(changed, "enabled")
	}
	w.UpdatedAt = s.Now()
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "webhook.updated", webhookTarget(w),
		map[string]any{"changed": changed, "url": w.URL, "events": w.Events, "enabled": w.Enabled})
	if err := s.stores.Webhooks.UpdateWebhook(ctx, w, in.Enabled != nil, ev); err != nil {
		return nil, err
	}
	if in.Enabled == nil {
		// The store kept the health it holds, which a delivery failure may have changed since w was read.
		return s.stores.Webhooks.Webhook(ctx, p.WorkspaceID, id)
	}
	return w, nil
}

// DeleteWebhook deletes a webhook (webhooks:write or admin).
func (s *Service) DeleteWebhook(ctx context.Context, p *Principal, id string) error {
	if err := p.requireScope(ScopeWebhooksWrite); err != nil {
		return err
	}
	w, err := s.stores.Webhooks.Webhook(ctx, p.WorkspaceID, id)
	if err != nil {
		return err
	}
	ev := s.event(ctx, p.actor(), p.WorkspaceID, "webhook.deleted", webhookTarget(w), map[string]any{"url": w.URL})
	return s.stores.Webhooks.DeleteWebhook(ctx, p.WorkspaceID, id, ev)
}

// checkWebhookURL checks the URL's shape (EINVALID), then asks the URL guard whether it may be
// reached (EUNPROCESSABLE). Without a guard (unit tests) only the shape is checked.
func (s *Service) checkWebhookURL(ctx context.Context, raw string) error {
	if raw == "" {
		return invalid("url", "url is required")
	}
	if len(raw) > MaxWebhookURLLen || !utf8.ValidString(raw) {
		return invalid("url", "url must be at most 2048 bytes of UTF-8")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.User != nil {
		return invalid("url", "url must be an absolute URL without credentials")
	}
	if s.cfg.WebhookGuard == nil {
		return nil
	}
	return s.cfg.WebhookGuard.CheckURL(ctx, raw)
}

func validateWebhookEvents(events []string) ([]string, error) {
	if len(events) == 0 || len(events) > MaxWebhookEvents {
		return nil, invalid("events", "events must name from 1 to 20 events")
	}
	out := make([]string, 0, len(events))
	for _, e := range events {
		if !slices.Contains(WebhookEvents, e) {
			return nil, invalid("events", "unknown event \""+e+"\"")
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func validateWebhookDescription(d string) error {
	if !utf8.ValidString(d) || utf8.RuneCountInString(d) > MaxWebhookDescriptionLen {
		return invalid("description", "description must be at most 500 characters of UTF-8")
	}
	return nil
}

func webhookTarget(w *ports.Webhook) ports.Target {
	return ports.Target{Type: "webhook", ID: w.ID, Name: w.URL}
}
