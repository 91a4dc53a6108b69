import { useCallback, useMemo } from 'react';
import { useController } from '../store/controller';
import { nothingPlayable } from '../store/libraryState';
import { useAppState } from '../store/store';
import type { Track } from '../types';
import { NothingPlayable } from './CatalogNotice';
import { TrackActions } from './TrackActions';
import { TrackRow } from './TrackRow';

function EmptyQueue() {
  const catalog = useAppState((s) => s.library.catalog);
  const includeUnplayable = useAppState((s) => s.library.settings.includeUnplayable);
  const nowPlaying = useAppState((s) => s.nowPlaying);
  if (catalog.state === 'loading') {
    return (
      <p className="muted" data-testid="queue-empty">
        The catalog is still loading: your queue fills in as soon as it is ready.
      </p>
    );
  }
  // The catalog notice above already says so when nothing in the catalog can play; here:
  // the catalog has playable tracks, yet none is left for this queue.
  if (!nowPlaying && !includeUnplayable && catalog.state === 'ready' && !nothingPlayable(catalog)) {
    return (
      <div data-testid="queue-empty">
        <NothingPlayable scope="queue" />
      </div>
    );
  }
  return (
    <p className="muted" data-testid="queue-empty">
      The queue is empty. Pick a mood to fill it.
    </p>
  );
}

/** The live queue from the server. Rows are keyed by track id: unchanged ones stay put, new ones animate in. */
export function Queue() {
  const c = useController();
  const queue = useAppState((s) => s.queue);
  const newIdList = useAppState((s) => s.queueNewIds);
  const seq = useAppState((s) => s.queueSeq);
  const reason = useAppState((s) => s.queueReason);
  const inMix = useAppState((s) => s.source.kind === 'mix');
  const newIds = useMemo(() => new Set(newIdList), [newIdList]);
  const playNow = useCallback((t: Track) => c.playNow(t), [c]);

  return (
    <section className="panel queue" aria-labelledby="queue-heading" data-testid="queue" data-queue-seq={seq ?? ''}>
      <div className="panel__head">
        <h2 id="queue-heading">Up next</h2>
        <span className="muted small">{queue.length ? `${queue.length} tracks` : ''}</span>
      </div>
      {inMix && <p className="muted small">Playing your Quick Mix; the live queue continues after it.</p>}
      {reason && (
        <p className="queue__reason small" data-testid="queue-reason">
          {reason}
        </p>
      )}
      <div className="visually-hidden" aria-live="polite">
        {newIdList.length ? `Queue updated: ${newIdList.length} new ${newIdList.length === 1 ? 'track' : 'tracks'}` : ''}
      </div>
      {seq === null ? (
        <p className="muted" data-testid="queue-empty">
          Waiting for your queue…
        </p>
      ) : queue.length === 0 ? (
        <EmptyQueue />
      ) : (
        <ol className="track-list" aria-label="Upcoming tracks">
          {queue.map((t, i) => (
            <TrackRow
              key={t.id}
              track={t}
              index={i}
              isNew={newIds.has(t.id)}
              testId="queue-item"
              onActivate={playNow}
              actions={<TrackActions track={t} />}
            />
          ))}
        </ol>
      )}
    </section>
  );
}
