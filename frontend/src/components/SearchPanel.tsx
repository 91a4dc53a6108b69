import { useCallback } from 'react';
import { useController } from '../store/controller';
import { useAppState } from '../store/store';
import type { Track } from '../types';
import { TrackActions } from './TrackActions';
import { TrackRow } from './TrackRow';

export const SEARCH_INPUT_ID = 'track-search';

/** Search the catalog (as you type); play a result now or see more like it. */
export function SearchPanel() {
  const c = useController();
  const search = useAppState((s) => s.browse.search);
  const playNow = useCallback((t: Track) => c.playNow(t), [c]);
  const active = search.query.trim() !== '';

  return (
    <section className="panel search" aria-labelledby="search-heading" data-testid="search-panel">
      <div className="panel__head">
        <h2 id="search-heading">Search</h2>
        {search.status === 'loading' && <span className="muted small" data-testid="search-loading">Searching…</span>}
      </div>
      <form
        className="search__form"
        role="search"
        aria-label="Search tracks"
        onSubmit={(e) => {
          e.preventDefault();
          void c.browse.searchNow(search.query);
        }}
      >
        <label htmlFor={SEARCH_INPUT_ID} className="visually-hidden">
          Search tracks by title, artist or words
        </label>
        <input
          id={SEARCH_INPUT_ID}
          type="search"
          value={search.query}
          maxLength={200}
          autoComplete="off"
          placeholder="Title, artist or words  ( S )"
          onChange={(e) => c.browse.search(e.target.value)}
          data-testid="search-input"
        />
      </form>
      {active && search.error && (
        <p className="field-error" role="alert" data-testid="search-error">
          {search.error}
        </p>
      )}
      {active && search.message && (
        <p className="muted" role="status" data-testid="search-message">
          {search.message}
        </p>
      )}
      {active && search.tracks.length > 0 && (
        <ol className="track-list" aria-label="Search results" data-testid="search-results">
          {search.tracks.map((t) => (
            <TrackRow key={t.id} track={t} testId="search-result" onActivate={playNow} actions={<TrackActions track={t} />} />
          ))}
        </ol>
      )}
    </section>
  );
}
