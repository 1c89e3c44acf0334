-- A chat's language (the bot answers the person in it), when words of acute risk were first seen in
-- it (the queue takes such chats first) and which closing message the person was sent.
ALTER TABLE chats ADD COLUMN language text NOT NULL DEFAULT 'ja';
ALTER TABLE chats ADD COLUMN acute_risk_at timestamptz;
ALTER TABLE chats ADD COLUMN farewell text;  -- handoff_s4 | handoff_s3 | handoff_s2 | next_steps

-- The queue's order: marked chats first, then by how long they have waited.
DROP INDEX chats_waiting;
CREATE INDEX chats_waiting ON chats ((acute_risk_at IS NULL), (coalesce(topic_chosen_at, started_at)))
    WHERE state = 'waiting';
-- Recent waiting times, for the wait estimate a waiting person is shown.
CREATE INDEX chats_taken_at ON chats (taken_at) WHERE taken_at IS NOT NULL;
