// The live connection of a logged-in listener: one ReconnectingSocket and its outbox (frames
// that must arrive: feedback and mood, kept in storage until acked), opened at login and
// closed at logout. What the frames mean is frames.ts's job; this only carries them.
import type { User } from '../types';
import { Outbox, type DurableFrame } from '../ws/outbox';
import type { ClientFrame, ServerFrame } from '../ws/protocol';
import { ReconnectingSocket, wsUrl, type AuthCheck, type ConnectionState, type SocketOptions } from '../ws/socket';
import type { Store } from './store';

export interface ConnectionHandlers {
  onFrame(frame: ServerFrame): void;
  /** After the state is in the store. */
  onState(state: ConnectionState): void;
  checkAuth: AuthCheck;
}

export class Connection {
  private socket: ReconnectingSocket | null = null;
  private outboxUnsub: (() => void) | null = null;
  /** The open connection's outbox (null while logged out). */
  outbox: Outbox | null = null;

  constructor(
    private readonly store: Store,
    private readonly storage: Storage | null,
    private readonly handlers: ConnectionHandlers,
    private readonly createSocket: (opts: SocketOptions) => ReconnectingSocket = (opts) => new ReconnectingSocket(opts),
    private readonly url?: string,
  ) {}

  /** Whether a socket is open (it may be reconnecting). */
  get isOpen(): boolean {
    return this.socket !== null;
  }

  get isLive(): boolean {
    return this.socket?.isLive ?? false;
  }

  /** Whether a durable frame can go this way (else: the HTTP API). */
  get usable(): boolean {
    return this.socket !== null && this.socket.state.status !== 'failed';
  }

  open(user: User): void {
    this.close();
    const outbox = new Outbox(this.storage, `musicrec.outbox.${user.id}`);
    this.outbox = outbox;
    this.store.dispatch({ type: 'outbox/size', size: outbox.size });
    this.outboxUnsub = outbox.subscribe(() => this.store.dispatch({ type: 'outbox/size', size: outbox.size }));
    this.socket = this.createSocket({
      url: this.url ?? wsUrl(),
      outbox,
      onFrame: (f) => this.handlers.onFrame(f),
      onState: (state) => {
        this.store.dispatch({ type: 'connection/state', state });
        this.handlers.onState(state);
      },
      checkAuth: this.handlers.checkAuth,
    });
    this.socket.start();
  }

  close(): void {
    this.socket?.stop();
    this.socket = null;
    this.outboxUnsub?.();
    this.outboxUnsub = null;
    this.outbox = null;
  }

  retryNow(): void {
    this.socket?.retryNow();
  }

  /** Send now if live (not kept for later). Returns whether it went out. */
  send(frame: ClientFrame): boolean {
    return this.socket?.send(frame) ?? false;
  }

  /** Keep it in the outbox until acked; false when no connection is open (logged out). */
  sendDurable(frame: DurableFrame): boolean {
    if (!this.socket) return false;
    this.socket.sendDurable(frame);
    return true;
  }
}
