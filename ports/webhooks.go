package ports

import (
	"context"
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
	Secret    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// WebhookStore keeps webhook endpoints.
type WebhookStore interface {
	// CreateWebhook stores w and ev in one transaction; ECONFLICT if the id exists.
	CreateWebhook(ctx context.Context, w *Webhook, ev *AuditEvent) error
	// Webhooks lists the workspace's webhooks, newest first.
	Webhooks(ctx context.Context, workspaceID string) ([]Webhook, error)
	// Webhook returns one webhook; ENOTFOUND if it is not in the workspace.
	Webhook(ctx context.Context, workspaceID, id string) (*Webhook, error)
	// UpdateWebhook stores w's URL, Events, Enabled, Description and UpdatedAt and records ev, in one
	// transaction; ENOTFOUND if it is not in the workspace.
	UpdateWebhook(ctx context.Context, w *Webhook, ev *AuditEvent) error
	// DeleteWebhook removes the webhook and records ev in one transaction; ENOTFOUND if it is not in
	// the workspace.
	DeleteWebhook(ctx context.Context, workspaceID, id string, ev *AuditEvent) error
}

// URLGuard decides whether a webhook may be delivered to a URL.
type URLGuard interface {
	// CheckURL resolves the URL's host and returns EUNPROCESSABLE if any of its addresses is not a
	// public one (loopback, private, link-local, unique-local, unspecified…) unless the operator
	// allowed private targets. It does not connect.
	CheckURL(ctx context.Context, rawURL string) error
}
