-- +goose Up
-- Times are INTEGER unix microseconds (UTC), so comparisons and ordering are exact.
CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL,         -- lower-cased by the adapter
    password_hash TEXT NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX accounts_email_key ON accounts (email);

CREATE TABLE workspaces (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    slug             TEXT NOT NULL,
    timezone         TEXT NOT NULL DEFAULT 'UTC',
    default_audience TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX workspaces_slug_key ON workspaces (slug);

CREATE TABLE members (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    account_id   TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX members_workspace_account_key ON members (workspace_id, account_id);
CREATE INDEX members_account_idx ON members (account_id);

-- member_id has no foreign key: a team key outlives the member who created it.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    role         TEXT NOT NULL DEFAULT '',
    member_id    TEXT NOT NULL DEFAULT '',
    secret_hash  BLOB NOT NULL,
    last4        TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
) STRICT;
CREATE UNIQUE INDEX api_keys_secret_hash_key ON api_keys (secret_hash);
CREATE INDEX api_keys_workspace_created_idx ON api_keys (workspace_id, created_at DESC, id DESC);

-- name_key is the name lower-cased by the adapter, so that uniqueness and search agree across dialects.
CREATE TABLE tokens (
    id                   TEXT PRIMARY KEY,
    workspace_id         TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                 TEXT NOT NULL,
    name_key             TEXT NOT NULL,
    scopes               TEXT NOT NULL,  -- JSON array
    audience             TEXT NOT NULL,  -- JSON array
    metadata             TEXT,           -- JSON object, as given
    created_by           TEXT NOT NULL,
    created_at           INTEGER NOT NULL,
    expires_at           INTEGER,
    last_used_at         INTEGER,
    revoked_at           INTEGER,
    rotated_at           INTEGER,
    current_jti          TEXT NOT NULL,
    previous_jti         TEXT NOT NULL DEFAULT '',
    previous_valid_until INTEGER
) STRICT;
CREATE UNIQUE INDEX tokens_workspace_name_key ON tokens (workspace_id, name_key);
CREATE INDEX tokens_workspace_created_idx ON tokens (workspace_id, created_at DESC, id DESC);

-- No foreign key on workspace_id: some events (failed sign-ins) belong to no workspace.
CREATE TABLE audit_events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL,
    workspace_id TEXT NOT NULL,
    action       TEXT NOT NULL,
    actor_type   TEXT NOT NULL DEFAULT '',
    actor_id     TEXT NOT NULL DEFAULT '',
    actor_email  TEXT NOT NULL DEFAULT '',
    target_type  TEXT NOT NULL DEFAULT '',
    target_id    TEXT NOT NULL DEFAULT '',
    target_name  TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT '',
    request_id   TEXT NOT NULL DEFAULT '',
    metadata     TEXT,                   -- JSON object
    occurred_at  INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX audit_events_id_key ON audit_events (id);
CREATE INDEX audit_events_workspace_occurred_idx ON audit_events (workspace_id, occurred_at DESC, seq DESC);

CREATE TABLE signing_keys (
    kid                   TEXT PRIMARY KEY,
    workspace_id          TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    algorithm             TEXT NOT NULL,
    state                 TEXT NOT NULL,
    public_jwk            TEXT NOT NULL,
    private_key_encrypted BLOB NOT NULL,
    created_at            INTEGER NOT NULL,
    activated_at          INTEGER
) STRICT;
CREATE INDEX signing_keys_workspace_created_idx ON signing_keys (workspace_id, created_at DESC);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE audit_events;
DROP TABLE tokens;
DROP TABLE api_keys;
DROP TABLE members;
DROP TABLE workspaces;
DROP TABLE accounts;
