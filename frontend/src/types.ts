// Shapes shared with the backend (see shared/CONTRACT.md).

export type MediaKind = 'midi' | 'audio' | 'none';

export interface AudioProfile {
  energy?: number | null;
  valence?: number | null;
  danceability?: number | null;
  tempo?: number | null;
  acousticness?: number | null;
  [key: string]: number | null | undefined;
}

export interface Track {
  id: number;
  title: string;
  artists: string[];
  album: string | null;
  genre: string[];
  year: number | null;
  duration_ms: number | null;
  explicit: boolean;
  popularity?: number | null;
  audio?: AudioProfile | null;
  /** How to play it here. `playable` false (or kind "none"): this server cannot play it. */
  media: { kind: MediaKind; url: string | null; playable?: boolean };
  /** Where else to hear it, when known. */
  links?: TrackLinks | null;
  /** A library track's cover art (`/api/tracks/<id>/cover`, takes `?size=`); null or absent: none. */
  cover?: string | null;
  /** Whether the listener likes it (when the server says). */
  liked?: boolean;
  score?: number;
  reason?: string;
  /** In a group's queue: who put it there (null: the engine chose it). */
  added_by?: { id: number | string; username: string } | null;
}

export interface TrackLinks {
  /** `spotify:track:<id>` */
  spotify?: string | null;
  /** `https://open.spotify.com/track/<id>` */
  spotify_url?: string | null;
}

export interface User {
  id: number | string;
  username: string;
}

export interface Mood {
  preset: string | null;
  text: string | null;
  energy: number | null;
  valence: number | null;
  label: string;
  updated_at: string;
}

export interface MoodPreset {
  id: string;
  label: string;
  description: string;
  energy?: number;
  valence?: number;
}

export type FeedbackAction = 'play' | 'complete' | 'skip' | 'like' | 'unlike' | 'dislike';

export interface HistoryEvent {
  id: number;
  track: Track;
  action: FeedbackAction | string;
  at: string;
  position_ms?: number | null;
}

export interface Filters {
  /** false: leave explicit tracks out. */
  allowExplicit: boolean;
  genre: string;
  yearMin: number | null;
  yearMax: number | null;
}

/** A mood change as the client asks for it (WS frame body / PUT /api/me/mood body). */
export interface MoodRequest {
  mood?: string;
  text?: string;
  energy?: number;
  valence?: number;
}

/** GET /api/catalog/status */
export interface CatalogStatus {
  /** 'unavailable': the server cannot open its index right now. */
  state: 'loading' | 'ready' | 'empty' | 'unavailable';
  tracks: number;
  playable: number;
  /** Progress of a catalog load in progress. */
  loaded: number;
  total: number;
  /** While loading: a first load, or an index rebuild. */
  phase?: 'loading' | 'reindexing';
  percent?: number;
}

/** GET/PUT /api/me/settings */
export interface UserSettings {
  include_unplayable: boolean;
}

/** A music server connected as a catalog source (GET /api/libraries). */
export interface Library {
  id: number;
  kind: 'subsonic' | string;
  url: string;
  /** Only to the listener who connected it, else null. */
  username: string | null;
  /** Whether this listener connected it (and so may sync or remove it). */
  owned: boolean;
  auth: 'apikey' | 'token' | 'password' | string | null;
  api_version: string | null;
  server_type: string | null;
  status: 'online' | 'offline';
  last_checked_at: string | null;
  last_error: string | null;
  /** Songs synced. */
  tracks: number;
  sync: LibrarySync;
  analysis: LibraryAnalysis;
}

export interface LibrarySync {
  state: 'never' | 'syncing' | 'done' | 'failed';
  running: boolean;
  songs_done: number | null;
  started_at: string | null;
  last_sync_at: string | null;
  error: string | null;
  report?: Record<string, unknown> | null;
}

/** Songs without audio features: waiting for, through, or refused by the analysis of their sound. */
export interface LibraryAnalysis {
  pending: number;
  done: number;
  failed: number;
}

/** POST /api/libraries: a password or an API key, never both. */
export type ConnectLibraryRequest = {
  kind: 'subsonic';
  url: string;
  username: string;
} & ({ password: string; api_key?: never } | { api_key: string; password?: never });

/** The export formats a listener may name (POST /api/me/listens?format=); none: detected. */
export type ListensFormat = 'listenbrainz' | 'lastfm' | 'spotify_extended' | 'spotify_account';

/** What one listening-history import did (POST /api/me/listens → `report`). */
export interface ListensReport {
  source: string;
  formats: string[];
  /** Rows read from the file(s), and of those the valid listens. */
  rows: number;
  listens: number;
  /** Listens matched to the catalog: by Spotify track id, by artist + title, by the artist only. */
  matched: { uri: number; title: number; artist: number };
  /** New listens stored, and listens that were already in the history (the same file again). */
  stored: number;
  duplicates: number;
  skipped: { total: number; reasons: Record<string, number>; examples: Array<{ row: number; reason: string }> };
  unmatched: { total: number; reasons: Record<string, number>; examples: string[] };
  seconds: number;
}
