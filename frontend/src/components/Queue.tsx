import { useMemo } from 'react';
import { useAppState } from '../store/store';
import { TrackRow } from './TrackRow';

/** The live queue from the server. Rows are keyed by track id: unchanged ones stay put, new ones animate in. */
export function Queue() {
  const queue = useAppState((s) => s.queue);
  const newIdList = useAppState((s) => s.queueNewIds);
  const seq = useAppState((s) => s.queueSeq);
  const reason = useAppState((s) => s.queueReason);
  const inMix = useAppState((s) => s.source.kind === 'mix');
  const newIds = useMemo(() => new Set(newIdList), [newIdList]);

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
        <p className="muted" data-testid="queue-empty">
          The queue is empty. Pick a mood to fill it.
        </p>
      ) : (
        <ol className="track-list" aria-label="Upcoming tracks">
          {queue.map((t, i) => (
            <TrackRow key={t.id} track={t} index={i} isNew={newIds.has(t.id)} testId="queue-item" />
          ))}
        </ol>
      )}
    </section>
  );
}
