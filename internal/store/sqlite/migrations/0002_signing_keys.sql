-- 0002: the registry issuer's signing keys (see 0001 for the conventions).
--
-- private_key is PKCS #8 DER and secret: the database file is 0600 and no
-- query result containing it is ever logged. retired is 0 while the key
-- signs; a retired key stays here, still verifying, until the issuer
-- deletes it after the tokens it signed have expired. In PostgreSQL
-- private_key is BYTEA.
CREATE TABLE signing_keys (
    id          TEXT    PRIMARY KEY,
    algorithm   TEXT    NOT NULL,
    private_key BLOB    NOT NULL,
    created     INTEGER NOT NULL,
    retired     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
