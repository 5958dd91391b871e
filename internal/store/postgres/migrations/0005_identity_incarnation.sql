-- 0005: each identity created through the API gets an incarnation, chosen
-- at creation, which the tokens issued to it name: re-creating an identity
-- under the id of a deleted one must not revive the deleted one's tokens.
-- Existing identities get one now. (The twin of the SQLite migration 0005.)
ALTER TABLE identities ADD COLUMN incarnation TEXT NOT NULL DEFAULT '';
UPDATE identities SET incarnation = replace(gen_random_uuid()::text, '-', '');
