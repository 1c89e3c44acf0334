-- Sign-in is slowed by client address as well as by account, with growing delays instead of a
-- lockout; a session also ends after a while without a request (besides its absolute expiry).
ALTER TABLE sign_in_failures ADD COLUMN client text;

CREATE INDEX sign_in_failures_by_client ON sign_in_failures (client, failed_at DESC);

-- NULL: no idle limit (a visitor's session, which holds nothing but a CSRF token).
ALTER TABLE sessions ADD COLUMN idle_timeout_s integer CHECK (idle_timeout_s > 0);
ALTER TABLE sessions ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now();

COMMENT ON COLUMN users.password_hash IS 'argon2id (PHC string); older scrypt$n$r$p$salt$hash rehashed at sign-in';
