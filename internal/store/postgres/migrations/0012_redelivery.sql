-- 0012: redelivery (the twin of the SQLite migration 0012). queued is when
-- a delivery was last queued again by hand (Unix nanoseconds; 0 if
-- never): its retries run for events.retry_for from then rather than from
-- its event's time.
ALTER TABLE deliveries ADD COLUMN queued BIGINT NOT NULL DEFAULT 0;
