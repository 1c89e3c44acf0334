-- The people who sign in to the screens, and their sessions. The web package is the local
-- identity provider: it checks passwords here and mints the bearer tokens the services verify.
CREATE TABLE users (
    id              uuid        PRIMARY KEY,
    username        text        NOT NULL UNIQUE,
    display_name    text        NOT NULL,
    role            text        NOT NULL CHECK (role IN ('counsellor', 'partner', 'operator')),
    -- a partner user acts for exactly one organisation; the others for none
    organisation_id uuid,
    password_hash   text        NOT NULL,               -- scrypt$n$r$p$salt$hash
    disabled        boolean     NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'partner') = (organisation_id IS NOT NULL))
);

-- Only a hash of the session id is stored: a copy of this table cannot be replayed as cookies.
-- A session without a user is a visitor's (the sign-in form's CSRF token lives there).
CREATE TABLE sessions (
    id_hash     text        PRIMARY KEY,
    user_id     uuid        REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failed sign-ins per username, to slow down password guessing.
CREATE TABLE sign_in_failures (
    username    text        NOT NULL,
    failed_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX sign_in_failures_by_user ON sign_in_failures (username, failed_at DESC);

-- Who replayed which dead letter, and when: the operator's action is kept beside the broker's log.
CREATE TABLE dead_letter_replays (
    topic        text        NOT NULL,
    partition    integer     NOT NULL,
    dlt_offset   bigint      NOT NULL,
    replayed_by  text        NOT NULL,
    replayed_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX dead_letter_replays_by_letter ON dead_letter_replays (topic, partition, dlt_offset);
