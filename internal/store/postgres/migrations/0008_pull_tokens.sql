-- 0008: pull tokens (/api/v1/pull-tokens): long-lived, pull-only
-- credentials (the twin of the SQLite migration 0008). Only a hash of each
-- secret is kept (SHA-256 bound to the token's id, package pulltoken): a
-- copy of the database authenticates nothing. repositories is a JSON array
-- of repository patterns; creator and creator_incarnation name the
-- identity that made the token, which must still own every pattern for the
-- token to work. Times are Unix nanoseconds; last_used 0 means never.
CREATE TABLE pull_tokens (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    name                TEXT NOT NULL,
    description         TEXT NOT NULL,
    repositories        TEXT NOT NULL,
    creator             TEXT NOT NULL,
    creator_incarnation TEXT NOT NULL,
    secret_hash         BYTEA NOT NULL,
    created             BIGINT NOT NULL,
    expires             BIGINT NOT NULL,
    last_used           BIGINT NOT NULL DEFAULT 0
);

-- Bumped with every create and revoke (not by last_used), so that every
-- replica notices a revocation with one indexed read.
CREATE TABLE pull_tokens_version (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    version   BIGINT NOT NULL
);
INSERT INTO pull_tokens_version (singleton, version) VALUES (1, 0);
