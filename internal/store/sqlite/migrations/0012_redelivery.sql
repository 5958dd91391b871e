-- 0012: redelivery (chainctl events redeliver). queued is when a delivery
-- was last queued again by hand (Unix nanoseconds; 0 if never): its
-- retries run for events.retry_for from then rather than from its event's
-- time, so that an event a day old redelivered to a receiver that was down
-- is tried for as long as a new one.
ALTER TABLE deliveries ADD COLUMN queued INTEGER NOT NULL DEFAULT 0;
