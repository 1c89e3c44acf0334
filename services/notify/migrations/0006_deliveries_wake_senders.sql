-- Wake the LISTENing senders from a trigger instead of a `SELECT pg_notify` of the service's own
-- after each queued alert: one round trip less per handoff. NOTIFYs are delivered on commit only
-- and folded per transaction, as before; the channel is notify.deliveries.repository.NOTIFY_CHANNEL.
CREATE FUNCTION deliveries_wake_senders() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('deliveries', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER deliveries_wake_senders
    AFTER INSERT ON deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION deliveries_wake_senders();
