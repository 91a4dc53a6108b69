import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket, makeTrack, playableTrack } from '../test/fakes';
import { booted, flush } from '../test/harness';

beforeEach(() => FakeWebSocket.reset());
afterEach(() => vi.restoreAllMocks());

describe('search', () => {
  it('asks once typing pauses, for the newest words only', async () => {
    const search = vi.fn().mockResolvedValue({ tracks: [playableTrack(5), makeTrack(6)], message: null });
    const { store, c } = await booted({ api: { search } });
    c.browse.search('gol');
    c.browse.search('gold');
    await vi.waitFor(() => expect(store.getState().browse.search.status).toBe('ready'));
    expect(search).toHaveBeenCalledTimes(1);
    expect(search).toHaveBeenCalledWith('gold', 20, expect.any(AbortSignal));
    expect(store.getState().browse.search.tracks.map((t) => t.id)).toEqual([5, 6]);
    c.browse.search('   ');
    expect(store.getState().browse.search.tracks).toEqual([]);
    expect(store.getState().browse.search.status).toBe('idle');
    c.dispose();
  });

  it('shows the server message for nonsense, or says so itself', async () => {
    const search = vi
      .fn()
      .mockResolvedValueOnce({ tracks: [], message: 'Nothing matches “zzzzqqq”' })
      .mockResolvedValueOnce({ tracks: [] });
    const { store, c } = await booted({ api: { search } });
    await c.browse.searchNow('zzzzqqq');
    expect(store.getState().browse.search.message).toBe('Nothing matches “zzzzqqq”');
    await c.browse.searchNow('qqqq');
    expect(store.getState().browse.search.message).toBe('Nothing matches “qqqq”');
    c.dispose();
  });

  it('an answer to an older query is dropped', async () => {
    let answerOld: (v: unknown) => void = () => undefined;
    const search = vi
      .fn()
      .mockImplementationOnce(() => new Promise((r) => (answerOld = r)))
      .mockResolvedValueOnce({ tracks: [playableTrack(8)], message: null });
    const { store, c } = await booted({ api: { search } });
    void c.browse.searchNow('old');
    await c.browse.searchNow('new');
    answerOld({ tracks: [playableTrack(1)], message: null });
    await flush();
    expect(store.getState().browse.search.tracks.map((t) => t.id)).toEqual([8]);
    c.dispose();
  });
});

describe('more like this', () => {
  it('loads tracks like the chosen one (never the track itself) and closes', async () => {
    const similar = vi.fn().mockResolvedValue({ tracks: [playableTrack(4), playableTrack(9), makeTrack(12)] });
    const { store, c } = await booted({ api: { similar } });
    await c.browse.similar(playableTrack(4));
    expect(similar).toHaveBeenCalledWith(4, 10, expect.any(AbortSignal));
    const s = store.getState().browse.similar;
    expect(s.seed?.id).toBe(4);
    expect(s.tracks.map((t) => t.id)).toEqual([9, 12]);
    c.browse.closeSimilar();
    expect(store.getState().browse.similar.seed).toBeNull();
    c.dispose();
  });
});
