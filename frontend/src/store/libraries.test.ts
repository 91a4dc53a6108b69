import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { FakeWebSocket, makeLibrary } from '../test/fakes';
import { booted, flush } from '../test/harness';
import type { Library } from '../types';
import { explainConnectError } from './libraries';
import { analysisPercent, librariesBusy } from './librariesState';

beforeEach(() => FakeWebSocket.reset());
afterEach(() => vi.restoreAllMocks());

const syncing = (id: number, songsDone: number): Library =>
  makeLibrary(id, { tracks: songsDone, sync: { ...makeLibrary(id).sync, state: 'syncing', running: true, songs_done: songsDone } });

describe('the list of libraries', () => {
  it('is polled while a library syncs, and no more once it is done', async () => {
    const libraries = vi
      .fn()
      .mockResolvedValueOnce({ libraries: [syncing(1, 0)] })
      .mockResolvedValueOnce({ libraries: [syncing(1, 500)] })
      .mockResolvedValue({ libraries: [makeLibrary(1)] });
    const { store, c } = await booted({ api: { libraries } });
    const unwatch = c.libraries.watch();
    await vi.waitFor(() => expect(store.getState().libraries.items[0]?.sync.state).toBe('done'));
    const calls = libraries.mock.calls.length;
    expect(calls).toBe(3);
    await new Promise((r) => setTimeout(r, 30));
    expect(libraries.mock.calls.length).toBe(calls);
    expect(store.getState().libraries.status).toBe('ready');
    unwatch();
    c.dispose();
  });

  it('is polled while songs wait for their analysis, and stops when nobody looks', async () => {
    let done = 0;
    const libraries = vi.fn().mockImplementation(async () => {
      done += 10;
      return { libraries: [makeLibrary(1, { analysis: { pending: 1000 - done, done, failed: 0 } })] };
    });
    const { store, c } = await booted({ api: { libraries } });
    const unwatch = c.libraries.watch();
    await vi.waitFor(() => expect(libraries.mock.calls.length).toBeGreaterThanOrEqual(3));
    expect(analysisPercent(store.getState().libraries.items[0])).toBeGreaterThan(0);
    unwatch();
    const calls = libraries.mock.calls.length;
    await new Promise((r) => setTimeout(r, 30));
    expect(libraries.mock.calls.length).toBeLessThanOrEqual(calls + 1); // at most the one in flight
    c.dispose();
  });

  it('asks less and less often while an analysis does not move', async () => {
    const stuck = makeLibrary(1, { analysis: { pending: 40, done: 0, failed: 0 } });
    const libraries = vi.fn().mockResolvedValue({ libraries: [stuck] });
    const { c } = await booted({ api: { libraries } });
    const unwatch = c.libraries.watch();
    await new Promise((r) => setTimeout(r, 120));
    // 5 ms doubling (5, 10, 20, 40, 80…) instead of every 5 ms.
    expect(libraries.mock.calls.length).toBeLessThan(8);
    unwatch();
    c.dispose();
  });

  it('a server without the call says libraries are unavailable', async () => {
    const libraries = vi.fn().mockRejectedValue(new ApiError(404, 'not_found', 'no such resource'));
    const { store, c } = await booted({ api: { libraries } });
    c.libraries.watch();
    await vi.waitFor(() => expect(store.getState().libraries.status).toBe('unavailable'));
    c.dispose();
  });

  it('a failed load says so', async () => {
    const libraries = vi.fn().mockRejectedValue(new ApiError(503, 'service_unavailable', 'PostgreSQL is down'));
    const { store, c } = await booted({ api: { libraries } });
    c.libraries.watch();
    await vi.waitFor(() => expect(store.getState().libraries.status).toBe('error'));
    expect(store.getState().libraries.error).toBe('Could not load your libraries: PostgreSQL is down');
    c.dispose();
  });

  it('a sync that ends makes the catalog look at its state again', async () => {
    const libraries = vi
      .fn()
      .mockResolvedValueOnce({ libraries: [syncing(1, 10)] })
      .mockResolvedValue({ libraries: [makeLibrary(1)] });
    const { c, api } = await booted({ api: { libraries } });
    await flush();
    const before = (api.catalogStatus as ReturnType<typeof vi.fn>).mock.calls.length;
    vi.spyOn(Date, 'now').mockReturnValue(Date.now() + 60_000); // past the recheck throttle
    c.libraries.watch();
    await vi.waitFor(() => expect((api.catalogStatus as ReturnType<typeof vi.fn>).mock.calls.length).toBeGreaterThan(before));
    c.dispose();
  });
});

describe('connecting a library', () => {
  it('sends the request, adds the library as syncing and keeps no secret', async () => {
    const added = makeLibrary(7, { tracks: 0, sync: { ...makeLibrary(7).sync, state: 'never', songs_done: 0, last_sync_at: null } });
    const addLibrary = vi.fn().mockResolvedValue({ library: added });
    const libraries = vi.fn().mockReturnValue(new Promise(() => undefined)); // the list stays as the answer left it
    const { store, c } = await booted({ api: { addLibrary, libraries } });
    const request = { kind: 'subsonic' as const, url: 'https://music7.example.org', username: 'ann', password: 'hunter2-secret' };
    const pending = c.libraries.connect(request);
    expect(store.getState().libraries.connect.status).toBe('connecting');
    expect(await pending).toBe(true);
    expect(addLibrary).toHaveBeenCalledWith(request);
    const s = store.getState().libraries;
    expect(s.connect).toEqual({ status: 'connected', error: null, libraryId: 7 });
    expect(s.items.map((l) => [l.id, l.sync.running])).toEqual([[7, true]]);
    expect(librariesBusy(s.items)).toBe(true);
    expect(JSON.stringify(store.getState())).not.toContain('hunter2-secret');
    expect(JSON.stringify({ ...localStorage })).not.toContain('hunter2-secret');
    c.dispose();
  });

  it('a refusal is kept as a message, and "already connected" reloads the list', async () => {
    const addLibrary = vi.fn().mockRejectedValue(new ApiError(409, 'library_exists', 'https://m.example.org is already connected for ann'));
    const libraries = vi.fn().mockResolvedValue({ libraries: [makeLibrary(1)] });
    const { store, c } = await booted({ api: { addLibrary, libraries } });
    expect(await c.libraries.connect({ kind: 'subsonic', url: 'https://m.example.org', username: 'ann', api_key: 'k' })).toBe(false);
    const connect = store.getState().libraries.connect;
    expect(connect.status).toBe('failed');
    expect(connect.error).toMatchObject({ code: 'library_exists', title: 'This library is already connected.' });
    await vi.waitFor(() => expect(store.getState().libraries.items).toHaveLength(1));
    c.dispose();
  });
});

describe('connect errors in words', () => {
  const explain = (status: number, code: string, message: string) => explainConnectError(new ApiError(status, code, message));

  it('wrong credentials', () => {
    const e = explain(422, 'library_auth_failed', 'the library server refused the credentials');
    expect(e.title).toBe('The music server did not accept this username and password (or API key).');
    expect(e.detail).toBe('Check them and try again. The server said: The library server refused the credentials.');
    expect(e.field).toBe('secret');
  });

  it('an address the policy refuses keeps the reason and the administrator hint', () => {
    const e = explain(
      403,
      'library_address_refused',
      '127.0.0.1 resolves to a loopback address (127.0.0.1), where this server\'s own services listen; an administrator can connect it with `musicrec library add`, or allow the host in the library_allowed_hosts setting',
    );
    expect(e.title).toBe("This musicrec server's policy does not allow connecting that address.");
    expect(e.detail).toMatch(/^127\.0\.0\.1 resolves to a loopback address/);
    expect(e.detail).toContain('`musicrec library add`');
    expect(e.detail).toContain('library_allowed_hosts');
    expect(e.field).toBe('url');
  });

  it('unreachable, not a Subsonic server, a bad URL, already connected', () => {
    expect(explain(502, 'library_unreachable', 'the library server cannot be reached (ConnectError)')).toMatchObject({
      title: 'Could not reach the music server.',
      detail: expect.stringContaining('can be reached from the musicrec server. (The library server cannot be reached (ConnectError).)'),
      field: 'url',
    });
    expect(explain(502, 'library_bad_answer', 'the answer to ping is not a Subsonic response').title).toBe(
      'The server at that address did not answer like a Subsonic server.',
    );
    expect(explain(422, 'invalid_library_url', "'http://' names no host")).toMatchObject({
      title: 'That is not a server address the player can use.',
      field: 'url',
    });
    expect(explain(409, 'library_exists', 'x is already connected for ann').detail).toBe('X is already connected for ann.');
  });

  it('validation errors name the field in plain words', () => {
    expect(explain(422, 'validation_error', "url: String should match pattern '^https?://[^\\s\\x00]+$'")).toMatchObject({
      title: 'Some of the details are not valid.',
      detail: "Enter the server's full address, starting with http:// or https:// (up to 500 characters).",
      field: 'url',
    });
    expect(explain(422, 'validation_error', 'username: String should have at least 1 character').field).toBe('username');
    expect(explain(422, 'validation_error', 'api_key: String should have at most 500 characters').field).toBe('secret');
    expect(explain(422, 'validation_error', 'body: Value error, give either a password or an api_key')).toMatchObject({
      field: null,
      detail: 'Body: Value error, give either a password or an api_key.',
    });
  });

  it('no connection to musicrec itself, and anything else', () => {
    expect(explainConnectError(new ApiError(0, 'network_error', 'Cannot reach the server.')).title).toBe('Cannot reach musicrec right now.');
    expect(explain(500, 'internal_error', 'boom')).toMatchObject({ title: 'Could not connect the library.', detail: 'Boom.' });
  });
});

describe('sync and remove', () => {
  it('sync now marks the library as syncing and follows it', async () => {
    const libraries = vi
      .fn()
      .mockResolvedValueOnce({ libraries: [makeLibrary(1)] })
      .mockResolvedValueOnce({ libraries: [syncing(1, 20)] })
      .mockResolvedValue({ libraries: [makeLibrary(1)] });
    const { store, c, api } = await booted({ api: { libraries } });
    c.libraries.watch();
    await vi.waitFor(() => expect(store.getState().libraries.status).toBe('ready'));
    await c.libraries.sync(1);
    expect(api.syncLibrary).toHaveBeenCalledWith(1);
    await vi.waitFor(() => expect(libraries.mock.calls.length).toBeGreaterThanOrEqual(3));
    await vi.waitFor(() => expect(store.getState().libraries.items[0].sync.running).toBe(false));
    c.dispose();
  });

  it('a sync already running counts as started', async () => {
    const syncLibrary = vi.fn().mockRejectedValue(new ApiError(409, 'sync_running', 'a sync of this library is already running'));
    const libraries = vi.fn().mockResolvedValueOnce({ libraries: [makeLibrary(1)] }).mockResolvedValue({ libraries: [syncing(1, 5)] });
    const { store, c } = await booted({ api: { syncLibrary, libraries } });
    await c.libraries.refresh();
    await c.libraries.sync(1);
    expect(store.getState().libraries.items[0].sync).toMatchObject({ running: true, songs_done: 5 });
    expect(store.getState().libraries.actions[1]).toEqual({ busy: null, error: null });
    c.dispose();
  });

  it('only the owner may sync: the refusal is shown on the library', async () => {
    const syncLibrary = vi.fn().mockRejectedValue(new ApiError(403, 'not_your_library', 'only the listener who connected a library may change it'));
    const libraries = vi.fn().mockResolvedValue({ libraries: [makeLibrary(2)] });
    const { store, c } = await booted({ api: { syncLibrary, libraries } });
    await c.libraries.refresh();
    await c.libraries.sync(2);
    expect(store.getState().libraries.actions[2]).toEqual({ busy: null, error: 'Only the listener who connected this library may sync it.' });
    c.dispose();
  });

  it('remove takes the library off the list; a failure says why', async () => {
    const removeLibrary = vi
      .fn()
      .mockRejectedValueOnce(new ApiError(503, 'service_unavailable', 'try again later'))
      .mockResolvedValue(undefined);
    const libraries = vi.fn().mockResolvedValue({ libraries: [makeLibrary(1), makeLibrary(2)] });
    const { store, c } = await booted({ api: { removeLibrary, libraries } });
    await c.libraries.refresh();
    await c.libraries.remove(1);
    expect(store.getState().libraries.actions[1]).toEqual({ busy: null, error: 'Could not remove it: Try again later.' });
    expect(store.getState().libraries.items).toHaveLength(2);
    await c.libraries.remove(1);
    expect(removeLibrary).toHaveBeenLastCalledWith(1);
    expect(store.getState().libraries.items.map((l) => l.id)).toEqual([2]);
    expect(store.getState().libraries.actions[1]).toBeUndefined();
    c.dispose();
  });
});
