-- What the case needs travels with the offer (handoff.offered.v2): its need codes, age band and
-- language, so the partner's inbox says what it is asked to take on. Codes only, as before.
-- Alerts stored before knew none of them: they keep what a v1 offer meant (nothing known of the
-- needs or the age, a Japanese-speaking person). The defaults fill those rows only and are dropped
-- at once: a new alert must say them.
ALTER TABLE alerts
    ADD COLUMN need_tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN age_band  text   NOT NULL DEFAULT 'unknown',
    ADD COLUMN language  text   NOT NULL DEFAULT 'ja';
ALTER TABLE alerts
    ALTER COLUMN need_tags DROP DEFAULT,
    ALTER COLUMN age_band DROP DEFAULT,
    ALTER COLUMN language DROP DEFAULT;
