-- 0007: signing keys are encrypted at rest. private_key is sealed under a
-- key-encryption key (AES-256-GCM, package keywrap) that lives outside the
-- database, and kek names which one; '' marks a key stored in the clear by
-- an earlier version, which the registry seals (and retires by rotating)
-- at its next start.
ALTER TABLE signing_keys ADD COLUMN kek TEXT NOT NULL DEFAULT '';
