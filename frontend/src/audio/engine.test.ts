import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakePlayer, makeTrack, playableTrack } from '../test/fakes';
import { NO_AUDIO_MESSAGE, PlaybackEngine, type EngineCallbacks, type PlayableKind } from './engine';

function callbacks() {
  return {
    onLoading: vi.fn(),
    onStatus: vi.fn(),
    onProgress: vi.fn(),
    onStarted: vi.fn(),
    onEnded: vi.fn(),
    onFailed: vi.fn(),
  } satisfies EngineCallbacks;
}

const flush = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  FakePlayer.made = [];
  window.__musicrecPlayback = null;
});
afterEach(() => vi.restoreAllMocks());

describe('PlaybackEngine', () => {
  it('reports start once, pause/resume without a second start, and the end once', async () => {
    const cb = callbacks();
    const engine = new PlaybackEngine(cb, (kind) => new FakePlayer(kind));
    const t = playableTrack(1);
    await engine.load(t, true);
    expect(cb.onLoading).toHaveBeenCalledWith(t, 'midi', 180_000);
    expect(cb.onStarted).toHaveBeenCalledTimes(1);
    expect(cb.onStatus).toHaveBeenLastCalledWith('playing');
    engine.pause();
    expect(cb.onStatus).toHaveBeenLastCalledWith('paused');
    await engine.play();
    expect(cb.onStarted).toHaveBeenCalledTimes(1);
    const player = FakePlayer.made[0];
    player.pos = 4321;
    expect(engine.position()).toBe(4321);
    player.onEnded?.();
    player.onEnded?.();
    expect(cb.onEnded).toHaveBeenCalledTimes(1);
    expect(cb.onEnded).toHaveBeenCalledWith(t, 10_000);
    engine.dispose();
  });

  it('never plays a track that cannot play here (no silent timer): it reports a failure', async () => {
    const cb = callbacks();
    const engine = new PlaybackEngine(cb, (kind) => new FakePlayer(kind));
    await engine.load(makeTrack(3, { media: { kind: 'none', url: null } }), true);
    await engine.load(makeTrack(4, { media: { kind: 'midi', url: '/m', playable: false } }), true);
    expect(FakePlayer.made).toHaveLength(0);
    expect(cb.onFailed).toHaveBeenCalledTimes(2);
    expect(cb.onFailed.mock.calls[0][1]).toBe(NO_AUDIO_MESSAGE);
    expect(cb.onStatus).toHaveBeenLastCalledWith('error', NO_AUDIO_MESSAGE);
    expect(cb.onStarted).not.toHaveBeenCalled();
  });

  it('reports media that cannot be loaded as a failure', async () => {
    const cb = callbacks();
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const engine = new PlaybackEngine(cb, (kind) => new FakePlayer(kind, { fail: new Error('404') }));
    await engine.load(playableTrack(2, { media: { kind: 'audio', url: '/x', playable: true } }), true);
    expect(cb.onLoading.mock.calls[0][1]).toBe('audio');
    expect(cb.onFailed).toHaveBeenCalledWith(expect.objectContaining({ id: 2 }), 'Could not load this track (404)');
    expect(cb.onStarted).not.toHaveBeenCalled();
    expect(engine.isPlaying).toBe(false);
  });

  it('stays paused with a hint when the browser refuses to play', async () => {
    const cb = callbacks();
    const refused = Object.assign(new Error('no'), { name: 'NotAllowedError' });
    const engine = new PlaybackEngine(cb, (kind) => new FakePlayer(kind, { refuse: refused }));
    await engine.load(playableTrack(4), true);
    expect(cb.onStatus).toHaveBeenLastCalledWith('paused', 'Press play to start the sound');
    expect(cb.onStarted).not.toHaveBeenCalled();
    expect(cb.onFailed).not.toHaveBeenCalled();
    expect(engine.isPlaying).toBe(false);
  });

  it('drops a load that was overtaken by a newer one', async () => {
    const cb = callbacks();
    const engine = new PlaybackEngine(cb, (kind) => new FakePlayer(kind));
    const first = engine.load(playableTrack(5), true);
    const second = engine.load(playableTrack(6), true);
    await Promise.all([first, second]);
    expect(engine.trackId).toBe(6);
    expect(FakePlayer.made[0].disposed).toBe(true);
    expect(cb.onStarted).toHaveBeenCalledTimes(1);
    expect(cb.onStarted.mock.calls[0][0].id).toBe(6);
    engine.dispose();
  });

  it('prefetches the next track into its own player and uses it when that track is loaded', async () => {
    const cb = callbacks();
    const kinds: PlayableKind[] = [];
    const engine = new PlaybackEngine(cb, (kind) => {
      kinds.push(kind);
      return new FakePlayer(kind);
    });
    await engine.load(playableTrack(1), true);
    const next = playableTrack(2, { media: { kind: 'audio', url: '/a/2', playable: true } });
    engine.prefetch(next);
    engine.prefetch(next); // once
    engine.prefetch(playableTrack(1)); // the current one: nothing to do
    expect(engine.prefetchedId).toBe(2);
    expect(kinds).toEqual(['midi', 'audio']);
    const prefetcher = FakePlayer.made[1];
    expect(prefetcher.preloaded).toEqual([2]);
    expect(FakePlayer.made[0].disposed).toBe(false); // the playing track is untouched

    await engine.load(next, true);
    expect(FakePlayer.made).toHaveLength(2); // no new player: the prefetched one plays
    expect(prefetcher.loaded).toEqual([2]);
    expect(FakePlayer.made[0].disposed).toBe(true);
    expect(engine.prefetchedId).toBeNull();
    await flush();
    expect(window.__musicrecPlayback).toMatchObject({ trackId: 2, prefetched: true });
    engine.dispose();
    expect(prefetcher.disposed).toBe(true);
  });

  it('replaces a prefetch of another track and skips tracks that cannot play', () => {
    const engine = new PlaybackEngine(callbacks(), (kind) => new FakePlayer(kind));
    engine.prefetch(playableTrack(7));
    engine.prefetch(playableTrack(8));
    expect(FakePlayer.made[0].disposed).toBe(true);
    expect(engine.prefetchedId).toBe(8);
    engine.prefetch(makeTrack(9));
    expect(engine.prefetchedId).toBe(8);
    engine.dispose();
  });

  it('publishes start timing on window.__musicrecPlayback once the track is audible', async () => {
    let t = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => t);
    const engine = new PlaybackEngine(callbacks(), (kind) => new FakePlayer(kind, { audible: false }));
    const loading = engine.load(playableTrack(11), true);
    expect(window.__musicrecPlayback).toEqual({ trackId: 11, requestedAt: 1000, startedAt: null, prefetched: false });
    await loading;
    t = 1042;
    FakePlayer.made[0].onAudible?.();
    expect(window.__musicrecPlayback).toEqual({ trackId: 11, requestedAt: 1000, startedAt: 1042, prefetched: false });
    t = 5000;
    FakePlayer.made[0].onAudible?.(); // a later resume does not count
    expect(window.__musicrecPlayback?.startedAt).toBe(1042);

    // Loaded paused: the request is the press on play.
    await engine.load(playableTrack(12), false);
    expect(window.__musicrecPlayback?.trackId).toBe(11);
    t = 6000;
    const playing = engine.play();
    expect(window.__musicrecPlayback).toMatchObject({ trackId: 12, requestedAt: 6000, startedAt: null });
    await playing;
    engine.dispose();
  });
});

describe('PlaybackEngine after a failure', () => {
  it('Play tries the track again', async () => {
    const cb = callbacks();
    let fail = true;
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const engine = new PlaybackEngine(cb, (kind) => new FakePlayer(kind, fail ? { fail: new Error('503') } : {}));
    await engine.load(playableTrack(1), true);
    expect(cb.onFailed).toHaveBeenCalledTimes(1);
    expect(engine.trackId).toBe(1);
    fail = false;
    await engine.play();
    expect(cb.onStarted).toHaveBeenCalledTimes(1);
    expect(engine.isPlaying).toBe(true);
    engine.dispose();
  });
});
