-- +goose Up
-- Tamper evidence: every audit event is chained to the previous event of its workspace. chain_seq is
-- its position (from 1, contiguous), prev_hash the hash of the event before it and hash
-- ports.AuditHash(prev_hash, event). audit_heads holds the last position and hash of each workspace's
-- chain; writers read and update it in the transaction that inserts the events (the single writer
-- serialises them); pruning old events records the last position it deleted (pruned_through).
--
-- Events recorded before this migration are numbered in their existing order, per workspace, with
-- empty hashes: they cannot be hashed after the fact without vouching for rows nobody checked. The
-- chain starts at the first hashed event (the first one written after the upgrade, whose prev_hash is
-- empty); verifiers skip the unhashed events before it.
ALTER TABLE audit_events ADD COLUMN chain_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_events ADD COLUMN prev_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN hash TEXT NOT NULL DEFAULT '';
UPDATE audit_events SET chain_seq = n.pos
FROM (SELECT seq, ROW_NUMBER() OVER (PARTITION BY workspace_id ORDER BY seq) AS pos FROM audit_events) AS n
WHERE n.seq = audit_events.seq;
CREATE UNIQUE INDEX audit_events_workspace_chain_key ON audit_events (workspace_id, chain_seq);

-- No foreign key, like audit_events: events of no workspace ('') form a chain too.
CREATE TABLE audit_heads (
    workspace_id TEXT PRIMARY KEY,
    last_seq     INTEGER NOT NULL,
    last_hash    TEXT NOT NULL,
    pruned_through INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO audit_heads (workspace_id, last_seq, last_hash)
SELECT workspace_id, MAX(chain_seq), '' FROM audit_events GROUP BY workspace_id;

-- The audit retention (NULL: keep forever) and the expiration policy; durations in seconds, NULL
-- meaning no limit.
ALTER TABLE workspaces ADD COLUMN audit_retention_days INTEGER;
ALTER TABLE workspaces ADD COLUMN policy_max_lifetime INTEGER;
ALTER TABLE workspaces ADD COLUMN policy_default_lifetime INTEGER;
ALTER TABLE workspaces ADD COLUMN policy_max_rotation_period INTEGER;
ALTER TABLE workspaces ADD COLUMN policy_require_expiry INTEGER NOT NULL DEFAULT 0; -- boolean

ALTER TABLE tokens ADD COLUMN rotation_period INTEGER; -- seconds; NULL: no automatic rotation

-- +goose Down
ALTER TABLE tokens DROP COLUMN rotation_period;
ALTER TABLE workspaces DROP COLUMN policy_require_expiry;
ALTER TABLE workspaces DROP COLUMN policy_max_rotation_period;
ALTER TABLE workspaces DROP COLUMN policy_default_lifetime;
ALTER TABLE workspaces DROP COLUMN policy_max_lifetime;
ALTER TABLE workspaces DROP COLUMN audit_retention_days;
DROP TABLE audit_heads;
DROP INDEX audit_events_workspace_chain_key;
ALTER TABLE audit_events DROP COLUMN hash;
ALTER TABLE audit_events DROP COLUMN prev_hash;
ALTER TABLE audit_events DROP COLUMN chain_seq;
