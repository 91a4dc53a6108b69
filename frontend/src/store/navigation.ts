// Moving between tracks: play a chosen track now (search, similar, a queued row), go back
// to the previous one, move past a track locally, pass over tracks that cannot play here,
// and fetch the next track's media ahead of time.
import { isPlayable } from '../lib/tracks';
import type { Track } from '../types';
import { newRef, type ErrorFrame } from '../ws/protocol';
import type { Host } from './host';
import { currentTrack, upcomingTracks, type AppState } from './state';

/** Stop passing over failing tracks after this many in a row (the server's media is broken). */
export const MAX_FAILURES_IN_A_ROW = 3;
/** Forget an unconfirmed `play` after this long (the next queue frame is the truth). */
const PLAY_SETTLE_MS = 5000;

/** Whether "previous" has somewhere to go. */
export function canGoBack(s: AppState): boolean {
  return (s.source.kind === 'mix' && s.source.index > 0) || s.backStack.length > 0;
}

export class Navigator {
  private lastTrack: Track | null = null;
  private suppressPush = false;
  private passedOver: number | null = null;
  private failures = 0;
  private play: { ref: string; trackId: number; timer: ReturnType<typeof setTimeout> } | null = null;

  constructor(private readonly host: Host) {}

  private get store() {
    return this.host.store;
  }

  /** Play `track` now: the server makes it now playing; the track left gets its skip. */
  playNow(track: Track, fromBack = false): boolean {
    this.host.engine.unlock();
    if (!isPlayable(track)) {
      this.host.toast(`“${track.title}” cannot play here.`);
      return false;
    }
    const s = this.store.getState();
    const current = currentTrack(s);
    if (current?.id === track.id && s.source.kind === 'queue') {
      this.store.dispatch({ type: 'playback/wantsToPlay', value: true });
      if (this.host.engine.trackId === track.id) void this.host.engine.play();
      return true;
    }
    const ref = newRef();
    if (!this.host.sendFrame({ type: 'play', track_id: track.id, ref })) {
      this.host.toast('Offline: cannot change the track right now.', 'error');
      return false;
    }
    // After the `play` frame, so the server never sees the skip first and advances elsewhere.
    if (current) this.host.feedback(current, 'skip', this.positionFor(current));
    this.settle();
    this.play = { ref, trackId: track.id, timer: setTimeout(() => this.settle(), PLAY_SETTLE_MS) };
    this.suppressPush = fromBack;
    this.store.dispatch({ type: 'queue/playLocal', track });
    this.store.dispatch({ type: 'playback/wantsToPlay', value: true });
    return true;
  }

  /** Back to the track played before (in a Quick Mix: the mix's previous track). */
  previous(): void {
    this.host.engine.unlock();
    const s = this.store.getState();
    const current = currentTrack(s);
    if (s.source.kind === 'mix' && s.source.index > 0) {
      if (current) this.host.feedback(current, 'skip', this.positionFor(current));
      this.suppressPush = true;
      this.store.dispatch({ type: 'source/set', source: { kind: 'mix', index: s.source.index - 1 } });
      this.store.dispatch({ type: 'playback/wantsToPlay', value: true });
      return;
    }
    const target = s.backStack.at(-1);
    if (!target) return;
    if (this.playNow(target, true)) this.store.dispatch({ type: 'nav/popBack' });
  }

  /** Move past `track` locally; the server's next queue frame confirms or corrects it. */
  advance(track: Track): void {
    const s = this.store.getState();
    if (s.source.kind === 'mix') {
      const index = s.source.index + 1;
      if (index < s.mix.tracks.length) this.store.dispatch({ type: 'source/set', source: { kind: 'mix', index } });
      else {
        this.store.dispatch({ type: 'source/set', source: { kind: 'queue' } });
        this.host.toast('Quick Mix finished: back to your live queue.');
      }
    } else {
      this.store.dispatch({ type: 'queue/advanceLocal', fromTrackId: track.id });
    }
  }

  /**
   * The current track cannot play here: pass over it (no feedback: it says nothing about
   * taste) when something playable comes after it; otherwise stop and say so.
   */
  passOver(s: AppState, track: Track): void {
    if (!s.playback.wantsToPlay || this.passedOver === track.id) return;
    this.passedOver = track.id;
    this.moveOn(s, track, 'Nothing coming up can play here.');
  }

  /** The engine could not load or play `track`. */
  trackFailed(track: Track, message: string): void {
    const s = this.store.getState();
    if (currentTrack(s)?.id !== track.id) return;
    this.failures += 1;
    if (this.failures >= MAX_FAILURES_IN_A_ROW) {
      this.failures = 0;
      this.store.dispatch({ type: 'playback/wantsToPlay', value: false });
      this.host.toast(`${message}. Stopped after ${MAX_FAILURES_IN_A_ROW} tracks in a row would not play.`, 'error');
      return;
    }
    this.host.toast(`Skipped “${track.title}”: ${message}`, 'error');
    this.moveOn(s, track, 'Nothing else coming up can play here.');
  }

  trackStarted(): void {
    this.failures = 0;
  }

  private moveOn(s: AppState, track: Track, nothingLeft: string): void {
    if (!upcomingTracks(s).some(isPlayable)) {
      this.store.dispatch({ type: 'playback/wantsToPlay', value: false });
      this.host.toast(nothingLeft);
      return;
    }
    if (s.source.kind === 'queue') this.host.sendFrame({ type: 'next' });
    this.advance(track);
  }

  /**
   * Run after every store change: remember the track just left (for "previous") and fetch
   * what comes next: the current track while paused (so Play starts at once), the next
   * playable one while playing.
   */
  observe(s: AppState): void {
    const track = currentTrack(s);
    const engine = this.host.engine;
    if (track && isPlayable(track)) {
      if (!s.playback.wantsToPlay && engine.trackId !== track.id) void engine.prefetch(track);
      else if (s.playback.status === 'playing' && engine.trackId === track.id) {
        const next = upcomingTracks(s).find(isPlayable);
        if (next) void engine.prefetch(next);
      }
    }
    if (track?.id === this.lastTrack?.id) return;
    const left = this.lastTrack;
    this.lastTrack = track;
    if (track && isPlayable(track)) this.passedOver = null;
    const suppress = this.suppressPush;
    this.suppressPush = false;
    if (left && !suppress && isPlayable(left)) this.store.dispatch({ type: 'nav/pushBack', track: left });
  }

  /** An ack from the server: true when it confirmed our `play`. */
  handleAck(ref: unknown): boolean {
    if (!this.play || String(ref) !== this.play.ref) return false;
    this.settle();
    return true;
  }

  /** An error frame: true when it answered our `play` (e.g. unknown_track). */
  handleError(frame: ErrorFrame): boolean {
    if (!this.play || frame.ref === undefined || String(frame.ref) !== this.play.ref) return false;
    this.settle();
    this.host.toast(frame.message || 'That track cannot be played.', 'error');
    return true;
  }

  reset(): void {
    this.settle();
    this.lastTrack = null;
    this.suppressPush = false;
    this.passedOver = null;
    this.failures = 0;
  }

  private settle(): void {
    if (!this.play) return;
    clearTimeout(this.play.timer);
    const { trackId } = this.play;
    this.play = null;
    this.store.dispatch({ type: 'play/settled', trackId });
  }

  private positionFor(track: Track): number {
    const engine = this.host.engine;
    return engine.trackId === track.id ? engine.position() : 0;
  }
}
