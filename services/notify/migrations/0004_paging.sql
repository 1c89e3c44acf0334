-- On-call paging: an operator alert that needs a person pages whoever is on call, by e-mail and by
-- a PagerDuty-shaped webhook, again and again until someone acknowledges it in the dashboard.

-- The rota. A weekly shift repeats on its weekdays (the day it starts, ISO 1 = Monday) between two
-- Japan-time wall-clock minutes; one that ends at or before it starts ends the next day. A cover
-- shift is one span of time and, while it lasts, replaces the weekly pattern (a swap, a holiday).
-- The names and addresses are the operators' own work contacts; they never leave notify except as
-- the e-mail's recipient, and never go into a log, an event or a pager's body.
CREATE TABLE oncall_shifts (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    email       text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    weekdays    smallint[],
    starts_min  smallint    CHECK (starts_min BETWEEN 0 AND 1439),
    ends_min    smallint    CHECK (ends_min BETWEEN 1 AND 1440),
    starts_at   timestamptz,
    ends_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL,
    CONSTRAINT oncall_shift_weekly_or_cover CHECK (
        (weekdays IS NOT NULL AND cardinality(weekdays) > 0 AND starts_min IS NOT NULL
            AND ends_min IS NOT NULL AND starts_at IS NULL AND ends_at IS NULL)
        OR (weekdays IS NULL AND starts_min IS NULL AND ends_min IS NULL
            AND starts_at IS NOT NULL AND ends_at > starts_at))
);

-- A page: one per referral while it is not resolved — its dedup key is
-- the pager's `dedup_key`, so a trigger for an open page never opens a second incident. Ids and
-- codes only.
CREATE TABLE pages (
    id               uuid        PRIMARY KEY,
    dedup_key        text        NOT NULL,
    kind             text        NOT NULL,               -- the first alert's
    kinds            text[]      NOT NULL,               -- every kind that joined it, in order
    referral_id      uuid,
    case_id          uuid,
    severity         text,                               -- S0–S4, as the alert said
    source           text        NOT NULL,               -- the service that raised it
    detail           text[]      NOT NULL DEFAULT '{}',  -- the first alert's codes
    occurrences      integer     NOT NULL DEFAULT 1,     -- alerts it stands for
    raised_at        timestamptz NOT NULL,
    state            text        NOT NULL DEFAULT 'triggered'
                                 CHECK (state IN ('triggered', 'acknowledged', 'resolved')),
    rounds           integer     NOT NULL DEFAULT 0,     -- how many times it has paged
    next_page_at     timestamptz,                        -- while triggered
    last_paged_at    timestamptz,
    acknowledged_at  timestamptz,
    acknowledged_by  text,                               -- the operator's username
    resolved_at      timestamptz,
    resolved_by      text,
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX pages_one_open_per_key ON pages (dedup_key) WHERE state <> 'resolved';
CREATE INDEX pages_due ON pages (next_page_at) WHERE state = 'triggered';
CREATE INDEX pages_recent ON pages (raised_at DESC);
CREATE INDEX pages_by_referral ON pages (referral_id) WHERE referral_id IS NOT NULL AND state <> 'resolved';

-- Every alert a page stands for: a replayed alert (same alert_id, new event id) pages nobody twice.
CREATE TABLE page_alerts (
    alert_id     uuid        PRIMARY KEY,
    page_id      uuid        NOT NULL REFERENCES pages (id),
    kind         text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now()
);

-- What a page sent, or will send: one row per e-mail recipient and round, and one per pager event
-- (trigger each round, then acknowledge or resolve). Sent by the paging worker with a lease, as
-- deliveries are; a round not sent by the next one is cancelled.
CREATE TABLE page_messages (
    id              uuid        PRIMARY KEY,
    page_id         uuid        NOT NULL REFERENCES pages (id),
    round           integer     NOT NULL,
    action          text        NOT NULL CHECK (action IN ('trigger', 'acknowledge', 'resolve')),
    channel         text        NOT NULL CHECK (channel IN ('webhook', 'email')),
    recipient_name  text,                                -- e-mail: the operator on call
    recipient       text,                                -- e-mail: their address
    payload         jsonb       NOT NULL,                -- ids and codes; never the routing key
    status          text        NOT NULL DEFAULT 'pending'
                                CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
    tries           integer     NOT NULL DEFAULT 0,
    next_try_at     timestamptz NOT NULL,
    lease_until     timestamptz,
    last_error      text,                                -- a reason code, never a response body
    http_status     integer,
    sent_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX page_messages_due ON page_messages (next_try_at) WHERE status = 'pending';
CREATE INDEX page_messages_leased ON page_messages (lease_until) WHERE status = 'sending';
CREATE INDEX page_messages_by_page ON page_messages (page_id, created_at);

-- The S4 referrals notify itself found unacknowledged too long: each raises one operator alert.
-- The paging worker looks for them every few seconds among recent S4 offers only.
CREATE INDEX alerts_s4_by_offer ON alerts (offered_at) WHERE severity = 'S4';

CREATE TABLE s4_unacknowledged (
    referral_id  uuid        PRIMARY KEY,
    alert_id     uuid        NOT NULL,
    raised_at    timestamptz NOT NULL
);
