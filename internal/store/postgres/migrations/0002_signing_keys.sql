-- 0002: the registry issuer's signing keys (see 0001 for the conventions;
-- the twin of the SQLite migration 0002).
--
-- private_key is PKCS #8 DER and secret: no query result containing it is
-- ever logged. retired is 0 while the key signs; a retired key stays here,
-- still verifying, until the issuer deletes it after the tokens it signed
-- have expired.
CREATE TABLE signing_keys (
    id          TEXT COLLATE "C" PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_key BYTEA NOT NULL,
    created     BIGINT NOT NULL,
    retired     BIGINT NOT NULL DEFAULT 0
);
