-- The local support organisations referrals are matched to. Organisational contact points only
-- (a public name, a webhook, a shared mailbox): no personal data lives here.
CREATE TABLE organisations (
    id          uuid        PRIMARY KEY,
    name        text        NOT NULL,
    org_type    text        NOT NULL,
    -- 6-digit municipality codes, 2-digit prefecture codes (the whole prefecture) or 'JP'.
    coverage    text[]      NOT NULL CHECK (cardinality(coverage) BETWEEN 1 AND 500),
    -- Topic values; empty means every topic.
    topics      text[]      NOT NULL DEFAULT '{}',
    webhook_url text,
    email       text,
    active      boolean     NOT NULL DEFAULT true,   -- deleting only deactivates: matches keep their ids
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text        NOT NULL                 -- the operator's subject id
);

-- Matching asks "whose coverage overlaps {municipality, prefecture, JP}?": an array overlap (&&).
CREATE INDEX organisations_coverage ON organisations USING gin (coverage);

-- One answer per referral. The primary key is what makes a redelivered request harmless even
-- when it arrives with a new event id (the inbox dedupes only on event ids).
CREATE TABLE matches (
    referral_id     uuid        PRIMARY KEY,
    case_id         uuid        NOT NULL,
    organisation_id uuid REFERENCES organisations (id),  -- null: unmatched
    reasons         jsonb       NOT NULL,
    candidates      jsonb       NOT NULL,
    matched_at      timestamptz NOT NULL,
    trace_id        text
);

CREATE INDEX matches_by_case ON matches (case_id);
