-- Decisions and consents are ordered by when they were written, not by their timestamps: two
-- taken in the same instant (a batch, a frozen test clock) must still have a first and a second.
ALTER TABLE severity_decisions ADD COLUMN seq bigserial;
DROP INDEX severity_decisions_by_case;
CREATE INDEX severity_decisions_by_case ON severity_decisions (consultation_id, seq);

ALTER TABLE consents ADD COLUMN seq bigserial;
DROP INDEX consents_by_case;
CREATE INDEX consents_by_case ON consents (consultation_id, seq DESC);
