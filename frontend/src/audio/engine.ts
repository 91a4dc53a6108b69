// Plays one track at a time with the right player for its media kind, reports
// progress, and tells the app when a track really started and when it ended.
import type { MediaKind, Track } from '../types';
import { unlockAudio } from './context';
import { HtmlAudioPlayer } from './htmlAudioPlayer';
import { MidiPlayer } from './midiPlayer';
import { TimerPlayer } from './timerPlayer';
import type { MediaPlayer } from './types';

export const NO_AUDIO_MESSAGE = 'No audio available for this track';

export interface EngineCallbacks {
  onLoading(track: Track, kind: MediaKind, durationMs: number): void;
  onStatus(status: 'playing' | 'paused' | 'error', message?: string | null): void;
  onProgress(positionMs: number, durationMs: number): void;
  /** The first time this track actually produced sound (or its timer ran). */
  onStarted(track: Track): void;
  onEnded(track: Track, positionMs: number): void;
}

export type PlayerFactory = (kind: MediaKind) => MediaPlayer;

export const defaultPlayerFactory: PlayerFactory = (kind) => {
  if (kind === 'midi') return new MidiPlayer();
  if (kind === 'audio') return new HtmlAudioPlayer();
  return new TimerPlayer();
};

export class PlaybackEngine {
  private player: MediaPlayer | null = null;
  private track: Track | null = null;
  private token = 0;
  private started = false;
  private ended = false;
  private playing = false;
  private volume = 0.8;
  private ticker: ReturnType<typeof setInterval> | null = null;

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

  /** Call synchronously from a click/keypress: lets the browser start audio. */
  unlock(): void {
    unlockAudio();
  }

  async load(track: Track, autoplay: boolean): Promise<void> {
    const token = ++this.token;
    this.teardown();
    this.track = track;
    this.started = false;
    this.ended = false;
    let kind: MediaKind = track.media?.kind ?? 'none';
    if (kind !== 'none' && !track.media.url) kind = 'none';
    this.cb.onLoading(track, kind, track.duration_ms ?? 0);

    let player = this.factory(kind);
    let message: string | null = kind === 'none' ? NO_AUDIO_MESSAGE : null;
    let durationMs: number;
    try {
      durationMs = await player.load(track);
    } catch (err) {
      player.dispose();
      if (token !== this.token) return;
      console.warn('[audio] falling back to a silent timer:', err);
      player = this.factory('none');
      message = `${NO_AUDIO_MESSAGE} (${(err as Error).message || 'it could not be loaded'})`;
      durationMs = await player.load(track);
    }
    if (token !== this.token) {
      player.dispose();
      return;
    }
    this.player = player;
    player.setVolume(this.volume);
    player.onEnded = () => this.finish(token);
    this.cb.onProgress(0, durationMs);
    this.cb.onStatus('paused', message);
    if (autoplay) await this.play();
  }

  async play(): Promise<void> {
    const player = this.player;
    const track = this.track;
    if (!player || !track || this.playing) return;
    const token = this.token;
    try {
      await player.play();
    } catch (err) {
      if (token !== this.token) return;
      const blocked = (err as Error)?.name === 'NotAllowedError';
      this.cb.onStatus('paused', blocked ? 'Press play to start the sound' : `Playback failed: ${(err as Error).message}`);
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
  }

  position(): number {
    return Math.round(this.player?.position() ?? 0);
  }

  /** Forget the current track (logout, or the queue moved on while paused). */
  stop(): void {
    this.token++;
    this.teardown();
    this.track = null;
  }

  private teardown(): void {
    this.stopTicker();
    this.playing = false;
    if (this.player) {
      this.player.onEnded = null;
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
