package memory

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/tooken/tooken/ports"
)

// WebhookStore implements ports.WebhookStore.
type WebhookStore struct{ db *DB }

var _ ports.WebhookStore = (*WebhookStore)(nil)

type webhookRow struct {
	ports.Webhook
	seq int64
}

func copyWebhook(w *ports.Webhook) *ports.Webhook {
	c := *w
	c.Events = slices.Clone(w.Events)
	c.PreviousSecretUntil = copyTimePtr(w.PreviousSecretUntil)
	c.FailingSince = copyTimePtr(w.FailingSince)
	return &c
}

// CreateWebhook stores w and ev together; ECONFLICT if the id exists.
func (s *WebhookStore) CreateWebhook(ctx context.Context, w *ports.Webhook, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.webhooks[w.ID]; ok {
		return ports.Errorf(ports.ECONFLICT, "a webhook with this id already exists")
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	c := copyWebhook(w)
	c.CreatedAt, c.UpdatedAt = normTime(w.CreatedAt), normTime(w.UpdatedAt)
	c.PreviousSecretUntil = normTimePtr(w.PreviousSecretUntil)
	c.FailingSince = normTimePtr(w.FailingSince)
	db.webhooks[c.ID] = &webhookRow{Webhook: *c, seq: db.next()}
	db.appendEvents(events)
	return nil
}

// Webhooks lists the workspace's webhooks, newest first.
func (s *WebhookStore) Webhooks(ctx context.Context, workspaceID string) ([]ports.Webhook, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	var rows []*webhookRow
	for _, w := range db.webhooks {
		if w.WorkspaceID == workspaceID {
			rows = append(rows, w)
		}
	}
	slices.SortFunc(rows, func(a, b *webhookRow) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(b.ID, a.ID))
	})
	out := make([]ports.Webhook, len(rows))
	for i, r := range rows {
		out[i] = *copyWebhook(&r.Webhook)
	}
	return out, nil
}

// Webhook returns one webhook; ENOTFOUND if it is not in the workspace.
func (s *WebhookStore) Webhook(ctx context.Context, workspaceID, id string) (*ports.Webhook, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	r, err := db.webhookIn(workspaceID, id)
	if err != nil {
		return nil, err
	}
	return copyWebhook(&r.Webhook), nil
}

// UpdateWebhook stores w's URL, Events, Description and UpdatedAt, and its Enabled and FailingSince
// when setHealth, and records ev together; ENOTFOUND if it is not in the workspace.
func (s *WebhookStore) UpdateWebhook(ctx context.Context, w *ports.Webhook, setHealth bool, ev *ports.AuditEvent) error {
	_, err := s.change(ctx, w.WorkspaceID, w.ID, w.UpdatedAt, ev, nil, func(r *webhookRow) {
		r.URL, r.Events, r.Description = w.URL, slices.Clone(w.Events), w.Description
		if setHealth {
			r.Enabled, r.FailingSince = w.Enabled, normTimePtr(w.FailingSince)
		}
	})
	return err
}

// SwapWebhookHealth replaces the webhook's health with next, stamps updatedAt and records ev
// together, only if its stored health is still prev; ENOTFOUND if it is not in the workspace.
func (s *WebhookStore) SwapWebhookHealth(ctx context.Context, workspaceID, id string, prev, next ports.WebhookHealth,
	updatedAt time.Time, ev *ports.AuditEvent) (bool, error) {
	return s.change(ctx, workspaceID, id, updatedAt, ev, func(r *webhookRow) bool {
		return r.Enabled == prev.Enabled && sameTime(r.FailingSince, normTimePtr(prev.FailingSince))
	}, func(r *webhookRow) {
		r.Enabled, r.FailingSince = next.Enabled, normTimePtr(next.FailingSince)
	})
}

// sameTime reports whether two optional times are both nil or the same instant.
func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// change applies set to the stored webhook, stamps updatedAt and records ev, all under the lock,
// unless applies (when given) refuses the stored webhook; it reports whether it changed it.
// ENOTFOUND if the webhook is not in the workspace.
func (s *WebhookStore) change(ctx context.Context, workspaceID, id string, updatedAt time.Time, ev *ports.AuditEvent,
	applies func(r *webhookRow) bool, set func(r *webhookRow)) (bool, error) {
	if err := ctxErr(ctx); err != nil {
		return false, err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	r, err := db.webhookIn(workspaceID, id)
	if err != nil {
		return false, err
	}
	if applies != nil && !applies(r) {
		return false, nil
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return false, err
	}
	set(r)
	r.UpdatedAt = normTime(updatedAt)
	db.appendEvents(events)
	return true, nil
}

// DeleteWebhook removes the webhook and records ev together; ENOTFOUND if it is not in the workspace.
func (s *WebhookStore) DeleteWebhook(ctx context.Context, workspaceID, id string, ev *ports.AuditEvent) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := s.db
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, err := db.webhookIn(workspaceID, id); err != nil {
		return err
	}
	events, err := db.prepareEvents(ev)
	if err != nil {
		return err
	}
	delete(db.webhooks, id)
	db.appendEvents(events)
	return nil
}

func (db *DB) webhookIn(workspaceID, id string) (*webhookRow, error) {
	r, ok := db.webhooks[id]
	if !ok || r.WorkspaceID != workspaceID {
		return nil, ports.Errorf(ports.ENOTFOUND, "Webhook %s not found", id)
	}
	return r, nil
}

// DeliveryLog implements ports.DeliveryLog. The memory stores enqueue no deliveries (webhook
// delivery runs on the job queue of a SQL store); the log is here for the core's unit tests.
type DeliveryLog struct{ db *DB }

var _ ports.DeliveryLog = (*DeliveryLog)(nil)

// RecordAttempt stores a; recording the same attempt twice keeps the first.
func (l *DeliveryLog) RecordAttempt(ctx context.Context, a *ports.DeliveryAttempt) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	db := l.db
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, x := range db.attempts {
		if x.DeliveryID == a.DeliveryID && x.Attempt == a.Attempt {
			return nil
		}
	}
	c := *a
	c.At = normTime(a.At)
	c.Payload = slices.Clone(a.Payload)
	db.attempts = append(db.attempts, c)
	return nil
}

// Attempts lists the webhook's attempts, newest first, at most limit.
func (l *DeliveryLog) Attempts(ctx context.Context, workspaceID, webhookID string, limit int) ([]ports.DeliveryAttempt, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := l.db
	db.mu.Lock()
	defer db.mu.Unlock()
	var out []ports.DeliveryAttempt
	for i := len(db.attempts) - 1; i >= 0 && len(out) < limit; i-- {
		if a := db.attempts[i]; a.WorkspaceID == workspaceID && a.WebhookID == webhookID {
			a.Payload = nil
			out = append(out, a)
		}
	}
	return out, nil
}

// Delivery returns a delivery of the webhook with at least one recorded attempt; ENOTFOUND if none.
func (l *DeliveryLog) Delivery(ctx context.Context, workspaceID, webhookID, deliveryID string) (*ports.WebhookDelivery, error) {
	if err := ctxErr(ctx); err != nil {
		return nil, err
	}
	db := l.db
	db.mu.Lock()
	defer db.mu.Unlock()
	for _, a := range db.attempts {
		if a.WorkspaceID == workspaceID && a.WebhookID == webhookID && a.DeliveryID == deliveryID {
			return &ports.WebhookDelivery{ID: deliveryID, WorkspaceID: workspaceID, WebhookID: webhookID,
				EventID: a.EventID, Event: a.Event, Payload: slices.Clone(a.Payload)}, nil
		}
	}
	return nil, ports.Errorf(ports.ENOTFOUND, "Delivery %s not found", deliveryID)
}

// RotateWebhookSecret stores w's Secret, PreviousSecret, PreviousSecretUntil and UpdatedAt and
// records ev together; ENOTFOUND if it is not in the workspace.
func (s *WebhookStore) RotateWebhookSecret(ctx context.Context, w *ports.Webhook, ev *ports.AuditEvent) error {
	_, err := s.change(ctx, w.WorkspaceID, w.ID, w.UpdatedAt, ev, nil, func(r *webhookRow) {
		r.Secret, r.PreviousSecret, r.PreviousSecretUntil = w.Secret, w.PreviousSecret, normTimePtr(w.PreviousSecretUntil)
	})
	return err
}
