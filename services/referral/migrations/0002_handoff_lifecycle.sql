-- The closed-loop handoff: one row per attempt, durable deadline timers, used acknowledgement links.

-- Backbone-era states: a match was the offer itself, and a failed delivery ended the handoff with
-- nobody left to try, which is what exhausted now means (operators act).
ALTER TABLE referrals DROP CONSTRAINT referrals_state_known;
UPDATE referrals SET state = 'offered' WHERE state = 'matched';
UPDATE referrals SET state = 'exhausted' WHERE state = 'delivery_failed';
ALTER TABLE referrals
    ADD CONSTRAINT referrals_state_known CHECK (state IN (
        'requested', 'unmatched', 'offered', 'notified', 'acknowledged', 'contacted', 'accompanied',
        'closed', 'exhausted', 'withdrawn')),
    ADD COLUMN deadline_at   timestamptz,                          -- the open attempt's; null otherwise
    ADD COLUMN trace_headers jsonb NOT NULL DEFAULT '{}'::jsonb;   -- W3C context of the case's trace

-- Operators' overdue list: open attempts whose deadline has passed (their timer is about to fire,
-- or the scheduler is down).
CREATE INDEX referrals_by_deadline ON referrals (deadline_at) WHERE deadline_at IS NOT NULL;

-- Each offer of the case to one organisation. Codes only, except decline_note: the partner's own
-- words, kept here and nowhere else (never in events, logs, spans or the timeline).
CREATE TABLE handoff_attempts (
    referral_id      uuid        NOT NULL REFERENCES referrals (id),
    attempt          integer     NOT NULL CHECK (attempt >= 1),
    organisation_id  uuid        NOT NULL,
    state            text        NOT NULL CHECK (state IN (
                         'offered', 'notified', 'acknowledged', 'declined', 'expired',
                         'delivery_failed', 'withdrawn')),
    offered_at       timestamptz NOT NULL,
    deadline_at      timestamptz NOT NULL,
    ended_at         timestamptz,
    decline_reason   text,
    decline_note     text,
    via              text,                                 -- link | api, for an acknowledgement
    acted_by         text,                                 -- the subject that acknowledged or declined
    PRIMARY KEY (referral_id, attempt),
    UNIQUE (referral_id, organisation_id)                  -- an organisation is offered a case once
);

-- Backbone-era handoffs keep their one attempt. They were never promised a deadline, so they get
-- no timer: they show in the operators' lists by state, not as overdue.
INSERT INTO handoff_attempts (referral_id, attempt, organisation_id, state, offered_at, deadline_at)
SELECT id, attempt, organisation_id,
       CASE state WHEN 'exhausted' THEN 'delivery_failed' ELSE state END,
       updated_at, updated_at
  FROM referrals
 WHERE organisation_id IS NOT NULL AND attempt >= 1;

-- Durable deadlines. The scheduler claims due rows with FOR UPDATE SKIP LOCKED and, in the same
-- transaction, applies the expiry and sets fired_at: two replicas never fire one twice, and a
-- restart loses none (a row stays due until a commit marks it fired).
CREATE TABLE handoff_timers (
    id             bigserial   PRIMARY KEY,
    referral_id    uuid        NOT NULL REFERENCES referrals (id),
    attempt        integer     NOT NULL,
    due_at         timestamptz NOT NULL,
    fired_at       timestamptz,
    trace_headers  jsonb       NOT NULL DEFAULT '{}'::jsonb,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (referral_id, attempt)
);

CREATE INDEX handoff_timers_due ON handoff_timers (due_at) WHERE fired_at IS NULL;

-- Each acknowledgement link acts once: its token id is recorded with what it did.
CREATE TABLE used_links (
    token_id         uuid        PRIMARY KEY,
    referral_id      uuid        NOT NULL REFERENCES referrals (id),
    attempt          integer     NOT NULL,
    organisation_id  uuid        NOT NULL,
    used_at          timestamptz NOT NULL,
    result           text        NOT NULL                  -- acknowledged | reassigned | withdrawn | ...
);

-- A partner reads the timeline entries of its own attempts only.
ALTER TABLE referral_timeline
    ADD COLUMN attempt         integer,
    ADD COLUMN organisation_id uuid;
UPDATE referral_timeline
   SET attempt = CASE WHEN detail ? 'attempt' THEN (detail->>'attempt')::integer END,
       organisation_id = CASE WHEN detail ? 'organisation_id' THEN (detail->>'organisation_id')::uuid END;
