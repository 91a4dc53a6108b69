import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../api/client';
import { FakeWebSocket } from '../test/fakes';
import { booted, flush } from '../test/harness';
import { catalogPercent, nothingPlayable } from './libraryState';

beforeEach(() => FakeWebSocket.reset());
afterEach(() => vi.restoreAllMocks());

const status = (state: string, loaded: number, total: number, playable = 0) => ({ state, tracks: loaded, playable, loaded, total });

describe('catalog status', () => {
  it('is polled while the catalog loads, and no more once it is ready', async () => {
    const catalogStatus = vi
      .fn()
      .mockResolvedValueOnce(status('loading', 0, 1000))
      .mockResolvedValueOnce(status('loading', 400, 1000))
      .mockResolvedValue(status('ready', 1000, 1000, 1000));
    const { store, c } = await booted({ api: { catalogStatus } });
    expect(catalogPercent(store.getState().library.catalog)).toBe(0);
    await vi.waitFor(() => expect(store.getState().library.catalog.state).toBe('ready'));
    const calls = catalogStatus.mock.calls.length;
    expect(calls).toBeGreaterThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 30));
    expect(catalogStatus.mock.calls.length).toBe(calls);
    expect(nothingPlayable(store.getState().library.catalog)).toBe(false);
    c.dispose();
  });

  it('a server without the call says nothing about the catalog', async () => {
    const catalogStatus = vi.fn().mockRejectedValue(new ApiError(404, 'not_found', 'no'));
    const { store, c } = await booted({ api: { catalogStatus } });
    await flush();
    expect(store.getState().library.catalog.state).toBe('unknown');
    c.dispose();
  });

  it('ready with nothing playable, or empty, means nothing can play here', () => {
    const base = { tracks: 5, loaded: 0, total: 0, phase: 'loading' as const };
    expect(nothingPlayable({ ...base, state: 'ready', playable: 0 })).toBe(true);
    expect(nothingPlayable({ ...base, state: 'empty', playable: 0 })).toBe(true);
    expect(nothingPlayable({ ...base, state: 'loading', playable: 0 })).toBe(false);
    expect(catalogPercent({ ...base, state: 'loading', playable: 0, loaded: 2, total: 5 })).toBe(40);
  });
});

describe('settings', () => {
  it('loads include_unplayable and saves a change on the server', async () => {
    const settings = vi.fn().mockResolvedValue({ settings: { include_unplayable: true } });
    const { store, c, api } = await booted({ api: { settings } });
    await vi.waitFor(() => expect(store.getState().library.settings).toEqual({ status: 'ready', includeUnplayable: true }));
    const saving = c.library.setIncludeUnplayable(false);
    expect(store.getState().library.settings).toEqual({ status: 'saving', includeUnplayable: false });
    await saving;
    expect(api.saveSettings).toHaveBeenCalledWith({ include_unplayable: false });
    expect(store.getState().library.settings).toEqual({ status: 'ready', includeUnplayable: false });
    c.dispose();
  });

  it('a failed save goes back to what it was and says why', async () => {
    const saveSettings = vi.fn().mockRejectedValue(new ApiError(503, 'service_unavailable', 'Try again later.'));
    const { store, c } = await booted({ api: { saveSettings } });
    await vi.waitFor(() => expect(store.getState().library.settings.status).toBe('ready'));
    await c.library.setIncludeUnplayable(true);
    expect(store.getState().library.settings.includeUnplayable).toBe(false);
    expect(store.getState().toasts.at(-1)?.message).toBe('Could not save the setting: Try again later.');
    c.dispose();
  });
});
