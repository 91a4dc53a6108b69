-- Initial schema. Migrations are applied in file-name order and recorded in schema_migrations.

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));

CREATE TABLE tracks (
    id           BIGSERIAL PRIMARY KEY,
    source       TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    title        TEXT NOT NULL,
    artists      TEXT[] NOT NULL DEFAULT '{}',
    album        TEXT,
    genres       TEXT[] NOT NULL DEFAULT '{}',
    descriptors  TEXT[] NOT NULL DEFAULT '{}',
    year         INTEGER,
    duration_ms  INTEGER,
    explicit     BOOLEAN NOT NULL DEFAULT false,
    popularity   REAL,
    audio        JSONB NOT NULL DEFAULT '{}'::jsonb,
    media_kind   TEXT NOT NULL DEFAULT 'none' CHECK (media_kind IN ('midi', 'audio', 'none')),
    media_ref    TEXT,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
CREATE INDEX tracks_title_lower ON tracks (lower(title));

-- The current mood of each user; mood_changes keeps the history.
CREATE TABLE user_moods (
    user_id    BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    preset     TEXT,
    text       TEXT,
    energy     REAL,
    valence    REAL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE mood_changes (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    preset     TEXT,
    text       TEXT,
    energy     REAL,
    valence    REAL,
    at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX mood_changes_user_at ON mood_changes (user_id, at DESC);

CREATE TABLE listening_events (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    track_id    BIGINT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    action      TEXT NOT NULL CHECK (action IN ('play', 'complete', 'skip', 'like', 'dislike')),
    position_ms INTEGER,
    at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    client_ref  TEXT
);
CREATE INDEX listening_events_user_at ON listening_events (user_id, at DESC, id DESC);
-- A client reference makes a retried event idempotent per user.
CREATE UNIQUE INDEX listening_events_user_ref ON listening_events (user_id, client_ref)
    WHERE client_ref IS NOT NULL;

CREATE TABLE mixes (
    id         TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    mood       JSONB,
    seed_ids   BIGINT[] NOT NULL DEFAULT '{}',
    track_ids  BIGINT[] NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX mixes_user_created ON mixes (user_id, created_at DESC);

-- Bumped by every catalog import so caches keyed on it fall away.
CREATE TABLE catalog_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO catalog_meta (key, value) VALUES ('version', '0');
