import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeTrack } from '../test/fakes';
import type { MediaKind } from '../types';
import { NO_AUDIO_MESSAGE, PlaybackEngine, type EngineCallbacks } from './engine';
import { TimerPlayer } from './timerPlayer';
import type { MediaPlayer } from './types';

class FakePlayer implements MediaPlayer {
  onEnded: (() => void) | null = null;
  pos = 0;
  playing = false;
  disposed = false;
  constructor(
    readonly kind: MediaKind,
    private readonly fail: Error | null = null,
    private readonly refuse: Error | null = null,
  ) {}
  async load() {
    if (this.fail) throw this.fail;
    return 10_000;
  }
  async play() {
    if (this.refuse) throw this.refuse;
    this.playing = true;
  }
  pause() {
    this.playing = false;
  }
  seek(ms: number) {
    this.pos = ms;
  }
  setVolume() {}
  position() {
    return this.pos;
  }
  duration() {
    return 10_000;
  }
  dispose() {
    this.disposed = true;
  }
}

function callbacks() {
  return {
    onLoading: vi.fn(),
    onStatus: vi.fn(),
    onProgress: vi.fn(),
    onStarted: vi.fn(),
    onEnded: vi.fn(),
  } satisfies EngineCallbacks;
}

describe('PlaybackEngine', () => {
  it('reports start once, pause/resume without a second start, and the end once', async () => {
    const cb = callbacks();
    const players: FakePlayer[] = [];
    const engine = new PlaybackEngine(cb, (kind) => {
      const p = new FakePlayer(kind);
      players.push(p);
      return p;
    });
    const t = makeTrack(1, { media: { kind: 'midi', url: '/api/tracks/1/media' } });
    await engine.load(t, true);
    expect(cb.onLoading).toHaveBeenCalledWith(t, 'midi', 180_000);
    expect(cb.onStarted).toHaveBeenCalledTimes(1);
    expect(cb.onStatus).toHaveBeenLastCalledWith('playing');
    engine.pause();
    expect(cb.onStatus).toHaveBeenLastCalledWith('paused');
    await engine.play();
    expect(cb.onStarted).toHaveBeenCalledTimes(1);
    players[0].pos = 4321;
    expect(engine.position()).toBe(4321);
    players[0].onEnded?.();
    players[0].onEnded?.();
    expect(cb.onEnded).toHaveBeenCalledTimes(1);
    expect(cb.onEnded).toHaveBeenCalledWith(t, 10_000);
    engine.stop();
  });

  it('falls back to a silent timer when the media cannot be loaded', async () => {
    const cb = callbacks();
    const kinds: MediaKind[] = [];
    const engine = new PlaybackEngine(cb, (kind) => {
      kinds.push(kind);
      return new FakePlayer(kind, kind === 'audio' ? new Error('404') : null);
    });
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await engine.load(makeTrack(2, { media: { kind: 'audio', url: '/x' } }), false);
    expect(kinds).toEqual(['audio', 'none']);
    expect(cb.onStatus).toHaveBeenLastCalledWith('paused', `${NO_AUDIO_MESSAGE} (404)`);
    expect(cb.onStarted).not.toHaveBeenCalled();
  });

  it('treats a track without a url as having no audio', async () => {
    const cb = callbacks();
    const engine = new PlaybackEngine(cb, (kind) => new FakePlayer(kind));
    await engine.load(makeTrack(3, { media: { kind: 'midi', url: null } }), false);
    expect(cb.onLoading.mock.calls[0][1]).toBe('none');
    expect(cb.onStatus).toHaveBeenLastCalledWith('paused', NO_AUDIO_MESSAGE);
  });

  it('stays paused with a hint when the browser refuses to play', async () => {
    const cb = callbacks();
    const refused = Object.assign(new Error('no'), { name: 'NotAllowedError' });
    const engine = new PlaybackEngine(cb, (kind) => new FakePlayer(kind, null, refused));
    await engine.load(makeTrack(4, { media: { kind: 'audio', url: '/a' } }), true);
    expect(cb.onStatus).toHaveBeenLastCalledWith('paused', 'Press play to start the sound');
    expect(cb.onStarted).not.toHaveBeenCalled();
    expect(engine.isPlaying).toBe(false);
  });

  it('drops a load that was overtaken by a newer one', async () => {
    const cb = callbacks();
    const made: FakePlayer[] = [];
    const engine = new PlaybackEngine(cb, (kind) => {
      const p = new FakePlayer(kind);
      made.push(p);
      return p;
    });
    const first = engine.load(makeTrack(5), true);
    const second = engine.load(makeTrack(6), true);
    await Promise.all([first, second]);
    expect(engine.trackId).toBe(6);
    expect(made[0].disposed).toBe(true);
    expect(cb.onStarted).toHaveBeenCalledTimes(1);
    expect(cb.onStarted.mock.calls[0][0].id).toBe(6);
    engine.stop();
  });
});

describe('TimerPlayer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('runs for the track duration, pauses, seeks and ends', async () => {
    let now = 0;
    const p = new TimerPlayer(() => now);
    const ended = vi.fn();
    p.onEnded = ended;
    expect(await p.load(makeTrack(1, { duration_ms: 10_000 }))).toBe(10_000);
    await p.play();
    now = 4000;
    expect(p.position()).toBe(4000);
    p.pause();
    now = 9000;
    expect(p.position()).toBe(4000);
    await p.play();
    p.seek(8000);
    now = 10_000;
    vi.advanceTimersByTime(1999);
    expect(ended).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(ended).toHaveBeenCalledOnce();
    expect(p.position()).toBe(10_000);
  });

  it('uses a default length only when the duration is unknown', async () => {
    const p = new TimerPlayer(() => 0);
    expect(await p.load(makeTrack(1, { duration_ms: null }))).toBe(180_000);
  });
});
