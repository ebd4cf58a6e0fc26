-- +goose Up
-- Pending invitations to join a workspace; only the SHA-256 of the one-time code is stored. An
-- accepted or revoked invitation is deleted.
CREATE TABLE invitations (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        text NOT NULL,         -- lower-cased by the adapter
    role         text NOT NULL,
    code_hash    bytea NOT NULL,
    invited_by   text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX invitations_code_hash_key ON invitations (code_hash);
CREATE INDEX invitations_workspace_created_idx ON invitations (workspace_id, created_at DESC, id DESC);
CREATE INDEX api_keys_member_idx ON api_keys (member_id);

-- +goose Down
DROP INDEX api_keys_member_idx;
DROP TABLE invitations;
