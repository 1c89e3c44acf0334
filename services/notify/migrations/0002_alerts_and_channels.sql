-- Alerts: one per handoff attempt offered to an organisation. It is the partner portal's inbox item
-- and the parent of one delivery per push channel (webhook, email). Codes and ids only.
CREATE TABLE alerts (
    id                  uuid        PRIMARY KEY,
    alert_key           text        NOT NULL UNIQUE,       -- referral_id:organisation_id:attempt
    referral_id         uuid        NOT NULL,
    case_id             uuid        NOT NULL,
    organisation_id     uuid        NOT NULL,
    attempt             integer     NOT NULL CHECK (attempt >= 1),
    topic               text        NOT NULL,
    municipality_code   char(6)     NOT NULL,
    severity            text        NOT NULL,
    channels            text[]      NOT NULL,              -- the push channels it was sent on
    offered_at          timestamptz NOT NULL,
    deadline_at         timestamptz NOT NULL,
    state               text        NOT NULL DEFAULT 'offered' CHECK (state IN (
                            'offered', 'acknowledged', 'declined', 'expired', 'reassigned', 'withdrawn')),
    state_at            timestamptz NOT NULL,
    delivery_failed_at  timestamptz,                       -- handoff.delivery_failed.v1 staged (once)
    created_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (referral_id, organisation_id, attempt)
);

CREATE INDEX alerts_inbox ON alerts (organisation_id, offered_at DESC);
CREATE INDEX alerts_by_referral ON alerts (referral_id, attempt);

-- A delivery is now one channel of an alert: the backbone's rows are all webhooks.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_referral_id_organisation_id_attempt_key;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries
    ADD COLUMN channel  text NOT NULL DEFAULT 'webhook' CHECK (channel IN ('webhook', 'email')),
    ADD COLUMN email_to text,                              -- the organisation's alert address
    ADD CONSTRAINT deliveries_one_per_channel UNIQUE (referral_id, organisation_id, attempt, channel),
    -- cancelled: the attempt ended (acknowledged elsewhere, expired, withdrawn) before it was sent.
    ADD CONSTRAINT deliveries_status_check
        CHECK (status IN ('pending', 'sending', 'delivered', 'failed', 'cancelled'));
