-- Kept in step with migrations/sqlite/0004_idempotency_keys.sql.
-- The answers of copies sent with an `Idempotency-Key`, per user and key, written in the copy's
-- transaction. A row is valid until `expires_at` (unix seconds); expired rows are replaced by a
-- new copy with the same key, and deleted a few at a time by every keyed copy (by `expires_at`).
CREATE TABLE idempotency_keys (
    user_id         INTEGER NOT NULL REFERENCES users (user_id),
    idempotency_key TEXT NOT NULL,
    -- SHA-256 (hex) of the method, the path and the canonical body of the request.
    fingerprint     TEXT NOT NULL,
    status          INTEGER NOT NULL,
    body            TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);
