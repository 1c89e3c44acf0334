-- Partners' decline notes and operators' "handled elsewhere" notes are free text a person typed
-- about a case: sealed with referral's keyring (REFERRAL_ENCRYPTION_KEYS), each bound to its row.
-- Notes written before are sealed by the service itself on start (encryption needs the keyring,
-- which SQL does not have); the plain columns then stay NULL.
ALTER TABLE handoff_attempts ADD COLUMN decline_note_enc text;
ALTER TABLE handled_elsewhere_notes ADD COLUMN note_enc text;
ALTER TABLE handled_elsewhere_notes ALTER COLUMN note DROP NOT NULL;

COMMENT ON COLUMN handoff_attempts.decline_note IS 'legacy plain note; NULL once sealed into decline_note_enc';
COMMENT ON COLUMN handled_elsewhere_notes.note IS 'legacy plain note; NULL once sealed into note_enc';
