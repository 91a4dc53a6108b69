// "Your music library": connect a Subsonic-compatible server, list the connected ones (asked
// again every few seconds while one syncs or has songs waiting for their analysis), sync and
// remove them. The password or API key goes from the form straight into the request: it is
// never put in the store, nor kept anywhere in the browser.
import { ApiError } from '../api/client';
import type { ConnectLibraryRequest, Library } from '../types';
import type { Host } from './host';
import { analysisPending, isSyncing, librariesBusy, type ConnectError } from './librariesState';

export const LIBRARY_POLL_MS = 3000;
/** While only an analysis that does not move is waiting, ask less and less often, up to this. */
const LIBRARY_SLOW_POLL_MS = 30_000;

export class LibrariesController {
  private watchers = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private loading: Promise<void> | null = null;
  private again = false;
  private delay: number;
  private lastProgress = '';
  private disposed = false;

  constructor(
    private readonly host: Host,
    private readonly pollMs = LIBRARY_POLL_MS,
    /** Called when what the catalog can play may have changed (a sync ended, a library went). */
    private readonly onCatalogChanged: () => void = () => undefined,
  ) {
    this.delay = pollMs;
  }

  /** The settings section is shown: load the list (and keep it fresh). Returns the unwatch. */
  watch(): () => void {
    this.watchers += 1;
    if (this.watchers === 1) void this.refresh();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.watchers = Math.max(0, this.watchers - 1);
      if (this.watchers === 0) this.clearTimer();
    };
  }

  /** Ask for the list now (one request at a time; a second ask runs once the first ends). */
  refresh(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.clearTimer();
    this.loading = this.load().finally(() => {
      this.loading = null;
      if (this.again && !this.disposed) {
        this.again = false;
        void this.refresh();
      }
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    const { dispatch, getState } = this.host.store;
    dispatch({ type: 'libraries/loading' });
    const before = getState().libraries.items;
    try {
      const r = await this.host.api.libraries();
      if (this.disposed) return;
      const items = Array.isArray(r?.libraries) ? r.libraries : [];
      dispatch({ type: 'libraries/loaded', libraries: items });
      if (syncEnded(before, items)) this.onCatalogChanged();
      this.schedule(items);
    } catch (err) {
      if (this.disposed) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
        dispatch({ type: 'libraries/unavailable' });
        return;
      }
      dispatch({ type: 'libraries/failed', message: `Could not load your libraries: ${(err as Error).message}` });
      // Keep following a sync through a blip; otherwise wait for the listener's retry.
      if (librariesBusy(before)) this.schedule(before, true);
    }
  }

  private schedule(items: Library[], failed = false): void {
    this.clearTimer();
    if (this.disposed || this.watchers === 0 || !librariesBusy(items)) {
      this.delay = this.pollMs;
      this.lastProgress = '';
      return;
    }
    const progress = items
      .map((l) => `${l.id}:${l.sync?.songs_done ?? ''}:${l.analysis?.pending}:${l.analysis?.done}:${l.analysis?.failed}`)
      .join('|');
    const moving = items.some(isSyncing) || progress !== this.lastProgress;
    this.delay = moving && !failed ? this.pollMs : Math.min(this.delay * 2, LIBRARY_SLOW_POLL_MS);
    this.lastProgress = progress;
    this.timer = setTimeout(() => void this.refresh(), this.delay);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** POST /api/libraries. Resolves true when the library is connected (its first sync then runs). */
  async connect(request: ConnectLibraryRequest): Promise<boolean> {
    const { dispatch } = this.host.store;
    dispatch({ type: 'libraries/connecting' });
    try {
      const r = await this.host.api.addLibrary(request);
      if (this.disposed) return false;
      dispatch({ type: 'libraries/connected', library: r.library });
      this.onCatalogChanged();
      void this.refresh();
      return true;
    } catch (err) {
      if (this.disposed) return false;
      dispatch({ type: 'libraries/connectFailed', error: explainConnectError(err) });
      if (err instanceof ApiError && err.code === 'library_exists') void this.refresh();
      return false;
    }
  }

  /** POST /api/libraries/<id>/sync: new, changed and removed songs. */
  async sync(id: number): Promise<void> {
    const { dispatch } = this.host.store;
    dispatch({ type: 'libraries/busy', id, busy: 'sync' });
    try {
      await this.host.api.syncLibrary(id);
      dispatch({ type: 'libraries/syncStarted', id });
    } catch (err) {
      if (err instanceof ApiError && err.code === 'sync_running') dispatch({ type: 'libraries/syncStarted', id });
      else if (err instanceof ApiError && err.status === 404) dispatch({ type: 'libraries/removed', id });
      else dispatch({ type: 'libraries/actionFailed', id, message: explainActionError(err, 'sync') });
    }
    if (!this.disposed) await this.refresh();
  }

  /** DELETE /api/libraries/<id>: its tracks keep their history and tags, and lose their sound. */
  async remove(id: number): Promise<void> {
    const { dispatch } = this.host.store;
    dispatch({ type: 'libraries/busy', id, busy: 'remove' });
    try {
      await this.host.api.removeLibrary(id);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) {
        dispatch({ type: 'libraries/actionFailed', id, message: explainActionError(err, 'remove') });
        return;
      }
    }
    dispatch({ type: 'libraries/removed', id });
    this.onCatalogChanged();
  }

  dispose(): void {
    this.disposed = true;
    this.watchers = 0;
    this.clearTimer();
  }
}

/** A sync that was running is over, or a library went: the catalog may have changed. */
function syncEnded(before: Library[], after: Library[]): boolean {
  const now = new Map(after.map((l) => [l.id, l]));
  return before.some((l) => {
    const next = now.get(l.id);
    return !next || (isSyncing(l) && !isSyncing(next)) || (analysisPending(l) > 0 && analysisPending(next) === 0);
  });
}

/** "the library server refused the credentials" → "The library server refused the credentials." */
function sentence(message: string | null | undefined): string | null {
  const m = (message ?? '').trim();
  if (!m) return null;
  const s = m[0].toUpperCase() + m.slice(1);
  return /[.!?]$/.test(s) ? s : `${s}.`;
}

/** Which field a `validation_error` ("url: String should match pattern …") is about. */
function invalidField(message: string): ConnectError['field'] {
  const where = message.split(':', 1)[0].trim();
  if (where === 'url') return 'url';
  if (where === 'username') return 'username';
  if (where === 'password' || where === 'api_key') return 'secret';
  return null;
}

const FIELD_HINTS: Record<'url' | 'username' | 'secret', string> = {
  url: "Enter the server's full address, starting with http:// or https:// (up to 500 characters).",
  username: 'Enter the username you log in to the music server with (up to 200 characters).',
  secret: 'Enter the password or the API key (up to 500 characters).',
};

/** A failed POST /api/libraries in words: what went wrong, and what to do about it. */
export function explainConnectError(err: unknown): ConnectError {
  if (!(err instanceof ApiError)) {
    return { code: 'unknown', title: 'Could not connect the library.', detail: sentence((err as Error)?.message), field: null };
  }
  const said = sentence(err.message);
  const e = (title: string, detail: string | null, field: ConnectError['field'] = null): ConnectError => ({
    code: err.code,
    title,
    detail,
    field,
  });
  switch (err.code) {
    case 'library_auth_failed':
      return e(
        'The music server did not accept this username and password (or API key).',
        `Check them and try again.${said ? ` The server said: ${said}` : ''}`,
        'secret',
      );
    case 'library_address_refused':
      // The message says why and how an administrator can connect it anyway.
      return e("This musicrec server's policy does not allow connecting that address.", said, 'url');
    case 'invalid_library_url':
      return e(
        'That is not a server address the player can use.',
        `${said ? `${said} ` : ''}Use the full address, such as https://music.example.org.`,
        'url',
      );
    case 'validation_error': {
      const field = invalidField(err.message);
      return e('Some of the details are not valid.', field ? FIELD_HINTS[field] : said, field);
    }
    case 'library_exists':
      return e('This library is already connected.', said, 'url');
    case 'library_unreachable':
      return e(
        'Could not reach the music server.',
        `Check the address, and that the server is running and can be reached from the musicrec server.${said ? ` (${said})` : ''}`,
        'url',
      );
    case 'library_bad_answer':
      return e(
        'The server at that address did not answer like a Subsonic server.',
        `Check that it is the server's base address (for Jellyfin: with its Subsonic plugin on).${said ? ` (${said})` : ''}`,
        'url',
      );
    case 'library_error':
      return e('The music server answered with an error.', said, null);
    case 'network_error':
      return e('Cannot reach musicrec right now.', 'Check your connection and try again.');
    case 'rate_limited':
      return e('Too many attempts.', said);
    default:
      if (err.status === 404 || err.status === 405) return e('This server cannot connect music libraries.', null);
      return e('Could not connect the library.', said);
  }
}

function explainActionError(err: unknown, what: 'sync' | 'remove'): string {
  if (err instanceof ApiError && (err.code === 'not_your_library' || err.status === 403)) {
    return `Only the listener who connected this library may ${what} it.`;
  }
  const said = sentence((err as Error)?.message) ?? '';
  return `${what === 'sync' ? 'Could not start a sync' : 'Could not remove it'}: ${said || 'please try again.'}`;
}
