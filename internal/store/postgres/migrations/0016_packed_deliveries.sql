-- 0016: a delivery may name a packed event (the twin of the SQLite
-- migration 0016, which says why): deliveries lose their foreign key to
-- events, and event_packs.delivered marks the packs with any.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_event_seq_fkey;
ALTER TABLE event_packs ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
