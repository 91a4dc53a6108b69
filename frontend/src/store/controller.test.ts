import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { FakePlayer, FakeWebSocket, makeMood, makeTrack } from '../test/fakes';
import { booted, fakeApi, feedbackSent, flush } from '../test/harness';
import { Controller } from './controller';
import { createStore } from './store';

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
    const { store, c, ws } = await booted({ playerOptions: { durationMs: 60 } });
    c.play();
    await vi.waitFor(() => expect(ws.sentOfType('feedback').map((f) => f.action)).toContain('play'));
    expect(store.getState().playback.mediaKind).toBe('midi');
    expect(store.getState().playback.status).toBe('playing');
    const player = FakePlayer.made.find((p) => p.loaded.includes(1))!;
    player.onEnded?.();
    await flush();
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
    await c.discover.quickMix();
    expect(api.quickmix).toHaveBeenCalledWith(
      expect.objectContaining({ mood: 'chill', seed_track_ids: [1], size: 20 }),
      expect.objectContaining({ allowExplicit: false, yearMin: 1990, genre: 'jazz' }),
    );
    expect(store.getState().mix.tracks.map((t) => t.id)).toEqual([60, 61]);
    c.discover.playMix(0);
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

describe('Controller: likes and mood errors', () => {
  it('like toggles: a second press sends unlike and clears the rating', async () => {
    const { store, c, ws } = await booted();
    c.like();
    c.like();
    c.like();
    await flush();
    expect(feedbackSent(ws)).toEqual([
      ['like', 1],
      ['unlike', 1],
      ['like', 1],
    ]);
    expect(store.getState().ratings[1]).toBe('like');
    c.like();
    expect(store.getState().ratings[1]).toBe('none');
    c.dispose();
  });

  it('a mood whose words mean nothing shows the server message under the box, and is not resent', async () => {
    const { store, c, ws } = await booted();
    c.setMood({ text: 'zzzzqqq' });
    await flush();
    const [frame] = ws.sentOfType('mood');
    expect(store.getState().outboxSize).toBe(1);
    ws.receive({ type: 'error', seq: 3, code: 'unknown_mood_words', message: 'No mood in “zzzzqqq”: try words like calm or upbeat.', ref: frame.ref });
    const s = store.getState();
    expect(s.moodError).toBe('No mood in “zzzzqqq”: try words like calm or upbeat.');
    expect(s.moodPending).toBeNull();
    expect(s.outboxSize).toBe(0);
    expect(s.toasts).toEqual([]);
    c.setMood({ text: 'rainy morning' });
    expect(store.getState().moodError).toBeNull();
    c.dispose();
  });

  it('over HTTP too (socket down): a 422 becomes the inline message', async () => {
    const setMood = vi.fn().mockRejectedValue(new ApiError(422, 'unknown_mood_words', 'Nothing in “zzzzqqq” names a mood.'));
    const { store, c, ws } = await booted({ api: { setMood } });
    ws.serverClose(1008, 'flood');
    c.setMood({ text: 'zzzzqqq' });
    await flush();
    expect(setMood).toHaveBeenCalledWith({ text: 'zzzzqqq' });
    expect(store.getState().moodError).toBe('Nothing in “zzzzqqq” names a mood.');
    c.dispose();
  });

  it('other refused frames become toasts and leave the outbox', async () => {
    const { store, c, ws } = await booted();
    c.feedback(makeTrack(99), 'like');
    await flush();
    const [frame] = ws.sentOfType('feedback');
    ws.receive({ type: 'error', seq: 3, code: 'track_not_found', message: 'no such track', ref: frame.ref });
    expect(store.getState().outboxSize).toBe(0);
    expect(store.getState().toasts.map((t) => t.message)).toEqual(['no such track']);
    expect(store.getState().moodError).toBeNull();
    c.dispose();
  });
});

describe('Controller: a like the server knows about', () => {
  it('a track that arrives liked shows liked, and the first press takes the like back', async () => {
    const liked = { ...makeTrack(1), media: { kind: 'midi' as const, url: '/m/1', playable: true }, liked: true };
    const { store, c, ws } = await booted({ nowPlaying: liked });
    c.like();
    await flush();
    expect(feedbackSent(ws)).toEqual([['unlike', 1]]);
    expect(store.getState().ratings[1]).toBe('none');
    c.dispose();
  });
});
