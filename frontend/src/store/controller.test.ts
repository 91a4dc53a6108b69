import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, type api as realApi } from '../api/client';
import { FakeWebSocket, makeMood, makeTrack, memoryStorage } from '../test/fakes';
import { ReconnectingSocket } from '../ws/socket';
import { Controller } from './controller';
import { createStore } from './store';

type Api = typeof realApi;

function fakeApi(over: Partial<Record<keyof Api, unknown>> = {}) {
  return {
    me: vi.fn().mockResolvedValue({ user: { id: 42, username: 'ann' }, mood: makeMood() }),
    moods: vi.fn().mockResolvedValue({ moods: [{ id: 'chill', label: 'Chill', description: '' }] }),
    login: vi.fn(),
    register: vi.fn(),
    logout: vi.fn().mockResolvedValue(undefined),
    setMood: vi.fn(),
    recommendations: vi.fn().mockResolvedValue({ tracks: [makeTrack(70)], explanation: 'why' }),
    quickmix: vi.fn().mockResolvedValue({ mix_id: 'mx', tracks: [makeTrack(60), makeTrack(61)], cached: false }),
    feedback: vi.fn(),
    history: vi.fn(),
    ...over,
  } as unknown as Api;
}

async function booted(apiOver: Partial<Record<keyof Api, unknown>> = {}) {
  const store = createStore();
  const api = fakeApi(apiOver);
  const storage = memoryStorage();
  const c = new Controller(store, {
    api,
    storage,
    wsUrl: 'ws://t/ws',
    createSocket: (opts) =>
      new ReconnectingSocket({ ...opts, WebSocketImpl: FakeWebSocket as never, isOnline: () => true }),
  });
  await c.boot();
  const ws = FakeWebSocket.last;
  ws.open();
  ws.receive({ type: 'welcome', seq: 1, user: { id: 42, username: 'ann' } });
  ws.receive({
    type: 'queue',
    seq: 2,
    now_playing: makeTrack(1, { duration_ms: 60 }),
    tracks: [makeTrack(2, { duration_ms: 60 }), makeTrack(3), makeTrack(4)],
    mood: makeMood(),
    reason: 'start',
  });
  return { store, api, c, ws, storage };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  FakeWebSocket.reset();
  window.history.replaceState(null, '', '/');
});
afterEach(() => vi.restoreAllMocks());

describe('Controller', () => {
  it('boots into a live session with the queue and the mood', async () => {
    const { store, c } = await booted();
    const s = store.getState();
    expect(s.auth).toEqual({ status: 'authenticated', user: { id: 42, username: 'ann' } });
    expect(s.connection).toEqual({ status: 'live' });
    expect(s.nowPlaying?.id).toBe(1);
    expect(s.moods).toHaveLength(1);
    c.dispose();
  });

  it('goes to the login screen when /api/me says 401', async () => {
    const store = createStore();
    const c = new Controller(store, {
      api: fakeApi({ me: vi.fn().mockRejectedValue(new ApiError(401, 'not_authenticated', 'no')) }),
      storage: null,
    });
    await c.boot();
    expect(store.getState().auth.status).toBe('anonymous');
    c.dispose();
  });

  it('skip sends skip feedback (no extra next) and advances at once', async () => {
    const { store, c, ws } = await booted();
    c.next();
    await flush();
    expect(ws.sentOfType('feedback')).toEqual([
      expect.objectContaining({ type: 'feedback', track_id: 1, action: 'skip', position_ms: 0, ref: expect.any(String) }),
    ]);
    expect(ws.sentOfType('next')).toHaveLength(0);
    expect(store.getState().nowPlaying?.id).toBe(2);
    expect(store.getState().outboxSize).toBe(1);
    ws.receive({ type: 'ack', seq: 3, ref: ws.sentOfType('feedback')[0].ref });
    expect(store.getState().outboxSize).toBe(0);
    c.dispose();
  });

  it('like does not advance; dislike does', async () => {
    const { store, c, ws } = await booted();
    c.like();
    expect(store.getState().nowPlaying?.id).toBe(1);
    expect(store.getState().ratings[1]).toBe('like');
    c.dislike();
    await flush();
    expect(ws.sentOfType('feedback').map((f) => f.action)).toEqual(['like', 'dislike']);
    expect(store.getState().nowPlaying?.id).toBe(2);
    c.dispose();
  });

  it('asks the server for a track with next when nothing is current', async () => {
    const { c, ws } = await booted();
    ws.receive({ type: 'queue', seq: 3, now_playing: null, tracks: [makeTrack(9)], mood: null, reason: null });
    c.next();
    expect(ws.sentOfType('next')).toHaveLength(1);
    expect(ws.sentOfType('feedback')).toHaveLength(0);
    c.dispose();
  });

  it('play sends play, and a track that runs out sends complete and moves on', async () => {
    const { store, c, ws } = await booted();
    c.play();
    await vi.waitFor(() => expect(ws.sentOfType('feedback').map((f) => f.action)).toContain('play'));
    expect(store.getState().playback.mediaKind).toBe('none');
    await vi.waitFor(() => expect(ws.sentOfType('feedback').map((f) => f.action)).toContain('complete'), { timeout: 2000 });
    const complete = ws.sentOfType('feedback').find((f) => f.action === 'complete')!;
    expect(complete).toMatchObject({ track_id: 1, position_ms: 60 });
    // Track 2 starts by itself.
    await vi.waitFor(() => expect(store.getState().playback.trackId).toBe(2));
    c.dispose();
  });

  it('sends mood changes over the socket and clears them on the echo', async () => {
    const { store, c, ws } = await booted();
    c.setMood({ mood: 'focus' });
    await flush();
    expect(ws.sentOfType('mood')).toEqual([{ type: 'mood', mood: 'focus', ref: expect.any(String) }]);
    expect(store.getState().moodPending).toEqual({ mood: 'focus' });
    ws.receive({ type: 'queue', seq: 5, now_playing: null, tracks: [], mood: makeMood({ preset: 'focus', label: 'Focus' }), reason: 'mood' });
    expect(store.getState().moodPending).toBeNull();
    expect(store.getState().mood?.label).toBe('Focus');
    expect(store.getState().outboxSize).toBe(0);
    c.dispose();
  });

  it('shows server error frames as toasts and stays connected', async () => {
    const { store, c, ws } = await booted();
    ws.receive({ type: 'error', code: 'validation_error', message: 'unknown mood' });
    expect(store.getState().toasts.map((t) => t.message)).toEqual(['unknown mood']);
    expect(store.getState().connection.status).toBe('live');
    c.dispose();
  });

  it('logs out when the socket is closed with 4401', async () => {
    const { store, ws } = await booted();
    ws.serverClose(4401);
    expect(store.getState().auth.status).toBe('anonymous');
    expect(window.location.pathname).toBe('/login');
  });

  it('quick mix applies the filters and can be played locally', async () => {
    const { store, c, api, ws } = await booted();
    c.setFilters({ allowExplicit: false, yearMin: 1990, genre: 'jazz' });
    await c.quickMix();
    expect(api.quickmix).toHaveBeenCalledWith(
      expect.objectContaining({ mood: 'chill', seed_track_ids: [1], size: 20 }),
      expect.objectContaining({ allowExplicit: false, yearMin: 1990, genre: 'jazz' }),
    );
    expect(store.getState().mix.tracks.map((t) => t.id)).toEqual([60, 61]);
    c.playMix(0);
    expect(store.getState().source).toEqual({ kind: 'mix', index: 0 });
    c.next();
    expect(store.getState().source).toEqual({ kind: 'mix', index: 1 });
    c.next();
    expect(store.getState().source).toEqual({ kind: 'queue' });
    await flush();
    expect(ws.sentOfType('feedback').filter((f) => f.action === 'skip').map((f) => f.track_id)).toEqual([60, 61]);
    c.dispose();
  });
});
