-- The outbox: events written in the same transaction as the state change they describe.
CREATE TABLE outbox (
    seq           bigserial PRIMARY KEY,           -- publication order
    event_id      uuid        NOT NULL UNIQUE,     -- CloudEvents id; consumers deduplicate on it
    topic         text        NOT NULL,
    message_key   text        NOT NULL,            -- the case id: one case stays on one partition
    event_type    text        NOT NULL,
    payload       jsonb       NOT NULL,
    headers       jsonb       NOT NULL DEFAULT '{}'::jsonb,  -- ce_* attributes and traceparent
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);

-- The relay only ever looks at unpublished rows.
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

-- The inbox: one row per event a consumer group has applied, so redelivery has no second effect.
CREATE TABLE inbox (
    consumer     text        NOT NULL,
    event_id     uuid        NOT NULL,
    topic        text        NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
