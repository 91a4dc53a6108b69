// Thin JSON client for the HTTP API. Relative URLs only, so the same build works
// behind the Vite proxy, the Python backend and NGINX.
import { apiErrorFrom, ApiError, NETWORK_ERROR_MESSAGE, notifyUnauthorized } from './errors';
import { uploadFile, type UploadOptions } from './upload';
import type { CatalogStatus, ConnectLibraryRequest, Filters, HistoryEvent, Library, ListensFormat, ListensReport, Mood, MoodPreset, MoodRequest, Track, User, UserSettings } from '../types';

export { ApiError, setUnauthorizedHandler } from './errors';

type Query = Record<string, string | number | boolean | null | undefined>;

interface RequestOptions {
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
}

export function buildUrl(path: string, query?: Query): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(key, String(value));
  }
  const qs = params.toString();
  return qs ? `${path}?${qs}` : path;
}

async function errorFrom(res: Response): Promise<ApiError> {
  let body = '';
  try {
    body = await res.text();
  } catch {
    // No body to read: the generic message below.
  }
  return apiErrorFrom(res.status, res.statusText, body, res.headers.get('Retry-After'));
}

export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: opts.signal,
    });
  } catch (err) {
    if ((err as Error)?.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', NETWORK_ERROR_MESSAGE);
  }
  if (!res.ok) {
    const error = await errorFrom(res);
    if (res.status === 401 && !path.startsWith('/api/auth/')) notifyUnauthorized();
    throw error;
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

export function filterQuery(filters: Filters): Query {
  return {
    genre: filters.genre.trim() || undefined,
    explicit: filters.allowExplicit ? undefined : false,
    year_min: filters.yearMin ?? undefined,
    year_max: filters.yearMax ?? undefined,
  };
}

export interface HistoryPage {
  events: HistoryEvent[];
  next_before: number | null;
}

export interface QuickMix {
  mix_id: string;
  tracks: Track[];
  cached: boolean;
}

export interface SearchResult {
  tracks: Track[];
  /** Why nothing (or little) matched, in words; null when the results speak for themselves. */
  message?: string | null;
}

export const api = {
  register: (username: string, password: string) =>
    request<{ user: User }>('POST', '/api/auth/register', { body: { username, password } }),
  login: (username: string, password: string) =>
    request<{ user: User }>('POST', '/api/auth/login', { body: { username, password } }),
  logout: () => request<void>('POST', '/api/auth/logout'),
  me: (signal?: AbortSignal) => request<{ user: User; mood: Mood | null }>('GET', '/api/me', { signal }),
  moods: () => request<{ moods: MoodPreset[] }>('GET', '/api/moods'),
  setMood: (mood: MoodRequest) => request<{ mood: Mood }>('PUT', '/api/me/mood', { body: mood }),
  recommendations: (params: { limit?: number; mood?: string; text?: string }, filters: Filters, signal?: AbortSignal) =>
    request<{ tracks: Track[]; explanation?: string }>('GET', '/api/recommendations', {
      query: { limit: params.limit ?? 20, mood: params.mood, text: params.text, ...filterQuery(filters) },
      signal,
    }),
  quickmix: (params: { mood?: string; text?: string; seed_track_ids?: number[]; size?: number }, filters: Filters) => {
    const q = filterQuery(filters);
    const body: Record<string, unknown> = { ...params };
    for (const [k, v] of Object.entries(q)) if (v !== undefined) body[k] = v;
    for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
    return request<QuickMix>('POST', '/api/quickmix', { body });
  },
  feedback: (track_id: number, action: string, position_ms?: number) =>
    request<{ accepted: boolean }>('POST', '/api/feedback', { body: { track_id, action, position_ms } }),
  history: (limit: number, before: number | null, signal?: AbortSignal) =>
    request<HistoryPage>('GET', '/api/history', { query: { limit, before }, signal }),
  search: (q: string, limit = 20, signal?: AbortSignal) =>
    request<SearchResult>('GET', '/api/tracks/search', { query: { q, limit }, signal }),
  similar: (trackId: number, limit = 10, signal?: AbortSignal) =>
    request<{ tracks: Track[] }>('GET', `/api/tracks/${encodeURIComponent(trackId)}/similar`, { query: { limit }, signal }),
  track: (trackId: number, signal?: AbortSignal) =>
    request<Track>('GET', `/api/tracks/${encodeURIComponent(trackId)}`, { signal }),
  catalogStatus: (signal?: AbortSignal) => request<CatalogStatus>('GET', '/api/catalog/status', { signal }),
  settings: () => request<{ settings: UserSettings }>('GET', '/api/me/settings'),
  saveSettings: (settings: Partial<UserSettings>) =>
    request<{ settings: UserSettings }>('PUT', '/api/me/settings', { body: settings }),
  libraries: (signal?: AbortSignal) => request<{ libraries: Library[] }>('GET', '/api/libraries', { signal }),
  addLibrary: (body: ConnectLibraryRequest) => request<{ library: Library }>('POST', '/api/libraries', { body }),
  syncLibrary: (id: number) =>
    request<{ accepted: boolean }>('POST', `/api/libraries/${encodeURIComponent(id)}/sync`),
  removeLibrary: (id: number) => request<void>('DELETE', `/api/libraries/${encodeURIComponent(id)}`),
  /** Upload a listening-history export (multipart `file`); `onProgress` follows the upload. */
  importListens: (file: Blob, name: string, format: ListensFormat | null, opts: UploadOptions = {}) =>
    uploadFile<{ report: ListensReport }>('POST', buildUrl('/api/me/listens', { format }), file, name, opts),
};
