// What the listener thinks of a track: plays, completes and skips reported as they happen, and
// like (again: take the like back) and dislike. Feedback is durable: kept in the outbox until
// the server acks it. A dislike moves on, except in a group (the server moves it on).
import type { GroupController } from '../groups/groupController';
import type { FeedbackAction, Track } from '../types';
import type { Connection } from './connection';
import type { Host } from './host';
import type { Navigator } from './navigation';
import { currentTrack, ratingOf } from './state';

export interface FeedbackHost extends Pick<Host, 'store' | 'feedback'> {
  readonly nav: Navigator;
  readonly groups: GroupController;
  readonly connection: Connection;
  /** Where the engine is in `track` (0 when it is on another one). */
  positionFor(track: Track): number;
}

export class FeedbackController {
  constructor(private readonly host: FeedbackHost) {}

  /** Sent over the socket, kept until acked; nothing while logged out. (Like and dislike go
   *  through the host's `feedback`, the one way every module reports an action.) */
  send(track: Track, action: FeedbackAction, positionMs?: number): void {
    this.host.connection.sendDurable({
      type: 'feedback',
      track_id: track.id,
      action,
      ...(positionMs !== undefined ? { position_ms: Math.max(0, Math.round(positionMs)) } : {}),
    });
  }

  /** Like the current track, or take the like back when it is liked already. */
  like(): void {
    const s = this.host.store.getState();
    const track = currentTrack(s);
    if (!track) return;
    if (ratingOf(s, track) === 'like') {
      this.host.store.dispatch({ type: 'rating/clear', trackId: track.id });
      this.host.feedback(track, 'unlike', this.host.positionFor(track));
      return;
    }
    this.host.store.dispatch({ type: 'rating/set', trackId: track.id, rating: 'like' });
    this.host.feedback(track, 'like', this.host.positionFor(track));
  }

  dislike(): void {
    const track = currentTrack(this.host.store.getState());
    if (!track) return;
    this.host.store.dispatch({ type: 'rating/set', trackId: track.id, rating: 'dislike' });
    this.host.feedback(track, 'dislike', this.host.positionFor(track));
    if (!this.host.groups.active) this.host.nav.advance(track); // a group moves on by the server's word only
  }
}
