-- +goose Up
-- Pending invitations to join a workspace; only the SHA-256 of the one-time code is stored. An
-- accepted or revoked invitation is deleted.
CREATE TABLE invitations (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,         -- lower-cased by the adapter
    role         TEXT NOT NULL,
    code_hash    BLOB NOT NULL,
    invited_by   TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX invitations_code_hash_key ON invitations (code_hash);
CREATE INDEX invitations_workspace_created_idx ON invitations (workspace_id, created_at DESC, id DESC);
CREATE INDEX api_keys_member_idx ON api_keys (member_id);

-- +goose Down
DROP INDEX api_keys_member_idx;
DROP TABLE invitations;
