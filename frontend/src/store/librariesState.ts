// The music servers connected as catalog sources ("Your music library" in the settings):
// the list, the connect form's progress and each library's buttons. State and reducer,
// composed into the app reducer. A password or API key never enters this state.
import type { Library } from '../types';

/** Why a connect failed, in words; `field` is the form field to mark. */
export interface ConnectError {
  code: string;
  title: string;
  detail: string | null;
  field: 'url' | 'username' | 'secret' | null;
}

export interface ConnectState {
  status: 'idle' | 'connecting' | 'connected' | 'failed';
  error: ConnectError | null;
  /** The library the last successful connect added. */
  libraryId: number | null;
}

/** What a library's buttons are doing, and why the last one failed. */
export interface LibraryActionState {
  busy: 'sync' | 'remove' | null;
  error: string | null;
}

export interface LibrariesState {
  /** 'unavailable': a server without /api/libraries. */
  status: 'unknown' | 'loading' | 'ready' | 'error' | 'unavailable';
  items: Library[];
  /** Why the list could not be loaded (the items shown are the last ones known). */
  error: string | null;
  connect: ConnectState;
  actions: Record<number, LibraryActionState>;
}

export type LibrariesAction =
  | { type: 'libraries/loading' }
  | { type: 'libraries/loaded'; libraries: Library[] }
  | { type: 'libraries/failed'; message: string }
  | { type: 'libraries/unavailable' }
  | { type: 'libraries/connecting' }
  | { type: 'libraries/connected'; library: Library }
  | { type: 'libraries/connectFailed'; error: ConnectError }
  | { type: 'libraries/busy'; id: number; busy: 'sync' | 'remove' }
  | { type: 'libraries/actionFailed'; id: number; message: string }
  | { type: 'libraries/syncStarted'; id: number }
  | { type: 'libraries/removed'; id: number };

export const initialLibraries: LibrariesState = {
  status: 'unknown',
  items: [],
  error: null,
  connect: { status: 'idle', error: null, libraryId: null },
  actions: {},
};

const IDLE_ACTION: LibraryActionState = { busy: null, error: null };

const emptySync: Library['sync'] = {
  state: 'never',
  running: false,
  songs_done: 0,
  started_at: null,
  last_sync_at: null,
  error: null,
};

function withAction(state: LibrariesState, id: number, next: LibraryActionState): LibrariesState {
  return { ...state, actions: { ...state.actions, [id]: next } };
}

function withoutAction(actions: Record<number, LibraryActionState>, id: number): Record<number, LibraryActionState> {
  if (!(id in actions)) return actions;
  const rest = { ...actions };
  delete rest[id];
  return rest;
}

function upsert(items: Library[], library: Library): Library[] {
  const at = items.findIndex((l) => l.id === library.id);
  if (at < 0) return [...items, library];
  return items.map((l, i) => (i === at ? library : l));
}

export function librariesReducer(state: LibrariesState, action: LibrariesAction): LibrariesState {
  switch (action.type) {
    case 'libraries/loading':
      return state.status === 'unknown' || state.status === 'unavailable' ? { ...state, status: 'loading', error: null } : state;
    case 'libraries/loaded': {
      const items = Array.isArray(action.libraries) ? action.libraries : [];
      const same = state.status === 'ready' && JSON.stringify(items) === JSON.stringify(state.items);
      // A library gone from the list keeps no button state.
      const ids = new Set(items.map((l) => l.id));
      const actions: Record<number, LibraryActionState> = {};
      for (const [id, a] of Object.entries(state.actions)) if (ids.has(Number(id))) actions[Number(id)] = a;
      if (same && Object.keys(actions).length === Object.keys(state.actions).length) return state;
      return { ...state, status: 'ready', items: same ? state.items : items, error: null, actions };
    }
    case 'libraries/failed':
      return { ...state, status: 'error', error: action.message };
    case 'libraries/unavailable':
      return { ...state, status: 'unavailable', items: [], error: null };
    case 'libraries/connecting':
      return { ...state, connect: { status: 'connecting', error: null, libraryId: null } };
    case 'libraries/connected': {
      const lib = action.library;
      // The server starts the first sync in the background as it answers.
      const library: Library =
        lib.sync?.state === 'never' || !lib.sync ? { ...lib, sync: { ...emptySync, ...lib.sync, state: 'syncing', running: true } } : lib;
      return {
        ...state,
        status: state.status === 'unavailable' ? state.status : 'ready',
        items: upsert(state.items, library),
        connect: { status: 'connected', error: null, libraryId: lib.id },
      };
    }
    case 'libraries/connectFailed':
      return { ...state, connect: { status: 'failed', error: action.error, libraryId: null } };
    case 'libraries/busy':
      return withAction(state, action.id, { busy: action.busy, error: null });
    case 'libraries/actionFailed':
      return withAction(state, action.id, { busy: null, error: action.message });
    case 'libraries/syncStarted': {
      const items = state.items.map((l) =>
        l.id === action.id ? { ...l, sync: { ...l.sync, state: 'syncing' as const, running: true, songs_done: 0, error: null } } : l,
      );
      return { ...state, items, actions: { ...state.actions, [action.id]: IDLE_ACTION } };
    }
    case 'libraries/removed':
      return {
        ...state,
        items: state.items.filter((l) => l.id !== action.id),
        actions: withoutAction(state.actions, action.id),
        connect: state.connect.libraryId === action.id ? initialLibraries.connect : state.connect,
      };
    default:
      return state;
  }
}

/** A sync of this library is running. */
export function isSyncing(lib: Library): boolean {
  return !!lib.sync && (lib.sync.running || lib.sync.state === 'syncing');
}

/** Songs of this library still waiting for the analysis of their sound. */
export function analysisPending(lib: Library): number {
  const n = lib.analysis?.pending;
  return typeof n === 'number' && n > 0 ? n : 0;
}

/** Whether the list should be asked again soon: something is syncing or being analysed. */
export function librariesBusy(items: Library[]): boolean {
  return items.some((l) => isSyncing(l) || analysisPending(l) > 0);
}

/** Percent of the songs to analyse that are through (done or failed), or null when none. */
export function analysisPercent(lib: Library): number | null {
  const a = lib.analysis;
  if (!a) return null;
  const total = (a.pending || 0) + (a.done || 0) + (a.failed || 0);
  if (total <= 0) return null;
  return Math.max(0, Math.min(100, Math.floor((100 * ((a.done || 0) + (a.failed || 0))) / total)));
}

export function libraryAction(state: LibrariesState, id: number): LibraryActionState {
  return state.actions[id] ?? IDLE_ACTION;
}
