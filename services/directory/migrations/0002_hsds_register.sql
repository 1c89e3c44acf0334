-- The register after Open Referral HSDS 3.0: organisations keep their handoff channels; what they
-- offer, where, to whom, when and how much of it moves to services. Still no personal data:
-- public bodies, their public offices and organisational contact points only.

ALTER TABLE organisations
    ADD COLUMN description      text,
    ADD COLUMN alternate_name   text,
    ADD COLUMN website          text,
    ADD COLUMN corporate_number text,          -- 法人番号 (13 digits), where known
    ADD COLUMN channels         text[] NOT NULL DEFAULT '{}',  -- empty: derived from the addresses
    ADD COLUMN portal_url       text;

-- HSDS service, with service_area (coverage), language, eligibility, schedule and the 3.1
-- service_capacity folded into columns: matching reads one row per service and no joins.
CREATE TABLE services (
    id                   uuid        PRIMARY KEY,
    organisation_id      uuid        NOT NULL REFERENCES organisations (id),
    name                 text        NOT NULL,
    description          text,
    status               text        NOT NULL DEFAULT 'active',
    coverage             text[]      NOT NULL CHECK (cardinality(coverage) BETWEEN 1 AND 2000),
    topics               text[]      NOT NULL DEFAULT '{}',
    capabilities         text[]      NOT NULL DEFAULT '{}',
    languages            text[]      NOT NULL DEFAULT '{ja}',
    minimum_age          integer,
    maximum_age          integer,
    genders              text[]      NOT NULL DEFAULT '{}',
    residency            text        NOT NULL DEFAULT 'any',
    schedules            jsonb       NOT NULL DEFAULT '[]',
    capacity_available   integer,
    capacity_maximum     integer,
    capacity_unit        text,
    capacity_description text,
    capacity_updated     timestamptz,
    capacity_reported_at timestamptz,  -- last report by a person: staleness counts from here
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    updated_by           text        NOT NULL
);

-- Matching asks "whose area overlaps {municipality, city, prefecture, JP}?": an array overlap.
-- fastupdate off: the register is read on every referral and written rarely, and a GIN pending
-- list (scanned linearly by every query until a vacuum) made that read ten times slower.
CREATE INDEX services_coverage ON services USING gin (coverage) WITH (fastupdate = off);
CREATE INDEX services_by_organisation ON services (organisation_id);

-- An organisation registered before services existed becomes its own main service (same id).
INSERT INTO services (id, organisation_id, name, coverage, topics, created_at, updated_at, updated_by)
SELECT id, id, name, coverage, topics, created_at, updated_at, updated_by FROM organisations;

ALTER TABLE organisations DROP COLUMN coverage, DROP COLUMN topics;

-- HSDS location: public offices only (an organisation's counter), never a person's address.
CREATE TABLE locations (
    id                uuid        PRIMARY KEY,
    organisation_id   uuid        NOT NULL REFERENCES organisations (id),
    name              text,
    location_type     text        NOT NULL DEFAULT 'physical',
    municipality_code text,
    postal_code       text,
    address           text,
    latitude          double precision,
    longitude         double precision,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    updated_by        text        NOT NULL
);

CREATE INDEX locations_by_municipality ON locations (municipality_code);
CREATE INDEX locations_by_organisation ON locations (organisation_id);

CREATE TABLE service_at_locations (
    id          uuid PRIMARY KEY,
    service_id  uuid NOT NULL REFERENCES services (id),
    location_id uuid NOT NULL REFERENCES locations (id),
    UNIQUE (service_id, location_id)
);

CREATE INDEX service_at_locations_by_location ON service_at_locations (location_id);

-- HSDS metadata: who changed which field of which record, when, from what to what.
CREATE TABLE change_log (
    id                bigserial   PRIMARY KEY,
    resource_id       uuid        NOT NULL,
    resource_type     text        NOT NULL,   -- organization | service | location | service_capacity
    last_action_date  timestamptz NOT NULL DEFAULT now(),
    last_action_type  text        NOT NULL,   -- create | update | deactivate | report | handoff
    field_name        text        NOT NULL,
    previous_value    text        NOT NULL,
    replacement_value text        NOT NULL,
    updated_by        text        NOT NULL
);

CREATE INDEX change_log_by_resource ON change_log (resource_id, id);

-- How each organisation answered its handoff offers (from referral's events).
CREATE TABLE performance (
    organisation_id  uuid             PRIMARY KEY,
    offered          integer          NOT NULL DEFAULT 0,
    acknowledged     integer          NOT NULL DEFAULT 0,
    declined         integer          NOT NULL DEFAULT 0,
    expired          integer          NOT NULL DEFAULT 0,
    ack_score        double precision,
    mean_ack_seconds double precision,
    updated_at       timestamptz      NOT NULL DEFAULT now()
);

-- One row per offer, to time the acknowledgement and to count each offer's end once.
CREATE TABLE offers (
    referral_id     uuid        NOT NULL,
    attempt         integer     NOT NULL,
    organisation_id uuid        NOT NULL,
    offered_at      timestamptz NOT NULL,
    ended           text,        -- acknowledged | declined | expired
    PRIMARY KEY (referral_id, attempt)
);

-- A place taken by an accepted handoff, given back when it closes: at most once each way.
CREATE TABLE capacity_holds (
    referral_id     uuid        NOT NULL,
    organisation_id uuid        NOT NULL,
    service_id      uuid        NOT NULL,
    held_at         timestamptz NOT NULL,
    released_at     timestamptz,
    PRIMARY KEY (referral_id, organisation_id)
);
