-- +goose Up
-- When the token's use was last sampled for a token.used webhook event (at most once a minute).
ALTER TABLE tokens ADD COLUMN last_used_event_at INTEGER;

-- +goose Down
ALTER TABLE tokens DROP COLUMN last_used_event_at;
