// The listener's mood: a change goes over the socket (durable: kept until acked) or, without
// a usable socket, over HTTP. A refusal (words that mean nothing, an unknown preset) is shown
// under the mood box, not as a toast. The queue frame's mood echo proves a change is stored.
import { ApiError } from '../api/client';
import type { Mood, MoodRequest } from '../types';
import type { ErrorFrame } from '../ws/protocol';
import type { Connection } from './connection';
import type { Host } from './host';
import { moodMatches } from './state';

/** Error codes that mean "this mood change was refused" (shown under the mood box). */
export const MOOD_ERROR_CODES = new Set(['unknown_mood', 'unknown_mood_words']);

export class MoodController {
  constructor(
    private readonly host: Host,
    private readonly connection: Connection,
  ) {}

  set(request: MoodRequest): void {
    const { dispatch } = this.host.store;
    const clean: MoodRequest = {};
    if (request.mood) clean.mood = request.mood;
    if (request.text !== undefined && request.text.trim()) clean.text = request.text.trim().slice(0, 200);
    if (request.energy !== undefined) clean.energy = round2(request.energy);
    if (request.valence !== undefined) clean.valence = round2(request.valence);
    dispatch({ type: 'mood/requested', request: clean });
    if (this.connection.usable) {
      this.connection.sendDurable({ type: 'mood', ...clean });
      return;
    }
    this.host.api
      .setMood(clean)
      .then((r) => dispatch({ type: 'mood/set', mood: r.mood }))
      .catch((err: Error) => {
        if (err instanceof ApiError && (err.status === 422 || MOOD_ERROR_CODES.has(err.code))) {
          dispatch({ type: 'mood/failed', message: err.message });
        } else {
          dispatch({ type: 'mood/failed' });
          this.host.toast(err.message, 'error');
        }
      });
  }

  clearError(): void {
    this.host.store.dispatch({ type: 'mood/clearError' });
  }

  /** A queue frame carried `mood`: the mood changes it matches are stored even if their ack went missing. */
  confirmEcho(mood: Mood): void {
    const outbox = this.connection.outbox;
    if (!outbox) return;
    for (const e of outbox.pending()) {
      if (e.frame.type === 'mood' && moodMatches(e.frame, mood)) outbox.ack(e.ref);
    }
  }

  /** Show an error frame under the mood box when it is about a mood change; returns whether it was. */
  handleRefusal(frame: ErrorFrame, refusedFrameType: string | null): boolean {
    const aboutMood = refusedFrameType !== null ? refusedFrameType === 'mood' : MOOD_ERROR_CODES.has(frame.code);
    if (!aboutMood) return false;
    this.host.store.dispatch({ type: 'mood/failed', message: frame.message || 'That mood was not understood.' });
    return true;
  }
}

function round2(x: number): number {
  return Math.round(Math.min(1, Math.max(0, x)) * 100) / 100;
}
