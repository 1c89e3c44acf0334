-- When a person last confirmed an organisation's entry with the organisation (an operator who
-- called it, or the partner itself), and who: entries not confirmed for long are flagged as
-- stale on the operators' screen. Null: never confirmed since it was registered.
ALTER TABLE organisations
    ADD COLUMN last_verified_at timestamptz,
    ADD COLUMN last_verified_by text;

-- The operators' search pages the whole register by name; the stale list asks for the oldest.
CREATE INDEX organisations_by_name ON organisations (name, id);
CREATE INDEX organisations_by_last_verified ON organisations (last_verified_at NULLS FIRST);
