-- Per-listener settings, and "unlike" as a listening event (the like button toggles).

CREATE TABLE user_settings (
    user_id            BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    -- Queues and Quick Mix hold only tracks that can play on this server unless this is on.
    include_unplayable BOOLEAN NOT NULL DEFAULT false,
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);

ALTER TABLE listening_events DROP CONSTRAINT IF EXISTS listening_events_action_check;
ALTER TABLE listening_events ADD CONSTRAINT listening_events_action_check
    CHECK (action IN ('play', 'complete', 'skip', 'like', 'unlike', 'dislike'));

-- One user's events of one track, newest first: the like state of a track (its newest
-- like/unlike) and "did an outcome follow this play?" (history) are both read through it.
CREATE INDEX listening_events_user_track ON listening_events (user_id, track_id, id DESC);
