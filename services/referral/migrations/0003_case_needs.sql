-- What the directory ranks on besides topic, area and severity: the consultation's need codes, age
-- band, gender and language, carried into every request for a match and every offer.
-- Referrals opened before this knew none of them; they keep what their requests implied then.
-- The defaults only fill those rows and are dropped at once: a new referral must say them.
ALTER TABLE referrals
    ADD COLUMN need_tags text[] NOT NULL DEFAULT '{}',
    ADD COLUMN age_band  text   NOT NULL DEFAULT 'unknown',
    ADD COLUMN gender    text   NOT NULL DEFAULT 'unknown',
    ADD COLUMN language  text   NOT NULL DEFAULT 'ja';
ALTER TABLE referrals
    ALTER COLUMN need_tags DROP DEFAULT,
    ALTER COLUMN age_band DROP DEFAULT,
    ALTER COLUMN gender DROP DEFAULT,
    ALTER COLUMN language DROP DEFAULT;
