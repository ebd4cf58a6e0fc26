-- +goose Up
CREATE TABLE accounts (
    id            text PRIMARY KEY,
    email         text NOT NULL,         -- lower-cased by the adapter
    password_hash text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX accounts_email_key ON accounts (email);

CREATE TABLE workspaces (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    slug             text NOT NULL,
    timezone         text NOT NULL DEFAULT 'UTC',
    default_audience text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL
);
CREATE UNIQUE INDEX workspaces_slug_key ON workspaces (slug);

CREATE TABLE members (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    account_id   text NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role         text NOT NULL,
    created_at   timestamptz NOT NULL
);
CREATE UNIQUE INDEX members_workspace_account_key ON members (workspace_id, account_id);
CREATE INDEX members_account_idx ON members (account_id);

-- member_id has no foreign key: a team key outlives the member who created it.
CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL,
    kind         text NOT NULL,
    role         text NOT NULL DEFAULT '',
    member_id    text NOT NULL DEFAULT '',
    secret_hash  bytea NOT NULL,
    last4        text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz
);
CREATE UNIQUE INDEX api_keys_secret_hash_key ON api_keys (secret_hash);
CREATE INDEX api_keys_workspace_created_idx ON api_keys (workspace_id, created_at DESC, id DESC);

-- name_key is the name lower-cased by the adapter, so that uniqueness and search agree across dialects.
CREATE TABLE tokens (
    id                   text PRIMARY KEY,
    workspace_id         text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                 text NOT NULL,
    name_key             text NOT NULL,
    scopes               jsonb NOT NULL,
    audience             jsonb NOT NULL,
    metadata             json,           -- json, not jsonb: returned exactly as given
    created_by           text NOT NULL,
    created_at           timestamptz NOT NULL,
    expires_at           timestamptz,
    last_used_at         timestamptz,
    revoked_at           timestamptz,
    rotated_at           timestamptz,
    current_jti          text NOT NULL,
    previous_jti         text NOT NULL DEFAULT '',
    previous_valid_until timestamptz
);
CREATE UNIQUE INDEX tokens_workspace_name_key ON tokens (workspace_id, name_key);
CREATE INDEX tokens_workspace_created_idx ON tokens (workspace_id, created_at DESC, id DESC);

-- No foreign key on workspace_id: some events (failed sign-ins) belong to no workspace.
CREATE TABLE audit_events (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id           text NOT NULL,
    workspace_id text NOT NULL,
    action       text NOT NULL,
    actor_type   text NOT NULL DEFAULT '',
    actor_id     text NOT NULL DEFAULT '',
    actor_email  text NOT NULL DEFAULT '',
    target_type  text NOT NULL DEFAULT '',
    target_id    text NOT NULL DEFAULT '',
    target_name  text NOT NULL DEFAULT '',
    ip           text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT '',
    request_id   text NOT NULL DEFAULT '',
    metadata     jsonb,
    occurred_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX audit_events_id_key ON audit_events (id);
CREATE INDEX audit_events_workspace_occurred_idx ON audit_events (workspace_id, occurred_at DESC, seq DESC);

CREATE TABLE signing_keys (
    kid                   text PRIMARY KEY,
    workspace_id          text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    algorithm             text NOT NULL,
    state                 text NOT NULL,
    public_jwk            json NOT NULL,
    private_key_encrypted bytea NOT NULL,
    created_at            timestamptz NOT NULL,
    activated_at          timestamptz
);
CREATE INDEX signing_keys_workspace_created_idx ON signing_keys (workspace_id, created_at DESC);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE audit_events;
DROP TABLE tokens;
DROP TABLE api_keys;
DROP TABLE members;
DROP TABLE workspaces;
DROP TABLE accounts;
