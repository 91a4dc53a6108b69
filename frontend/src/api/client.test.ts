import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultFilters } from '../store/state';
import { api, ApiError, buildUrl, filterQuery, setUnauthorizedHandler } from './client';

function respond(status: number, body: unknown, headers: Record<string, string> = {}) {
  return vi.fn().mockResolvedValue(
    new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } }),
  );
}

afterEach(() => {
  vi.unstubAllGlobals();
  setUnauthorizedHandler(null);
});

describe('api client', () => {
  it('builds relative URLs and skips empty params', () => {
    expect(buildUrl('/api/history', { limit: 50, before: null })).toBe('/api/history?limit=50');
    expect(buildUrl('/api/recommendations', { explicit: false, genre: '' })).toBe('/api/recommendations?explicit=false');
    expect(filterQuery({ ...defaultFilters, allowExplicit: false, yearMin: 1990, genre: ' jazz ' })).toEqual({
      genre: 'jazz',
      explicit: false,
      year_min: 1990,
      year_max: undefined,
    });
  });

  it('turns error bodies into ApiError with the server message', async () => {
    vi.stubGlobal('fetch', respond(409, { error: { code: 'username_taken', message: 'That username is taken.' } }));
    const err = await api.register('a', 'b').catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 409, code: 'username_taken', message: 'That username is taken.' });
  });

  it('adds the Retry-After wait to rate-limit messages', async () => {
    vi.stubGlobal('fetch', respond(429, { error: { code: 'rate_limited', message: 'Too many attempts.' } }, { 'Retry-After': '42' }));
    const err = await api.login('a', 'b').catch((e) => e);
    expect(err).toMatchObject({ code: 'rate_limited', retryAfterS: 42, message: 'Too many attempts. Try again in 42 s.' });
  });

  it('reports network failures and 401s outside auth', async () => {
    vi.stubGlobal('fetch', vi.fn().mockRejectedValue(new TypeError('Failed to fetch')));
    expect(await api.moods().catch((e) => e.code)).toBe('network_error');
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    vi.stubGlobal('fetch', respond(401, { error: { code: 'not_authenticated', message: 'Log in.' } }));
    await api.history(50, null).catch(() => undefined);
    expect(onUnauthorized).toHaveBeenCalledOnce();
    vi.stubGlobal('fetch', respond(401, { error: { code: 'invalid_credentials', message: 'Wrong.' } }));
    await api.login('a', 'b').catch(() => undefined);
    expect(onUnauthorized).toHaveBeenCalledOnce();
  });

  it('sends JSON with the session cookie and handles 204', async () => {
    const fetchMock = respond(204, undefined);
    vi.stubGlobal('fetch', fetchMock);
    await expect(api.logout()).resolves.toBeUndefined();
    const qm = respond(200, { mix_id: 'm', tracks: [], cached: true });
    vi.stubGlobal('fetch', qm);
    await api.quickmix({ mood: 'chill', size: 20 }, { ...defaultFilters, allowExplicit: false });
    const [url, init] = qm.mock.calls[0];
    expect(url).toBe('/api/quickmix');
    expect(init).toMatchObject({ method: 'POST', credentials: 'same-origin' });
    expect(JSON.parse(init.body)).toEqual({ mood: 'chill', size: 20, explicit: false });
  });

  it('calls the search, similar, catalog status and settings endpoints', async () => {
    const f = respond(200, { tracks: [], message: 'Nothing matches “zzzzqqq”' });
    vi.stubGlobal('fetch', f);
    expect(await api.search('zzzz qqq', 20)).toEqual({ tracks: [], message: 'Nothing matches “zzzzqqq”' });
    expect(f.mock.calls[0][0]).toBe('/api/tracks/search?q=zzzz+qqq&limit=20');
    const sim = respond(200, { tracks: [] });
    vi.stubGlobal('fetch', sim);
    await api.similar(12, 10);
    expect(sim.mock.calls[0][0]).toBe('/api/tracks/12/similar?limit=10');
    const st = respond(200, { state: 'loading', tracks: 4, playable: 4, loaded: 4, total: 10 });
    vi.stubGlobal('fetch', st);
    expect((await api.catalogStatus()).state).toBe('loading');
    expect(st.mock.calls[0][0]).toBe('/api/catalog/status');
    const put = respond(200, { settings: { include_unplayable: true } });
    vi.stubGlobal('fetch', put);
    expect(await api.saveSettings({ include_unplayable: true })).toEqual({ settings: { include_unplayable: true } });
    const [url, init] = put.mock.calls[0];
    expect(url).toBe('/api/me/settings');
    expect(init).toMatchObject({ method: 'PUT' });
    expect(JSON.parse(init.body)).toEqual({ include_unplayable: true });
  });
});
