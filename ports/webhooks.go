package ports

import (
	"context"
	"encoding/json"
	"slices"
	"time"
)

// Webhook is a workspace's subscription to events, delivered by HTTPS POST to URL.
type Webhook struct {
	ID          string // wh_…
	WorkspaceID string
	URL         string
	Events      []string // event names, e.g. token.created; never empty
	Enabled     bool
	Description string
	// Secret signs deliveries (whsec_…). It is shown to the client once, at creation, and never
	// returned by the HTTP API again; stores keep it so that deliveries can be signed.
	Secret string
	// PreviousSecret, after a secret rotation, keeps signing deliveries alongside Secret until
	// PreviousSecretUntil, so receivers can switch without dropping events; "" when none.
	PreviousSecret      string
	PreviousSecretUntil *time.Time
	// FailingSince is when the current run of failed delivery attempts began; nil after a success.
	FailingSince *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// WebhookHealth is the part of a webhook that delivery outcomes change.
type WebhookHealth struct {
	Enabled      bool
	FailingSince *time.Time // nil after a success
}

// Health returns w's WebhookHealth.
func (w *Webhook) Health() WebhookHealth {
	return WebhookHealth{Enabled: w.Enabled, FailingSince: w.FailingSince}
}

// WebhookStore keeps webhook endpoints.
type WebhookStore interface {
	// CreateWebhook stores w and ev in one transaction; ECONFLICT if the id exists.
	CreateWebhook(ctx context.Context, w *Webhook, ev *AuditEvent) error
	// Webhooks lists the workspace's webhooks, newest first.
	Webhooks(ctx context.Context, workspaceID string) ([]Webhook, error)
	// Webhook returns one webhook; ENOTFOUND if it is not in the workspace.
	Webhook(ctx context.Context, workspaceID, id string) (*Webhook, error)
	// UpdateWebhook stores w's URL, Events, Description and UpdatedAt, and its health (Enabled,
	// FailingSince) when setHealth — otherwise the stored health stays, so that an edit does not undo
	// a delivery outcome noted meanwhile — and records ev (when given), in one transaction; ENOTFOUND
	// if it is not in the workspace.
	UpdateWebhook(ctx context.Context, w *Webhook, setHealth bool, ev *AuditEvent) error
	// SwapWebhookHealth replaces the webhook's health with next, stamps updatedAt and records ev (when
	// given), in one transaction, only if its stored health is still prev; it reports whether it did,
	// so that of concurrent delivery outcomes only one disables the webhook and none overwrites a
	// change made meanwhile. ENOTFOUND if the webhook is not in the workspace.
	SwapWebhookHealth(ctx context.Context, workspaceID, id string, prev, next WebhookHealth, updatedAt time.Time, ev *AuditEvent) (bool, error)
	// DeleteWebhook removes the webhook and records ev in one transaction; ENOTFOUND if it is not in
	// the workspace.
	DeleteWebhook(ctx context.Context, workspaceID, id string, ev *AuditEvent) error
	// RotateWebhookSecret stores w's Secret, PreviousSecret, PreviousSecretUntil and UpdatedAt and
	// records ev, in one transaction; ENOTFOUND if it is not in the workspace.
	RotateWebhookSecret(ctx context.Context, w *Webhook, ev *AuditEvent) error
}

// DeliveryQueue enqueues deliveries outside an event's transaction: redeliveries and test pings.
type DeliveryQueue interface {
	// Enqueue schedules d for delivery (retried like any delivery).
	Enqueue(ctx context.Context, d WebhookDelivery) error
}

// URLGuard decides whether a webhook may be delivered to a URL.
type URLGuard interface {
	// CheckURL resolves the URL's host and returns EUNPROCESSABLE if any of its addresses is not a
	// public one (loopback, private, link-local, unique-local, unspecified…) unless the operator
	// allowed private targets. It does not connect.
	CheckURL(ctx context.Context, rawURL string) error
}

// WebhookDelivery is one event to deliver to one webhook: a job enqueued in the transaction that
// records the event (the transactional outbox), so an event is never committed without its
// deliveries, nor a delivery without its event.
type WebhookDelivery struct {
	ID          string // dlv_…
	WorkspaceID string
	WebhookID   string
	EventID     string // the audit event's id (evt_…): receivers deduplicate by it
	Event       string // the event name, e.g. token.created
	// Payload is the JSON envelope {id, event, timestamp, data} sent as the request body, exactly.
	Payload []byte
}

// DeliveryAttempt is one attempt at a delivery, as the delivery log keeps it.
type DeliveryAttempt struct {
	DeliveryID  string
	WorkspaceID string
	WebhookID   string
	EventID     string
	Event       string
	Attempt     int // from 1
	StatusCode  int // 0 when no response was received
	LatencyMS   int64
	Error       string // "" on success
	At          time.Time
	// Payload is the body that was sent (kept so that the delivery can be sent again); Attempts
	// leaves it empty.
	Payload []byte
}

// DeliveryLog keeps the attempts of webhook deliveries.
type DeliveryLog interface {
	// RecordAttempt stores a. A webhook deleted meanwhile is not an error.
	RecordAttempt(ctx context.Context, a *DeliveryAttempt) error
	// Attempts lists the webhook's attempts, newest first, at most limit.
	Attempts(ctx context.Context, workspaceID, webhookID string, limit int) ([]DeliveryAttempt, error)
	// Delivery returns a delivery of the webhook that has at least one recorded attempt, with its
	// payload; ENOTFOUND if there is none.
	Delivery(ctx context.Context, workspaceID, webhookID, deliveryID string) (*WebhookDelivery, error)
}

// WebhookEventNames lists the events a webhook may subscribe to: the audit actions that trigger
// deliveries (AuditWebhookEvents) and EventTokenUsed.
var WebhookEventNames = append(slices.Clone(AuditWebhookEvents), EventTokenUsed)

// AuditWebhookEvents lists the audit actions that trigger webhook deliveries when they are written.
var AuditWebhookEvents = []string{"token.created", "token.revoked", "token.rotated", "token.expired", "token.expiring"}

// EventTokenUsed is the opt-in, sampled event of a token's use. It is never an audit event (it would
// flood the audit log): UsageStore.MarkUsed samples it when it writes last-used times.
const EventTokenUsed = "token.used"

// TokenUsedInterval is the least time between two token.used events of one token.
const TokenUsedInterval = time.Minute

// TokenUsedEnvelope returns the delivery body of a token.used event: {id, event, timestamp, data},
// data holding workspace_id, the token object as the API shows it (never its value) and used_at.
func TokenUsedEnvelope(eventID string, t *Token, usedAt time.Time) ([]byte, error) {
	md := map[string]any{}
	if len(t.Metadata) > 0 {
		if err := json.Unmarshal(t.Metadata, &md); err != nil {
			return nil, err
		}
	}
	sec := func(v *time.Time) any {
		if v == nil {
			return nil
		}
		return v.UTC().Truncate(time.Second)
	}
	var expires any
	if t.ExpiresAt != nil {
		expires = t.ExpiresAt.UTC()
	}
	nonNil := func(v []string) []string {
		if v == nil {
			return []string{}
		}
		return v
	}
	used := usedAt.UTC().Format(time.RFC3339Nano)
	return json.Marshal(struct {
		ID        string `json:"id"`
		Event     string `json:"event"`
		Timestamp string `json:"timestamp"`
		Data      any    `json:"data"`
	}{eventID, EventTokenUsed, used, map[string]any{
		"workspace_id": t.WorkspaceID,
		"used_at":      used,
		"token": map[string]any{
			"id": t.ID, "name": t.Name, "scopes": nonNil(t.Scopes), "status": t.Status(usedAt),
			"created_at": t.CreatedAt.UTC(), "expires_at": expires, "last_used_at": sec(t.LastUsedAt),
			"created_by": t.CreatedBy, "revoked_at": sec(t.RevokedAt), "rotated_at": sec(t.RotatedAt),
			"audience": nonNil(t.Audience), "metadata": md, "rotation_period": t.RotationPeriod,
		},
	}})
}

// WebhookEnvelope returns the delivery body of an audit event: {id, event, timestamp, data}, data
// holding the event's target, actor and metadata.
func WebhookEnvelope(ev *AuditEvent) ([]byte, error) {
	type party struct {
		Type  string `json:"type"`
		ID    string `json:"id"`
		Name  string `json:"name,omitempty"`
		Email string `json:"email,omitempty"`
	}
	md := ev.Metadata
	if md == nil {
		md = map[string]any{}
	}
	return json.Marshal(struct {
		ID        string `json:"id"`
		Event     string `json:"event"`
		Timestamp string `json:"timestamp"`
		Data      any    `json:"data"`
	}{ev.ID, ev.Action, ev.OccurredAt.UTC().Format(time.RFC3339Nano), map[string]any{
		"workspace_id": ev.WorkspaceID,
		"target":       party{Type: ev.Target.Type, ID: ev.Target.ID, Name: ev.Target.Name},
		"actor":        party{Type: ev.Actor.Type, ID: ev.Actor.ID, Email: ev.Actor.Email},
		"metadata":     md,
	}})
}

// SecretBox seals secrets that must be stored recoverably (webhook signing secrets) with the
// installation's master key.
type SecretBox interface {
	// Seal encrypts plain, bound to id (the record it belongs to).
	Seal(id, plain string) (string, error)
	// Open decrypts what Seal returned for the same id; EINTERNAL if it was tampered with.
	Open(id, sealed string) (string, error)
}
