// The whole client state and the pure reducer that changes it.
import type { ConnectionState } from '../ws/socket';
import type { QueueFrame } from '../ws/protocol';
import { groupReducer, initialGroup, type GroupAction, type GroupState } from '../groups/groupState';
import type { Filters, Mood, MoodPreset, MoodRequest, Track, User } from '../types';
import { browseReducer, initialBrowse, type BrowseAction, type BrowseState } from './browseState';
import { historyImportReducer, initialHistoryImport, type HistoryImportAction, type HistoryImportState } from './historyImportState';
import { initialLibraries, librariesReducer, type LibrariesAction, type LibrariesState } from './librariesState';
import { initialLibrary, libraryReducer, type LibraryAction, type LibraryState } from './libraryState';

export type PlaybackStatus = 'idle' | 'loading' | 'playing' | 'paused' | 'error';
export type Theme = 'system' | 'light' | 'dark';
/** 'none': taken back (an unlike), which overrides a `liked` flag from the server. */
export type Rating = 'like' | 'dislike' | 'none';

export interface Toast {
  id: number;
  kind: 'info' | 'error';
  message: string;
}

export interface MixState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  id: string | null;
  tracks: Track[];
  cached: boolean;
  error: string | null;
}

export interface RecoState {
  status: 'idle' | 'loading' | 'ready' | 'error';
  tracks: Track[];
  explanation: string | null;
  error: string | null;
}

/** What the player plays: the server's live queue, or a Quick Mix played locally. */
export type Source = { kind: 'queue' } | { kind: 'mix'; index: number };

export interface AppState {
  auth: { status: 'unknown' | 'anonymous' | 'authenticated' | 'unreachable'; user: User | null };
  connection: ConnectionState;
  outboxSize: number;
  moods: MoodPreset[];
  mood: Mood | null;
  moodPending: MoodRequest | null;
  /** Why the last mood change was refused (e.g. words that mean nothing), shown under the text box. */
  moodError: string | null;
  nowPlaying: Track | null;
  queue: Track[];
  queueReason: string | null;
  queueSeq: number | null;
  /** Ids that were not in the previous queue frame: they animate in. */
  queueNewIds: number[];
  source: Source;
  /** A track this tab asked the server to play (a `play` frame) that no queue frame has confirmed yet. */
  pendingPlay: number | null;
  /** Tracks left in this tab, most recent last: what "previous" goes back to. */
  backStack: Track[];
  playback: {
    status: PlaybackStatus;
    /** Whether the listener wants sound (true after pressing play, false after pause). */
    wantsToPlay: boolean;
    trackId: number | null;
    positionMs: number;
    durationMs: number;
    volume: number;
    mediaKind: 'midi' | 'audio' | 'none' | null;
    message: string | null;
  };
  ratings: Record<number, Rating>;
  filters: Filters;
  mix: MixState;
  reco: RecoState;
  browse: BrowseState;
  /** The catalog's state and the server-side settings. */
  library: LibraryState;
  /** The music servers connected as catalog sources ("Your music library"). */
  libraries: LibrariesState;
  /** "Bring your history": the listening-history upload and its report. */
  historyImport: HistoryImportState;
  /** "Listening together": the group followed, if any, and its shared playback. */
  group: GroupState;
  toasts: Toast[];
  theme: Theme;
}

export const BACK_STACK_LIMIT = 50;

export const defaultFilters: Filters = { allowExplicit: true, genre: '', yearMin: null, yearMax: null };

export function initialState(overrides: Partial<AppState> = {}): AppState {
  return {
    auth: { status: 'unknown', user: null },
    connection: { status: 'idle' },
    outboxSize: 0,
    moods: [],
    mood: null,
    moodPending: null,
    moodError: null,
    nowPlaying: null,
    queue: [],
    queueReason: null,
    queueSeq: null,
    queueNewIds: [],
    source: { kind: 'queue' },
    pendingPlay: null,
    backStack: [],
    playback: {
      status: 'idle',
      wantsToPlay: false,
      trackId: null,
      positionMs: 0,
      durationMs: 0,
      volume: 0.8,
      mediaKind: null,
      message: null,
    },
    ratings: {},
    filters: defaultFilters,
    mix: { status: 'idle', id: null, tracks: [], cached: false, error: null },
    reco: { status: 'idle', tracks: [], explanation: null, error: null },
    browse: initialBrowse,
    library: initialLibrary,
    libraries: initialLibraries,
    historyImport: initialHistoryImport,
    group: initialGroup,
    toasts: [],
    theme: 'system',
    ...overrides,
  };
}

export type Action =
  | CoreAction
  | BrowseAction
  | LibraryAction
  | LibrariesAction
  | HistoryImportAction
  | GroupAction;

type CoreAction =
  | { type: 'auth/loggedIn'; user: User; mood: Mood | null }
  | { type: 'auth/loggedOut' }
  | { type: 'auth/unreachable' }
  | { type: 'moods/loaded'; moods: MoodPreset[] }
  | { type: 'connection/state'; state: ConnectionState }
  | { type: 'outbox/size'; size: number }
  | { type: 'ws/queue'; frame: QueueFrame }
  | { type: 'queue/advanceLocal'; fromTrackId: number }
  | { type: 'queue/playLocal'; track: Track }
  | { type: 'play/settled'; trackId: number }
  | { type: 'nav/pushBack'; track: Track }
  | { type: 'nav/popBack' }
  | { type: 'mood/requested'; request: MoodRequest }
  | { type: 'mood/set'; mood: Mood }
  | { type: 'mood/failed'; message?: string | null }
  | { type: 'mood/clearError' }
  | { type: 'playback/wantsToPlay'; value: boolean }
  | { type: 'playback/loading'; trackId: number; mediaKind: 'midi' | 'audio' | 'none'; durationMs: number }
  | { type: 'playback/status'; status: PlaybackStatus; message?: string | null }
  | { type: 'playback/progress'; positionMs: number; durationMs?: number }
  | { type: 'playback/volume'; volume: number }
  | { type: 'playback/stopped' }
  | { type: 'rating/set'; trackId: number; rating: Rating }
  | { type: 'rating/clear'; trackId: number }
  | { type: 'filters/set'; filters: Partial<Filters> }
  | { type: 'mix/loading' }
  | { type: 'mix/loaded'; id: string; tracks: Track[]; cached: boolean }
  | { type: 'mix/failed'; error: string }
  | { type: 'source/set'; source: Source }
  | { type: 'reco/loading' }
  | { type: 'reco/loaded'; tracks: Track[]; explanation: string | null }
  | { type: 'reco/failed'; error: string }
  | { type: 'toast/add'; toast: Toast }
  | { type: 'toast/dismiss'; id: number }
  | { type: 'theme/set'; theme: Theme };

const MAX_TOASTS = 4;

function diffNewIds(prevNow: Track | null, prev: Track[], next: Track[]): number[] {
  const known = new Set(prev.map((t) => t.id));
  if (prevNow) known.add(prevNow.id);
  return next.filter((t) => !known.has(t.id)).map((t) => t.id);
}

/** Keep the same object for a track whose content did not change, so React can skip it. */
function reuse(prev: Track[], next: Track[]): Track[] {
  const byId = new Map(prev.map((t) => [t.id, t]));
  return next.map((t) => {
    const old = byId.get(t.id);
    return old && old.reason === t.reason && old.score === t.score && old.title === t.title ? old : t;
  });
}

export function reducer(state: AppState, action: Action): AppState {
  switch (action.type) {
    case 'auth/loggedIn':
      return { ...state, auth: { status: 'authenticated', user: action.user }, mood: action.mood ?? state.mood };
    case 'auth/loggedOut':
      // Keep preferences (theme, volume, filters, presets) and what the catalog is; drop everything personal.
      return initialState({
        auth: { status: 'anonymous', user: null },
        theme: state.theme,
        filters: state.filters,
        moods: state.moods,
        library: { ...initialLibrary, catalog: state.library.catalog },
        playback: { ...initialState().playback, volume: state.playback.volume },
      });
    case 'auth/unreachable':
      return { ...state, auth: { status: 'unreachable', user: null } };
    case 'moods/loaded':
      return { ...state, moods: action.moods };
    case 'connection/state':
      return { ...state, connection: action.state };
    case 'outbox/size':
      return state.outboxSize === action.size ? state : { ...state, outboxSize: action.size };
    case 'ws/queue': {
      const f = action.frame;
      let serverNow = f.now_playing;
      let serverTracks = f.tracks;
      let pendingPlay = state.pendingPlay;
      if (pendingPlay !== null) {
        if (serverNow?.id === pendingPlay) pendingPlay = null;
        else if (state.nowPlaying?.id === pendingPlay) {
          // A frame sent before the server saw our `play`: keep the chosen track until it confirms.
          serverNow = state.nowPlaying;
          serverTracks = serverTracks.filter((t) => t.id !== pendingPlay);
        }
      }
      const tracks = reuse(state.queue, serverTracks);
      const nowPlaying =
        serverNow && state.nowPlaying && serverNow.id === state.nowPlaying.id ? state.nowPlaying : serverNow;
      const mood = f.mood ?? state.mood;
      const moodPending =
        state.moodPending && f.mood && moodMatches(state.moodPending, f.mood) ? null : state.moodPending;
      return {
        ...state,
        nowPlaying,
        queue: tracks,
        queueReason: f.reason ?? null,
        queueSeq: f.seq,
        queueNewIds: state.queueSeq === null ? [] : diffNewIds(state.nowPlaying, state.queue, tracks),
        mood,
        moodPending,
        pendingPlay,
      };
    }
    case 'queue/advanceLocal': {
      if (!state.nowPlaying || state.nowPlaying.id !== action.fromTrackId) return state;
      const [next, ...rest] = state.queue;
      return { ...state, nowPlaying: next ?? null, queue: rest, queueNewIds: [], pendingPlay: null };
    }
    case 'queue/playLocal': {
      const t = action.track;
      return {
        ...state,
        source: { kind: 'queue' },
        nowPlaying: state.nowPlaying?.id === t.id ? state.nowPlaying : t,
        queue: state.queue.filter((q) => q.id !== t.id),
        queueNewIds: [],
        pendingPlay: t.id,
      };
    }
    case 'play/settled':
      return state.pendingPlay === action.trackId ? { ...state, pendingPlay: null } : state;
    case 'nav/pushBack': {
      if (state.backStack.at(-1)?.id === action.track.id) return state;
      return { ...state, backStack: [...state.backStack, action.track].slice(-BACK_STACK_LIMIT) };
    }
    case 'nav/popBack':
      return state.backStack.length ? { ...state, backStack: state.backStack.slice(0, -1) } : state;
    case 'mood/requested':
      return { ...state, moodPending: action.request, moodError: null };
    case 'mood/set':
      return { ...state, mood: action.mood, moodPending: null, moodError: null };
    case 'mood/failed':
      return { ...state, moodPending: null, moodError: action.message ?? null };
    case 'mood/clearError':
      return state.moodError === null ? state : { ...state, moodError: null };
    case 'playback/wantsToPlay':
      return { ...state, playback: { ...state.playback, wantsToPlay: action.value } };
    case 'playback/loading':
      return {
        ...state,
        playback: {
          ...state.playback,
          status: 'loading',
          trackId: action.trackId,
          mediaKind: action.mediaKind,
          positionMs: 0,
          durationMs: action.durationMs,
          message: null,
        },
      };
    case 'playback/status':
      return {
        ...state,
        playback: {
          ...state.playback,
          status: action.status,
          message: action.message === undefined ? state.playback.message : action.message,
        },
      };
    case 'playback/progress':
      return {
        ...state,
        playback: {
          ...state.playback,
          positionMs: action.positionMs,
          durationMs: action.durationMs ?? state.playback.durationMs,
        },
      };
    case 'playback/volume':
      return { ...state, playback: { ...state.playback, volume: Math.min(1, Math.max(0, action.volume)) } };
    case 'playback/stopped':
      return {
        ...state,
        playback: { ...state.playback, status: 'idle', trackId: null, positionMs: 0, durationMs: 0, mediaKind: null, message: null },
      };
    case 'rating/set':
      return { ...state, ratings: { ...state.ratings, [action.trackId]: action.rating } };
    case 'rating/clear':
      return state.ratings[action.trackId] === 'none' ? state : { ...state, ratings: { ...state.ratings, [action.trackId]: 'none' } };
    case 'filters/set':
      return { ...state, filters: { ...state.filters, ...action.filters } };
    case 'mix/loading':
      return { ...state, mix: { ...state.mix, status: 'loading', error: null } };
    case 'mix/loaded':
      return { ...state, mix: { status: 'ready', id: action.id, tracks: action.tracks, cached: action.cached, error: null } };
    case 'mix/failed':
      return { ...state, mix: { ...state.mix, status: 'error', error: action.error } };
    case 'source/set':
      return { ...state, source: action.source };
    case 'reco/loading':
      return { ...state, reco: { ...state.reco, status: 'loading', error: null } };
    case 'reco/loaded':
      return { ...state, reco: { status: 'ready', tracks: action.tracks, explanation: action.explanation, error: null } };
    case 'reco/failed':
      return { ...state, reco: { ...state.reco, status: 'error', error: action.error } };
    case 'toast/add': {
      const toasts = [...state.toasts.filter((t) => t.message !== action.toast.message), action.toast];
      return { ...state, toasts: toasts.slice(-MAX_TOASTS) };
    }
    case 'toast/dismiss':
      return { ...state, toasts: state.toasts.filter((t) => t.id !== action.id) };
    case 'theme/set':
      return { ...state, theme: action.theme };
    default: {
      const browse = browseReducer(state.browse, action as BrowseAction);
      if (browse !== state.browse) return { ...state, browse };
      const library = libraryReducer(state.library, action as LibraryAction);
      if (library !== state.library) return { ...state, library };
      const libraries = librariesReducer(state.libraries, action as LibrariesAction);
      if (libraries !== state.libraries) return { ...state, libraries };
      const historyImport = historyImportReducer(state.historyImport, action as HistoryImportAction);
      if (historyImport !== state.historyImport) return { ...state, historyImport };
      const group = groupReducer(state.group, action as GroupAction);
      if (group !== state.group) return { ...state, group };
      return state;
    }
  }
}

export function moodMatches(req: MoodRequest, mood: Mood): boolean {
  const close = (a: number | undefined, b: number | null) => a === undefined || (b !== null && Math.abs(a - b) < 0.011);
  if (req.mood !== undefined && mood.preset !== req.mood) return false;
  if (req.text !== undefined && (mood.text ?? '').trim() !== req.text.trim()) return false;
  return close(req.energy, mood.energy) && close(req.valence, mood.valence);
}

/** The upcoming tracks of the active source (the live queue, or the rest of the Quick Mix). */
export function upcomingTracks(state: AppState): Track[] {
  if (state.source.kind === 'mix') return state.mix.tracks.slice(state.source.index + 1);
  return state.queue;
}

/** How the listener rated `track`: this tab's own rating, else the server's `liked` flag. */
export function ratingOf(state: AppState, track: Track | null): Rating | undefined {
  if (!track) return undefined;
  return state.ratings[track.id] ?? (track.liked ? 'like' : undefined);
}

/** The track the player should be on right now. */
export function currentTrack(state: AppState): Track | null {
  if (state.source.kind === 'mix') return state.mix.tracks[state.source.index] ?? null;
  return state.nowPlaying;
}
