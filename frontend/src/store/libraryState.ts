// What the server's catalog can offer (its load progress, whether anything can play here)
// and the listener's server-side settings: state and reducer (composed into the app reducer).
import type { CatalogStatus } from '../types';

export interface CatalogState {
  /** 'unknown': not asked yet, or a server without /api/catalog/status. */
  state: 'unknown' | CatalogStatus['state'];
  tracks: number;
  playable: number;
  loaded: number;
  total: number;
  phase: 'loading' | 'reindexing';
}

export interface SettingsState {
  /** 'unavailable': the server has no settings API (or it failed to load). */
  status: 'unknown' | 'ready' | 'saving' | 'unavailable';
  includeUnplayable: boolean;
}

export interface LibraryState {
  catalog: CatalogState;
  settings: SettingsState;
}

export type LibraryAction =
  | { type: 'catalog/status'; status: CatalogStatus }
  | { type: 'catalog/unknown' }
  | { type: 'settings/loaded'; includeUnplayable: boolean }
  | { type: 'settings/saving'; includeUnplayable: boolean }
  | { type: 'settings/unavailable' };

export const initialLibrary: LibraryState = {
  catalog: { state: 'unknown', tracks: 0, playable: 0, loaded: 0, total: 0, phase: 'loading' },
  settings: { status: 'unknown', includeUnplayable: false },
};

const count = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) && x > 0 ? Math.floor(x) : 0);

export function libraryReducer(state: LibraryState, action: LibraryAction): LibraryState {
  switch (action.type) {
    case 'catalog/status': {
      const s = action.status;
      const known = s.state === 'loading' || s.state === 'ready' || s.state === 'empty' || s.state === 'unavailable';
      const catalog: CatalogState = {
        state: known ? s.state : 'unknown',
        tracks: count(s.tracks),
        playable: count(s.playable),
        loaded: count(s.loaded),
        total: count(s.total),
        phase: s.phase === 'reindexing' ? 'reindexing' : 'loading',
      };
      const c = state.catalog;
      const same = (Object.keys(catalog) as Array<keyof CatalogState>).every((k) => c[k] === catalog[k]);
      if (same) return state;
      return { ...state, catalog };
    }
    case 'catalog/unknown':
      return state.catalog.state === 'unknown' ? state : { ...state, catalog: initialLibrary.catalog };
    case 'settings/loaded':
      return { ...state, settings: { status: 'ready', includeUnplayable: action.includeUnplayable } };
    case 'settings/saving':
      return { ...state, settings: { status: 'saving', includeUnplayable: action.includeUnplayable } };
    case 'settings/unavailable':
      return { ...state, settings: { ...state.settings, status: 'unavailable' } };
    default:
      return state;
  }
}

/** Percent of a catalog load done (0..100), or null when the total is unknown. */
export function catalogPercent(c: CatalogState): number | null {
  if (c.total <= 0) return null;
  return Math.max(0, Math.min(100, Math.floor((100 * c.loaded) / c.total)));
}

/** True when the server says nothing it has can play here. */
export function nothingPlayable(c: CatalogState): boolean {
  return c.state === 'empty' || (c.state === 'ready' && c.playable === 0);
}
