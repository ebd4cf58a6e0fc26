-- +goose Up
-- The expiry scan (core.ScanExpiry) looks for unrevoked tokens whose expires_at falls in a window.
CREATE INDEX tokens_expiry_idx ON tokens (expires_at) WHERE revoked_at IS NULL AND expires_at IS NOT NULL;

-- +goose Down
DROP INDEX tokens_expiry_idx;
