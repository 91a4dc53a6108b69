import type { MediaKind, Track } from '../types';

/** One way of making a track audible. The engine owns exactly one at a time. */
export interface MediaPlayer {
  readonly kind: MediaKind;
  /** Prepare the track; resolves with its duration in ms. */
  load(track: Track): Promise<number>;
  /** Start or resume; rejects (e.g. NotAllowedError) when the browser refuses. */
  play(): Promise<void>;
  pause(): void;
  seek(ms: number): void;
  setVolume(volume: number): void;
  position(): number;
  duration(): number;
  /** Set by the engine; called once when the track played to its end. */
  onEnded: (() => void) | null;
  dispose(): void;
}
