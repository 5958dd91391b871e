-- 0010: event subscriptions (/api/v1/subscriptions) and their deliveries
-- (the twin of the SQLite migration 0010). A delivery row is written with
-- its event, in the same transaction, for every subscription the event
-- matched; the delivery workers of every replica claim due rows (SKIP
-- LOCKED, lease_until) and record the outcome. Deleting a subscription
-- deletes its deliveries; purging an event deletes its deliveries. Times
-- are Unix nanoseconds; disabled 0 means enabled. state: 0 pending, 1
-- delivered, 2 failed (retries exhausted).
CREATE TABLE subscriptions (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    sink                TEXT NOT NULL,
    types               TEXT NOT NULL,
    repositories        TEXT NOT NULL,
    description         TEXT NOT NULL,
    creator             TEXT NOT NULL,
    creator_incarnation TEXT NOT NULL,
    created             BIGINT NOT NULL,
    disabled            BIGINT NOT NULL DEFAULT 0,
    disabled_reason     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE subscriptions_version (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   BIGINT NOT NULL
);
INSERT INTO subscriptions_version (singleton, version) VALUES (1, 0);

CREATE TABLE deliveries (
    subscription_id TEXT COLLATE "C" NOT NULL,
    event_seq       BIGINT NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    state           INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    BIGINT NOT NULL,
    lease_until     BIGINT NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    updated         BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, event_seq)
);
CREATE INDEX deliveries_due ON deliveries (subscription_id, state, event_seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);
