import { useState } from 'react';
import { formatWhen } from '../lib/format';
import { useController } from '../store/controller';
import { analysisPercent, isSyncing, libraryAction } from '../store/librariesState';
import { useAppState } from '../store/store';
import type { Library } from '../types';

const count = (n: number | null | undefined) => (typeof n === 'number' && n > 0 ? n : 0).toLocaleString('en-US');
const plural = (n: number, one: string, many: string) => `${count(n)} ${n === 1 ? one : many}`;

/** "music.example.org" for "https://music.example.org/navidrome". */
function hostOf(url: string): string {
  try {
    return new URL(url).host || url;
  } catch {
    return url;
  }
}

function SyncLine({ lib }: { lib: Library }) {
  const sync = lib.sync;
  if (isSyncing(lib)) {
    return (
      <div className="library__progress" data-testid="library-sync" data-state="syncing">
        <span className="small">Syncing… {plural(sync.songs_done ?? 0, 'song', 'songs')} so far</span>
        <progress aria-label={`Sync of ${hostOf(lib.url)}`} />
      </div>
    );
  }
  if (sync?.state === 'failed') {
    return (
      <p className="small library__warn" data-testid="library-sync" data-state="failed">
        The last sync failed{sync.error ? `: ${sync.error}` : '.'}
      </p>
    );
  }
  return (
    <p className="small muted" data-testid="library-sync" data-state={sync?.state ?? 'never'}>
      {sync?.last_sync_at ? `Last synced ${formatWhen(sync.last_sync_at)}` : 'Not synced yet'}
    </p>
  );
}

function AnalysisLine({ lib }: { lib: Library }) {
  const pct = analysisPercent(lib);
  if (pct === null) return null;
  const { pending = 0, done = 0, failed = 0 } = lib.analysis;
  const total = pending + done + failed;
  const refused = failed > 0 ? ` (${plural(failed, 'song', 'songs')} could not be analysed)` : '';
  if (pending === 0) {
    return (
      <p className="small muted" data-testid="library-analysis" data-percent={pct}>
        Sound analysed: {plural(done, 'song', 'songs')}
        {refused}
      </p>
    );
  }
  return (
    <div className="library__progress" data-testid="library-analysis" data-percent={pct}>
      <span className="small">
        Analysing the sound: {count(done + failed)} of {plural(total, 'song', 'songs')}
        {refused}
      </span>
      <progress max={100} value={pct} aria-label={`Sound analysis of ${hostOf(lib.url)}`} />
    </div>
  );
}

function LibraryButtons({ lib }: { lib: Library }) {
  const c = useController();
  const action = useAppState((s) => libraryAction(s.libraries, lib.id));
  const [confirming, setConfirming] = useState(false);
  if (!lib.owned) return null;
  const busy = action.busy !== null;
  if (confirming) {
    return (
      <div className="library__confirm" role="group" aria-label="Remove this library?" data-testid="library-confirm">
        <span className="small">Remove it? Its tracks keep their history and lose their sound.</span>
        <div className="row gap">
          <button
            type="button"
            className="btn btn--small btn--danger"
            disabled={busy}
            onClick={() => {
              setConfirming(false);
              void c.libraries.remove(lib.id);
            }}
            data-testid="library-remove-confirm"
          >
            Remove
          </button>
          <button type="button" className="btn btn--small btn--ghost" onClick={() => setConfirming(false)} data-testid="library-remove-cancel">
            Cancel
          </button>
        </div>
      </div>
    );
  }
  return (
    <div className="row gap">
      <button
        type="button"
        className="btn btn--small"
        disabled={busy || isSyncing(lib)}
        onClick={() => void c.libraries.sync(lib.id)}
        data-testid="library-sync-now"
      >
        {action.busy === 'sync' ? 'Starting…' : 'Sync now'}
      </button>
      <button
        type="button"
        className="btn btn--small btn--ghost"
        disabled={busy}
        onClick={() => setConfirming(true)}
        data-testid="library-remove"
      >
        {action.busy === 'remove' ? 'Removing…' : 'Remove'}
      </button>
    </div>
  );
}

function LibraryItem({ lib }: { lib: Library }) {
  const error = useAppState((s) => libraryAction(s.libraries, lib.id).error);
  const online = lib.status !== 'offline';
  return (
    <li className="library" data-testid="library-item" data-library-id={lib.id} data-status={lib.status}>
      <div className="row between">
        <strong className="library__name" data-testid="library-name">
          {hostOf(lib.url)}
        </strong>
        <span className={`pill ${online ? 'pill--complete' : 'pill--dislike'}`} data-testid="library-status">
          {online ? 'Online' : 'Offline'}
        </span>
      </div>
      <p className="small muted library__url" data-testid="library-url-text">
        {lib.url}
        {lib.server_type ? ` · ${lib.server_type}` : ''}
        {lib.username ? ` · ${lib.username}` : ''}
      </p>
      {!online && (
        <p className="small library__warn" data-testid="library-offline">
          Its tracks cannot play until it is back{lib.last_error ? `: ${lib.last_error}` : '.'}
        </p>
      )}
      <p className="small" data-testid="library-tracks">
        {plural(lib.tracks, 'track', 'tracks')}
      </p>
      <SyncLine lib={lib} />
      <AnalysisLine lib={lib} />
      {error && (
        <p className="field-error small" role="alert" data-testid="library-action-error">
          {error}
        </p>
      )}
      <LibraryButtons lib={lib} />
    </li>
  );
}

/** The connected libraries: status, tracks, sync and analysis progress, and the owner's buttons. */
export function LibraryList() {
  const c = useController();
  const { status, items, error } = useAppState((s) => s.libraries);
  return (
    <div className="libraries" data-testid="library-list" data-status={status}>
      {status === 'loading' && <p className="small muted">Loading your libraries…</p>}
      {error && (
        <p className="field-error small" role="alert" data-testid="library-list-error">
          {error}{' '}
          <button type="button" className="btn btn--small btn--ghost" onClick={() => void c.libraries.refresh()} data-testid="library-list-retry">
            Retry
          </button>
        </p>
      )}
      {status === 'ready' && items.length === 0 && (
        <p className="small muted" data-testid="library-empty">
          No library connected yet.
        </p>
      )}
      {items.length > 0 && (
        <ul className="library-list" aria-label="Connected libraries">
          {items.map((lib) => (
            <LibraryItem key={lib.id} lib={lib} />
          ))}
        </ul>
      )}
    </div>
  );
}
