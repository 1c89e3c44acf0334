-- A row the writing process publishes itself, right after its commit, is left to the relay only
-- after a grace period (should the writer die first): `relay_after`. Rows written the old way
-- (relay_after = created_at) still wake the relay at once; the others need not wake it at all.
ALTER TABLE outbox ADD COLUMN relay_after timestamptz NOT NULL DEFAULT now();

DROP TRIGGER outbox_wake_relay ON outbox;
CREATE TRIGGER outbox_wake_relay
    AFTER INSERT ON outbox
    FOR EACH ROW WHEN (NEW.relay_after <= NEW.created_at)
    EXECUTE FUNCTION outbox_wake_relay();
