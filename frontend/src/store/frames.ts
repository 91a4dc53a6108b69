// What the server's frames mean: each goes to the module it concerns (the queue to the store,
// acks and refusals of a track change to navigation, group frames to the group, mood
// refusals under the mood box, anything else refused as a toast).
import type { GroupController } from '../groups/groupController';
import type { ErrorFrame, ServerFrame } from '../ws/protocol';
import type { Connection } from './connection';
import type { Host } from './host';
import type { LibraryController } from './library';
import type { MoodController } from './mood';
import type { Navigator } from './navigation';

export interface FrameHost extends Host {
  readonly nav: Navigator;
  readonly groups: GroupController;
  readonly library: LibraryController;
  readonly mood: MoodController;
  readonly connection: Connection;
}

export class FrameRouter {
  constructor(private readonly host: FrameHost) {}

  handle(frame: ServerFrame): void {
    const { groups, nav } = this.host;
    switch (frame.type) {
      case 'queue': {
        if (!groups.acceptsQueue(frame)) break;
        this.host.store.dispatch({ type: 'ws/queue', frame });
        if (frame.mood) this.host.mood.confirmEcho(frame.mood);
        // Nothing to play: maybe the catalog is (re)loading; look at its state again.
        if (!frame.now_playing && frame.tracks.length === 0) this.host.library.recheck();
        break;
      }
      case 'ack':
        nav.handleAck(frame.ref);
        break;
      case 'error':
        this.handleError(frame);
        break;
      case 'group':
        groups.handleGroupFrame(frame);
        break;
      case 'playback':
        groups.handlePlaybackFrame(frame);
        break;
      case 'clock':
        groups.handleClockFrame(frame);
        break;
      default:
        break;
    }
  }

  private handleError(frame: ErrorFrame): void {
    if (this.host.nav.handleError(frame)) return;
    if (this.host.groups.handleError(frame)) return;
    const outbox = this.host.connection.outbox;
    const ref = frame.ref === undefined ? null : String(frame.ref);
    const refused = ref !== null ? outbox?.pending().find((e) => e.ref === ref) : undefined;
    // The server refused this frame for good: resending it after a reconnect would not help.
    if (refused && frame.code !== 'unavailable') outbox?.ack(refused.ref);
    if (this.host.mood.handleRefusal(frame, refused ? refused.frame.type : null)) return;
    this.host.toast(frame.message || frame.code, 'error');
  }
}
