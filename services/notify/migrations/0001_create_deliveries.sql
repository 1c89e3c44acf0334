-- Each partner organisation's webhook signing secret, encrypted with the service keyring (the
-- organisation id is the associated data, so a ciphertext cannot be moved to another partner).
-- The previous secret keeps signing beside the new one for a grace period after a rotation, so
-- a partner can switch without losing a delivery.
CREATE TABLE partner_secrets (
    organisation_id        uuid        PRIMARY KEY,
    secret_enc             text        NOT NULL,
    created_at             timestamptz NOT NULL DEFAULT now(),
    rotated_at             timestamptz,
    previous_secret_enc    text,
    previous_valid_until   timestamptz
);

-- One row per (referral, organisation, handoff attempt): the unique key is what makes a
-- redelivered or replayed ReferralMatched harmless, and delivery_id is what partners deduplicate on.
CREATE TABLE deliveries (
    id               uuid        PRIMARY KEY,
    delivery_id      text        NOT NULL UNIQUE,       -- referral_id:organisation_id:attempt
    referral_id      uuid        NOT NULL,
    case_id          uuid        NOT NULL,
    organisation_id  uuid        NOT NULL,
    attempt          integer     NOT NULL CHECK (attempt >= 1),
    webhook_url      text,
    payload          jsonb       NOT NULL,              -- the webhook body's fields; ids and codes only
    status           text        NOT NULL DEFAULT 'pending'
                                 CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
    tries            integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz,                       -- a sender that crashed loses it after this
    last_error       text,                              -- machine-readable reason, never a response body
    trace_headers    jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- W3C context of the case's trace
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    UNIQUE (referral_id, organisation_id, attempt)
);

-- The worker only ever looks for due pending rows (and the few leased ones).
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_by_organisation ON deliveries (organisation_id, created_at DESC);
CREATE INDEX deliveries_by_referral ON deliveries (referral_id);

-- Every POST, for operators and partners asking "did you try to reach us?".
CREATE TABLE delivery_attempts (
    delivery_id  uuid        NOT NULL REFERENCES deliveries (id),
    try_no       integer     NOT NULL,
    at           timestamptz NOT NULL,
    http_status  integer,
    error        text,                                  -- e.g. http_503, timeout, connect_error
    duration_ms  integer     NOT NULL,
    PRIMARY KEY (delivery_id, try_no)
);
