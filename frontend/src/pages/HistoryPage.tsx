import { useCallback, useEffect, useRef, useState } from 'react';
import { Cover } from '../components/Cover';
import { artistLine, formatWhen, historyLabel } from '../lib/format';
import { useController } from '../store/controller';
import type { HistoryEvent } from '../types';

const PAGE = 50;

export function HistoryPage() {
  const c = useController();
  const [events, setEvents] = useState<HistoryEvent[]>([]);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const busy = useRef(false);
  // The cursor as of the last page loaded: an observer made before that page arrived calls a
  // loadMore from then, which must still ask for the next page, not the first one again.
  const cursor = useRef<number | null>(null);
  const finished = useRef(false);

  const loadMore = useCallback(async () => {
    if (busy.current || finished.current) return;
    busy.current = true;
    setLoading(true);
    setError(null);
    try {
      const page = await c.api.history(PAGE, cursor.current);
      const got = page.events ?? [];
      setEvents((prev) => {
        const seen = new Set(prev.map((e) => e.id).filter((id) => typeof id === 'number'));
        return [...prev, ...got.filter((e) => typeof e.id !== 'number' || !seen.has(e.id))];
      });
      const next = page.next_before ?? null;
      cursor.current = next;
      if (next === null || got.length === 0) {
        finished.current = true;
        setDone(true);
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      busy.current = false;
      setLoading(false);
    }
  }, [c]);

  // Load the first page; later pages when the sentinel scrolls into view.
  useEffect(() => {
    if (events.length === 0 && !done && !error) void loadMore();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    const el = sentinel.current;
    if (!el || done || error || typeof IntersectionObserver === 'undefined') return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void loadMore();
      },
      { rootMargin: '400px 0px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [loadMore, done, error, events.length]);

  return (
    <main className="history" id="main" data-testid="history-page">
      <h1>History</h1>
      <p className="muted">How each track went (played through, skipped, liked, disliked), newest first.</p>
      {events.length === 0 && done && !error && (
        <p className="muted" data-testid="history-empty">
          Nothing yet. Play something!
        </p>
      )}
      <ol className="history__list" aria-label="Listening history" data-testid="history-list" aria-busy={loading}>
        {events.map((e, i) => (
          <li key={typeof e.id === 'number' ? e.id : `i${i}`} className="history__item" data-testid="history-item" data-action={e.action} data-track-id={e.track?.id}>
            {e.track && <Cover track={e.track} size={44} className="cover--thumb" decorative />}
            <div className="history__main">
              <div className="track-row__title">{e.track?.title ?? 'Unknown track'}</div>
              <div className="track-row__artists">{artistLine(e.track?.artists)}</div>
            </div>
            <div className="history__side">
              <span className={`pill pill--${e.action}`} data-testid="history-label">
                {historyLabel(e)}
              </span>
              <time dateTime={e.at} className="small muted">
                {formatWhen(e.at)}
              </time>
            </div>
          </li>
        ))}
      </ol>
      {error && (
        <div className="field-error" role="alert">
          {error}{' '}
          <button type="button" className="btn btn--small" onClick={() => void loadMore()}>
            Retry
          </button>
        </div>
      )}
      {!done && !error && (
        <div ref={sentinel} className="history__more" data-testid="history-sentinel">
          {loading ? 'Loading…' : (
            <button type="button" className="btn btn--small btn--ghost" onClick={() => void loadMore()}>
              Load more
            </button>
          )}
        </div>
      )}
      {done && events.length > 0 && <p className="muted small center" data-testid="history-end">That is everything.</p>}
    </main>
  );
}
