-- +goose Up
-- Webhook endpoints. events is a JSON array of event names; secret signs deliveries (never returned
-- by the API after creation).
CREATE TABLE webhooks (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url          TEXT NOT NULL,
    events       TEXT NOT NULL,  -- JSON array
    enabled      INTEGER NOT NULL, -- boolean
    description  TEXT NOT NULL DEFAULT '',
    secret       TEXT NOT NULL,
    previous_secret       TEXT NOT NULL DEFAULT '',
    previous_secret_until INTEGER,
    failing_since         INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX webhooks_workspace_created_idx ON webhooks (workspace_id, created_at DESC, id DESC);

-- The delivery log: one row per attempt (at-least-once: an attempt run twice is recorded once).
CREATE TABLE webhook_deliveries (
    delivery_id  TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    webhook_id   TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    event        TEXT NOT NULL,
    attempt      INTEGER NOT NULL,
    status_code  INTEGER NOT NULL,
    latency_ms   INTEGER NOT NULL,
    error        TEXT NOT NULL,
    at           INTEGER NOT NULL,
    payload      TEXT NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
) STRICT;
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (workspace_id, webhook_id, at DESC);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
