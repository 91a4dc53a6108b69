import { useCallback, useEffect, useRef } from 'react';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';
import type { Track } from '../types';
import { TrackActions } from './TrackActions';
import { TrackRow } from './TrackRow';

/** "More like this": tracks near the chosen one, each playable now (or open elsewhere). */
export function SimilarPanel() {
  const c = useController();
  const similar = useAppState((s) => s.browse.similar);
  const heading = useRef<HTMLHeadingElement>(null);
  const playNow = useCallback((t: Track) => c.playNow(t), [c]);
  const seedId = similar.seed?.id;

  // Take the listener to the list they asked for.
  useEffect(() => {
    if (seedId !== undefined) heading.current?.focus();
  }, [seedId]);

  if (!similar.seed) return null;
  return (
    <section className="panel similar" aria-labelledby="similar-heading" data-testid="similar-panel" data-seed-id={similar.seed.id}>
      <div className="panel__head">
        <h2 id="similar-heading" ref={heading} tabIndex={-1}>
          More like “{similar.seed.title}”
        </h2>
        <button
          type="button"
          className="btn btn--small btn--ghost"
          onClick={() => c.browse.closeSimilar()}
          aria-label="Close more like this"
          data-testid="similar-close"
        >
          Close
        </button>
      </div>
      {similar.status === 'loading' && <p className="muted small">Finding similar tracks…</p>}
      {similar.status === 'error' && (
        <p className="field-error" role="alert" data-testid="similar-error">
          {similar.error}
        </p>
      )}
      {similar.status === 'ready' && similar.tracks.length === 0 && (
        <p className="muted" data-testid="similar-empty">
          Nothing similar found.
        </p>
      )}
      {similar.tracks.length > 0 && (
        <ol className="track-list" aria-label={`Tracks like ${similar.seed.title}`}>
          {similar.tracks.map((t) => (
            <TrackRow key={t.id} track={t} testId="similar-item" onActivate={playNow} actions={<TrackActions track={t} />} />
          ))}
        </ol>
      )}
    </section>
  );
}
