-- Listening histories brought in from elsewhere (a user's export, or a public dataset's listeners).
CREATE TABLE imported_listens (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT REFERENCES users(id) ON DELETE CASCADE,   -- a real account's own history
    listener    TEXT,                                            -- a public dataset's listener, e.g. 'hetrec:2'
    track_id    BIGINT REFERENCES tracks(id) ON DELETE CASCADE,  -- null when matched at artist level only
    artist      TEXT NOT NULL,                                   -- normalised (recsys.index.base.normalise_name)
    outcome     TEXT NOT NULL CHECK (outcome IN ('complete', 'skip')),
    weight      REAL NOT NULL DEFAULT 1 CHECK (weight > 0),     -- play count for aggregated rows (HetRec), else 1
    listened_at TIMESTAMPTZ,                                     -- null for aggregated rows
    match       TEXT NOT NULL CHECK (match IN ('uri', 'title', 'artist')),
    source      TEXT NOT NULL,                                   -- listenbrainz | lastfm | spotify_extended | spotify_account | hetrec
    dedupe      TEXT NOT NULL,
    CHECK ((user_id IS NULL) <> (listener IS NULL))
);
CREATE UNIQUE INDEX imported_listens_dedupe ON imported_listens (coalesce(user_id::text, listener), dedupe);
CREATE INDEX imported_listens_user_at ON imported_listens (user_id, listened_at DESC) WHERE user_id IS NOT NULL;
CREATE INDEX imported_listens_track ON imported_listens (track_id) WHERE track_id IS NOT NULL;
