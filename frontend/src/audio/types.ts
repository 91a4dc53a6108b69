import type { MediaKind, Track } from '../types';

/** One way of making a track audible. The engine owns one active player at a time (plus one prefetched). */
export interface MediaPlayer {
  readonly kind: MediaKind;
  /**
   * Fetch and prepare the track ahead of time (the next track while this one plays) without
   * touching what plays now. Optional; `load` does whatever is left.
   */
  preload?(track: Track): Promise<void>;
  /** Make this the track that plays; resolves with its duration in ms. */
  load(track: Track): Promise<number>;
  /** Start or resume; rejects (e.g. NotAllowedError) when the browser refuses. */
  play(): Promise<void>;
  pause(): void;
  seek(ms: number): void;
  setVolume(volume: number): void;
  /** Play faster or slower (1 = normal), for drift correction in a group; optional. */
  setRate?(rate: number): void;
  position(): number;
  duration(): number;
  /** Set by the engine; called once when the track played to its end. */
  onEnded: (() => void) | null;
  /**
   * Set by the engine; called after play() once the track is really audible: the `<audio>`
   * element's `playing` event, or the synth's first note reached on the audio clock.
   */
  onAudible: (() => void) | null;
  dispose(): void;
}
