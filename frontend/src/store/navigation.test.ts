import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakePlayer, FakeWebSocket, makeMood, makeTrack, playableTrack } from '../test/fakes';
import { booted, feedbackSent, flush } from '../test/harness';
import { canGoBack } from './navigation';

beforeEach(() => FakeWebSocket.reset());
afterEach(() => vi.restoreAllMocks());

const unplayable = (id: number) =>
  makeTrack(id, {
    media: { kind: 'none', url: null, playable: false },
    links: { spotify: `spotify:track:x${id}`, spotify_url: `https://open.spotify.com/track/x${id}` },
  });

describe('play now', () => {
  it('sends play for the chosen track, then skip for the track left, and switches at once', async () => {
    const { store, c, ws } = await booted();
    c.play();
    await vi.waitFor(() => expect(store.getState().playback.status).toBe('playing'));
    c.playNow(playableTrack(3));
    expect(store.getState().nowPlaying?.id).toBe(3);
    expect(store.getState().queue.map((t) => t.id)).toEqual([2, 4]);
    expect(store.getState().pendingPlay).toBe(3);
    await flush();
    const types = ws.sent.map((f) => `${f.type}:${f.action ?? ''}:${f.track_id ?? ''}`);
    const playAt = types.indexOf('play::3');
    const skipAt = types.indexOf('feedback:skip:1');
    expect(playAt).toBeGreaterThan(-1);
    expect(skipAt).toBeGreaterThan(playAt);
    const play = ws.sentOfType('play')[0];
    expect(play).toEqual({ type: 'play', track_id: 3, ref: expect.any(String) });
    await vi.waitFor(() => expect(store.getState().playback.trackId).toBe(3));

    // A frame the server sent before it saw our `play` does not switch back.
    ws.receive({ type: 'queue', seq: 3, now_playing: playableTrack(2), tracks: [playableTrack(3), playableTrack(4)], mood: makeMood(), reason: 'older' });
    expect(store.getState().nowPlaying?.id).toBe(3);
    expect(store.getState().queue.map((t) => t.id)).toEqual([4]);
    // The confirming frame settles it.
    ws.receive({ type: 'queue', seq: 4, now_playing: playableTrack(3), tracks: [playableTrack(4), playableTrack(5)], mood: makeMood(), reason: 'you picked it' });
    expect(store.getState().pendingPlay).toBeNull();
    ws.receive({ type: 'ack', seq: 5, ref: play.ref });
    c.dispose();
  });

  it('an unknown track is reported and stops holding the local choice', async () => {
    const { store, c, ws } = await booted();
    c.playNow(playableTrack(77));
    const ref = ws.sentOfType('play')[0].ref;
    ws.receive({ type: 'error', seq: 3, code: 'unknown_track', message: 'There is no track 77.', ref });
    expect(store.getState().pendingPlay).toBeNull();
    expect(store.getState().toasts.map((t) => t.message)).toEqual(['There is no track 77.']);
    c.dispose();
  });

  it('offline: nothing changes and the listener is told', async () => {
    const { store, c, ws } = await booted();
    ws.serverClose(1006);
    c.playNow(playableTrack(3));
    expect(store.getState().nowPlaying?.id).toBe(1);
    expect(store.getState().toasts.at(-1)?.message).toMatch(/Offline/);
    c.dispose();
  });

  it('does not send play for a track that cannot play here', async () => {
    const { c, ws } = await booted();
    c.playNow(unplayable(9));
    expect(ws.sentOfType('play')).toHaveLength(0);
    c.dispose();
  });
});

describe('previous', () => {
  it('goes back through the tracks left in this tab; the track left gets its skip', async () => {
    const { store, c, ws } = await booted();
    expect(canGoBack(store.getState())).toBe(false);
    c.next(); // 1 -> 2
    c.next(); // 2 -> 3
    expect(store.getState().backStack.map((t) => t.id)).toEqual([1, 2]);
    expect(canGoBack(store.getState())).toBe(true);

    c.previous();
    expect(store.getState().nowPlaying?.id).toBe(2);
    expect(store.getState().backStack.map((t) => t.id)).toEqual([1]); // 3 is not pushed: no ping-pong
    c.previous();
    expect(store.getState().nowPlaying?.id).toBe(1);
    expect(store.getState().backStack).toEqual([]);
    c.previous(); // nothing left: nothing happens
    expect(store.getState().nowPlaying?.id).toBe(1);
    await flush();
    expect(ws.sentOfType('play').map((f) => f.track_id)).toEqual([2, 1]);
    expect(feedbackSent(ws).filter(([action]) => action === 'skip')).toEqual([
      ['skip', 1],
      ['skip', 2],
      ['skip', 3],
      ['skip', 2],
    ]);
    expect(store.getState().playback.wantsToPlay).toBe(true); // previous plays
    c.dispose();
  });

  it('in a Quick Mix goes to the mix track before', async () => {
    const { store, c } = await booted();
    await c.discover.quickMix();
    c.discover.playMix(1);
    expect(canGoBack(store.getState())).toBe(true);
    c.previous();
    expect(store.getState().source).toEqual({ kind: 'mix', index: 0 });
    c.dispose();
  });
});

describe('tracks that cannot play here', () => {
  it('are passed over while playing (next, no feedback) and never reach the engine', async () => {
    const { store, c, ws } = await booted({ nowPlaying: unplayable(1), tracks: [unplayable(2), playableTrack(3)] });
    expect(store.getState().playback.wantsToPlay).toBe(false);
    expect(ws.sentOfType('next')).toHaveLength(0); // paused: it stays, with its Spotify link
    c.play();
    expect(store.getState().nowPlaying?.id).toBe(3);
    expect(ws.sentOfType('next')).toHaveLength(2);
    await vi.waitFor(() => expect(store.getState().playback.trackId).toBe(3));
    await flush();
    expect(feedbackSent(ws)).toEqual([['play', 3]]);
    expect(FakePlayer.made.flatMap((p) => p.loaded)).toEqual([3]);
    c.dispose();
  });

  it('a skip of one (while paused) sends next, not skip feedback', async () => {
    const { store, c, ws } = await booted({ nowPlaying: unplayable(1), tracks: [playableTrack(2)] });
    c.next();
    await flush();
    expect(ws.sentOfType('next')).toHaveLength(1);
    expect(feedbackSent(ws)).toEqual([]);
    expect(store.getState().nowPlaying?.id).toBe(2);
    c.dispose();
  });

  it('stop the player when nothing coming up can play', async () => {
    const { store, c, ws } = await booted({ nowPlaying: unplayable(1), tracks: [unplayable(2)] });
    c.play();
    expect(store.getState().playback.wantsToPlay).toBe(false);
    expect(store.getState().nowPlaying?.id).toBe(1);
    expect(ws.sentOfType('next')).toHaveLength(0);
    expect(store.getState().toasts.map((t) => t.message)).toEqual(['Nothing coming up can play here.']);
    c.dispose();
  });

  it('media that fails to load is skipped with a toast, and three failures in a row stop', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const tracks = [2, 3, 4, 5].map((id) => playableTrack(id));
    const { store, c, ws } = await booted({ tracks, playerOptions: { fail: new Error('MIDI download failed (500)') } });
    c.play();
    await vi.waitFor(() => expect(store.getState().playback.wantsToPlay).toBe(false));
    expect(store.getState().nowPlaying?.id).toBe(3);
    expect(ws.sentOfType('next')).toHaveLength(2);
    const messages = store.getState().toasts.map((t) => t.message);
    expect(messages[0]).toBe('Skipped “Track 1”: Could not load this track (MIDI download failed (500))');
    expect(messages.at(-1)).toMatch(/Stopped after 3 tracks in a row/);
    c.dispose();
  });
});

describe('prefetch', () => {
  it('readies the current track while paused, and the next one while playing', async () => {
    const { store, c } = await booted({ tracks: [makeTrack(2), playableTrack(3)] });
    expect(c.engine.prefetchedId).toBe(1);
    c.play();
    await vi.waitFor(() => expect(store.getState().playback.status).toBe('playing'));
    // Track 1 came from the prefetch; track 2 cannot play, so track 3 is the one readied.
    expect(FakePlayer.made[0].loaded).toEqual([1]);
    expect(c.engine.prefetchedId).toBe(3);
    expect(FakePlayer.made[1].preloaded).toEqual([3]);
    expect(window.__musicrecPlayback).toMatchObject({ trackId: 1, prefetched: true });
    c.dispose();
  });
});
