-- One referral per serious, shareable case: its place in the handoff lifecycle and who holds it.
-- Codes and ids only; the case's personal data never leaves intake.
CREATE TABLE referrals (
    id                uuid        PRIMARY KEY,
    case_id           uuid        NOT NULL UNIQUE,      -- the backbone opens at most one per case
    state             text        NOT NULL,
    topic             text        NOT NULL,
    municipality_code char(6)     NOT NULL,
    severity          text        NOT NULL,
    lawful_basis      text        NOT NULL,             -- without one a case is never referred
    organisation_id   uuid,                             -- null until the directory matches
    attempt           int         NOT NULL DEFAULT 0,   -- handoff attempt; 0 until an organisation is chosen
    reasons           jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- the directory's reason codes
    candidates        jsonb       NOT NULL DEFAULT '[]'::jsonb,  -- ranked fall-backs for escalation
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    trace_id          text,
    -- A later migration that adds states replaces this constraint.
    CONSTRAINT referrals_state_known
        CHECK (state IN ('requested', 'matched', 'unmatched', 'notified', 'delivery_failed'))
);

-- Operators' work lists: referrals in a state, longest waiting first.
CREATE INDEX referrals_by_state ON referrals (state, updated_at);

-- Every fact applied to a referral, late ones included. Read in arrival order (id): `at` comes
-- from each producer's clock, and clock skew must not put a match before the request.
CREATE TABLE referral_timeline (
    id           bigserial   PRIMARY KEY,
    referral_id  uuid        NOT NULL REFERENCES referrals (id),
    state        text        NOT NULL,                  -- the state the fact announces
    at           timestamptz NOT NULL,                  -- when the fact happened, per its producer
    actor        text        NOT NULL,                  -- service name, or the subject of a person
    detail       jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- ids and codes only
    trace_id     text
);

CREATE INDEX referral_timeline_by_referral ON referral_timeline (referral_id, id);
