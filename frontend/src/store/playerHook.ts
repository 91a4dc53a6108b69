// A tiny hook for benchmarks and browser tests (e2e/bench-play.mjs): start any track by id
// the way a click on it would, or get it ready first. Start timing is published separately
// on window.__musicrecPlayback (audio/startTiming.ts).
import type { Controller } from './controller';

export interface PlayerHook {
  /** Play this track now (as a click on a search result would). */
  play(trackId: number): Promise<void>;
  /** Fetch and prepare this track's media; resolves with whether it is ready. */
  prefetch(trackId: number): Promise<boolean>;
  pause(): void;
}

declare global {
  interface Window {
    __musicrecPlayer?: PlayerHook;
  }
}

export function installPlayerHook(c: Controller): void {
  window.__musicrecPlayer = {
    async play(trackId) {
      const track = await c.api.track(trackId);
      c.playNow(track);
    },
    async prefetch(trackId) {
      const track = await c.api.track(trackId);
      return c.engine.prefetch(track);
    },
    pause: () => c.pause(),
  };
}
