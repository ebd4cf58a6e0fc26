-- +goose Up
-- The signing key of each token value, so that a key retires only once no live value it signed remains.
ALTER TABLE tokens ADD COLUMN current_kid TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN previous_kid TEXT NOT NULL DEFAULT '';
CREATE INDEX tokens_current_kid_idx ON tokens (workspace_id, current_kid) WHERE revoked_at IS NULL;
CREATE INDEX tokens_previous_kid_idx ON tokens (workspace_id, previous_kid) WHERE previous_kid <> '';

ALTER TABLE workspaces ADD COLUMN signing_algorithm TEXT NOT NULL DEFAULT 'ES256';

-- A key's state is derived from its times: published from created_at, signing from activates_at.
-- SQLite cannot make a new column NOT NULL without a default, so the table is rebuilt (nothing
-- references it).
CREATE TABLE signing_keys_v2 (
    kid                   TEXT PRIMARY KEY,
    workspace_id          TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    algorithm             TEXT NOT NULL,
    public_jwk            TEXT NOT NULL,
    private_key_encrypted BLOB NOT NULL,
    created_at            INTEGER NOT NULL,
    activates_at          INTEGER NOT NULL,
    retired_at            INTEGER,
    revoked_at            INTEGER
) STRICT;
INSERT INTO signing_keys_v2 (kid, workspace_id, algorithm, public_jwk, private_key_encrypted, created_at, activates_at)
SELECT kid, workspace_id, algorithm, public_jwk, private_key_encrypted, created_at, COALESCE(activated_at, created_at)
FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_v2 RENAME TO signing_keys;
CREATE INDEX signing_keys_workspace_created_idx ON signing_keys (workspace_id, created_at DESC);

-- The revocation feed. AUTOINCREMENT: a seq is never reused, even once the newest entries are pruned,
-- so readers' cursors stay valid. The single writer makes seq order commit order.
CREATE TABLE revocations (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    token_id     TEXT NOT NULL,
    jti          TEXT NOT NULL,
    expires_at   INTEGER,               -- NULL: the value never expires, the entry stays
    revoked_at   INTEGER NOT NULL       -- may be in the future (the end of a rotation grace period)
) STRICT;
CREATE INDEX revocations_workspace_seq_idx ON revocations (workspace_id, seq);
CREATE INDEX revocations_expires_idx ON revocations (expires_at);

CREATE TABLE workspace_scopes (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, name)
) STRICT;

-- +goose Down
DROP TABLE workspace_scopes;
DROP TABLE revocations;
CREATE TABLE signing_keys_v1 (
    kid                   TEXT PRIMARY KEY,
    workspace_id          TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    algorithm             TEXT NOT NULL,
    state                 TEXT NOT NULL,
    public_jwk            TEXT NOT NULL,
    private_key_encrypted BLOB NOT NULL,
    created_at            INTEGER NOT NULL,
    activated_at          INTEGER
) STRICT;
INSERT INTO signing_keys_v1
SELECT kid, workspace_id, algorithm,
       CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN retired_at IS NOT NULL THEN 'retired' ELSE 'active' END,
       public_jwk, private_key_encrypted, created_at, activates_at
FROM signing_keys;
DROP TABLE signing_keys;
ALTER TABLE signing_keys_v1 RENAME TO signing_keys;
CREATE INDEX signing_keys_workspace_created_idx ON signing_keys (workspace_id, created_at DESC);
ALTER TABLE workspaces DROP COLUMN signing_algorithm;
DROP INDEX tokens_previous_kid_idx;
DROP INDEX tokens_current_kid_idx;
ALTER TABLE tokens DROP COLUMN previous_kid;
ALTER TABLE tokens DROP COLUMN current_kid;
