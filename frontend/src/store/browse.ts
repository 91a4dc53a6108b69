// Search (debounced, the newest query wins) and "more like this".
import type { Track } from '../types';
import type { Host } from './host';

export const SEARCH_DEBOUNCE_MS = 250;
export const SEARCH_LIMIT = 20;
export const SIMILAR_LIMIT = 10;

const isAbort = (err: unknown) => (err as Error)?.name === 'AbortError';

export class BrowseController {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private searching: AbortController | null = null;
  private similarReq: AbortController | null = null;

  constructor(
    private readonly host: Host,
    private readonly debounceMs = SEARCH_DEBOUNCE_MS,
  ) {}

  /** The search box changed: ask the server once typing pauses. */
  search(query: string): void {
    this.host.store.dispatch({ type: 'search/query', query });
    this.cancelSearch();
    if (!query.trim()) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run(query);
    }, this.debounceMs);
  }

  /** Search now (Enter), without waiting for the debounce. */
  searchNow(query: string): Promise<void> {
    this.host.store.dispatch({ type: 'search/query', query });
    this.cancelSearch();
    return query.trim() ? this.run(query) : Promise.resolve();
  }

  private async run(query: string): Promise<void> {
    const q = query.trim();
    const ac = new AbortController();
    this.searching = ac;
    const { dispatch } = this.host.store;
    dispatch({ type: 'search/loading', query });
    try {
      const r = await this.host.api.search(q, SEARCH_LIMIT, ac.signal);
      const tracks = r?.tracks ?? [];
      const message = r?.message || (tracks.length ? null : `Nothing matches “${q}”`);
      dispatch({ type: 'search/loaded', query, tracks, message });
    } catch (err) {
      if (!isAbort(err)) dispatch({ type: 'search/failed', query, error: (err as Error).message });
    } finally {
      if (this.searching === ac) this.searching = null;
    }
  }

  /** Show tracks like `track`. */
  async similar(track: Track): Promise<void> {
    this.similarReq?.abort();
    const ac = new AbortController();
    this.similarReq = ac;
    const { dispatch } = this.host.store;
    dispatch({ type: 'similar/loading', seed: track });
    try {
      const r = await this.host.api.similar(track.id, SIMILAR_LIMIT, ac.signal);
      dispatch({ type: 'similar/loaded', seedId: track.id, tracks: (r?.tracks ?? []).filter((t) => t.id !== track.id) });
    } catch (err) {
      if (!isAbort(err)) dispatch({ type: 'similar/failed', seedId: track.id, error: (err as Error).message });
    } finally {
      if (this.similarReq === ac) this.similarReq = null;
    }
  }

  closeSimilar(): void {
    this.similarReq?.abort();
    this.similarReq = null;
    this.host.store.dispatch({ type: 'similar/close' });
  }

  private cancelSearch(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.searching?.abort();
    this.searching = null;
  }

  dispose(): void {
    this.cancelSearch();
    this.similarReq?.abort();
    this.similarReq = null;
  }
}
