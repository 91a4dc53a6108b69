import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket, memoryStorage } from '../test/fakes';
import { Outbox } from './outbox';
import { backoffDelay, ReconnectingSocket, type ConnectionState, type SocketOptions } from './socket';

const live: ReconnectingSocket[] = [];

function setup(over: Partial<SocketOptions> = {}) {
  const storage = memoryStorage();
  const outbox = new Outbox(storage, 'outbox');
  const frames: unknown[] = [];
  const states: ConnectionState[] = [];
  const socket = new ReconnectingSocket({
    url: 'ws://test/ws',
    outbox,
    onFrame: (f) => frames.push(f),
    onState: (s) => states.push(s),
    WebSocketImpl: FakeWebSocket as unknown as new (url: string) => WebSocket,
    random: () => 0.5,
    isOnline: () => true,
    ...over,
  });
  live.push(socket);
  return { socket, outbox, frames, states, storage };
}

beforeEach(() => {
  vi.useFakeTimers();
  FakeWebSocket.reset();
});
afterEach(() => {
  for (const s of live.splice(0)) s.stop();
  vi.useRealTimers();
});

describe('backoffDelay', () => {
  it('grows from 0.5 s to a 10 s cap with jitter', () => {
    expect(backoffDelay(0, () => 0.5)).toBe(500);
    expect(backoffDelay(1, () => 0.5)).toBe(1000);
    expect(backoffDelay(3, () => 0.5)).toBe(4000);
    expect(backoffDelay(10, () => 0.5)).toBe(10_000);
    expect(backoffDelay(10, () => 1)).toBe(10_000);
    expect(backoffDelay(2, () => 0)).toBe(1600);
    expect(backoffDelay(2, () => 1)).toBe(2400);
    expect(backoffDelay(0, () => 0)).toBe(500);
  });
});

describe('ReconnectingSocket', () => {
  it('says hello first, goes live on welcome and tracks seq', () => {
    const { socket, frames, states } = setup();
    socket.start();
    const ws = FakeWebSocket.last;
    expect(ws.url).toBe('ws://test/ws');
    expect(ws.binaryType).toBe('arraybuffer');
    expect(states.at(-1)).toEqual({ status: 'connecting', attempt: 0 });
    ws.open();
    expect(ws.sent).toEqual([{ type: 'hello', resume_after: null }]);
    ws.receive({ type: 'welcome', seq: 1, user: { id: 1, username: 'a' } });
    expect(states.at(-1)).toEqual({ status: 'live' });
    ws.receive({ type: 'queue', seq: 2, now_playing: null, tracks: [], mood: null, reason: null });
    expect(socket.lastSeq).toBe(2);
    expect(frames).toHaveLength(2);
  });

  it('pings every 25 s', () => {
    const { socket } = setup();
    socket.start();
    const ws = FakeWebSocket.last;
    ws.open();
    ws.receive({ type: 'welcome', seq: 1, user: {} });
    vi.advanceTimersByTime(25_000);
    ws.receive({ type: 'pong' });
    vi.advanceTimersByTime(25_000);
    expect(ws.sentOfType('ping')).toHaveLength(2);
  });

  it('reconnects with backoff after 1006 and resumes after the last seq', () => {
    const { socket, states } = setup();
    socket.start();
    let ws = FakeWebSocket.last;
    ws.open();
    ws.receive({ type: 'welcome', seq: 1, user: {} });
    ws.receive({ type: 'queue', seq: 7, now_playing: null, tracks: [], mood: null, reason: null });
    ws.serverClose(1006);
    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', attempt: 1, delayMs: 500 });
    vi.advanceTimersByTime(499);
    expect(FakeWebSocket.instances).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(FakeWebSocket.instances).toHaveLength(2);
    // The next attempt fails before opening: the delay doubles.
    FakeWebSocket.last.serverClose(1006);
    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', attempt: 2, delayMs: 1000 });
    vi.advanceTimersByTime(1000);
    ws = FakeWebSocket.last;
    ws.open();
    expect(ws.sent[0]).toEqual({ type: 'hello', resume_after: 7 });
    ws.receive({ type: 'welcome', seq: 8, user: {} });
    // Live again: the backoff starts over.
    ws.serverClose(1012);
    expect(states.at(-1)).toMatchObject({ status: 'reconnecting', attempt: 1, delayMs: 500 });
  });

  it('keeps durable frames until acked and resends them with the same ref after reconnecting', () => {
    const { socket, outbox, storage } = setup();
    socket.start();
    let ws = FakeWebSocket.last;
    // Queued while connecting: nothing goes out before the server is ready.
    const ref1 = socket.sendDurable({ type: 'feedback', track_id: 1, action: 'skip', position_ms: 5 });
    vi.runOnlyPendingTimers();
    expect(ws.sentOfType('feedback')).toHaveLength(0);
    ws.open();
    ws.receive({ type: 'welcome', seq: 1, user: {} });
    vi.advanceTimersByTime(0);
    expect(ws.sentOfType('feedback')).toEqual([{ type: 'feedback', track_id: 1, action: 'skip', position_ms: 5, ref: ref1 }]);
    const ref2 = socket.sendDurable({ type: 'feedback', track_id: 2, action: 'like' });
    vi.advanceTimersByTime(0);
    ws.receive({ type: 'ack', seq: 2, ref: ref1 });
    expect(outbox.pending().map((e) => e.ref)).toEqual([ref2]);
    expect(JSON.parse(storage.getItem('outbox')!)).toHaveLength(1);
    // Connection drops before ref2 is acked.
    ws.serverClose(1006);
    vi.advanceTimersByTime(500);
    ws = FakeWebSocket.last;
    ws.open();
    expect(ws.sent).toEqual([{ type: 'hello', resume_after: 2 }]);
    ws.receive({ type: 'welcome', seq: 3, user: {} });
    vi.advanceTimersByTime(0);
    expect(ws.sentOfType('feedback')).toEqual([{ type: 'feedback', track_id: 2, action: 'like', ref: ref2 }]);
    ws.receive({ type: 'ack', seq: 4, ref: ref2 });
    expect(outbox.size).toBe(0);
  });

  it('paces a long outbox under the frame rate limit', () => {
    const { socket } = setup({ maxFramesPerSecond: 10 });
    for (let i = 0; i < 25; i++) socket.sendDurable({ type: 'feedback', track_id: i, action: 'play' });
    socket.start();
    const ws = FakeWebSocket.last;
    ws.open();
    ws.receive({ type: 'welcome', seq: 1, user: {} });
    vi.advanceTimersByTime(0);
    expect(ws.sentOfType('feedback').length).toBeLessThanOrEqual(10);
    vi.advanceTimersByTime(3000);
    expect(ws.sentOfType('feedback')).toHaveLength(25);
  });

  it('stops and reports policy (1008) and too-big (1009) closes', () => {
    const { socket, states } = setup();
    socket.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.serverClose(1008, '');
    expect(states.at(-1)).toMatchObject({ status: 'failed', code: 1008 });
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    // The listener may retry by hand.
    socket.retryNow();
    expect(FakeWebSocket.instances).toHaveLength(2);
    FakeWebSocket.last.open();
    FakeWebSocket.last.serverClose(1009, 'frame too large');
    expect(states.at(-1)).toEqual({ status: 'failed', code: 1009, message: 'frame too large' });
  });

  it('treats 4401 as logged out', () => {
    const { socket, states } = setup();
    socket.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.serverClose(4401);
    expect(states.at(-1)).toEqual({ status: 'unauthorized' });
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('asks the API when the upgrade fails (a 401 there is invisible) and stops when logged out', async () => {
    const checkAuth = vi.fn().mockResolvedValue('unauthorized');
    const { socket, states } = setup({ checkAuth });
    socket.start();
    FakeWebSocket.last.serverClose(1006);
    await vi.waitFor(() => expect(states.at(-1)).toEqual({ status: 'unauthorized' }));
    expect(checkAuth).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('waits for the browser to come back online', () => {
    let online = true;
    const { socket, states } = setup({ isOnline: () => online });
    socket.start();
    FakeWebSocket.last.open();
    FakeWebSocket.last.receive({ type: 'welcome', seq: 1, user: {} });
    online = false;
    window.dispatchEvent(new Event('offline'));
    expect(states.at(-1)).toEqual({ status: 'offline' });
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
    online = true;
    window.dispatchEvent(new Event('online'));
    expect(FakeWebSocket.instances).toHaveLength(2);
    socket.stop();
  });

  it('does not reconnect after stop()', () => {
    const { socket, states } = setup();
    socket.start();
    FakeWebSocket.last.open();
    socket.stop();
    expect(FakeWebSocket.last.closedWith).toBe(1000);
    expect(states.at(-1)).toEqual({ status: 'idle' });
    vi.advanceTimersByTime(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });

  it('ignores undecodable frames and drops non-durable sends while not live', () => {
    const { socket, frames } = setup();
    socket.start();
    const ws = FakeWebSocket.last;
    expect(socket.send({ type: 'next' })).toBe(false);
    ws.open();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    ws.onmessage?.({ data: 'garbage' } as MessageEvent);
    expect(frames).toHaveLength(0);
    warn.mockRestore();
    ws.receive({ type: 'welcome', seq: 1, user: {} });
    expect(socket.send({ type: 'next' })).toBe(true);
    expect(ws.sentOfType('next')).toHaveLength(1);
  });
});
