// A reconnecting WebSocket for /ws: hello + resume, ping, exponential backoff with
// jitter, an outbox of durable frames resent after reconnecting, and a client-side
// rate limit so that a burst (e.g. a long outbox) never trips the server's flood guard.
import { decodeFrame, encodeFrame, ProtocolError, type ClientFrame, type ServerFrame } from './protocol';
import type { DurableFrame, Outbox } from './outbox';

export type ConnectionState =
  | { status: 'idle' }
  | { status: 'connecting'; attempt: number }
  | { status: 'live' }
  | { status: 'reconnecting'; attempt: number; delayMs: number; retryAt: number }
  | { status: 'offline' }
  | { status: 'failed'; code: number; message: string }
  | { status: 'unauthorized' };

export type AuthCheck = () => Promise<'ok' | 'unauthorized' | 'unknown'>;

type WebSocketCtor = new (url: string) => WebSocket;

export interface SocketOptions {
  url: string;
  outbox: Outbox;
  onFrame: (frame: ServerFrame) => void;
  onState: (state: ConnectionState) => void;
  /** After a connection that never opened: is the session still valid? (401 on upgrade is invisible to JS.) */
  checkAuth?: AuthCheck;
  WebSocketImpl?: WebSocketCtor;
  random?: () => number;
  now?: () => number;
  isOnline?: () => boolean;
  pingIntervalMs?: number;
  /** Close and reconnect when nothing arrived for this long. */
  staleAfterMs?: number;
  /** Frames per second the client allows itself (the server's limit is higher). */
  maxFramesPerSecond?: number;
  format?: 'binary' | 'text';
}

export const RECONNECT_CODES = new Set([1001, 1006, 1011, 1012, 1013]);
export const CLOSE_UNAUTHORIZED = 4401;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

/** Delay before reconnect attempt `attempt` (0-based): 0.5 s doubling to 10 s, ±20 % jitter. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** Math.max(0, attempt));
  const jittered = base * (0.8 + 0.4 * random());
  return Math.round(Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, jittered)));
}

export function wsUrl(loc: { protocol: string; host: string } = window.location, path = '/ws'): string {
  return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${path}`;
}

export function closeMessage(code: number, reason: string): string {
  if (code === 1008) return reason || 'The server closed the connection: too many messages.';
  if (code === 1009) return reason || 'The server closed the connection: a message was too large.';
  return reason || `Connection closed (${code}).`;
}

export class ReconnectingSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private stopped = true;
  private opened = false;
  private live = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private lastFrameAt = 0;
  private sentThisConnection = new Set<string>();
  private tokens: number;
  private tokensAt: number;
  private _lastSeq: number | null = null;
  private _state: ConnectionState = { status: 'idle' };
  private readonly opts: Required<Omit<SocketOptions, 'checkAuth'>> & { checkAuth?: AuthCheck };

  constructor(options: SocketOptions) {
    this.opts = {
      WebSocketImpl: (globalThis.WebSocket as unknown as WebSocketCtor) ?? null,
      random: Math.random,
      now: Date.now,
      isOnline: () => (typeof navigator === 'undefined' ? true : navigator.onLine !== false),
      pingIntervalMs: 25_000,
      staleAfterMs: 70_000,
      maxFramesPerSecond: 20,
      format: 'binary',
      ...options,
    };
    this.tokens = this.opts.maxFramesPerSecond;
    this.tokensAt = this.opts.now();
  }

  get state(): ConnectionState {
    return this._state;
  }

  get lastSeq(): number | null {
    return this._lastSeq;
  }

  get isLive(): boolean {
    return this.live;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.handleOnline);
      window.addEventListener('offline', this.handleOffline);
    }
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.handleOnline);
      window.removeEventListener('offline', this.handleOffline);
    }
    this.clearTimers();
    const ws = this.ws;
    this.ws = null;
    this.live = false;
    if (ws) {
      this.detach(ws);
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closed */
      }
    }
    this.setState({ status: 'idle' });
  }

  /** Reconnect now (the UI's "retry" button, or the browser came back online). */
  retryNow(): void {
    if (this.stopped) {
      this.start();
      return;
    }
    if (this.live || this._state.status === 'connecting') return;
    this.attempt = 0;
    this.clearTimers();
    this.connect();
  }

  /** Send a frame now if the connection is live. Returns whether it went out. */
  send(frame: ClientFrame): boolean {
    if (!this.live || !this.ws || !this.takeToken()) return false;
    this.ws.send(encodeFrame(frame, this.opts.format));
    return true;
  }

  /** Queue a durable frame in the outbox and send it when possible. */
  sendDurable(frame: DurableFrame): string {
    const entry = this.opts.outbox.add(frame);
    this.scheduleFlush(0);
    return entry.ref;
  }

  // --- internals -------------------------------------------------------------

  private handleOnline = () => {
    if (!this.stopped && !this.live && this._state.status !== 'connecting') this.retryNow();
  };

  private handleOffline = () => {
    // Browsers keep dead sockets open for a while; close so the state reflects reality.
    if (this.ws) this.ws.close(4000, 'offline');
  };

  private setState(state: ConnectionState): void {
    this._state = state;
    this.opts.onState(state);
  }

  private clearTimers(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.retryTimer = this.pingTimer = this.flushTimer = null;
  }

  private takeToken(): boolean {
    const now = this.opts.now();
    const rate = this.opts.maxFramesPerSecond;
    this.tokens = Math.min(rate, this.tokens + ((now - this.tokensAt) / 1000) * rate);
    this.tokensAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private connect(): void {
    if (this.stopped) return;
    if (!this.opts.isOnline()) {
      this.setState({ status: 'offline' });
      return;
    }
    this.setState({ status: 'connecting', attempt: this.attempt });
    this.opened = false;
    this.live = false;
    this.sentThisConnection.clear();
    let ws: WebSocket;
    try {
      ws = new this.opts.WebSocketImpl(this.opts.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.onopen = () => {
      this.opened = true;
      this.lastFrameAt = this.opts.now();
      ws.send(encodeFrame({ type: 'hello', resume_after: this._lastSeq }, this.opts.format));
      this.pingTimer = setInterval(() => this.ping(), this.opts.pingIntervalMs);
    };
    ws.onmessage = (ev: MessageEvent) => this.handleMessage(ev.data);
    ws.onclose = (ev: CloseEvent) => this.handleClose(ws, ev.code, ev.reason);
    ws.onerror = () => {
      /* a close event follows */
    };
  }

  private detach(ws: WebSocket): void {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }

  private ping(): void {
    if (!this.ws || !this.opened) return;
    if (this.opts.now() - this.lastFrameAt > this.opts.staleAfterMs) {
      this.ws.close(4000, 'stale');
      return;
    }
    this.ws.send(encodeFrame({ type: 'ping' }, this.opts.format));
  }

  private handleMessage(data: unknown): void {
    let frame: ServerFrame;
    try {
      frame = decodeFrame(data as ArrayBuffer | string);
    } catch (err) {
      if (err instanceof ProtocolError) {
        console.warn('[ws] ignoring frame:', err.message);
        return;
      }
      throw err;
    }
    this.lastFrameAt = this.opts.now();
    const seq = (frame as { seq?: unknown }).seq;
    if (typeof seq === 'number') this._lastSeq = seq;
    if (frame.type === 'ack' && typeof frame.ref === 'string') this.opts.outbox.ack(frame.ref);
    if (!this.live && frame.type !== 'pong' && frame.type !== 'error') {
      this.live = true;
      this.attempt = 0;
      this.setState({ status: 'live' });
      this.scheduleFlush(0);
    }
    this.opts.onFrame(frame);
  }

  private scheduleFlush(delayMs: number): void {
    if (!this.live || this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.flush();
    }, delayMs);
  }

  private flush(): void {
    if (!this.live || !this.ws) return;
    for (const entry of this.opts.outbox.pending()) {
      if (this.sentThisConnection.has(entry.ref)) continue;
      if (!this.takeToken()) {
        this.scheduleFlush(Math.ceil(1000 / this.opts.maxFramesPerSecond));
        return;
      }
      this.ws.send(encodeFrame(entry.frame, this.opts.format));
      this.sentThisConnection.add(entry.ref);
    }
  }

  private handleClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return;
    this.detach(ws);
    this.ws = null;
    const wasOpened = this.opened;
    this.live = false;
    this.clearTimers();
    if (this.stopped) return;
    if (code === CLOSE_UNAUTHORIZED) {
      this.stopped = true;
      this.setState({ status: 'unauthorized' });
      return;
    }
    if (code === 1008 || code === 1009) {
      this.stopped = true;
      this.setState({ status: 'failed', code, message: closeMessage(code, reason) });
      return;
    }
    if (!wasOpened && this.opts.checkAuth) {
      // The upgrade failed: a 401 there looks like 1006 to us, so ask the API.
      const check = this.opts.checkAuth;
      this.scheduleReconnect();
      check()
        .then((result) => {
          if (result === 'unauthorized' && !this.stopped) {
            this.stop();
            this.setState({ status: 'unauthorized' });
          }
        })
        .catch(() => undefined);
      return;
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.stopped) return;
    if (!this.opts.isOnline()) {
      this.setState({ status: 'offline' });
      return;
    }
    const delayMs = backoffDelay(this.attempt, this.opts.random);
    this.setState({ status: 'reconnecting', attempt: this.attempt + 1, delayMs, retryAt: this.opts.now() + delayMs });
    this.attempt += 1;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delayMs);
  }
}
