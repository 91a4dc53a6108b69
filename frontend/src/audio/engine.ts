// Plays one track at a time with the right player for its media kind, prefetches the next
// one, reports progress, and tells the app when a track really started and when it ended.
// Tracks that cannot play here are never given to it: it plays no silence.
import { isPlayable } from '../lib/tracks';
import type { Track } from '../types';
import { unlockAudio } from './context';
import { HtmlAudioPlayer } from './htmlAudioPlayer';
import { MidiPlayer } from './midiPlayer';
import { now, publishTiming, type PlaybackTiming } from './startTiming';
import type { MediaPlayer } from './types';

export const NO_AUDIO_MESSAGE = 'This track cannot play here';

export type PlayableKind = 'midi' | 'audio';

export interface EngineCallbacks {
  onLoading(track: Track, kind: PlayableKind, durationMs: number): void;
  onStatus(status: 'playing' | 'paused' | 'error', message?: string | null): void;
  onProgress(positionMs: number, durationMs: number): void;
  /** The first time this track actually played (play() went through). */
  onStarted(track: Track): void;
  onEnded(track: Track, positionMs: number): void;
  /** The track's media could not be loaded or played: the app moves on. */
  onFailed?(track: Track, message: string): void;
}

export type PlayerFactory = (kind: PlayableKind) => MediaPlayer;

export const defaultPlayerFactory: PlayerFactory = (kind) => (kind === 'midi' ? new MidiPlayer() : new HtmlAudioPlayer());

interface Prefetch {
  track: Track;
  player: MediaPlayer;
  /** true once ready, false when it failed. */
  ready: Promise<boolean>;
}

export class PlaybackEngine {
  private player: MediaPlayer | null = null;
  private track: Track | null = null;
  private prefetched: Prefetch | null = null;
  private token = 0;
  private started = false;
  private ended = false;
  private playing = false;
  /** The current track's media failed: play() tries to load it again. */
  private failed = false;
  private volume = 0.8;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private timing: PlaybackTiming | null = null;

  constructor(
    private readonly cb: EngineCallbacks,
    private readonly factory: PlayerFactory = defaultPlayerFactory,
    private readonly tickMs = 250,
  ) {}

  get trackId(): number | null {
    return this.track?.id ?? null;
  }

  get isPlaying(): boolean {
    return this.playing;
  }

  /** The id of the track whose media is being fetched or held ready for later. */
  get prefetchedId(): number | null {
    return this.prefetched?.track.id ?? null;
  }

  /** Call synchronously from a click/keypress: lets the browser start audio. */
  unlock(): void {
    unlockAudio();
  }

  /**
   * Fetch and prepare `track` while something else plays (or nothing does), so that
   * loading it later starts at once. Replaces an earlier prefetch of another track.
   * Resolves with whether it is ready (false: it failed, or there was nothing to do).
   */
  prefetch(track: Track): Promise<boolean> {
    if (!isPlayable(track) || track.id === this.track?.id) return Promise.resolve(false);
    if (track.id === this.prefetched?.track.id) return this.prefetched.ready;
    this.dropPrefetch();
    const player = this.factory(kindOf(track));
    player.setVolume(this.volume);
    const entry: Prefetch = {
      track,
      player,
      ready: (player.preload?.(track) ?? Promise.resolve()).then(
        () => true,
        (err: unknown) => {
          // Forget it; load() tries again and reports the error then.
          console.warn('[audio] prefetch failed:', err);
          if (this.prefetched === entry) this.dropPrefetch();
          return false;
        },
      ),
    };
    this.prefetched = entry;
    return entry.ready;
  }

  /**
   * Make `track` current. `startAt`, asked once its media is ready, says where to start (ms):
   * a group's shared track joined mid-way starts where the others are.
   */
  async load(track: Track, autoplay: boolean, startAt?: () => number | null): Promise<void> {
    const token = ++this.token;
    this.teardown();
    this.track = track;
    this.started = false;
    this.ended = false;
    this.failed = false;
    this.timing = null;
    const kind = kindOf(track);
    this.cb.onLoading(track, kind, track.duration_ms ?? 0);
    if (!isPlayable(track)) {
      this.fail(token, track, NO_AUDIO_MESSAGE);
      return;
    }
    let player: MediaPlayer;
    let prefetched = false;
    if (this.prefetched?.track.id === track.id) {
      player = this.prefetched.player;
      this.prefetched = null;
      prefetched = true;
    } else player = this.factory(kind);
    if (autoplay) this.request(track, prefetched);

    let durationMs: number;
    try {
      durationMs = await player.load(track);
    } catch (err) {
      player.dispose();
      this.fail(token, track, `Could not load this track (${(err as Error)?.message || 'unknown error'})`);
      return;
    }
    if (token !== this.token) {
      player.dispose();
      return;
    }
    this.player = player;
    player.setVolume(this.volume);
    player.onEnded = () => this.finish(token);
    player.onAudible = () => this.audible(token);
    const start = startAt?.() ?? null;
    if (start !== null && start > 0) player.seek(start);
    this.cb.onProgress(start ?? 0, durationMs);
    this.cb.onStatus('paused', null);
    if (autoplay) await this.play();
  }

  async play(): Promise<void> {
    if (this.failed && this.track) return this.load(this.track, true);
    const player = this.player;
    const track = this.track;
    if (!player || !track || this.playing) return;
    const token = this.token;
    if (!this.started && !this.timing) this.request(track, false);
    try {
      await player.play();
    } catch (err) {
      if (token !== this.token) return;
      const blocked = (err as Error)?.name === 'NotAllowedError';
      if (blocked) this.cb.onStatus('paused', 'Press play to start the sound');
      else this.fail(token, track, `Playback failed: ${(err as Error)?.message || 'unknown error'}`);
      return;
    }
    if (token !== this.token) return;
    this.playing = true;
    this.cb.onStatus('playing');
    this.startTicker();
    if (!this.started) {
      this.started = true;
      this.cb.onStarted(track);
    }
  }

  pause(): void {
    if (!this.player || !this.playing) return;
    this.player.pause();
    this.playing = false;
    this.stopTicker();
    this.cb.onProgress(this.player.position(), this.player.duration());
    this.cb.onStatus('paused');
  }

  seek(ms: number): void {
    if (!this.player) return;
    this.player.seek(ms);
    this.cb.onProgress(this.player.position(), this.player.duration());
  }

  setVolume(volume: number): void {
    this.volume = volume;
    this.player?.setVolume(volume);
    this.prefetched?.player.setVolume(volume);
  }

  position(): number {
    return Math.round(this.player?.position() ?? 0);
  }

  /** Whether the current track's media is loaded (position and seek mean something). */
  get isLoaded(): boolean {
    return this.player !== null;
  }

  /** The loaded track's length (ms), 0 when none. */
  duration(): number {
    return this.player?.duration() ?? 0;
  }

  /** Which player holds the current track: 'audio' can change its rate, 'midi' cannot. */
  get playerKind(): PlayableKind | null {
    return this.player ? (this.player.kind === 'audio' ? 'audio' : 'midi') : null;
  }

  /** Playback rate for drift correction (players without rates ignore it). */
  setRate(rate: number): void {
    this.player?.setRate?.(rate);
  }

  /** Forget the current track (logout, or the queue moved on while paused). Keeps a prefetch. */
  stop(): void {
    this.token++;
    this.teardown();
    this.track = null;
  }

  /** Stop and drop everything, the prefetched track included. */
  dispose(): void {
    this.stop();
    this.dropPrefetch();
  }

  private request(track: Track, prefetched: boolean): void {
    this.timing = { trackId: track.id, requestedAt: now(), startedAt: null, prefetched };
    publishTiming(this.timing);
  }

  private audible(token: number): void {
    if (token !== this.token || !this.timing || this.timing.startedAt !== null) return;
    this.timing.startedAt = now();
    publishTiming(this.timing);
  }

  private fail(token: number, track: Track, message: string): void {
    if (token !== this.token) return;
    this.teardown();
    this.failed = true;
    this.cb.onStatus('error', message);
    this.cb.onFailed?.(track, message);
  }

  private dropPrefetch(): void {
    const p = this.prefetched;
    this.prefetched = null;
    if (p) p.player.dispose();
  }

  private teardown(): void {
    this.stopTicker();
    this.playing = false;
    if (this.player) {
      this.player.onEnded = null;
      this.player.onAudible = null;
      this.player.dispose();
    }
    this.player = null;
  }

  private finish(token: number): void {
    if (token !== this.token || this.ended || !this.track || !this.player) return;
    this.ended = true;
    const durationMs = Math.round(this.player.duration());
    const track = this.track;
    this.playing = false;
    this.stopTicker();
    this.cb.onProgress(durationMs, durationMs);
    this.cb.onEnded(track, durationMs);
  }

  private startTicker(): void {
    this.stopTicker();
    const token = this.token;
    let atEndTicks = 0;
    this.ticker = setInterval(() => {
      const p = this.player;
      if (!p || token !== this.token) return;
      const pos = p.position();
      const dur = p.duration();
      this.cb.onProgress(pos, dur);
      // Safety net in case a player's own end event never fires: stuck at the end.
      if (dur > 0 && pos >= dur - 1) {
        atEndTicks += 1;
        if (atEndTicks * this.tickMs >= 2000) this.finish(token);
      } else atEndTicks = 0;
    }, this.tickMs);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }
}

function kindOf(track: Track): PlayableKind {
  return track.media?.kind === 'audio' ? 'audio' : 'midi';
}
