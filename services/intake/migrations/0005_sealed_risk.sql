-- The risk assessment (suicidal ideation, plan, means …) is special-care personal data under APPI
-- (要配慮個人情報): it is sealed like the summary and contact, with the same keyring and a context
-- bound to its row. Rows written before are sealed by the service itself on start (the retention
-- worker's first round, and `python -m intake rotate-keys`): encryption needs the keyring, which
-- SQL does not have. Until then a row's `risk` is read as it was; afterwards the column stays NULL.
ALTER TABLE consultations ADD COLUMN risk_enc text;
-- The answers a severity decision read, the same way.
ALTER TABLE severity_decisions ADD COLUMN answers_enc text;

COMMENT ON COLUMN consultations.risk IS 'legacy plain risk assessment; NULL once sealed into risk_enc';
COMMENT ON COLUMN severity_decisions.answers IS 'legacy plain answers; NULL once sealed into answers_enc';
