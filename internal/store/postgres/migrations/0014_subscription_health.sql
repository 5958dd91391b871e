-- 0014: a subscription's last success and last error, kept on its row by
-- FinishDeliveries, so that its health (chainctl events subscriptions
-- list) reads one row and counts only its pending and failed deliveries,
-- instead of walking every delivery it ever made for the newest of each.
-- Times are Unix nanoseconds; 0 means never. Filled in from the
-- deliveries kept so far. (The twin of the SQLite migration 0014.)
ALTER TABLE subscriptions ADD COLUMN last_success BIGINT NOT NULL DEFAULT 0;
ALTER TABLE subscriptions ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN last_error_at BIGINT NOT NULL DEFAULT 0;
UPDATE subscriptions SET
    last_success = COALESCE((SELECT max(d.updated) FROM deliveries d
        WHERE d.subscription_id = subscriptions.id AND d.state = 1), 0),
    last_error = COALESCE((SELECT d.last_error FROM deliveries d
        WHERE d.subscription_id = subscriptions.id AND d.last_error <> ''
        ORDER BY d.updated DESC, d.event_seq DESC LIMIT 1), ''),
    last_error_at = COALESCE((SELECT d.updated FROM deliveries d
        WHERE d.subscription_id = subscriptions.id AND d.last_error <> ''
        ORDER BY d.updated DESC, d.event_seq DESC LIMIT 1), 0);
