-- 0010: event subscriptions (/api/v1/subscriptions) and their deliveries.
-- A delivery row is written with its event, in the same transaction, for
-- every subscription the event matched; the delivery workers claim due
-- rows (lease_until) and record the outcome. Deleting a subscription
-- deletes its deliveries; purging an event (events.retention) deletes its
-- deliveries. Times are Unix nanoseconds; disabled 0 means enabled.
-- state: 0 pending, 1 delivered, 2 failed (retries exhausted).
CREATE TABLE subscriptions (
    id                  TEXT    PRIMARY KEY,
    sink                TEXT    NOT NULL,
    types               TEXT    NOT NULL,
    repositories        TEXT    NOT NULL,
    description         TEXT    NOT NULL,
    creator             TEXT    NOT NULL,
    creator_incarnation TEXT    NOT NULL,
    created             INTEGER NOT NULL,
    disabled            INTEGER NOT NULL DEFAULT 0,
    disabled_reason     TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE TABLE subscriptions_version (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   INTEGER NOT NULL
);
INSERT INTO subscriptions_version (singleton, version) VALUES (1, 0);

CREATE TABLE deliveries (
    subscription_id TEXT    NOT NULL,
    event_seq       INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    state           INTEGER NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt    INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    updated         INTEGER NOT NULL,
    PRIMARY KEY (subscription_id, event_seq)
) WITHOUT ROWID;
CREATE INDEX deliveries_due ON deliveries (subscription_id, state, event_seq);
CREATE INDEX deliveries_event ON deliveries (event_seq);
