-- The number an operator calls the organisation on (its public desk, not a person's): shown beside
-- each candidate when a handoff failed and a person must phone around.
ALTER TABLE organisations ADD COLUMN phone text;
