// A Controller wired to fakes: API stubs, a FakeWebSocket, fake media players.
import { vi } from 'vitest';
import type { api as realApi } from '../api/client';
import { Controller } from '../store/controller';
import { createStore } from '../store/store';
import type { Track } from '../types';
import { ReconnectingSocket } from '../ws/socket';
import { FakePlayer, FakeWebSocket, makeMood, memoryStorage, playableTrack } from './fakes';

export type Api = typeof realApi;

export function fakeApi(over: Partial<Record<keyof Api, unknown>> = {}) {
  return {
    me: vi.fn().mockResolvedValue({ user: { id: 42, username: 'ann' }, mood: makeMood() }),
    moods: vi.fn().mockResolvedValue({ moods: [{ id: 'chill', label: 'Chill', description: '' }] }),
    login: vi.fn(),
    register: vi.fn(),
    logout: vi.fn().mockResolvedValue(undefined),
    setMood: vi.fn(),
    recommendations: vi.fn().mockResolvedValue({ tracks: [playableTrack(70)], explanation: 'why' }),
    quickmix: vi.fn().mockResolvedValue({ mix_id: 'mx', tracks: [playableTrack(60), playableTrack(61)], cached: false }),
    feedback: vi.fn(),
    history: vi.fn(),
    search: vi.fn().mockResolvedValue({ tracks: [], message: null }),
    similar: vi.fn().mockResolvedValue({ tracks: [] }),
    track: vi.fn(),
    catalogStatus: vi.fn().mockResolvedValue({ state: 'ready', tracks: 10, playable: 10, loaded: 10, total: 10 }),
    settings: vi.fn().mockResolvedValue({ settings: { include_unplayable: false } }),
    saveSettings: vi.fn().mockImplementation(async (s: { include_unplayable: boolean }) => ({ settings: s })),
    libraries: vi.fn().mockResolvedValue({ libraries: [] }),
    addLibrary: vi.fn(),
    syncLibrary: vi.fn().mockResolvedValue({ accepted: true }),
    removeLibrary: vi.fn().mockResolvedValue(undefined),
    ...over,
  } as unknown as Api;
}

export interface BootOptions {
  api?: Partial<Record<keyof Api, unknown>>;
  nowPlaying?: Track | null;
  tracks?: Track[];
  playerOptions?: ConstructorParameters<typeof FakePlayer>[1];
}

/** A logged-in, live controller whose first queue frame has arrived. */
export async function booted(opts: BootOptions = {}) {
  FakePlayer.made = [];
  const store = createStore();
  const api = fakeApi(opts.api);
  const storage = memoryStorage();
  const c = new Controller(store, {
    api,
    storage,
    wsUrl: 'ws://t/ws',
    searchDebounceMs: 0,
    catalogPollMs: 5,
    libraryPollMs: 5,
    playerFactory: (kind) => new FakePlayer(kind, opts.playerOptions),
    createSocket: (o) => new ReconnectingSocket({ ...o, WebSocketImpl: FakeWebSocket as never, isOnline: () => true }),
  });
  await c.boot();
  const ws = FakeWebSocket.last;
  ws.open();
  ws.receive({ type: 'welcome', seq: 1, user: { id: 42, username: 'ann' } });
  ws.receive({
    type: 'queue',
    seq: 2,
    now_playing: opts.nowPlaying === undefined ? playableTrack(1) : opts.nowPlaying,
    tracks: opts.tracks ?? [playableTrack(2), playableTrack(3), playableTrack(4)],
    mood: makeMood(),
    reason: 'start',
  });
  return { store, api, c, ws, storage };
}

export const flush = () => new Promise((r) => setTimeout(r, 0));

/** Feedback frames sent so far, as [action, track_id] pairs. */
export function feedbackSent(ws: FakeWebSocket): Array<[unknown, unknown]> {
  return ws.sentOfType('feedback').map((f) => [f.action, f.track_id]);
}
