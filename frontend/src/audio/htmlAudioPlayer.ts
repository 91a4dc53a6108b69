// media.kind "audio": an <audio> element streaming media.url (the server honours Range).
import type { Track } from '../types';
import type { MediaPlayer } from './types';

export class HtmlAudioPlayer implements MediaPlayer {
  readonly kind = 'audio' as const;
  onEnded: (() => void) | null = null;
  private readonly el: HTMLAudioElement;
  private fallbackDurationMs = 0;

  constructor(el?: HTMLAudioElement) {
    this.el = el ?? new Audio();
    this.el.preload = 'auto';
    this.el.addEventListener('ended', this.handleEnded);
  }

  private handleEnded = () => this.onEnded?.();

  load(track: Track): Promise<number> {
    this.fallbackDurationMs = track.duration_ms ?? 0;
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => {
        this.el.removeEventListener('loadedmetadata', onMeta);
        this.el.removeEventListener('error', onError);
        clearTimeout(timer);
        fn();
      };
      const onMeta = () => done(() => resolve(this.duration()));
      const onError = () => done(() => reject(new Error(this.el.error?.message || 'the audio could not be loaded')));
      const timer = setTimeout(() => done(() => resolve(this.duration())), 15_000);
      this.el.addEventListener('loadedmetadata', onMeta);
      this.el.addEventListener('error', onError);
      this.el.src = track.media.url ?? '';
      this.el.load();
    });
  }

  play(): Promise<void> {
    return this.el.play();
  }

  pause(): void {
    this.el.pause();
  }

  seek(ms: number): void {
    this.el.currentTime = Math.max(0, ms / 1000);
  }

  setVolume(volume: number): void {
    this.el.volume = Math.min(1, Math.max(0, volume));
  }

  position(): number {
    return (this.el.currentTime || 0) * 1000;
  }

  duration(): number {
    const d = this.el.duration;
    return Number.isFinite(d) && d > 0 ? d * 1000 : this.fallbackDurationMs;
  }

  dispose(): void {
    this.onEnded = null;
    this.el.removeEventListener('ended', this.handleEnded);
    this.el.pause();
    this.el.removeAttribute('src');
    try {
      this.el.load();
    } catch {
      /* jsdom */
    }
  }
}
