-- Listening together: groups, their members, and the group every group event belongs to.

CREATE TABLE groups (
    id             BIGSERIAL PRIMARY KEY,
    code           TEXT NOT NULL,             -- short join code, unique among live groups
    name           TEXT NOT NULL,
    host_id        BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    guest_controls BOOLEAN NOT NULL DEFAULT false,
    mood           JSONB,                     -- recsys.moods.MoodSpec.to_record, null: no mood
    member_limit   INTEGER NOT NULL DEFAULT 32 CHECK (member_limit >= 2),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    ended_at       TIMESTAMPTZ,
    end_reason     TEXT CHECK (end_reason IN ('host', 'idle'))
);
CREATE UNIQUE INDEX groups_live_code ON groups (code) WHERE ended_at IS NULL;

-- A row per membership; left_at set when it ends. A user is in at most one live group.
CREATE TABLE group_members (
    group_id    BIGINT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    joined_at   TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
    left_at     TIMESTAMPTZ,
    left_reason TEXT CHECK (left_reason IN ('left', 'removed', 'ended')),
    PRIMARY KEY (group_id, user_id)
);
CREATE UNIQUE INDEX group_members_one_live ON group_members (user_id) WHERE left_at IS NULL;

-- Tracks a member put next, in order (attribution survives a Redis loss).
CREATE TABLE group_queue_adds (
    id       BIGSERIAL PRIMARY KEY,
    group_id BIGINT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id  BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    track_id BIGINT NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
    at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX group_queue_adds_group ON group_queue_adds (group_id, id);

-- Every event made while listening in a group carries the group.
ALTER TABLE listening_events ADD COLUMN group_id BIGINT REFERENCES groups(id) ON DELETE SET NULL;
CREATE INDEX listening_events_group ON listening_events (group_id, id DESC) WHERE group_id IS NOT NULL;
