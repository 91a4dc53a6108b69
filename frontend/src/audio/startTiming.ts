// A tiny test hook for measuring how fast a track starts: `window.__musicrecPlayback` holds
// the last request as { trackId, requestedAt, startedAt } (performance.now() times; startedAt
// is null until the track is audible). Read by e2e/bench-play.mjs.

export interface PlaybackTiming {
  trackId: number;
  requestedAt: number;
  startedAt: number | null;
  /** Whether the track's media had been prefetched when it was asked for. */
  prefetched: boolean;
}

declare global {
  interface Window {
    __musicrecPlayback?: PlaybackTiming | null;
  }
}

export const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

export function publishTiming(timing: PlaybackTiming): void {
  if (typeof window !== 'undefined') window.__musicrecPlayback = { ...timing };
}
