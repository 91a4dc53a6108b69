import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { Controller } from '../store/controller';
import { createStore } from '../store/store';
import { clientNow } from '../sync/clock';
import { FakePlayer, FakeWebSocket, makeMood, memoryStorage, playableTrack } from '../test/fakes';
import { fakeApi, feedbackSent, flush } from '../test/harness';
import { ReconnectingSocket } from '../ws/socket';
import type { GroupApi } from './groupApi';
import type { Group } from './types';

const ANN = { id: 42, username: 'ann' };
const BOB = { id: 7, username: 'bob' };

function makeGroup(over: Partial<Group> = {}): Group {
  return {
    id: 9,
    code: 'K7MQ2X',
    name: 'Friday',
    link: '/join/K7MQ2X',
    host: BOB,
    members: [
      { user: BOB, role: 'host', present: true },
      { user: ANN, role: 'guest', present: true },
    ],
    guest_controls: false,
    mood: null,
    limit: 32,
    ended: false,
    skip_votes: null,
    playback: null,
    ...over,
  };
}

function fakeGroupApi(over: Partial<Record<keyof GroupApi, unknown>> = {}) {
  return {
    create: vi.fn().mockResolvedValue({ group: makeGroup({ host: ANN, members: [{ user: ANN, role: 'host', present: true }] }) }),
    join: vi.fn().mockResolvedValue({ group: makeGroup() }),
    get: vi.fn(),
    mine: vi.fn().mockResolvedValue({ group: null }),
    setMood: vi.fn(),
    update: vi.fn(),
    makeHost: vi.fn(),
    removeMember: vi.fn().mockResolvedValue(undefined),
    leave: vi.fn().mockResolvedValue(undefined),
    end: vi.fn().mockResolvedValue(undefined),
    ...over,
  } as unknown as GroupApi;
}

/** A logged-in, live controller on its own queue (track 1 now playing). */
async function boot(groupOver: Partial<Record<keyof GroupApi, unknown>> = {}) {
  FakePlayer.made = [];
  const store = createStore();
  const groupApi = fakeGroupApi(groupOver);
  const c = new Controller(store, {
    api: fakeApi(),
    groupApi,
    storage: memoryStorage(),
    wsUrl: 'ws://t/ws',
    searchDebounceMs: 0,
    playerFactory: (kind) => new FakePlayer(kind, { durationMs: 180_000 }),
    createSocket: (o) => new ReconnectingSocket({ ...o, WebSocketImpl: FakeWebSocket as never, isOnline: () => true }),
  });
  await c.boot();
  const ws = FakeWebSocket.last;
  ws.open();
  ws.receive({ type: 'welcome', seq: 1, user: ANN });
  ws.receive({ type: 'queue', seq: 2, now_playing: playableTrack(1), tracks: [playableTrack(2)], mood: makeMood(), reason: null });
  await flush();
  return { store, c, ws, groupApi };
}

/** Join group 9 and receive its queue (track 50 now playing) and a playback frame. */
async function joined(playback: { state?: 'playing' | 'paused'; position_ms?: number } = {}) {
  const booted = await boot();
  const { c, ws } = booted;
  expect(await c.groups.joinByCode(' k7mq-2x ')).toBe(true);
  ws.receive({ type: 'ack', seq: 3, ref: ws.sentOfType('group_join')[0].ref as string });
  ws.receive({
    type: 'queue',
    seq: 4,
    group_id: 9,
    now_playing: playableTrack(50),
    tracks: [playableTrack(51, { added_by: BOB }), playableTrack(52, { added_by: null })],
    mood: null,
    reason: 'the group',
  });
  ws.receive({
    type: 'playback',
    seq: 5,
    track_id: 50,
    state: playback.state ?? 'playing',
    position_ms: playback.position_ms ?? 60_000,
    server_ms: Math.round(clientNow()),
  });
  return booted;
}

beforeEach(() => {
  FakeWebSocket.reset();
  window.history.replaceState(null, '', '/');
});
afterEach(() => vi.restoreAllMocks());

describe('GroupController', () => {
  it('joins by code: the group is followed over the socket and the clock is sampled', async () => {
    const { c, ws, store, groupApi } = await boot();
    expect(await c.groups.joinByCode(' k7mq-2x ')).toBe(true);
    expect(groupApi.join).toHaveBeenCalledWith('K7MQ2X');
    expect(store.getState().group.group?.code).toBe('K7MQ2X');
    expect(ws.sentOfType('group_join')).toEqual([expect.objectContaining({ group_id: 9, ref: expect.any(String) })]);
    await new Promise((r) => setTimeout(r, 10));
    expect(ws.sentOfType('clock').length).toBeGreaterThanOrEqual(1);
    const { client_ms } = ws.sentOfType('clock')[0] as { client_ms: number };
    ws.receive({ type: 'clock', client_ms, server_ms: client_ms + 5000 });
    expect(c.groups.clock.synced).toBe(true);
    expect(c.groups.clock.offsetMs).toBeGreaterThan(4900);
    c.dispose();
  });

  it('a malformed or unknown code says why', async () => {
    const { c, store } = await boot({ join: vi.fn().mockRejectedValue(new ApiError(404, 'unknown_group', 'no such group')) });
    expect(await c.groups.joinByCode('abc')).toBe(false);
    expect(store.getState().group.error).toMatch(/6 letters and digits/);
    expect(await c.groups.joinByCode('ZZZZZZ')).toBe(false);
    expect(store.getState().group.error).toBe('No group has that code (or it has ended).');
    expect(store.getState().group.group).toBeNull();
    c.dispose();
  });

  it('in a group only the group queue plays; the own queue frames wait', async () => {
    const { c, ws, store } = await joined();
    expect(store.getState().nowPlaying?.id).toBe(50);
    expect(store.getState().queue.map((t) => t.added_by?.username ?? null)).toEqual(['bob', null]);
    ws.receive({ type: 'queue', seq: 6, now_playing: playableTrack(1), tracks: [], mood: null, reason: null });
    expect(store.getState().nowPlaying?.id).toBe(50);
    c.dispose();
  });

  it('joining mid-track starts at the shared position, not at 0', async () => {
    const { c, store } = await joined({ position_ms: 60_000 });
    c.play();
    await flush();
    await flush();
    const player = FakePlayer.made.find((p) => p.loaded.includes(50))!;
    expect(player.playing).toBe(true);
    // The position comes from the server clock estimate (Date.now against performance.now
    // samples), so it may land a fraction of a millisecond either side of 60 s (59,999.98
    // was seen on CI): what matters is 60 s, not 0.
    expect(player.pos).toBeGreaterThanOrEqual(59_990);
    expect(player.pos).toBeLessThan(61_000);
    expect(store.getState().playback.status).toBe('playing');
    c.dispose();
  });

  it('drift: the MIDI player re-seeks; a paused group pauses this player where it stopped', async () => {
    const { c, ws } = await joined({ position_ms: 60_000 });
    c.play();
    await flush();
    await flush();
    const player = FakePlayer.made.find((p) => p.loaded.includes(50))!;
    player.pos -= 800; // fell behind
    c.groups.align();
    expect(player.pos).toBeGreaterThanOrEqual(60_000);
    ws.receive({ type: 'playback', seq: 7, track_id: 50, state: 'paused', position_ms: 90_000, server_ms: Math.round(clientNow()) });
    expect(player.playing).toBe(false);
    expect(player.pos).toBe(90_000);
    c.dispose();
  });

  it('drift: HTML audio is nudged by its rate within ±5 %', async () => {
    const booted = await boot();
    const { c, ws } = booted;
    await c.groups.joinByCode('K7MQ2X');
    const audio = playableTrack(60, { media: { kind: 'audio', url: '/a.mp3', playable: true } });
    ws.receive({ type: 'queue', seq: 4, group_id: 9, now_playing: audio, tracks: [], mood: null, reason: null });
    ws.receive({ type: 'playback', seq: 5, track_id: 60, state: 'playing', position_ms: 10_000, server_ms: Math.round(clientNow()) });
    c.play();
    await flush();
    await flush();
    const player = FakePlayer.made.find((p) => p.loaded.includes(60))! as FakePlayer & { setRate: (r: number) => void };
    const rates: number[] = [];
    player.setRate = (r) => rates.push(r);
    player.pos -= 300; // 300 ms behind: speed up a little
    c.groups.align();
    expect(rates.at(-1)).toBeGreaterThan(1);
    expect(rates.at(-1)).toBeLessThanOrEqual(1.05);
    player.pos += 300;
    c.groups.align();
    expect(rates.at(-1)).toBe(1);
    c.dispose();
  });

  it('a guest without controls votes to skip; the host skips at once; nothing advances locally', async () => {
    const { c, ws, store } = await joined();
    c.next();
    expect(ws.sentOfType('vote_skip')).toHaveLength(1);
    expect(ws.sentOfType('next')).toHaveLength(0);
    expect(store.getState().nowPlaying?.id).toBe(50);
    ws.receive({ type: 'group', seq: 8, group: makeGroup({ host: ANN, members: [{ user: ANN, role: 'host', present: true }] }) });
    expect(c.groups.isHost).toBe(true);
    c.next();
    expect(ws.sentOfType('next')).toHaveLength(1);
    c.dislike();
    await flush();
    expect(feedbackSent(ws)).toContainEqual(['dislike', 50]);
    expect(store.getState().nowPlaying?.id).toBe(50);
    c.dispose();
  });

  it('the end of the shared track is one `ended` frame, not complete + next', async () => {
    const { c, ws } = await joined({ position_ms: 0 });
    c.play();
    await flush();
    await flush();
    FakePlayer.made.find((p) => p.loaded.includes(50))!.onEnded?.();
    await flush();
    expect(ws.sentOfType('ended')).toEqual([expect.objectContaining({ track_id: 50 })]);
    expect(feedbackSent(ws).filter(([a]) => a === 'complete')).toEqual([]);
    c.dispose();
  });

  it('a click on a track while in a group puts it next (queue_add)', async () => {
    const { c, ws } = await joined();
    c.playNow(playableTrack(77));
    expect(ws.sentOfType('queue_add')).toEqual([expect.objectContaining({ track_id: 77 })]);
    expect(ws.sentOfType('play')).toHaveLength(0);
    c.dispose();
  });

  it('removed by the host: a notice, and the own queue plays again', async () => {
    const { c, ws, store } = await joined();
    ws.receive({ type: 'group', seq: 9, group: makeGroup(), status: 'removed' });
    expect(store.getState().group.group).toBeNull();
    expect(store.getState().group.notice).toMatch(/removed you/);
    ws.receive({ type: 'queue', seq: 10, group_id: 9, now_playing: playableTrack(53), tracks: [], mood: null, reason: null });
    expect(store.getState().nowPlaying?.id).toBe(50); // a late group frame is dropped
    ws.receive({ type: 'queue', seq: 11, now_playing: playableTrack(1), tracks: [], mood: null, reason: null });
    expect(store.getState().nowPlaying?.id).toBe(1);
    c.dispose();
  });

  it('follows the group again after a reconnect, and finds it after a reload', async () => {
    const { c, ws } = await joined();
    ws.serverClose(1006);
    await new Promise((r) => setTimeout(r, 700));
    const ws2 = FakeWebSocket.last;
    expect(ws2).not.toBe(ws);
    ws2.open();
    ws2.receive({ type: 'welcome', seq: 20, user: ANN });
    expect(ws2.sentOfType('group_join')).toEqual([expect.objectContaining({ group_id: 9 })]);
    c.dispose();

    FakeWebSocket.reset();
    const reloaded = await boot({ mine: vi.fn().mockResolvedValue({ group: makeGroup() }) });
    await flush();
    expect(reloaded.store.getState().group.group?.id).toBe(9);
    expect(reloaded.ws.sentOfType('group_join')).toEqual([expect.objectContaining({ group_id: 9 })]);
    reloaded.c.dispose();
  });

  it('the host pauses and seeks the shared track; leaving goes back to the own queue', async () => {
    const { c, ws, store, groupApi } = await joined();
    ws.receive({ type: 'group', seq: 8, group: makeGroup({ host: ANN }) });
    c.play();
    await flush();
    await flush();
    c.pause();
    expect(ws.sentOfType('playback').at(-1)).toMatchObject({ state: 'paused' });
    expect(store.getState().group.playback?.state).toBe('paused');
    c.seek(120_000);
    expect(ws.sentOfType('playback').at(-1)).toMatchObject({ state: 'paused', position_ms: 120_000 });
    await c.groups.leave();
    expect(groupApi.leave).toHaveBeenCalledWith(9);
    expect(ws.sentOfType('group_leave')).toHaveLength(1);
    expect(store.getState().group.group).toBeNull();
    c.dispose();
  });

  it('not_in_group after a reconnect: back to the own queue', async () => {
    const { c, ws, store } = await joined();
    ws.receive({ type: 'error', code: 'not_in_group', message: 'not a member', ref: ws.sentOfType('group_join')[0].ref as string });
    expect(store.getState().group.group).toBeNull();
    expect(store.getState().group.notice).toMatch(/no longer in the group/);
    c.dispose();
  });
});
