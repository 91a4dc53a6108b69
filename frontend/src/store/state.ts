// The whole client state and the pure reducer that changes it.
import type { ConnectionState } from '../ws/socket';
import type { QueueFrame } from '../ws/protocol';
import type { Filters, Mood, MoodPreset, MoodRequest, Track, User } from '../types';

export type PlaybackStatus = 'idle' | 'loading' | 'playing' | 'paused' | 'error';
export type Theme = 'system' | 'light' | 'dark';
export type Rating = 'like' | 'dislike';

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
  nowPlaying: Track | null;
  queue: Track[];
  queueReason: string | null;
  queueSeq: number | null;
  /** Ids that were not in the previous queue frame: they animate in. */
  queueNewIds: number[];
  source: Source;
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
  toasts: Toast[];
  theme: Theme;
}

export const defaultFilters: Filters = { allowExplicit: true, genre: '', yearMin: null, yearMax: null };

export function initialState(overrides: Partial<AppState> = {}): AppState {
  return {
    auth: { status: 'unknown', user: null },
    connection: { status: 'idle' },
    outboxSize: 0,
    moods: [],
    mood: null,
    moodPending: null,
    nowPlaying: null,
    queue: [],
    queueReason: null,
    queueSeq: null,
    queueNewIds: [],
    source: { kind: 'queue' },
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
    toasts: [],
    theme: 'system',
    ...overrides,
  };
}

export type Action =
  | { type: 'auth/loggedIn'; user: User; mood: Mood | null }
  | { type: 'auth/loggedOut' }
  | { type: 'auth/unreachable' }
  | { type: 'moods/loaded'; moods: MoodPreset[] }
  | { type: 'connection/state'; state: ConnectionState }
  | { type: 'outbox/size'; size: number }
  | { type: 'ws/queue'; frame: QueueFrame }
  | { type: 'queue/advanceLocal'; fromTrackId: number }
  | { type: 'mood/requested'; request: MoodRequest }
  | { type: 'mood/set'; mood: Mood }
  | { type: 'mood/failed' }
  | { type: 'playback/wantsToPlay'; value: boolean }
  | { type: 'playback/loading'; trackId: number; mediaKind: 'midi' | 'audio' | 'none'; durationMs: number }
  | { type: 'playback/status'; status: PlaybackStatus; message?: string | null }
  | { type: 'playback/progress'; positionMs: number; durationMs?: number }
  | { type: 'playback/volume'; volume: number }
  | { type: 'playback/stopped' }
  | { type: 'rating/set'; trackId: number; rating: Rating }
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
      // Keep preferences (theme, volume, filters, presets); drop everything personal.
      return initialState({
        auth: { status: 'anonymous', user: null },
        theme: state.theme,
        filters: state.filters,
        moods: state.moods,
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
      const tracks = reuse(state.queue, f.tracks);
      const nowPlaying =
        f.now_playing && state.nowPlaying && f.now_playing.id === state.nowPlaying.id ? state.nowPlaying : f.now_playing;
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
      };
    }
    case 'queue/advanceLocal': {
      if (!state.nowPlaying || state.nowPlaying.id !== action.fromTrackId) return state;
      const [next, ...rest] = state.queue;
      return { ...state, nowPlaying: next ?? null, queue: rest, queueNewIds: [] };
    }
    case 'mood/requested':
      return { ...state, moodPending: action.request };
    case 'mood/set':
      return { ...state, mood: action.mood, moodPending: null };
    case 'mood/failed':
      return { ...state, moodPending: null };
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
    default:
      return state;
  }
}

export function moodMatches(req: MoodRequest, mood: Mood): boolean {
  const close = (a: number | undefined, b: number | null) => a === undefined || (b !== null && Math.abs(a - b) < 0.011);
  if (req.mood !== undefined && mood.preset !== req.mood) return false;
  if (req.text !== undefined && (mood.text ?? '').trim() !== req.text.trim()) return false;
  return close(req.energy, mood.energy) && close(req.valence, mood.valence);
}

/** The track the player should be on right now. */
export function currentTrack(state: AppState): Track | null {
  if (state.source.kind === 'mix') return state.mix.tracks[state.source.index] ?? null;
  return state.nowPlaying;
}
