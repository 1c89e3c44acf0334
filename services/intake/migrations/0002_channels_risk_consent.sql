-- Issue 5: the phone and chat channels, the structured risk assessment with versioned severity
-- rules, consent, minimum disclosure to the accepting partner, and retention.
-- Every *_enc column is AES-GCM ciphertext naming its key id ('v1.<key id>.<blob>'), bound to its
-- table, row and field; `python -m intake rotate-keys` re-encrypts them under the active key.

-- Consultations: what the counsellor decided and why, and what brought the case in.
ALTER TABLE consultations
    ALTER COLUMN summary_enc DROP NOT NULL,          -- NULL once the retention purge has run
    ADD COLUMN need_tags          text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN age_band           text        NOT NULL DEFAULT 'unknown',
    ADD COLUMN gender             text        NOT NULL DEFAULT 'unknown',
    ADD COLUMN language           text        NOT NULL DEFAULT 'ja',
    -- 'counsellor-only' when no risk assessment was given: the posted severity stands alone.
    ADD COLUMN rule_version       text        NOT NULL DEFAULT 'counsellor-only',
    ADD COLUMN computed_severity  text,
    ADD COLUMN risk               jsonb,                 -- the structured answers: codes and booleans
    ADD COLUMN risk_flags         text[]      NOT NULL DEFAULT '{}',
    ADD COLUMN emergency_call     jsonb,                 -- S4: who called 110/119 and when
    ADD COLUMN call_leg_id        uuid,
    ADD COLUMN chat_id            uuid,
    ADD COLUMN menu_id            uuid,
    ADD COLUMN menu_digit         text,
    ADD COLUMN revision           integer     NOT NULL DEFAULT 1,
    ADD COLUMN updated_at         timestamptz,
    ADD COLUMN closed_at          timestamptz,
    ADD COLUMN closed_reason      text,                  -- no_handoff | counsellor | handoff_closed
    ADD COLUMN purged_at          timestamptz;

CREATE UNIQUE INDEX consultations_one_per_call_leg ON consultations (call_leg_id) WHERE call_leg_id IS NOT NULL;
CREATE UNIQUE INDEX consultations_one_per_chat ON consultations (chat_id) WHERE chat_id IS NOT NULL;
-- The retention purge looks for closed consultations whose personal data is still there.
CREATE INDEX consultations_purgeable ON consultations (closed_at) WHERE purged_at IS NULL;

-- Every change of a consultation: the non-personal fields before it in clear, the personal ones
-- (summary, contact) encrypted.
CREATE TABLE consultation_revisions (
    id               uuid        PRIMARY KEY,
    consultation_id  uuid        NOT NULL REFERENCES consultations (id),
    revision         integer     NOT NULL,               -- the revision this change produced
    fields           text[]      NOT NULL,
    before           jsonb       NOT NULL,
    before_enc       text,
    changed_by       text        NOT NULL,
    changed_at       timestamptz NOT NULL,
    UNIQUE (consultation_id, revision)
);

-- Every severity decision: the rule version, the answers it read, what the rules computed, what
-- the counsellor decided, and why when lower (reason encrypted: it is free text).
CREATE TABLE severity_decisions (
    id                 uuid        PRIMARY KEY,
    consultation_id    uuid        NOT NULL REFERENCES consultations (id),
    rule_version       text        NOT NULL,
    answers            jsonb,
    computed_severity  text,
    flags              text[]      NOT NULL DEFAULT '{}',
    previous_severity  text,
    final_severity     text        NOT NULL,
    direction          text        NOT NULL,             -- as_computed | raised | lowered | counsellor_only | kept
    reason_enc         text,
    decided_by         text        NOT NULL,
    decided_at         timestamptz NOT NULL
);
CREATE INDEX severity_decisions_by_case ON severity_decisions (consultation_id, decided_at);

-- Consent to share (個人情報保護法 27条1項) or its refusal; the latest row of a case is in force.
CREATE TABLE consents (
    id               uuid        PRIMARY KEY,
    consultation_id  uuid        NOT NULL REFERENCES consultations (id),
    decision         text        NOT NULL CHECK (decision IN ('given', 'refused')),
    items            text[]      NOT NULL,
    recipient_kind   text        NOT NULL,
    method           text        NOT NULL,               -- recorded_line | chat_click | written
    text_version     text        NOT NULL,
    obtained_at      timestamptz NOT NULL,
    obtained_by      text        NOT NULL,
    recorded_at      timestamptz NOT NULL
);
CREATE INDEX consents_by_case ON consents (consultation_id, recorded_at DESC);

-- Voice menus, versioned per campaign; a version never changes once created.
CREATE TABLE voice_menus (
    id               uuid        PRIMARY KEY,
    campaign         text        NOT NULL,
    version          integer     NOT NULL,
    greeting         text        NOT NULL,
    fallback_number  text        NOT NULL,
    options          jsonb       NOT NULL,               -- digit → topic, label, desk, hours
    starts_at        timestamptz,
    ends_at          timestamptz,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL,
    UNIQUE (campaign, version)
);

-- Activations in order: the latest one names the menu callers hear.
CREATE TABLE voice_menu_activations (
    seq           bigserial   PRIMARY KEY,
    menu_id       uuid        NOT NULL REFERENCES voice_menus (id),
    activated_by  text        NOT NULL,
    activated_at  timestamptz NOT NULL
);

-- One row per inbound call through the voice menu.
CREATE TABLE call_legs (
    id               uuid        PRIMARY KEY,
    call_sid         text        NOT NULL UNIQUE,        -- the provider's call id
    caller_enc       text,                               -- the caller's number, encrypted
    called_number    text,                               -- our own number (not personal data)
    menu_id          uuid        REFERENCES voice_menus (id),
    started_at       timestamptz NOT NULL,
    prompts          integer     NOT NULL DEFAULT 1,
    digit            text,
    topic            text,
    chosen_at        timestamptz,
    desk_organisation_id uuid,
    routed_to        text,                               -- desk | fallback
    route_reason     text,                               -- open | closed | outside_campaign | no_desk | no_choice | desk_busy ...
    dial_status      text,
    dial_duration_s  integer,
    ended_at         timestamptz,
    consultation_id  uuid,
    completed_by     text,
    completed_at     timestamptz,
    purged_at        timestamptz
);
CREATE INDEX call_legs_open ON call_legs (started_at DESC) WHERE consultation_id IS NULL;

-- LINE chats: one open chat per user at a time, found by a keyed pseudonym of the user id.
CREATE TABLE chats (
    id                uuid        PRIMARY KEY,
    channel           text        NOT NULL DEFAULT 'line',
    user_ref          text,                              -- HMAC of the LINE user id (lookup only)
    user_enc          text,                              -- the LINE user id, encrypted
    state             text        NOT NULL,              -- choosing_topic | waiting | active | closed
    topic             text,
    started_at        timestamptz NOT NULL,
    topic_chosen_at   timestamptz,
    taken_by          text,
    taken_at          timestamptz,
    last_activity_at  timestamptz NOT NULL,
    consent           jsonb,                             -- the user's consent click, if any
    consent_requested jsonb,                             -- what the counsellor asked consent for
    closed_at         timestamptz,
    closed_by         text,
    closed_reason     text,                              -- consultation | user_left
    consultation_id   uuid,
    purged_at         timestamptz
);
CREATE UNIQUE INDEX chats_one_open_per_user ON chats (user_ref) WHERE state <> 'closed';
CREATE INDEX chats_waiting ON chats (topic, topic_chosen_at) WHERE state = 'waiting';

CREATE TABLE chat_messages (
    id                uuid        PRIMARY KEY,
    chat_id           uuid        NOT NULL REFERENCES chats (id),
    seq               bigserial,
    sender            text        NOT NULL,              -- user | counsellor | bot
    counsellor        text,
    kind              text        NOT NULL,              -- text | sticker | image | other
    text_enc          text,
    provider_message_id text,
    delivery          text        NOT NULL,              -- received | pending | sent | failed
    at                timestamptz NOT NULL
);
CREATE INDEX chat_messages_by_chat ON chat_messages (chat_id, seq);

-- LINE's webhookEventId of every event applied: a replayed or redelivered event does nothing.
CREATE TABLE line_webhook_events (
    webhook_event_id  text        PRIMARY KEY,
    received_at       timestamptz NOT NULL
);

-- Which organisation accepted which case (from referral's handoff.acknowledged.v1).
CREATE TABLE case_acceptances (
    case_id          uuid        NOT NULL,
    organisation_id  uuid        NOT NULL,
    referral_id      uuid        NOT NULL,
    attempt          integer     NOT NULL,
    acknowledged_at  timestamptz NOT NULL,
    withdrawn_at     timestamptz,
    PRIMARY KEY (case_id, organisation_id)
);

-- Third-party provision records (個人情報保護法 29条, 規則20条): one row per release of personal
-- data to a partner. Append-only: a trigger refuses UPDATE and DELETE, and each row carries the
-- hash of the previous one so that a removed or altered row shows.
CREATE TABLE disclosures (
    seq              bigserial   PRIMARY KEY,
    id               uuid        NOT NULL UNIQUE,
    case_id          uuid        NOT NULL,
    organisation_id  uuid        NOT NULL,
    referral_id      uuid,
    items            text[]      NOT NULL,
    lawful_basis     text        NOT NULL,
    consent_id       uuid,
    provenance       text        NOT NULL,               -- 取得の経緯, as the recipient must record it
    released_by      text        NOT NULL,               -- the partner's subject
    released_at      timestamptz NOT NULL,
    prev_hash        text        NOT NULL,
    row_hash         text        NOT NULL
);
CREATE INDEX disclosures_by_case ON disclosures (case_id, seq);
CREATE INDEX disclosures_by_organisation ON disclosures (organisation_id, seq);

CREATE FUNCTION disclosures_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'disclosures is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER disclosures_append_only
    BEFORE UPDATE OR DELETE ON disclosures
    FOR EACH ROW EXECUTE FUNCTION disclosures_are_append_only();

CREATE TRIGGER disclosures_no_truncate
    BEFORE TRUNCATE ON disclosures
    FOR EACH STATEMENT EXECUTE FUNCTION disclosures_are_append_only();
