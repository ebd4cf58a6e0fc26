package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// Outbox enqueues webhook deliveries inside tx, the transaction that writes their events (the job
// queue lives in the same database), so that both commit or neither does.
type Outbox func(ctx context.Context, tx *sql.Tx, deliveries []ports.WebhookDelivery) error

// SetOutbox makes every later event write enqueue, through o, one delivery per enabled webhook of
// the event's workspace that subscribes to it. Without an outbox no delivery is enqueued.
func (db *DB) SetOutbox(o Outbox) { db.outbox.Store(&o) }

// prefetchSubscribers reads, into subs, the enabled webhooks of each workspace with an event of
// list that webhooks can subscribe to, before the chain heads are locked: the lock is held until
// commit, so the less runs under it the better. Nothing is read without an outbox.
func (db *DB) prefetchSubscribers(ctx context.Context, tx *sqlx.Tx, subs subscribers, list []chainedEvent) error {
	if db.outbox.Load() == nil {
		return nil
	}
	for i := range list {
		ev := &list[i].ev
		if !slices.Contains(ports.AuditWebhookEvents, ev.Action) {
			continue
		}
		if _, err := db.subscribersOf(ctx, tx, subs, ev.WorkspaceID); err != nil {
			return err
		}
	}
	return nil
}

// enqueueDeliveries finds the webhooks subscribed to each event just written (in subs, or read
// now) and hands their deliveries to the outbox, in tx.
func (db *DB) enqueueDeliveries(ctx context.Context, tx *sqlx.Tx, subs subscribers, list []chainedEvent) error {
	o := db.outbox.Load()
	if o == nil {
		return nil
	}
	var ds []ports.WebhookDelivery
	for i := range list {
		ev := &list[i].ev
		if !slices.Contains(ports.AuditWebhookEvents, ev.Action) {
			continue
		}
		more, err := db.deliveriesOf(ctx, tx, subs, ev.WorkspaceID, ev.ID, ev.Action, func() ([]byte, error) {
			return ports.WebhookEnvelope(ev)
		})
		if err != nil {
			return err
		}
		ds = append(ds, more...)
	}
	if len(ds) == 0 {
		return nil
	}
	return (*o)(ctx, tx.Tx, ds)
}

// subscribers caches the enabled webhooks of workspaces within one transaction.
type subscribers map[string][]webhookRow

// subscribersOf returns the enabled webhooks of the workspace, reading them on first use.
func (db *DB) subscribersOf(ctx context.Context, tx *sqlx.Tx, subs subscribers, workspaceID string) ([]webhookRow, error) {
	hooks, ok := subs[workspaceID]
	if !ok {
		if err := db.sel(ctx, tx, &hooks, webhookSelect+`WHERE workspace_id = ? AND enabled = ?`, workspaceID, true); err != nil {
			return nil, err
		}
		subs[workspaceID] = hooks
	}
	return hooks, nil
}

// deliveriesOf returns one delivery of the event per enabled webhook of the workspace subscribed to
// it; payload renders the body, once, when there is at least one.
func (db *DB) deliveriesOf(ctx context.Context, tx *sqlx.Tx, subs subscribers, workspaceID, eventID, event string,
	payload func() ([]byte, error)) ([]ports.WebhookDelivery, error) {
	hooks, err := db.subscribersOf(ctx, tx, subs, workspaceID)
	if err != nil {
		return nil, err
	}
	var body []byte
	var ds []ports.WebhookDelivery
	for _, h := range hooks {
		var events []string
		if err := json.Unmarshal([]byte(h.Events), &events); err != nil || !slices.Contains(events, event) {
			continue
		}
		if body == nil {
			var err error
			if body, err = payload(); err != nil {
				return nil, ports.Internal(err)
			}
		}
		ds = append(ds, ports.WebhookDelivery{ID: randomID("dlv_"), WorkspaceID: workspaceID,
			WebhookID: h.ID, EventID: eventID, Event: event, Payload: body})
	}
	return ds, nil
}

// randomID returns prefix + 24 random lowercase alphanumerics.
func randomID(prefix string) string { return prefix + strings.ToLower(rand.Text()[:24]) }

// sampleTokenUse records u as the token's last sampled use and returns the token, provided its
// workspace has an enabled webhook subscribed to token.used and its last sampled use is at least
// ports.TokenUsedInterval before u.At; nil otherwise. The one conditional UPDATE makes the decision
// atomic: a concurrent sampler of the same token waits for the row lock and then finds the
// condition false.
func (db *DB) sampleTokenUse(ctx context.Context, tx *sqlx.Tx, u ports.Usage) (*ports.Token, error) {
	return db.updatedToken(ctx, tx, `UPDATE tokens SET last_used_event_at = ?
WHERE id = ? AND (last_used_event_at IS NULL OR last_used_event_at <= ?)
AND EXISTS (SELECT 1 FROM webhooks WHERE webhooks.workspace_id = tokens.workspace_id AND webhooks.enabled = ?
AND webhooks.events LIKE ?)`+returningToken, db.t(u.At), u.ID, db.t(u.At.Add(-ports.TokenUsedInterval)), true, `%"`+ports.EventTokenUsed+`"%`)
}

// tokenUsedDeliveries returns the token.used deliveries of sampled uses (nil without an outbox).
func (db *DB) tokenUsedDeliveries(ctx context.Context, tx *sqlx.Tx, sampled []*ports.Token, at []time.Time) ([]ports.WebhookDelivery, error) {
	if db.outbox.Load() == nil {
		return nil, nil
	}
	subs := subscribers{}
	var ds []ports.WebhookDelivery
	for i, t := range sampled {
		id := randomID("evt_")
		more, err := db.deliveriesOf(ctx, tx, subs, t.WorkspaceID, id, ports.EventTokenUsed, func() ([]byte, error) {
			return ports.TokenUsedEnvelope(id, t, at[i])
		})
		if err != nil {
			return nil, err
		}
		ds = append(ds, more...)
	}
	return ds, nil
}

// DeliveryLog implements ports.DeliveryLog.
type DeliveryLog struct{ db *DB }

var _ ports.DeliveryLog = (*DeliveryLog)(nil)

type attemptRow struct {
	DeliveryID  string `db:"delivery_id"`
	WorkspaceID string `db:"workspace_id"`
	WebhookID   string `db:"webhook_id"`
	EventID     string `db:"event_id"`
	Event       string `db:"event"`
	Attempt     int    `db:"attempt"`
	StatusCode  int    `db:"status_code"`
	LatencyMS   int64  `db:"latency_ms"`
	Error       string `db:"error"`
	At          Time   `db:"at"`
}

// RecordAttempt stores a; recording the same attempt twice (a job run again) keeps the first.
func (l *DeliveryLog) RecordAttempt(ctx context.Context, a *ports.DeliveryAttempt) error {
	db := l.db
	_, err := db.exec(ctx, db.write, `INSERT INTO webhook_deliveries
(delivery_id, workspace_id, webhook_id, event_id, event, attempt, status_code, latency_ms, error, at, payload)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (delivery_id, attempt) DO NOTHING`,
		a.DeliveryID, a.WorkspaceID, a.WebhookID, a.EventID, a.Event, a.Attempt, a.StatusCode, a.LatencyMS,
		a.Error, db.t(a.At), string(a.Payload))
	return db.wrap(err, "", "")
}

// Attempts lists the webhook's attempts, newest first, at most limit.
func (l *DeliveryLog) Attempts(ctx context.Context, workspaceID, webhookID string, limit int) ([]ports.DeliveryAttempt, error) {
	var rows []attemptRow
	if err := l.db.sel(ctx, l.db.read, &rows, `SELECT delivery_id, workspace_id, webhook_id, event_id, event,
attempt, status_code, latency_ms, error, at FROM webhook_deliveries WHERE workspace_id = ? AND webhook_id = ?
ORDER BY at DESC, attempt DESC LIMIT ?`, workspaceID, webhookID, limit); err != nil {
		return nil, l.db.wrap(err, "", "")
	}
	out := make([]ports.DeliveryAttempt, len(rows))
	for i, r := range rows {
		out[i] = ports.DeliveryAttempt{DeliveryID: r.DeliveryID, WorkspaceID: r.WorkspaceID, WebhookID: r.WebhookID,
			EventID: r.EventID, Event: r.Event, Attempt: r.Attempt, StatusCode: r.StatusCode, LatencyMS: r.LatencyMS,
			Error: r.Error, At: r.At.T}
	}
	return out, nil
}

// Delivery returns a delivery of the webhook with at least one recorded attempt, with its payload;
// ENOTFOUND if there is none.
func (l *DeliveryLog) Delivery(ctx context.Context, workspaceID, webhookID, deliveryID string) (*ports.WebhookDelivery, error) {
	var r struct {
		EventID string `db:"event_id"`
		Event   string `db:"event"`
		Payload string `db:"payload"`
	}
	if err := l.db.get(ctx, l.db.read, &r, `SELECT event_id, event, payload FROM webhook_deliveries
WHERE workspace_id = ? AND webhook_id = ? AND delivery_id = ? ORDER BY attempt LIMIT 1`,
		workspaceID, webhookID, deliveryID); err != nil {
		return nil, l.db.wrap(err, "Delivery "+deliveryID+" not found", "")
	}
	return &ports.WebhookDelivery{ID: deliveryID, WorkspaceID: workspaceID, WebhookID: webhookID,
		EventID: r.EventID, Event: r.Event, Payload: []byte(r.Payload)}, nil
}
