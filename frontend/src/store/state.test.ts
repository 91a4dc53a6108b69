import { describe, expect, it } from 'vitest';
import { makeMood, makeTrack } from '../test/fakes';
import type { QueueFrame } from '../ws/protocol';
import { currentTrack, initialState, moodMatches, reducer, type AppState } from './state';

function queue(seq: number, now: number | null, ids: number[], over: Partial<QueueFrame> = {}): QueueFrame {
  return {
    type: 'queue',
    seq,
    now_playing: now === null ? null : makeTrack(now),
    tracks: ids.map((id) => makeTrack(id)),
    mood: makeMood(),
    reason: 'because',
    ...over,
  };
}

const run = (s: AppState, ...actions: Parameters<typeof reducer>[1][]) => actions.reduce(reducer, s);

describe('reducer: queue frames', () => {
  it('replaces the queue and marks only new ids (none on the first frame)', () => {
    let s = run(initialState(), { type: 'ws/queue', frame: queue(1, 1, [2, 3, 4]) });
    expect(s.nowPlaying?.id).toBe(1);
    expect(s.queue.map((t) => t.id)).toEqual([2, 3, 4]);
    expect(s.queueNewIds).toEqual([]);
    expect(s.queueSeq).toBe(1);
    expect(s.mood?.label).toBe('Chill');
    const kept = s.queue[1];
    s = reducer(s, { type: 'ws/queue', frame: queue(2, 2, [3, 4, 5, 6]) });
    expect(s.nowPlaying?.id).toBe(2);
    expect(s.queueNewIds).toEqual([5, 6]);
    // Unchanged tracks keep their object identity so React leaves them alone.
    expect(s.queue[0]).toBe(kept);
  });

  it('does not count the previous now-playing track as new when it comes back', () => {
    const s = run(initialState(), { type: 'ws/queue', frame: queue(1, 1, [2]) }, { type: 'ws/queue', frame: queue(2, 2, [1, 9]) });
    expect(s.queueNewIds).toEqual([9]);
  });

  it('keeps the mood when a frame has none, and clears a matching pending mood', () => {
    let s = run(
      initialState(),
      { type: 'ws/queue', frame: queue(1, null, []) },
      { type: 'mood/requested', request: { mood: 'focus' } },
      { type: 'ws/queue', frame: queue(2, null, [], { mood: null }) },
    );
    expect(s.mood?.preset).toBe('chill');
    expect(s.moodPending).toEqual({ mood: 'focus' });
    s = reducer(s, { type: 'ws/queue', frame: queue(3, null, [], { mood: makeMood({ preset: 'focus', label: 'Focus' }) }) });
    expect(s.moodPending).toBeNull();
    expect(s.mood?.label).toBe('Focus');
  });

  it('advances locally only from the current track', () => {
    const s0 = run(initialState(), { type: 'ws/queue', frame: queue(1, 1, [2, 3]) });
    expect(reducer(s0, { type: 'queue/advanceLocal', fromTrackId: 99 })).toBe(s0);
    const s1 = reducer(s0, { type: 'queue/advanceLocal', fromTrackId: 1 });
    expect(s1.nowPlaying?.id).toBe(2);
    expect(s1.queue.map((t) => t.id)).toEqual([3]);
    const s3 = run(s1, { type: 'queue/advanceLocal', fromTrackId: 2 }, { type: 'queue/advanceLocal', fromTrackId: 3 });
    expect(s3.nowPlaying).toBeNull();
  });
});

describe('reducer: other state', () => {
  it('picks the current track from the queue or the Quick Mix', () => {
    const s = run(
      initialState(),
      { type: 'ws/queue', frame: queue(1, 1, [2]) },
      { type: 'mix/loaded', id: 'm', tracks: [makeTrack(50), makeTrack(51)], cached: false },
    );
    expect(currentTrack(s)?.id).toBe(1);
    expect(currentTrack(reducer(s, { type: 'source/set', source: { kind: 'mix', index: 1 } }))?.id).toBe(51);
  });

  it('logging out forgets personal state but keeps preferences', () => {
    const s = run(
      initialState(),
      { type: 'auth/loggedIn', user: { id: 1, username: 'ann' }, mood: makeMood() },
      { type: 'theme/set', theme: 'dark' },
      { type: 'playback/volume', volume: 0.3 },
      { type: 'filters/set', filters: { genre: 'jazz' } },
      { type: 'ws/queue', frame: queue(1, 1, [2]) },
      { type: 'auth/loggedOut' },
    );
    expect(s.auth).toEqual({ status: 'anonymous', user: null });
    expect(s.queue).toEqual([]);
    expect(s.mood).toBeNull();
    expect(s.theme).toBe('dark');
    expect(s.playback.volume).toBe(0.3);
    expect(s.filters.genre).toBe('jazz');
  });

  it('clamps volume, tracks playback and ratings', () => {
    let s = run(initialState(), { type: 'playback/volume', volume: 4 });
    expect(s.playback.volume).toBe(1);
    s = run(
      s,
      { type: 'playback/loading', trackId: 3, mediaKind: 'none', durationMs: 1000 },
      { type: 'playback/status', status: 'playing', message: 'x' },
      { type: 'playback/progress', positionMs: 500 },
      { type: 'rating/set', trackId: 3, rating: 'like' },
    );
    expect(s.playback).toMatchObject({ status: 'playing', trackId: 3, positionMs: 500, durationMs: 1000, message: 'x' });
    expect(s.ratings[3]).toBe('like');
    expect(reducer(s, { type: 'playback/stopped' }).playback.trackId).toBeNull();
  });

  it('keeps at most four toasts and no duplicates', () => {
    let s = initialState();
    for (let i = 0; i < 6; i++) s = reducer(s, { type: 'toast/add', toast: { id: i, kind: 'info', message: `m${i}` } });
    s = reducer(s, { type: 'toast/add', toast: { id: 9, kind: 'info', message: 'm5' } });
    expect(s.toasts.map((t) => t.id)).toEqual([2, 3, 4, 9]);
    expect(reducer(s, { type: 'toast/dismiss', id: 3 }).toasts).toHaveLength(3);
  });

  it('matches a mood echo against the request', () => {
    const m = makeMood({ preset: null, text: 'rainy day', energy: 0.3, valence: 0.6 });
    expect(moodMatches({ text: 'rainy day' }, m)).toBe(true);
    expect(moodMatches({ text: 'rainy day', energy: 0.3 }, m)).toBe(true);
    expect(moodMatches({ text: 'rainy day', energy: 0.9 }, m)).toBe(false);
    expect(moodMatches({ mood: 'chill' }, m)).toBe(false);
    expect(moodMatches({ energy: 0.3, valence: 0.6 }, m)).toBe(true);
  });
});
