-- Audio analysis of library songs that have no features (unmatched songs), and which libraries
-- were connected through the HTTP API (every connection to them is checked against the
-- address policy: library_allowed_hosts; see docs/library.md "Which addresses").

-- NULL: not analysed (pending while its track has no audio features and plays from this song);
-- 'done': features written; 'failed': the stream could not be decoded or analysed (retried
-- only when the song changes on the server).
ALTER TABLE library_songs
    ADD COLUMN analysis TEXT CHECK (analysis IN ('done', 'failed')),
    ADD COLUMN analysis_error TEXT;

ALTER TABLE libraries ADD COLUMN guarded BOOLEAN NOT NULL DEFAULT false;
