-- Consultations as counsellors record them. Personal data is stored only encrypted (AES-GCM,
-- the key id is inside each ciphertext); codes and ids stay in clear for statistics and routing.
CREATE TABLE consultations (
    id                uuid        PRIMARY KEY,          -- also the case id used in events
    channel           text        NOT NULL,
    topic             text        NOT NULL,
    municipality_code char(6)     NOT NULL,
    severity          text        NOT NULL,
    lawful_basis      text,
    summary_enc       text        NOT NULL,
    contact_enc       text,
    recorded_by       text        NOT NULL,             -- the counsellor's subject id
    recorded_at       timestamptz NOT NULL,
    trace_id          text
);

CREATE INDEX consultations_by_counsellor ON consultations (recorded_by, recorded_at DESC);

-- A retried POST with the same Idempotency-Key returns the first result instead of a second case.
CREATE TABLE idempotency_keys (
    subject          text        NOT NULL,
    key              text        NOT NULL,
    request_hash     text        NOT NULL,
    -- claimed before the consultation row exists, so the check waits for the commit
    consultation_id  uuid        NOT NULL REFERENCES consultations (id) DEFERRABLE INITIALLY DEFERRED,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, key)
);
