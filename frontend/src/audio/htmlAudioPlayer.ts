// media.kind "audio": an <audio> element streaming media.url (the server honours Range).
// preload() points the element at the file early, so the browser buffers it before play.
import type { Track } from '../types';
import type { MediaPlayer } from './types';

const LOAD_TIMEOUT_MS = 15_000;

export class HtmlAudioPlayer implements MediaPlayer {
  readonly kind = 'audio' as const;
  onEnded: (() => void) | null = null;
  onAudible: (() => void) | null = null;
  private readonly el: HTMLAudioElement;
  private fallbackDurationMs = 0;
  private loading: { url: string; ready: Promise<number> } | null = null;
  private disposed = false;

  constructor(el?: HTMLAudioElement) {
    this.el = el ?? new Audio();
    this.el.preload = 'auto';
    this.el.addEventListener('ended', this.handleEnded);
    this.el.addEventListener('playing', this.handlePlaying);
  }

  private handleEnded = () => this.onEnded?.();
  private handlePlaying = () => this.onAudible?.();

  preload(track: Track): Promise<void> {
    return this.start(track).then(() => undefined);
  }

  load(track: Track): Promise<number> {
    return this.start(track);
  }

  /** Point the element at the track once; both preload() and load() wait for its metadata. */
  private start(track: Track): Promise<number> {
    const url = track.media.url ?? '';
    this.fallbackDurationMs = track.duration_ms ?? 0;
    if (this.loading?.url === url) return this.loading.ready;
    const ready = new Promise<number>((resolve, reject) => {
      const done = (fn: () => void) => {
        this.el.removeEventListener('loadedmetadata', onMeta);
        this.el.removeEventListener('error', onError);
        clearTimeout(timer);
        fn();
      };
      const onMeta = () => done(() => resolve(this.duration()));
      const onError = () => done(() => reject(new Error(this.el.error?.message || 'the audio could not be loaded')));
      const timer = setTimeout(() => done(() => resolve(this.duration())), LOAD_TIMEOUT_MS);
      this.el.addEventListener('loadedmetadata', onMeta);
      this.el.addEventListener('error', onError);
      this.el.src = url;
      this.el.load();
    });
    this.loading = { url, ready };
    ready.catch(() => {
      if (this.loading?.ready === ready) this.loading = null;
    });
    return ready;
  }

  play(): Promise<void> {
    if (this.disposed) return Promise.reject(new Error('disposed'));
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

  setRate(rate: number): void {
    this.el.playbackRate = rate;
  }

  position(): number {
    return (this.el.currentTime || 0) * 1000;
  }

  duration(): number {
    const d = this.el.duration;
    return Number.isFinite(d) && d > 0 ? d * 1000 : this.fallbackDurationMs;
  }

  dispose(): void {
    this.disposed = true;
    this.onEnded = null;
    this.onAudible = null;
    this.loading = null;
    this.el.removeEventListener('ended', this.handleEnded);
    this.el.removeEventListener('playing', this.handlePlaying);
    this.el.pause();
    this.el.removeAttribute('src');
    try {
      this.el.load();
    } catch {
      /* jsdom */
    }
  }
}
