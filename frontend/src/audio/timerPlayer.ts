// For tracks without audio: a silent clock that runs for the track's duration, so
// the session still moves on (and a countdown is shown) exactly as with sound.
import type { Track } from '../types';
import type { MediaPlayer } from './types';

/** Used only when the catalogue does not know a track's length. */
export const UNKNOWN_DURATION_MS = 180_000;

export class TimerPlayer implements MediaPlayer {
  readonly kind = 'none' as const;
  onEnded: (() => void) | null = null;
  private durationMs = 0;
  private offsetMs = 0;
  private startedAt: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly now: () => number = () => performance.now()) {}

  async load(track: Track): Promise<number> {
    this.durationMs = track.duration_ms && track.duration_ms > 0 ? track.duration_ms : UNKNOWN_DURATION_MS;
    this.offsetMs = 0;
    this.startedAt = null;
    return this.durationMs;
  }

  async play(): Promise<void> {
    if (this.startedAt !== null) return;
    this.startedAt = this.now();
    this.arm();
  }

  pause(): void {
    if (this.startedAt === null) return;
    this.offsetMs = this.position();
    this.startedAt = null;
    this.disarm();
  }

  seek(ms: number): void {
    const playing = this.startedAt !== null;
    this.offsetMs = Math.min(Math.max(0, ms), this.durationMs);
    if (playing) {
      this.startedAt = this.now();
      this.arm();
    }
  }

  setVolume(): void {}

  position(): number {
    const running = this.startedAt === null ? 0 : this.now() - this.startedAt;
    return Math.min(this.durationMs, this.offsetMs + running);
  }

  duration(): number {
    return this.durationMs;
  }

  dispose(): void {
    this.disarm();
    this.startedAt = null;
    this.onEnded = null;
  }

  private arm(): void {
    this.disarm();
    const left = Math.max(0, this.durationMs - this.position());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.offsetMs = this.durationMs;
      this.startedAt = null;
      this.onEnded?.();
    }, left);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
