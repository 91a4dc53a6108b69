// Search results and "more like this": state and reducer (composed into the app reducer).
import type { Track } from '../types';

export type LoadStatus = 'idle' | 'loading' | 'ready' | 'error';

export interface SearchState {
  /** What the box holds (results may still be for an older query while loading). */
  query: string;
  status: LoadStatus;
  tracks: Track[];
  /** The server's words when little or nothing matched. */
  message: string | null;
  error: string | null;
}

export interface SimilarState {
  seed: Track | null;
  status: LoadStatus;
  tracks: Track[];
  error: string | null;
}

export interface BrowseState {
  search: SearchState;
  similar: SimilarState;
}

export type BrowseAction =
  | { type: 'search/query'; query: string }
  | { type: 'search/loading'; query: string }
  | { type: 'search/loaded'; query: string; tracks: Track[]; message: string | null }
  | { type: 'search/failed'; query: string; error: string }
  | { type: 'similar/loading'; seed: Track }
  | { type: 'similar/loaded'; seedId: number; tracks: Track[] }
  | { type: 'similar/failed'; seedId: number; error: string }
  | { type: 'similar/close' };

export const initialBrowse: BrowseState = {
  search: { query: '', status: 'idle', tracks: [], message: null, error: null },
  similar: { seed: null, status: 'idle', tracks: [], error: null },
};

export function browseReducer(state: BrowseState, action: BrowseAction): BrowseState {
  const { search, similar } = state;
  switch (action.type) {
    case 'search/query':
      return action.query.trim()
        ? { ...state, search: { ...search, query: action.query } }
        : { ...state, search: { ...initialBrowse.search, query: action.query } };
    case 'search/loading':
      return action.query !== search.query ? state : { ...state, search: { ...search, status: 'loading', error: null } };
    case 'search/loaded':
      if (action.query !== search.query) return state;
      return { ...state, search: { ...search, status: 'ready', tracks: action.tracks, message: action.message, error: null } };
    case 'search/failed':
      if (action.query !== search.query) return state;
      return { ...state, search: { ...search, status: 'error', tracks: [], message: null, error: action.error } };
    case 'similar/loading':
      return { ...state, similar: { seed: action.seed, status: 'loading', tracks: [], error: null } };
    case 'similar/loaded':
      if (similar.seed?.id !== action.seedId) return state;
      return { ...state, similar: { ...similar, status: 'ready', tracks: action.tracks, error: null } };
    case 'similar/failed':
      if (similar.seed?.id !== action.seedId) return state;
      return { ...state, similar: { ...similar, status: 'error', tracks: [], error: action.error } };
    case 'similar/close':
      return { ...state, similar: initialBrowse.similar };
    default:
      return state;
  }
}
