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
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX webhooks_workspace_created_idx ON webhooks (workspace_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE webhooks;
