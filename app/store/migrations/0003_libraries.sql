-- Listeners' own music libraries (Subsonic-compatible servers) and the songs they hold.
-- A library is a catalog source for the whole server (the catalog and the index are shared);
-- its credentials are its owner's, so only the owner's plays and likes are sent back to it.

CREATE TABLE libraries (
    id               BIGSERIAL PRIMARY KEY,
    owner_id         BIGINT REFERENCES users(id) ON DELETE SET NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('subsonic')),
    url              TEXT NOT NULL,
    username         TEXT NOT NULL,
    -- The password or API key: needed on every call (token auth hashes it with a fresh salt).
    -- Only app/store/libraries.py `credentials` reads it; no listing query selects it.
    secret           TEXT NOT NULL,
    auth_mode        TEXT NOT NULL CHECK (auth_mode IN ('apikey', 'token', 'password')),
    api_version      TEXT,
    server_type      TEXT,
    online           BOOLEAN NOT NULL DEFAULT true,
    last_checked_at  TIMESTAMPTZ,
    last_error       TEXT,
    sync_state       TEXT NOT NULL DEFAULT 'never'
                     CHECK (sync_state IN ('never', 'syncing', 'done', 'failed')),
    sync_generation  BIGINT NOT NULL DEFAULT 0,
    sync_done        INTEGER NOT NULL DEFAULT 0,
    sync_started_at  TIMESTAMPTZ,
    last_sync_at     TIMESTAMPTZ,
    last_sync_error  TEXT,
    last_report      TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (kind, url, username)
);

-- One row per song of a library: which catalog track it is, and how that was decided.
CREATE TABLE library_songs (
    library_id   BIGINT NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    song_id      TEXT NOT NULL,
    track_id     BIGINT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    fingerprint  TEXT NOT NULL,
    match_rule   TEXT NOT NULL,
    album_id     TEXT,
    artist_id    TEXT,
    cover_art    TEXT,
    track_number INTEGER,
    disc_number  INTEGER,
    content_type TEXT,
    isrc         TEXT[] NOT NULL DEFAULT '{}',
    mbid         TEXT,
    seen_sync    BIGINT NOT NULL,
    PRIMARY KEY (library_id, song_id)
);
CREATE INDEX library_songs_track ON library_songs (track_id);
CREATE INDEX library_songs_mbid ON library_songs (mbid) WHERE mbid IS NOT NULL;
CREATE INDEX library_songs_isrc ON library_songs USING gin (isrc);
