-- The inbox follows a handoff past its acceptance (handoff.outcome_recorded.v1): 面談 (contacted),
-- 同行支援 (accompanied, with where to) and the close (with its outcome code), so a partner's inbox
-- does not say 受諾 forever. Codes only, as before.
ALTER TABLE alerts DROP CONSTRAINT alerts_state_check;
ALTER TABLE alerts
    ADD CONSTRAINT alerts_state_check CHECK (state IN (
        'offered', 'acknowledged', 'declined', 'expired', 'reassigned', 'withdrawn',
        'contacted', 'accompanied', 'closed')),
    ADD COLUMN accompanied_to text,   -- the latest 同行支援's destination: hospital | police | …
    ADD COLUMN outcome        text;   -- the closing outcome code
