// Thin JSON client for the HTTP API. Relative URLs only, so the same build works
// behind the Vite proxy, the Python backend and NGINX.
import type { CatalogStatus, ConnectLibraryRequest, Filters, HistoryEvent, Library, Mood, MoodPreset, MoodRequest, Track, User, UserSettings } from '../types';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfterS: number | null;

  constructor(status: number, code: string, message: string, retryAfterS: number | null = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.retryAfterS = retryAfterS;
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

interface RequestOptions {
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
}

type UnauthorizedListener = () => void;
let onUnauthorized: UnauthorizedListener | null = null;

/** Called when any call (other than the auth calls themselves) answers 401. */
export function setUnauthorizedHandler(fn: UnauthorizedListener | null): void {
  onUnauthorized = fn;
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

function parseRetryAfter(value: string | null): number | null {
  if (!value) return null;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, Math.ceil(secs));
  const date = Date.parse(value);
  if (Number.isNaN(date)) return null;
  return Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

async function errorFrom(res: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(res.headers.get('Retry-After'));
  let code = `http_${res.status}`;
  let message = res.statusText || `Request failed (${res.status})`;
  try {
    const data = (await res.json()) as { error?: { code?: string; message?: string } };
    if (data?.error) {
      code = data.error.code ?? code;
      message = data.error.message ?? message;
    }
  } catch {
    // Not JSON (e.g. a proxy error page): keep the generic message.
  }
  if (res.status === 429 && retryAfter !== null && !/\d+\s*s/.test(message)) {
    message = `${message} Try again in ${retryAfter} s.`;
  }
  return new ApiError(res.status, code, message, retryAfter);
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
    throw new ApiError(0, 'network_error', 'Cannot reach the server. Check your connection and try again.');
  }
  if (!res.ok) {
    const error = await errorFrom(res);
    if (res.status === 401 && !path.startsWith('/api/auth/') && onUnauthorized) onUnauthorized();
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
};
