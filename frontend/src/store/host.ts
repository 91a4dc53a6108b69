// What the helper modules (navigation, browse, library) may use of the Controller.
import type { api as defaultApi } from '../api/client';
import type { PlaybackEngine } from '../audio/engine';
import type { FeedbackAction, Track } from '../types';
import type { ClientFrame } from '../ws/protocol';
import type { Store } from './store';

export interface Host {
  readonly store: Store;
  readonly api: typeof defaultApi;
  readonly engine: PlaybackEngine;
  /** Send a frame now if the socket is live (not kept for later). Returns whether it went out. */
  sendFrame(frame: ClientFrame): boolean;
  /** Durable feedback (kept in the outbox until acked). */
  feedback(track: Track, action: FeedbackAction, positionMs?: number): void;
  toast(message: string, kind?: 'info' | 'error'): void;
}
