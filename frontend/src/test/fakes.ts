import { decode, encode } from '@msgpack/msgpack';
import type { Library, Mood, Track } from '../types';

export function makeTrack(id: number, over: Partial<Track> = {}): Track {
  return {
    id,
    title: `Track ${id}`,
    artists: [`Artist ${id}`],
    album: `Album ${id}`,
    genre: ['pop'],
    year: 2000 + (id % 20),
    duration_ms: 180_000,
    explicit: false,
    audio: { energy: 0.5, valence: 0.5, tempo: 120, acousticness: 0.2, danceability: 0.6 },
    media: { kind: 'none', url: null },
    reason: `because ${id}`,
    ...over,
  };
}

/** A connected library as GET /api/libraries lists it: owned, online, synced, nothing to analyse. */
export function makeLibrary(id: number, over: Partial<Library> = {}): Library {
  return {
    id,
    kind: 'subsonic',
    url: `https://music${id}.example.org`,
    username: 'ann',
    owned: true,
    auth: 'token',
    api_version: '1.16.1',
    server_type: 'navidrome',
    status: 'online',
    last_checked_at: '2026-01-01T10:00:00Z',
    last_error: null,
    tracks: 1234,
    sync: {
      state: 'done',
      running: false,
      songs_done: 1234,
      started_at: '2026-01-01T09:59:00Z',
      last_sync_at: '2026-01-01T10:00:00Z',
      error: null,
      report: null,
    },
    analysis: { pending: 0, done: 0, failed: 0 },
    ...over,
  };
}

export function makeMood(over: Partial<Mood> = {}): Mood {
  return {
    preset: 'chill',
    text: null,
    energy: 0.3,
    valence: 0.6,
    label: 'Chill',
    updated_at: '2026-01-01T00:00:00Z',
    ...over,
  };
}

/** A scriptable stand-in for the browser WebSocket. */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];
  static reset() {
    FakeWebSocket.instances = [];
  }
  static get last(): FakeWebSocket {
    return FakeWebSocket.instances[FakeWebSocket.instances.length - 1];
  }

  readonly url: string;
  binaryType = 'blob';
  readyState = 0;
  sent: Array<Record<string, unknown>> = [];
  onopen: ((ev: Event) => void) | null = null;
  onmessage: ((ev: MessageEvent) => void) | null = null;
  onclose: ((ev: CloseEvent) => void) | null = null;
  onerror: ((ev: Event) => void) | null = null;
  closedWith: number | null = null;

  constructor(url: string) {
    this.url = url;
    FakeWebSocket.instances.push(this);
  }

  send(data: Uint8Array | string) {
    this.sent.push(
      typeof data === 'string' ? JSON.parse(data) : (decode(data) as Record<string, unknown>),
    );
  }

  close(code = 1000) {
    this.closedWith = code;
    this.serverClose(code);
  }

  // --- driven by the test ---
  open() {
    this.readyState = 1;
    this.onopen?.(new Event('open'));
  }

  receive(frame: Record<string, unknown>) {
    const bytes = encode(frame);
    const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    this.onmessage?.({ data: buf } as MessageEvent);
  }

  serverClose(code: number, reason = '') {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason, wasClean: code === 1000 } as CloseEvent);
  }

  sentOfType(type: string) {
    return this.sent.filter((f) => f.type === type);
  }
}

export function memoryStorage(): Storage {
  const m = new Map<string, string>();
  return {
    get length() {
      return m.size;
    },
    clear: () => m.clear(),
    getItem: (k) => (m.has(k) ? m.get(k)! : null),
    key: (i) => [...m.keys()][i] ?? null,
    removeItem: (k) => void m.delete(k),
    setItem: (k, v) => void m.set(k, String(v)),
  };
}

/** A track this server can play (MIDI by default). */
export function playableTrack(id: number, over: Partial<Track> = {}): Track {
  return makeTrack(id, { media: { kind: 'midi', url: `/api/tracks/${id}/media`, playable: true }, ...over });
}

/** A scriptable media player for the PlaybackEngine. */
export class FakePlayer {
  static made: FakePlayer[] = [];
  onEnded: (() => void) | null = null;
  onAudible: (() => void) | null = null;
  pos = 0;
  playing = false;
  disposed = false;
  preloaded: number[] = [];
  loaded: number[] = [];
  constructor(
    readonly kind: 'midi' | 'audio',
    private readonly opts: { fail?: Error | null; refuse?: Error | null; durationMs?: number; audible?: boolean } = {},
  ) {
    FakePlayer.made.push(this);
  }
  async preload(track: Track) {
    this.preloaded.push(track.id);
  }
  async load(track: Track) {
    if (this.opts.fail) throw this.opts.fail;
    this.loaded.push(track.id);
    return this.opts.durationMs ?? 10_000;
  }
  async play() {
    if (this.opts.refuse) throw this.opts.refuse;
    this.playing = true;
    if (this.opts.audible !== false) queueMicrotask(() => this.onAudible?.());
  }
  pause() {
    this.playing = false;
  }
  seek(ms: number) {
    this.pos = ms;
  }
  setVolume() {}
  position() {
    return this.pos;
  }
  duration() {
    return this.opts.durationMs ?? 10_000;
  }
  dispose() {
    this.disposed = true;
  }
}
