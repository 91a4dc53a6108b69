import type { MouseEvent } from 'react';
import { catalogPercent, nothingPlayable } from '../store/libraryState';
import { useAppState } from '../store/store';
import { LIBRARY_URL_INPUT_ID } from './LibraryConnectForm';
import { LIBRARY_SECTION_ID } from './LibrarySection';

/** To "Your music library" in the settings: scroll there and put the cursor in the address field. */
function goToLibrary(e: MouseEvent<HTMLAnchorElement>) {
  const section = document.getElementById(LIBRARY_SECTION_ID);
  if (!section) return; // the plain link still works
  e.preventDefault();
  section.scrollIntoView?.({ behavior: 'smooth', block: 'start' });
  document.getElementById(LIBRARY_URL_INPUT_ID)?.focus({ preventScroll: true });
}

/** What to do when nothing here can play: the next steps, in plain words. */
export function NothingPlayable({ scope }: { scope: 'catalog' | 'queue' }) {
  const empty = useAppState((s) => s.library.catalog.state === 'empty');
  // A server without the libraries API: only its administrator can connect one.
  const viaCli = useAppState((s) => s.libraries.status === 'unavailable');
  const headline =
    scope === 'queue'
      ? 'Nothing in your queue can play here.'
      : empty
        ? 'The catalog is empty: nothing can play here.'
        : 'Nothing in the catalog can play here.';
  return (
    <div className="banner banner--warn" data-testid="nothing-playable" data-scope={scope}>
      <strong>{headline}</strong>
      <p className="small">
        {scope === 'queue'
          ? 'This server has no audio for what would come next.'
          : 'This server has no audio for any of its tracks.'}{' '}
        To hear music here:
      </p>
      <ul className="small steps">
        <li>
          import your audio folder: <code>musicrec import audio ~/Music</code>
        </li>
        {viaCli ? (
          <li>
            or connect your music library (a Subsonic server):{' '}
            <code>musicrec library add subsonic URL --user NAME</code>
          </li>
        ) : (
          <li>
            or connect your music library (Navidrome, Jellyfin or any Subsonic server) in{' '}
            <a href={`#${LIBRARY_SECTION_ID}`} onClick={goToLibrary} data-testid="connect-library-link">
              Settings › Your music library
            </a>
            .
          </li>
        )}
      </ul>
    </div>
  );
}

/** The catalog's state: its load progress, or that nothing in it can play here. */
export function CatalogNotice() {
  const catalog = useAppState((s) => s.library.catalog);
  if (catalog.state === 'loading') {
    const pct = catalogPercent(catalog);
    const what = catalog.phase === 'reindexing' ? 'Rebuilding the catalog index…' : 'Loading the catalog…';
    return (
      <div className="banner" role="status" data-testid="catalog-loading" data-percent={pct ?? ''}>
        <strong>
          {what}
          {pct !== null ? ` ${pct}%` : ''}
        </strong>
        <progress max={100} value={pct ?? undefined} aria-label="Catalog loaded" />
        <span className="small muted">Your queue fills in by itself as soon as it is ready.</span>
      </div>
    );
  }
  if (catalog.state === 'unavailable') {
    return (
      <div className="banner banner--warn" role="status" data-testid="catalog-unavailable">
        <strong>The catalog is unavailable right now.</strong>
        <span className="small muted">The server cannot open its index; this page retries by itself.</span>
      </div>
    );
  }
  if (nothingPlayable(catalog)) return <NothingPlayable scope="catalog" />;
  return null;
}
