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
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX webhooks_workspace_created_idx ON webhooks (workspace_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE webhooks;
