package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/tooken/tooken/ports"
)

// WebhookStore implements ports.WebhookStore.
type WebhookStore struct{ db *DB }

var _ ports.WebhookStore = (*WebhookStore)(nil)

type webhookRow struct {
	ID          string `db:"id"`
	WorkspaceID string `db:"workspace_id"`
	URL         string `db:"url"`
	Events      string `db:"events"`
	Enabled     bool   `db:"enabled"`
	Description string `db:"description"`
	Secret      string `db:"secret"`
	PrevSecret  string `db:"previous_secret"`
	PrevUntil   Time   `db:"previous_secret_until"`
	Failing     Time   `db:"failing_since"`
	CreatedAt   Time   `db:"created_at"`
	UpdatedAt   Time   `db:"updated_at"`
}

// sealSecrets returns w's Secret and PreviousSecret as stored: sealed when the DB has a SecretBox.
func (db *DB) sealSecrets(w *ports.Webhook) (secret, previous string, err error) {
	if db.secrets == nil {
		return w.Secret, w.PreviousSecret, nil
	}
	if secret, err = db.secrets.Seal(w.ID, w.Secret); err != nil {
		return "", "", ports.Internal(err)
	}
	if previous, err = db.secrets.Seal(w.ID, w.PreviousSecret); err != nil {
		return "", "", ports.Internal(err)
	}
	return secret, previous, nil
}

// webhookOf decodes a row, opening its secrets when the DB has a SecretBox.
func (db *DB) webhookOf(r *webhookRow) (ports.Webhook, error) {
	w, err := r.webhook()
	if err != nil || db.secrets == nil {
		return w, err
	}
	if w.Secret, err = db.secrets.Open(w.ID, w.Secret); err != nil {
		return w, err
	}
	w.PreviousSecret, err = db.secrets.Open(w.ID, w.PreviousSecret)
	return w, err
}

func (r *webhookRow) webhook() (ports.Webhook, error) {
	w := ports.Webhook{ID: r.ID, WorkspaceID: r.WorkspaceID, URL: r.URL, Enabled: r.Enabled,
		Description: r.Description, Secret: r.Secret, PreviousSecret: r.PrevSecret, PreviousSecretUntil: r.PrevUntil.Ptr(),
		FailingSince: r.Failing.Ptr(),
		CreatedAt:    r.CreatedAt.T, UpdatedAt: r.UpdatedAt.T}
	if err := json.Unmarshal([]byte(r.Events), &w.Events); err != nil {
		return w, fmt.Errorf("webhook %s events: %w", r.ID, err)
	}
	return w, nil
}

const webhookSelect = `SELECT id, workspace_id, url, events, enabled, description, secret, previous_secret,
previous_secret_until, failing_since, created_at, updated_at FROM webhooks `

func webhookNotFound(id string) string { return fmt.Sprintf("Webhook %s not found", id) }

// CreateWebhook stores w and ev in one transaction; ECONFLICT if the id exists.
func (s *WebhookStore) CreateWebhook(ctx context.Context, w *ports.Webhook, ev *ports.AuditEvent) error {
	db := s.db
	events, err := jsonText(w.Events)
	if err != nil {
		return ports.Internal(err)
	}
	secret, previous, err := db.sealSecrets(w)
	if err != nil {
		return err
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := db.exec(ctx, tx, `INSERT INTO webhooks
(id, workspace_id, url, events, enabled, description, secret, previous_secret, previous_secret_until, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			w.ID, w.WorkspaceID, w.URL, events, w.Enabled, w.Description, secret, previous,
			db.nt(w.PreviousSecretUntil), db.t(w.CreatedAt), db.t(w.UpdatedAt)); err != nil {
			return err
		}
		return db.insertEvents(ctx, tx, ev)
	})
	return db.wrap(err, "", "a webhook with this id already exists")
}

// Webhooks lists the workspace's webhooks, newest first.
func (s *WebhookStore) Webhooks(ctx context.Context, workspaceID string) ([]ports.Webhook, error) {
	var rows []webhookRow
	if err := s.db.sel(ctx, s.db.read, &rows,
		webhookSelect+`WHERE workspace_id = ? ORDER BY created_at DESC, id DESC`, workspaceID); err != nil {
		return nil, s.db.wrap(err, "", "")
	}
	out := make([]ports.Webhook, len(rows))
	for i := range rows {
		w, err := s.db.webhookOf(&rows[i])
		if err != nil {
			return nil, ports.Internal(err)
		}
		out[i] = w
	}
	return out, nil
}

// Webhook returns one webhook; ENOTFOUND if it is not in the workspace.
func (s *WebhookStore) Webhook(ctx context.Context, workspaceID, id string) (*ports.Webhook, error) {
	var r webhookRow
	if err := s.db.get(ctx, s.db.read, &r, webhookSelect+`WHERE workspace_id = ? AND id = ?`, workspaceID, id); err != nil {
		return nil, s.db.wrap(err, webhookNotFound(id), "")
	}
	w, err := s.db.webhookOf(&r)
	if err != nil {
		return nil, ports.Internal(err)
	}
	return &w, nil
}

// UpdateWebhook stores w's URL, Events, Description and UpdatedAt, and its Enabled and FailingSince
// when setHealth, and records ev, in one transaction; ENOTFOUND if it is not in the workspace.
func (s *WebhookStore) UpdateWebhook(ctx context.Context, w *ports.Webhook, setHealth bool, ev *ports.AuditEvent) error {
	db := s.db
	events, err := jsonText(w.Events)
	if err != nil {
		return ports.Internal(err)
	}
	set, args := "", []any{w.URL, events, w.Description, db.t(w.UpdatedAt)}
	if setHealth {
		set, args = ", enabled = ?, failing_since = ?", append(args, w.Enabled, db.nt(w.FailingSince))
	}
	args = append(args, w.WorkspaceID, w.ID)
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := db.exec(ctx, tx, `UPDATE webhooks SET url = ?, events = ?, description = ?, updated_at = ?`+set+`
WHERE workspace_id = ? AND id = ?`, args...)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFoundErr(webhookNotFound(w.ID))
		}
		return db.insertEvents(ctx, tx, ev)
	})
	return db.wrap(err, "", "")
}

// SwapWebhookHealth replaces the webhook's health with next, stamps updatedAt and records ev, in one
// transaction, only if its stored health is still prev; ENOTFOUND if it is not in the workspace.
func (s *WebhookStore) SwapWebhookHealth(ctx context.Context, workspaceID, id string, prev, next ports.WebhookHealth,
	updatedAt time.Time, ev *ports.AuditEvent) (bool, error) {
	db := s.db
	args := []any{next.Enabled, db.nt(next.FailingSince), db.t(updatedAt), workspaceID, id, prev.Enabled}
	failing := "failing_since IS NULL"
	if prev.FailingSince != nil {
		failing = "failing_since = ?"
		args = append(args, db.nt(prev.FailingSince))
	}
	query := `UPDATE webhooks SET enabled = ?, failing_since = ?, updated_at = ?
WHERE workspace_id = ? AND id = ? AND enabled = ? AND ` + failing
	swapped := false
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := db.exec(ctx, tx, query, args...)
		if err != nil || n == 0 {
			return err
		}
		swapped = true
		return db.insertEvents(ctx, tx, ev)
	})
	if err != nil || swapped {
		return swapped, db.wrap(err, "", "")
	}
	_, err = s.Webhook(ctx, workspaceID, id)
	return false, err
}

// DeleteWebhook removes the webhook and records ev in one transaction; ENOTFOUND if it is not in
// the workspace.
func (s *WebhookStore) DeleteWebhook(ctx context.Context, workspaceID, id string, ev *ports.AuditEvent) error {
	db := s.db
	err := db.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := db.exec(ctx, tx, `DELETE FROM webhooks WHERE workspace_id = ? AND id = ?`, workspaceID, id)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFoundErr(webhookNotFound(id))
		}
		return db.insertEvents(ctx, tx, ev)
	})
	return db.wrap(err, "", "")
}

// RotateWebhookSecret stores w's Secret, PreviousSecret, PreviousSecretUntil and UpdatedAt and
// records ev, in one transaction; ENOTFOUND if it is not in the workspace.
func (s *WebhookStore) RotateWebhookSecret(ctx context.Context, w *ports.Webhook, ev *ports.AuditEvent) error {
	db := s.db
	secret, previous, err := db.sealSecrets(w)
	if err != nil {
		return err
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		n, err := db.exec(ctx, tx, `UPDATE webhooks SET secret = ?, previous_secret = ?, previous_secret_until = ?,
updated_at = ? WHERE workspace_id = ? AND id = ?`,
			secret, previous, db.nt(w.PreviousSecretUntil), db.t(w.UpdatedAt), w.WorkspaceID, w.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return notFoundErr(webhookNotFound(w.ID))
		}
		return db.insertEvents(ctx, tx, ev)
	})
	return db.wrap(err, "", "")
}
