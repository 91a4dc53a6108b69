// A read-only hook for browser tests (e2e/groups.test.mjs): where this page's player is, on
// the audio engine's own clock (not the UI's last progress tick), and the server clock.
import type { Controller } from '../store/controller';
import { clientNow } from './clock';

export interface SyncHook {
  /** The audio engine's position in the current track (ms). */
  position(): number;
  /** The loaded track's id, or null. */
  trackId(): number | null;
  playing(): boolean;
  /** This page's clock (ms since the epoch, sub-ms precision): when position() was read. */
  now(): number;
  /** Server minus client clock (ms) as estimated from the `clock` samples, and its round trip. */
  clock(): { offsetMs: number; rttMs: number | null; synced: boolean };
  /** position() and now() read together. */
  sample(): { positionMs: number; atMs: number; trackId: number | null; playing: boolean };
}

declare global {
  interface Window {
    __musicrec?: SyncHook;
  }
}

export function installSyncHook(c: Controller): void {
  const hook: SyncHook = {
    position: () => c.engine.position(),
    trackId: () => c.engine.trackId,
    playing: () => c.engine.isPlaying,
    now: clientNow,
    clock: () => ({ offsetMs: c.groups.clock.offsetMs, rttMs: c.groups.clock.rttMs, synced: c.groups.clock.synced }),
    sample: () => ({ positionMs: c.engine.position(), atMs: clientNow(), trackId: c.engine.trackId, playing: c.engine.isPlaying }),
  };
  window.__musicrec = Object.freeze(hook);
}
