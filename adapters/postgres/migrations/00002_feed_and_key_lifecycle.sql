-- +goose Up
-- The signing key of each token value, so that a key retires only once no live value it signed remains.
ALTER TABLE tokens
    ADD COLUMN current_kid  text NOT NULL DEFAULT '',
    ADD COLUMN previous_kid text NOT NULL DEFAULT '';
CREATE INDEX tokens_current_kid_idx ON tokens (workspace_id, current_kid) WHERE revoked_at IS NULL;
CREATE INDEX tokens_previous_kid_idx ON tokens (workspace_id, previous_kid) WHERE previous_kid <> '';

ALTER TABLE workspaces ADD COLUMN signing_algorithm text NOT NULL DEFAULT 'ES256';

-- A key's state is derived from its times: published from created_at, signing from activates_at.
ALTER TABLE signing_keys
    ADD COLUMN activates_at timestamptz,
    ADD COLUMN retired_at   timestamptz,
    ADD COLUMN revoked_at   timestamptz;
UPDATE signing_keys SET activates_at = COALESCE(activated_at, created_at);
ALTER TABLE signing_keys
    ALTER COLUMN activates_at SET NOT NULL,
    DROP COLUMN state,
    DROP COLUMN activated_at;

-- The revocation feed. Appends are serialised until commit (a transaction-scoped advisory lock), so
-- seq order is commit order and a reader's cursor never skips an entry that commits late.
CREATE TABLE revocations (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    token_id     text NOT NULL,
    jti          text NOT NULL,
    expires_at   timestamptz,           -- NULL: the value never expires, the entry stays
    revoked_at   timestamptz NOT NULL   -- may be in the future (the end of a rotation grace period)
);
CREATE INDEX revocations_workspace_seq_idx ON revocations (workspace_id, seq);
CREATE INDEX revocations_expires_idx ON revocations (expires_at);

CREATE TABLE workspace_scopes (
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name         text NOT NULL,
    description  text NOT NULL DEFAULT '',
    PRIMARY KEY (workspace_id, name)
);

-- +goose Down
DROP TABLE workspace_scopes;
DROP TABLE revocations;
ALTER TABLE signing_keys
    ADD COLUMN state        text NOT NULL DEFAULT 'active',
    ADD COLUMN activated_at timestamptz;
UPDATE signing_keys SET activated_at = activates_at,
    state = CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN retired_at IS NOT NULL THEN 'retired' ELSE 'active' END;
ALTER TABLE signing_keys ALTER COLUMN state DROP DEFAULT;
ALTER TABLE signing_keys DROP COLUMN activates_at, DROP COLUMN retired_at, DROP COLUMN revoked_at;
ALTER TABLE workspaces DROP COLUMN signing_algorithm;
DROP INDEX tokens_previous_kid_idx;
DROP INDEX tokens_current_kid_idx;
ALTER TABLE tokens DROP COLUMN current_kid, DROP COLUMN previous_kid;
