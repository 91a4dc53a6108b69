-- Collaborative models (recsys.collab), one row per training that reached the index.
-- last_event_id / last_import_id: the highest listening_events / imported_listens ids the
-- training read; the background retrain counts what arrived after them.
CREATE TABLE collab_models (
    id             BIGSERIAL PRIMARY KEY,
    version        TEXT NOT NULL UNIQUE,
    trained_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_event_id  BIGINT NOT NULL DEFAULT 0,
    last_import_id BIGINT NOT NULL DEFAULT 0,
    rows_read      BIGINT NOT NULL,      -- events + imported listens read
    users          INTEGER NOT NULL,
    tracks         INTEGER NOT NULL,     -- tracks given a vector (warm + cold predicted)
    warm_tracks    INTEGER NOT NULL,
    interactions   BIGINT NOT NULL,      -- non-zero (user, track) pairs
    dim            INTEGER NOT NULL,
    params         JSONB NOT NULL,
    stats          JSONB NOT NULL DEFAULT '{}'::jsonb,
    duration_s     REAL NOT NULL
);
CREATE INDEX collab_models_trained ON collab_models (trained_at DESC, id DESC);
