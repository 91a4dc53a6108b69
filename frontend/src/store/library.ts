// The catalog's state (polled while it loads) and the listener's server-side settings.
import { ApiError } from '../api/client';
import type { Host } from './host';

export const CATALOG_POLL_MS = 1000;
const CATALOG_RETRY_MS = 5000;
const RECHECK_MIN_INTERVAL_MS = 5000;

export class LibraryController {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private polling = false;
  private unsupported = false;
  private lastCheck = -Infinity;
  private disposed = false;

  constructor(
    private readonly host: Host,
    private readonly pollMs = CATALOG_POLL_MS,
  ) {}

  /** Ask for the catalog's state, and keep asking every second while it loads. */
  watchCatalog(): void {
    if (this.polling || this.unsupported || this.disposed) return;
    this.polling = true;
    void this.poll();
  }

  /** Something suggests the catalog changed (an empty queue): look again, not too often. */
  recheck(): void {
    if (Date.now() - this.lastCheck < RECHECK_MIN_INTERVAL_MS) return;
    this.watchCatalog();
  }

  private async poll(): Promise<void> {
    this.timer = null;
    this.lastCheck = Date.now();
    let next: number | null = null;
    try {
      const status = await this.host.api.catalogStatus();
      if (this.disposed) return;
      this.host.store.dispatch({ type: 'catalog/status', status });
      if (status?.state === 'loading') next = this.pollMs;
      else if (status?.state === 'unavailable') next = CATALOG_RETRY_MS;
    } catch (err) {
      if (this.disposed) return;
      if (err instanceof ApiError && (err.status === 404 || err.status === 405)) {
        // A server without the status call: say nothing about the catalog.
        this.unsupported = true;
        this.host.store.dispatch({ type: 'catalog/unknown' });
      } else if (this.host.store.getState().library.catalog.state === 'loading') next = CATALOG_RETRY_MS;
    }
    if (next === null) this.polling = false;
    else this.timer = setTimeout(() => void this.poll(), next);
  }

  async loadSettings(): Promise<void> {
    try {
      const r = await this.host.api.settings();
      this.host.store.dispatch({ type: 'settings/loaded', includeUnplayable: !!r?.settings?.include_unplayable });
    } catch {
      this.host.store.dispatch({ type: 'settings/unavailable' });
    }
  }

  /** Remembered server-side; the server then sends every open tab a new queue. */
  async setIncludeUnplayable(value: boolean): Promise<void> {
    const { dispatch, getState } = this.host.store;
    const before = getState().library.settings.includeUnplayable;
    dispatch({ type: 'settings/saving', includeUnplayable: value });
    try {
      const r = await this.host.api.saveSettings({ include_unplayable: value });
      dispatch({ type: 'settings/loaded', includeUnplayable: !!(r?.settings?.include_unplayable ?? value) });
    } catch (err) {
      dispatch({ type: 'settings/loaded', includeUnplayable: before });
      this.host.toast(`Could not save the setting: ${(err as Error).message}`, 'error');
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
