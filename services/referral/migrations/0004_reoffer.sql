-- An operator acts on a referral nobody took: re-offers it to an organisation of their choosing (a
-- new attempt, once the directory confirmed the organisation can be alerted) or records that it was
-- handled another way.
ALTER TABLE referrals DROP CONSTRAINT referrals_state_known;
ALTER TABLE referrals
    ADD CONSTRAINT referrals_state_known CHECK (state IN (
        'requested', 'unmatched', 'offered', 'notified', 'acknowledged', 'contacted', 'accompanied',
        'closed', 'exhausted', 'withdrawn', 'handled_elsewhere')),
    -- The operator's choice waiting for the directory's answer; the answer names the request.
    ADD COLUMN reoffer_request_id      uuid,
    ADD COLUMN reoffer_organisation_id uuid;

-- The operator's note on how the case was handled: free text, kept here and nowhere else (never in
-- events, logs, spans or the timeline, which carry the reason code).
CREATE TABLE handled_elsewhere_notes (
    referral_id  uuid        PRIMARY KEY REFERENCES referrals (id),
    note         text        NOT NULL,
    written_by   text        NOT NULL,
    written_at   timestamptz NOT NULL DEFAULT now()
);
