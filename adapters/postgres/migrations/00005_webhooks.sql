-- +goose Up
-- Webhook endpoints. events is a JSON array of event names; secret signs deliveries (never returned
-- by the API after creation).
CREATE TABLE webhooks (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    url          text NOT NULL,
    events       text NOT NULL,
    enabled      boolean NOT NULL,
    description  text NOT NULL DEFAULT '',
    secret       text NOT NULL,
    previous_secret       text NOT NULL DEFAULT '',
    previous_secret_until timestamptz,
    failing_since         timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX webhooks_workspace_created_idx ON webhooks (workspace_id, created_at DESC, id DESC);

-- The delivery log: one row per attempt (at-least-once: an attempt run twice is recorded once).
CREATE TABLE webhook_deliveries (
    delivery_id  text NOT NULL,
    workspace_id text NOT NULL,
    webhook_id   text NOT NULL,
    event_id     text NOT NULL,
    event        text NOT NULL,
    attempt      integer NOT NULL,
    status_code  integer NOT NULL,
    latency_ms   bigint NOT NULL,
    error        text NOT NULL,
    at           timestamptz NOT NULL,
    payload      text NOT NULL,
    PRIMARY KEY (delivery_id, attempt)
);
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (workspace_id, webhook_id, at DESC);

-- +goose Down
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
